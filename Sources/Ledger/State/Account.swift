import Codec
import BallastCrypto

/// One asset held by an account: the wallet bucket (earns nothing) and the pool position,
/// kept as supply shares or debt shares of the asset's lending pool (never both nonzero).
public struct AssetHolding: Equatable, Sendable {
    public var asset: AssetID
    /// Wallet balance, base units, >= 0.
    public var wallet: Int64 = 0
    /// Shares of the pool's supply; amount = shares x supply index (rounded down).
    public var supplyShares: Int64 = 0
    /// Shares of the pool's debt; amount = shares x borrow index (rounded up).
    public var debtShares: Int64 = 0

    public init(asset: AssetID, wallet: Int64 = 0, supplyShares: Int64 = 0, debtShares: Int64 = 0) {
        self.asset = asset
        self.wallet = wallet
        self.supplyShares = supplyShares
        self.debtShares = debtShares
    }

    public var isEmpty: Bool { wallet == 0 && supplyShares == 0 && debtShares == 0 }
}

/// A perp position: signed size (base units) and signed cost basis (size x entry price,
/// USDC base units). Funding settles eagerly, so nothing else is needed.
public struct PerpPosition: Equatable, Sendable {
    public var market: MarketID
    public var size: Int64 = 0
    public var costBasis: Int64 = 0

    public init(market: MarketID, size: Int64 = 0, costBasis: Int64 = 0) {
        self.market = market
        self.size = size
        self.costBasis = costBasis
    }

    public var isEmpty: Bool { size == 0 && costBasis == 0 }
}

/// An account: holdings per asset, perp positions, order bookkeeping, nonces, mode.
///
/// Holdings and positions are short arrays sorted by id, holding only nonzero entries,
/// so an account costs memory for what it has, not for every asset of the chain.
public struct Account: Equatable, Sendable {
    public var mode: MarginMode = .standard
    /// Sorted by asset; no empty entries.
    public private(set) var holdings: [AssetHolding] = []
    /// Sorted by market; no empty entries.
    public private(set) var positions: [PerpPosition] = []
    public var nonces = NonceSet()
    /// Traded notional (taker + maker), USDC base units: the eligibility volume.
    public var weightedVolume: Int64 = 0
    /// Resting orders across all books.
    public var openOrders: Int64 = 0
    /// Sum of the margin reserved by the resting orders.
    public var reservedMargin: Int64 = 0

    public init() {}

    public var isEmpty: Bool {
        mode == .standard && holdings.isEmpty && positions.isEmpty && nonces.isEmpty && weightedVolume == 0
            && openOrders == 0 && reservedMargin == 0
    }

    /// The holding of `asset` (zero when none).
    public func holding(_ asset: AssetID) -> AssetHolding {
        if let i = holdingIndex(asset) { return holdings[i] }
        return AssetHolding(asset: asset)
    }

    /// Replaces the holding of `holding.asset`, dropping it when empty.
    public mutating func setHolding(_ holding: AssetHolding) {
        let i = lowerBound(holdings, holding.asset, \.asset)
        let exists = i < holdings.count && holdings[i].asset == holding.asset
        if holding.isEmpty {
            if exists { holdings.remove(at: i) }
        } else if exists {
            holdings[i] = holding
        } else {
            holdings.insert(holding, at: i)
        }
    }

    /// The position in `market` (zero when none).
    public func position(_ market: MarketID) -> PerpPosition {
        let i = lowerBound(positions, market, \.market)
        if i < positions.count && positions[i].market == market { return positions[i] }
        return PerpPosition(market: market)
    }

    /// Replaces the position in `position.market`, dropping it when empty.
    public mutating func setPosition(_ position: PerpPosition) {
        let i = lowerBound(positions, position.market, \.market)
        let exists = i < positions.count && positions[i].market == position.market
        if position.isEmpty {
            if exists { positions.remove(at: i) }
        } else if exists {
            positions[i] = position
        } else {
            positions.insert(position, at: i)
        }
    }

    private func holdingIndex(_ asset: AssetID) -> Int? {
        let i = lowerBound(holdings, asset, \.asset)
        return i < holdings.count && holdings[i].asset == asset ? i : nil
    }

    /// The account's scalar fields, read and written together (what the journal saves for a
    /// change of order counts, reserves, volume or mode).
    var scalars: AccountScalars {
        get { AccountScalars(mode: mode, weightedVolume: weightedVolume, openOrders: openOrders, reservedMargin: reservedMargin) }
        set {
            mode = newValue.mode
            weightedVolume = newValue.weightedVolume
            openOrders = newValue.openOrders
            reservedMargin = newValue.reservedMargin
        }
    }

