import Codec
import BallastCrypto

/// One entry of an account's history, produced while a block is applied (`BlockResult.events`):
/// a fill, a funding payment, a liquidation, a transfer, or a supply, withdraw, borrow or repay.
///
/// Events are not state (not in the root or the snapshot): the node stores them beside the
/// block. Within a block they come in execution order (the block's step order, transactions in
/// proposal order within each group); an action that fails leaves none.
///
/// Interest has no event: pools accrue it to every supplier and borrower at once by moving the
/// supply and borrow indices, and the state keeps no per-account principal to settle against,
/// so a per-account event would cost a pass over every account each block. An account's
/// interest shows as the change of its supplied or owed amount between two of its lending events.
public struct AccountEvent: Hashable, Sendable {
    /// The account whose history this entry belongs to.
    public var address: Address
    /// The block that produced it, and the block's time (ms).
    public var height: UInt64
    public var timeMs: Int64
    /// Position of the transaction in the block; nil for block steps (funding, backstop).
    public var txIndex: UInt32?
    public var detail: Detail

    public init(address: Address, height: UInt64, timeMs: Int64, txIndex: UInt32?, detail: Detail) {
        self.address = address
        self.height = height
        self.timeMs = timeMs
        self.txIndex = txIndex
        self.detail = detail
    }

    /// What happened.
    public enum Detail: Hashable, Sendable {
        case fill(FillEvent)
        case funding(FundingEvent)
        case liquidation(LiquidationEvent)
        case transfer(TransferEvent)
        case supply(LendingEvent)
        case withdraw(LendingEvent)
        case borrow(LendingEvent)
        case repay(LendingEvent)
    }

    /// The kind of an event: its tag byte in the canonical encoding, its `type` in JSON.
    public enum Kind: UInt8, ByteEnum {
        case fill = 1, funding, liquidation, transfer, supply, withdraw, borrow, repay

        public var name: String {
            switch self {
            case .fill: return "fill"
            case .funding: return "funding"
            case .liquidation: return "liquidation"
            case .transfer: return "transfer"
            case .supply: return "supply"
            case .withdraw: return "withdraw"
            case .borrow: return "borrow"
            case .repay: return "repay"
            }
        }
    }

    public var kind: Kind {
        switch detail {
        case .fill: return .fill
        case .funding: return .funding
        case .liquidation: return .liquidation
        case .transfer: return .transfer
        case .supply: return .supply
        case .withdraw: return .withdraw
        case .borrow: return .borrow
        case .repay: return .repay
        }
    }
}

/// One side of a trade, seen by the account that traded.
public struct FillEvent: Hashable, Sendable, Codable {
    public var market: MarketID
    /// This account's order, and its client id if it had one.
    public var orderId: OrderID
    public var cloid: ClientOrderID?
    /// This account's side.
    public var side: Side
    /// The trade price (the maker's), USDC base units per whole unit.
    public var price: Int64
    /// Base units traded.
    public var size: Int64
    /// USDC that changed hands for the size, fee apart: the buyer paid it rounded up, the seller
    /// got it rounded down (perps: the same amount, rounded down, on both sides).
    public var quote: Int64
    /// Fee paid, USDC base units (to the insurance fund).
    public var fee: Int64
    /// PnL realized by the part of a perp position this fill closed, fee apart (0 for spot).
    public var closedPnl: Int64
    /// Whether this account took liquidity (its order was the incoming one).
    public var taker: Bool
    /// The account on the other side.
    public var counterparty: Address
    /// Before the fill: the perp position (signed) or, for spot, the net balance of the base asset.
    public var startPosition: Int64
    /// Number of the trade within its block; both sides of one trade share it.
    public var tradeIndex: UInt32

    public init(market: MarketID, orderId: OrderID, cloid: ClientOrderID?, side: Side, price: Int64, size: Int64,
                quote: Int64, fee: Int64, closedPnl: Int64, taker: Bool, counterparty: Address,
                startPosition: Int64, tradeIndex: UInt32) {
        self.market = market
        self.orderId = orderId
        self.cloid = cloid
        self.side = side
        self.price = price
        self.size = size
        self.quote = quote
        self.fee = fee
        self.closedPnl = closedPnl
        self.taker = taker
        self.counterparty = counterparty
        self.startPosition = startPosition
        self.tradeIndex = tradeIndex
    }
}

/// A position's funding settlement at an interval boundary.
public struct FundingEvent: Hashable, Sendable {
    public var market: MarketID
    /// USDC received (positive) or paid (negative). Payers round up, receivers down.
    public var amount: Int64
    /// The position that paid or received (signed size, base units).
    public var positionSize: Int64
    /// The oracle price the payment used.
    public var oraclePrice: Int64
    /// The interval's rate, 18-decimal fixed point (positive: longs pay shorts).
    public var rate: Int128

