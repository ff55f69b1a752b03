import Codec
import BallastCrypto

/// One order in a `placeOrders` action.
public struct OrderRequest: Hashable, Sendable, Codable {
    public var market: MarketID
    public var side: Side
    /// Limit price in USDC base units (6 decimals) per whole unit of the base asset.
    public var price: Int64
    /// Size in base units of the market's base asset.
    public var size: Int64
    public var timeInForce: TimeInForce
    public var reduceOnly: Bool
    public var clientID: ClientOrderID?

    public init(market: MarketID, side: Side, price: Int64, size: Int64,
                timeInForce: TimeInForce = .gtc, reduceOnly: Bool = false, clientID: ClientOrderID? = nil) {
        self.market = market
        self.side = side
        self.price = price
        self.size = size
        self.timeInForce = timeInForce
        self.reduceOnly = reduceOnly
        self.clientID = clientID
    }

    enum CodingKeys: String, CodingKey {
        case market, side, price, size, timeInForce = "tif", reduceOnly, clientID = "cloid"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        market = try c.decode(MarketID.self, forKey: .market)
        side = try c.decode(Side.self, forKey: .side)
        price = try c.decode(Int64.self, forKey: .price)
        size = try c.decode(Int64.self, forKey: .size)
        timeInForce = try c.decodeIfPresent(TimeInForce.self, forKey: .timeInForce) ?? .gtc
        reduceOnly = try c.decodeIfPresent(Bool.self, forKey: .reduceOnly) ?? false
        clientID = try c.decodeIfPresent(ClientOrderID.self, forKey: .clientID)
    }
}

extension OrderRequest: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(market)
        w.write(side)
        w.write(price)
        w.write(size)
        w.write(timeInForce)
        w.write(reduceOnly)
        w.write(clientID)
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        market = try r.readUInt32()
        side = try r.read()
        price = try r.readInt64()
        size = try r.readInt64()
        timeInForce = try r.read()
        reduceOnly = try r.readBool(field: "order.reduceOnly")
        clientID = try r.readOptional(field: "order.cloid")
    }
}

/// One cancel in a `cancel` action: by the ledger's order id or by the trader's client id.
public enum CancelRequest: Hashable, Sendable {
    case order(market: MarketID, orderID: OrderID)
    case client(market: MarketID, clientID: ClientOrderID)

    public var market: MarketID {
        switch self {
        case .order(let market, _), .client(let market, _): return market
        }
    }
}

extension CancelRequest: Canonical {
    public func encode(to w: inout ByteWriter) {
        switch self {
        case .order(let market, let orderID):
            w.write(UInt8(0)); w.write(market); w.write(orderID)
        case .client(let market, let clientID):
            w.write(UInt8(1)); w.write(market); w.write(clientID)
        }
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        switch try r.readUInt8() {
        case 0: self = .order(market: try r.readUInt32(), orderID: try r.readUInt64())
        case 1: self = .client(market: try r.readUInt32(), clientID: try r.read())
        case let tag: throw .unknownTag(type: "CancelRequest", tag: tag)
        }
    }
}

extension CancelRequest: Codable {
    enum CodingKeys: String, CodingKey { case market, oid, cloid }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let market = try c.decode(MarketID.self, forKey: .market)
        if let oid = try c.decodeIfPresent(OrderID.self, forKey: .oid) {
            guard !c.contains(.cloid) else {
                throw DecodingError.dataCorruptedError(forKey: .cloid, in: c, debugDescription: "give oid or cloid, not both")
            }
            self = .order(market: market, orderID: oid)
        } else {
            self = .client(market: market, clientID: try c.decode(ClientOrderID.self, forKey: .cloid))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .order(let market, let orderID):
            try c.encode(market, forKey: .market); try c.encode(orderID, forKey: .oid)
        case .client(let market, let clientID):
            try c.encode(market, forKey: .market); try c.encode(clientID, forKey: .cloid)
        }
    }
}