    /// Whether the account has any debt.
    public var hasDebt: Bool { holdings.contains { $0.debtShares > 0 } }
}

/// An account's fields besides its arrays (see `Account.scalars`).
struct AccountScalars: Sendable {
    var mode: MarginMode
    var weightedVolume: Int64
    var openOrders: Int64
    var reservedMargin: Int64
}

/// First index whose key is >= `key` in an array sorted by `path`.
@inline(__always)
func lowerBound<T>(_ items: [T], _ key: UInt32, _ path: KeyPath<T, UInt32>) -> Int {
    var lo = 0, hi = items.count
    while lo < hi {
        let mid = (lo + hi) >> 1
        if items[mid][keyPath: path] < key { lo = mid + 1 } else { hi = mid }
    }
    return lo
}

/// Hyperliquid's nonce rule: the account keeps its 100 highest nonces; a new nonce must be
/// above the smallest of them (once 100 are kept), must not repeat, and must lie strictly within
/// (T - 2 days, T + 1 day) of the block time T (milliseconds).
public struct NonceSet: Equatable, Sendable {
    public static let capacity = 100
    public static let pastWindowMs: Int64 = 2 * 86_400_000
    public static let futureWindowMs: Int64 = 86_400_000

    /// Ascending.
    public private(set) var nonces: [UInt64] = []

    public init() {}
    init(sorted: [UInt64]) { nonces = sorted }

    public var isEmpty: Bool { nonces.isEmpty }

    /// Why `nonce` cannot be used at block time `blockTimeMs`, or nil when it can.
    public func check(_ nonce: UInt64, blockTimeMs: Int64) -> LedgerError? {
        let t = Int128(blockTimeMs)
        let n = Int128(nonce)
        if n <= t - Int128(NonceSet.pastWindowMs) || n >= t + Int128(NonceSet.futureWindowMs) {
            return .nonceOutOfWindow(nonce: nonce, blockTimeMs: blockTimeMs)
        }
        if nonces.count >= NonceSet.capacity, let smallest = nonces.first, nonce <= smallest {
            return .nonceTooLow(nonce: nonce, smallest: smallest)
        }
        if binarySearch(nonce) != nil { return .nonceReused(nonce) }
        return nil
    }

    /// Records `nonce` (already checked), dropping the smallest beyond capacity.
    public mutating func insert(_ nonce: UInt64) {
        var lo = 0, hi = nonces.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if nonces[mid] < nonce { lo = mid + 1 } else { hi = mid }
        }
        nonces.insert(nonce, at: lo)
        if nonces.count > NonceSet.capacity { nonces.removeFirst() }
    }

    private func binarySearch(_ nonce: UInt64) -> Int? {
        var lo = 0, hi = nonces.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if nonces[mid] < nonce { lo = mid + 1 } else { hi = mid }
        }
        return lo < nonces.count && nonces[lo] == nonce ? lo : nil
    }
}

// MARK: - Canonical encodings (state root leaves and snapshots)

extension AssetHolding: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(asset); w.write(wallet); w.write(supplyShares); w.write(debtShares)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        asset = try r.readUInt32(); wallet = try r.readInt64()
        supplyShares = try r.readInt64(); debtShares = try r.readInt64()
    }
}

extension PerpPosition: Canonical {
    public func encode(to w: inout ByteWriter) { w.write(market); w.write(size); w.write(costBasis) }
    public init(from r: inout ByteReader) throws(CodecError) {
        market = try r.readUInt32(); size = try r.readInt64(); costBasis = try r.readInt64()
    }
}

extension Account: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(mode)
        w.write(holdings)
        w.write(positions)
        w.write(nonces.nonces)
        w.write(weightedVolume)
        w.write(openOrders)
        w.write(reservedMargin)
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        mode = try r.read()
        holdings = try r.readArray(field: "account.holdings", maximum: 1 << 16)
        positions = try r.readArray(field: "account.positions", maximum: 1 << 16)
        let nonceList: [UInt64] = try r.readArray(field: "account.nonces", maximum: NonceSet.capacity)
        nonces = NonceSet(sorted: nonceList)
        weightedVolume = try r.readInt64()
        openOrders = try r.readInt64()
        reservedMargin = try r.readInt64()
        func ascending(_ ids: [UInt32]) -> Bool { zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 } }
        guard ascending(holdings.map(\.asset)), !holdings.contains(where: \.isEmpty),
              ascending(positions.map(\.market)), !positions.contains(where: \.isEmpty),
              zip(nonceList, nonceList.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw .invalidValue(field: "account", reason: "entries not sorted, unique and nonzero")
        }
    }
}