    public init(market: MarketID, amount: Int64, positionSize: Int64, oraclePrice: Int64, rate: Int128) {
        self.market = market
        self.amount = amount
        self.positionSize = positionSize
        self.oraclePrice = oraclePrice
        self.rate = rate
    }
}

/// A takeover (the `liquidate` action or the end-of-block backstop), recorded in the histories of
/// both the liquidated account and the liquidator (or the backstop account), with the same data.
public struct LiquidationEvent: Hashable, Sendable, Codable {
    /// A perp position (part) that changed hands at mark.
    public struct Position: Hashable, Sendable, Codable {
        public var market: MarketID
        /// The size the liquidated account gave up (signed like its position was).
        public var size: Int64
        public var price: Int64
    }
    /// A non-USDC balance (net of debt) that changed hands, and the USDC that settled it.
    public struct Balance: Hashable, Sendable, Codable {
        public var asset: AssetID
        /// Net amount the liquidated account gave up (negative: debt taken over).
        public var amount: Int64
        /// Its value at mark, USDC base units, signed like `amount`: paid to the liquidated
        /// account for a holding, paid by it with a debt.
        public var value: Int64
    }

    public var liquidated: Address
    /// The liquidator, or the backstop account.
    public var liquidator: Address
    public var byBackstop: Bool
    /// Everything at once (V_liq below 2/3 MR), rather than 20% steps.
    public var whole: Bool
    public var positions: [Position]
    public var balances: [Balance]
    /// PnL the liquidated account realized on the positions it gave up.
    public var realizedPnl: Int64
    /// Paid by the liquidated account: to the liquidator (40% of the maintenance released;
    /// 0 for the backstop) and to the insurance fund.
    public var liquidatorBonus: Int64
    public var insuranceFee: Int64
    /// Bankruptcy: the hole the insurance fund paid, the part socialized by lowering the USDC
    /// supply index, and the part left as the chain's deficit.
    public var insurancePaid: Int64
    public var socialized: Int64
    public var deficit: Int64

    public init(liquidated: Address, liquidator: Address, byBackstop: Bool, whole: Bool, positions: [Position] = [],
                balances: [Balance] = [], realizedPnl: Int64 = 0, liquidatorBonus: Int64 = 0, insuranceFee: Int64 = 0,
                insurancePaid: Int64 = 0, socialized: Int64 = 0, deficit: Int64 = 0) {
        self.liquidated = liquidated
        self.liquidator = liquidator
        self.byBackstop = byBackstop
        self.whole = whole
        self.positions = positions
        self.balances = balances
        self.realizedPnl = realizedPnl
        self.liquidatorBonus = liquidatorBonus
        self.insuranceFee = insuranceFee
        self.insurancePaid = insurancePaid
        self.socialized = socialized
        self.deficit = deficit
    }

    /// Adds a step's position transfer (steps of one liquidation happen at the same mark). The
    /// steps' sums are bounded by what the account held, so they cannot overflow.
    mutating func add(market: MarketID, size: Int64, price: Int64) {
        if let i = positions.firstIndex(where: { $0.market == market }) {
            positions[i].size &+= size
        } else {
            positions.append(Position(market: market, size: size, price: price))
        }
    }

    /// Adds a step's balance transfer.
    mutating func add(asset: AssetID, amount: Int64, value: Int64) {
        if let i = balances.firstIndex(where: { $0.asset == asset }) {
            balances[i].amount &+= amount
            balances[i].value &+= value
        } else {
            balances.append(Balance(asset: asset, amount: amount, value: value))
        }
    }
}

/// A transfer between accounts (in both accounts' histories).
public struct TransferEvent: Hashable, Sendable, Codable {
    public var from: Address
    public var to: Address
    public var asset: AssetID
    public var amount: Int64

    public init(from: Address, to: Address, asset: AssetID, amount: Int64) {
        self.from = from
        self.to = to
        self.asset = asset
        self.amount = amount
    }
}

/// An explicit supply, withdraw, borrow or repay action.
public struct LendingEvent: Hashable, Sendable, Codable {
    public var asset: AssetID
    /// The amount moved (for a repay, what was actually repaid; a supply includes the part that
    /// repaid debt first).
    public var amount: Int64
    /// Afterwards: the account's supplied amount (rounded down) and owed amount (rounded up).
    public var suppliedAfter: Int64
    public var owedAfter: Int64