/// One validator's price for one asset, in USDC base units per whole unit.
public struct OraclePrice: Hashable, Sendable, Codable, Canonical {
    public var asset: AssetID
    public var price: Int64

    public init(asset: AssetID, price: Int64) {
        self.asset = asset
        self.price = price
    }

    public func encode(to w: inout ByteWriter) {
        w.write(asset)
        w.write(price)
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        asset = try r.readUInt32()
        price = try r.readInt64()
    }
}

/// What a transaction asks the ledger to do. Amounts are base units of the asset.
public enum Action: Hashable, Sendable {
    /// One or more orders, placed in the given order.
    case placeOrders([OrderRequest])
    /// One or more cancels.
    case cancel([CancelRequest])
    /// Cancel every open order of the signer, in one market or in all (nil).
    case cancelAll(market: MarketID?)
    /// Move wallet funds to another account.
    case transfer(to: Address, asset: AssetID, amount: Int64)
    /// Move wallet funds into the asset's lending pool.
    case supply(asset: AssetID, amount: Int64)
    /// Move supplied funds back to the wallet.
    case withdraw(asset: AssetID, amount: Int64)
    /// Borrow from the asset's pool into the wallet.
    case borrow(asset: AssetID, amount: Int64)
    /// Repay debt from the wallet.
    case repay(asset: AssetID, amount: Int64)
    /// Take over part or all of an unhealthy account.
    case liquidate(target: Address)
    /// Switch between standard and portfolio margin.
    case setMarginMode(MarginMode)
    /// A validator's oracle prices.
    case oraclePrices([OraclePrice])

    /// Most orders, cancels or prices in one action.
    public static let maxBatch = 64

    /// The tag byte of each case in the canonical encoding.
    public enum Kind: UInt8, ByteEnum {
        case placeOrders = 1, cancel, cancelAll, transfer, supply, withdraw, borrow, repay,
             liquidate, setMarginMode, oraclePrices

        public var name: String {
            switch self {
            case .placeOrders: return "order"
            case .cancel: return "cancel"
            case .cancelAll: return "cancelAll"
            case .transfer: return "transfer"
            case .supply: return "supply"
            case .withdraw: return "withdraw"
            case .borrow: return "borrow"
            case .repay: return "repay"
            case .liquidate: return "liquidate"
            case .setMarginMode: return "setMarginMode"
            case .oraclePrices: return "oracle"
            }
        }

        public init?(name: String) {
            guard let kind = Self.allCases.first(where: { $0.name.lowercased() == name.lowercased() }) else { return nil }
            self = kind
        }
    }

    public var kind: Kind {
        switch self {
        case .placeOrders: return .placeOrders
        case .cancel: return .cancel
        case .cancelAll: return .cancelAll
        case .transfer: return .transfer
        case .supply: return .supply
        case .withdraw: return .withdraw
        case .borrow: return .borrow
        case .repay: return .repay
        case .liquidate: return .liquidate
        case .setMarginMode: return .setMarginMode
        case .oraclePrices: return .oraclePrices
        }
    }
}