    public init(asset: AssetID, amount: Int64, suppliedAfter: Int64, owedAfter: Int64) {
        self.asset = asset
        self.amount = amount
        self.suppliedAfter = suppliedAfter
        self.owedAfter = owedAfter
    }
}

// MARK: - Canonical encoding

extension AccountEvent: Canonical {
    /// Format version of the encoding below.
    public static let version: UInt8 = 1
    /// Most positions or balances in one liquidation event.
    static let maxEntries = 1 << 12

    /// Layout: version u8 (1), address (20), height u64, time i64, tx index optional u32, kind
    /// tag u8, then the kind's fields in declaration order (see docs/api.md).
    public func encode(to w: inout ByteWriter) {
        w.write(AccountEvent.version)
        w.write(address)
        w.write(height)
        w.write(timeMs)
        w.write(txIndex)
        w.write(kind)
        switch detail {
        case .fill(let f):
            w.write(f.market); w.write(f.orderId); w.write(f.cloid); w.write(f.side); w.write(f.price)
            w.write(f.size); w.write(f.quote); w.write(f.fee); w.write(f.closedPnl); w.write(f.taker)
            w.write(f.counterparty); w.write(f.startPosition); w.write(f.tradeIndex)
        case .funding(let f):
            w.write(f.market); w.write(f.amount); w.write(f.positionSize); w.write(f.oraclePrice); w.writeInt128(f.rate)
        case .liquidation(let l):
            w.write(l.liquidated); w.write(l.liquidator); w.write(l.byBackstop); w.write(l.whole)
            w.writeLength(l.positions.count)
            for p in l.positions { w.write(p.market); w.write(p.size); w.write(p.price) }
            w.writeLength(l.balances.count)
            for b in l.balances { w.write(b.asset); w.write(b.amount); w.write(b.value) }
            w.write(l.realizedPnl); w.write(l.liquidatorBonus); w.write(l.insuranceFee)
            w.write(l.insurancePaid); w.write(l.socialized); w.write(l.deficit)
        case .transfer(let t):
            w.write(t.from); w.write(t.to); w.write(t.asset); w.write(t.amount)
        case .supply(let l), .withdraw(let l), .borrow(let l), .repay(let l):
            w.write(l.asset); w.write(l.amount); w.write(l.suppliedAfter); w.write(l.owedAfter)
        }
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        let version = try r.readUInt8()
        guard version == AccountEvent.version else { throw .unsupportedVersion(type: "AccountEvent", version: version) }
        address = try r.read()
        height = try r.readUInt64()
        timeMs = try r.readInt64()
        txIndex = try r.readOptional(field: "event.txIndex")
        let kind: Kind = try r.read()
        switch kind {
        case .fill:
            detail = .fill(FillEvent(
                market: try r.readUInt32(), orderId: try r.readUInt64(), cloid: try r.readOptional(field: "fill.cloid"),
                side: try r.read(), price: try r.readInt64(), size: try r.readInt64(), quote: try r.readInt64(),
                fee: try r.readInt64(), closedPnl: try r.readInt64(), taker: try r.readBool(field: "fill.taker"),
                counterparty: try r.read(), startPosition: try r.readInt64(), tradeIndex: try r.readUInt32()))
        case .funding:
            detail = .funding(FundingEvent(market: try r.readUInt32(), amount: try r.readInt64(), positionSize: try r.readInt64(),
                                           oraclePrice: try r.readInt64(), rate: try r.readInt128()))
        case .liquidation:
            var l = LiquidationEvent(liquidated: try r.read(), liquidator: try r.read(),
                                     byBackstop: try r.readBool(field: "liquidation.byBackstop"),
                                     whole: try r.readBool(field: "liquidation.whole"))
            for _ in 0..<(try r.readLength(field: "liquidation.positions", maximum: AccountEvent.maxEntries)) {
                l.positions.append(.init(market: try r.readUInt32(), size: try r.readInt64(), price: try r.readInt64()))
            }
            for _ in 0..<(try r.readLength(field: "liquidation.balances", maximum: AccountEvent.maxEntries)) {
                l.balances.append(.init(asset: try r.readUInt32(), amount: try r.readInt64(), value: try r.readInt64()))
            }
            l.realizedPnl = try r.readInt64(); l.liquidatorBonus = try r.readInt64(); l.insuranceFee = try r.readInt64()
            l.insurancePaid = try r.readInt64(); l.socialized = try r.readInt64(); l.deficit = try r.readInt64()
            detail = .liquidation(l)
        case .transfer:
            detail = .transfer(TransferEvent(from: try r.read(), to: try r.read(), asset: try r.readUInt32(), amount: try r.readInt64()))
        case .supply, .withdraw, .borrow, .repay:
            let l = LendingEvent(asset: try r.readUInt32(), amount: try r.readInt64(), suppliedAfter: try r.readInt64(),
                                 owedAfter: try r.readInt64())
            switch kind {
            case .supply: detail = .supply(l)
            case .withdraw: detail = .withdraw(l)
            case .borrow: detail = .borrow(l)
            default: detail = .repay(l)
            }
        }
    }
}

// MARK: - JSON

/// `{"address", "height", "timeMs", "txIndex"?, "type", "<type>": {fields}}`: the kind's fields
/// sit under a key named like its type (`"fill": {...}`; supply, withdraw, borrow and repay
/// under `"lending"`).
extension AccountEvent: Codable {
    enum CodingKeys: String, CodingKey {
        case address, height, timeMs, txIndex, type, fill, funding, liquidation, transfer, lending
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        address = try c.decode(Address.self, forKey: .address)
        height = try c.decode(UInt64.self, forKey: .height)
        timeMs = try c.decode(Int64.self, forKey: .timeMs)
        txIndex = try c.decodeIfPresent(UInt32.self, forKey: .txIndex)
        switch try c.decode(Kind.self, forKey: .type) {
        case .fill: detail = .fill(try c.decode(FillEvent.self, forKey: .fill))
        case .funding: detail = .funding(try c.decode(FundingEvent.self, forKey: .funding))
        case .liquidation: detail = .liquidation(try c.decode(LiquidationEvent.self, forKey: .liquidation))
        case .transfer: detail = .transfer(try c.decode(TransferEvent.self, forKey: .transfer))
        case .supply: detail = .supply(try c.decode(LendingEvent.self, forKey: .lending))
        case .withdraw: detail = .withdraw(try c.decode(LendingEvent.self, forKey: .lending))
        case .borrow: detail = .borrow(try c.decode(LendingEvent.self, forKey: .lending))
        case .repay: detail = .repay(try c.decode(LendingEvent.self, forKey: .lending))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(address, forKey: .address)
        try c.encode(height, forKey: .height)
        try c.encode(timeMs, forKey: .timeMs)
        try c.encodeIfPresent(txIndex, forKey: .txIndex)
        try c.encode(kind, forKey: .type)
        switch detail {
        case .fill(let f): try c.encode(f, forKey: .fill)
        case .funding(let f): try c.encode(f, forKey: .funding)
        case .liquidation(let l): try c.encode(l, forKey: .liquidation)
        case .transfer(let t): try c.encode(t, forKey: .transfer)
        case .supply(let l), .withdraw(let l), .borrow(let l), .repay(let l): try c.encode(l, forKey: .lending)
        }
    }
}

/// The rate as an 18-decimal string (JSON numbers cannot hold every Int128).
extension FundingEvent: Codable {
    enum CodingKeys: String, CodingKey { case market, amount, positionSize, oraclePrice, rate }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        market = try c.decode(MarketID.self, forKey: .market)
        amount = try c.decode(Int64.self, forKey: .amount)
        positionSize = try c.decode(Int64.self, forKey: .positionSize)
        oraclePrice = try c.decode(Int64.self, forKey: .oraclePrice)
        let text = try c.decode(String.self, forKey: .rate)
        guard let rate = Ledger.parseWad(text) else {
            throw DecodingError.dataCorruptedError(forKey: .rate, in: c, debugDescription: "'\(text)' is not a decimal with at most 18 decimals")
        }
        self.rate = rate
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(market, forKey: .market)
        try c.encode(amount, forKey: .amount)
        try c.encode(positionSize, forKey: .positionSize)
        try c.encode(oraclePrice, forKey: .oraclePrice)
        try c.encode(Ledger.wadString(rate), forKey: .rate)
    }
}

extension Ledger {
    /// The inverse of `wadString`: "-0.000012500000000000" -> -12_500_000_000_000. Nil when the
    /// text is not a decimal with at most 18 decimals that fits.
    public static func parseWad(_ text: String) -> Int128? {
        var s = Substring(text)
        let negative = s.first == "-"
        if negative { s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholeText = parts.first, !wholeText.isEmpty, wholeText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let whole = Int128(wholeText) else { return nil }
        var fraction: Int128 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty, f.count <= 18, f.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let digits = Int128(f + String(repeating: "0", count: 18 - f.count)) else { return nil }
            fraction = digits
        }
        let (scaled, o1) = whole.multipliedReportingOverflow(by: Wad.one)
        let (value, o2) = scaled.addingReportingOverflow(fraction)
        guard !o1, !o2 else { return nil }
        return negative ? -value : value
    }
}