extension Action: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(kind)
        switch self {
        case .placeOrders(let orders): w.write(orders)
        case .cancel(let cancels): w.write(cancels)
        case .cancelAll(let market): w.write(market)
        case .transfer(let to, let asset, let amount): w.write(to); w.write(asset); w.write(amount)
        case .supply(let asset, let amount), .withdraw(let asset, let amount),
             .borrow(let asset, let amount), .repay(let asset, let amount):
            w.write(asset); w.write(amount)
        case .liquidate(let target): w.write(target)
        case .setMarginMode(let mode): w.write(mode)
        case .oraclePrices(let prices): w.write(prices)
        }
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        let kind: Kind = try r.read()
        switch kind {
        case .placeOrders: self = .placeOrders(try Action.readBatch(&r, field: "orders"))
        case .cancel: self = .cancel(try Action.readBatch(&r, field: "cancels"))
        case .cancelAll:
            self = .cancelAll(market: try r.readOptional(field: "cancelAll.market"))
        case .transfer:
            self = .transfer(to: try r.read(), asset: try r.readUInt32(), amount: try r.readInt64())
        case .supply: self = .supply(asset: try r.readUInt32(), amount: try r.readInt64())
        case .withdraw: self = .withdraw(asset: try r.readUInt32(), amount: try r.readInt64())
        case .borrow: self = .borrow(asset: try r.readUInt32(), amount: try r.readInt64())
        case .repay: self = .repay(asset: try r.readUInt32(), amount: try r.readInt64())
        case .liquidate: self = .liquidate(target: try r.read())
        case .setMarginMode: self = .setMarginMode(try r.read())
        case .oraclePrices: self = .oraclePrices(try Action.readBatch(&r, field: "prices"))
        }
    }

    /// A batch holds 1 to `maxBatch` entries.
    private static func readBatch<T: CanonicalDecodable>(_ r: inout ByteReader, field: String) throws(CodecError) -> [T] {
        let items: [T] = try r.readArray(field: field, maximum: maxBatch)
        if items.isEmpty { throw .invalidValue(field: field, reason: "empty batch") }
        return items
    }
}

/// The JSON form, for people and the HTTP API: `{"type": "order", "orders": [...]}`.
/// Only the binary form is ever signed or hashed.
extension Action: Codable {
    enum CodingKeys: String, CodingKey {
        case type, orders, cancels, market, to, asset, amount, target, mode, prices
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        guard let kind = Kind(name: type) else {
            let names = Kind.allCases.map(\.name).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown action type '\(type)'; known: \(names)")
        }
        func batch<T: Decodable>(_ key: CodingKeys) throws -> [T] {
            let items = try c.decode([T].self, forKey: key)
            guard !items.isEmpty, items.count <= Action.maxBatch else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "needs 1 to \(Action.maxBatch) entries, got \(items.count)")
            }
            return items
        }
        switch kind {
        case .placeOrders: self = .placeOrders(try batch(.orders))
        case .cancel: self = .cancel(try batch(.cancels))
        case .cancelAll: self = .cancelAll(market: try c.decodeIfPresent(MarketID.self, forKey: .market))
        case .transfer:
            self = .transfer(to: try c.decode(Address.self, forKey: .to),
                             asset: try c.decode(AssetID.self, forKey: .asset),
                             amount: try c.decode(Int64.self, forKey: .amount))
        case .supply, .withdraw, .borrow, .repay:
            let asset = try c.decode(AssetID.self, forKey: .asset)
            let amount = try c.decode(Int64.self, forKey: .amount)
            switch kind {
            case .supply: self = .supply(asset: asset, amount: amount)
            case .withdraw: self = .withdraw(asset: asset, amount: amount)
            case .borrow: self = .borrow(asset: asset, amount: amount)
            default: self = .repay(asset: asset, amount: amount)
            }
        case .liquidate: self = .liquidate(target: try c.decode(Address.self, forKey: .target))
        case .setMarginMode: self = .setMarginMode(try c.decode(MarginMode.self, forKey: .mode))
        case .oraclePrices: self = .oraclePrices(try batch(.prices))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind.name, forKey: .type)
        switch self {
        case .placeOrders(let orders): try c.encode(orders, forKey: .orders)
        case .cancel(let cancels): try c.encode(cancels, forKey: .cancels)
        case .cancelAll(let market): try c.encodeIfPresent(market, forKey: .market)
        case .transfer(let to, let asset, let amount):
            try c.encode(to, forKey: .to); try c.encode(asset, forKey: .asset); try c.encode(amount, forKey: .amount)
        case .supply(let asset, let amount), .withdraw(let asset, let amount),
             .borrow(let asset, let amount), .repay(let asset, let amount):
            try c.encode(asset, forKey: .asset); try c.encode(amount, forKey: .amount)
        case .liquidate(let target): try c.encode(target, forKey: .target)
        case .setMarginMode(let mode): try c.encode(mode, forKey: .mode)
        case .oraclePrices(let prices): try c.encode(prices, forKey: .prices)
        }
    }
}
