import Codec
import BallastCrypto

/// One validator's latest price for an asset.
public struct OracleSubmission: Equatable, Sendable {
    public var validator: UInt32
    public var price: Int64
    public var timeMs: Int64
}

/// An asset's oracle: the effective price and the latest submission of each validator.
public struct OracleState: Equatable, Sendable {
    public var asset: AssetID
    /// Effective price: stake-weighted median of fresh submissions (kept when too few are fresh).
    public var price: Int64
    /// Sorted by validator index, one per validator.
    public var submissions: [OracleSubmission] = []

    public init(asset: AssetID, price: Int64) {
        self.asset = asset
        self.price = price
    }
}

/// Per-market state besides the book: open interest and the funding accumulators (perps).
public struct MarketState: Equatable, Sendable {
    public var market: MarketID
    /// Sum of long sizes (= sum of short sizes), base units.
    public var openInterest: Int64 = 0
    /// Sum over sampled blocks of premium (wad) x the block's duration (ms) in this interval.
    public var premiumTimeSum: Int128 = 0
    /// Milliseconds sampled in this interval.
    public var premiumTimeMs: Int64 = 0
    /// The rate applied at the last settlement, wad per interval (for queries).
    public var lastFundingRate: Int128 = 0
    /// Cumulative funding paid per whole unit of a long, USDC base units x 10^18 / 10^6 (wad of USDC).
    public var cumulativeFunding: Int128 = 0

    public init(market: MarketID) { self.market = market }
}

/// Chain-wide counters.
public struct GlobalState: Equatable, Sendable {
    public var genesisHash: Hash256
    public var height: UInt64 = 0
    /// Time of the last applied block, ms.
    public var timeMs: Int64
    /// Next order id to hand out.
    public var nextOrderID: OrderID = 1
    /// Last funding boundary settled, ms.
    public var lastFundingMs: Int64
    /// Bad debt not yet covered (USDC base units): while > 0, risk-adding actions are refused.
    public var deficit: Int64 = 0
}

/// Immutable per-chain tables derived from genesis.
///
/// A class (every property a `let`, so it behaves as a value): the ledger is copied now and then
/// (a closure capturing it, a snapshot), and a struct of this size would retain each of its
/// dozens of arrays on every copy; a class is one reference.
public final class LedgerConfig: Sendable {
    public let genesis: Genesis
    /// 10^decimals per asset.
    public let unitScale: [Int64]
    /// The rate model of each asset's pool.
    public let rateModels: [RateModel]
    public let orderRules: [OrderRules]
    /// The perp market on each asset, if any.
    public let perpMarket: [MarketID?]
    /// The spot market on each asset, if any.
    public let spotMarket: [MarketID?]
    /// Each market's base asset (`genesis.markets[m].base`), read on every margin check without
    /// touching the market's whole configuration.
    public let marketBase: [AssetID]
    /// The mark's clamp around the oracle, ppm (`genesis.oracle.markClampPpm`).
    public let markClampPpm: Int64
    /// Validator index by address (lookup only, never iterated).
    public let validatorIndex: [Address: UInt32]
    public let totalStake: Int64
    public let margin: MarginParameters
    public let underlyings: [UnderlyingRisk]
    public let engine: MarginEngine

    init(genesis: Genesis) throws(GenesisError) {
        self.genesis = genesis
        unitScale = genesis.assets.map { a in (try? Pow10.int64(Int(a.decimals))) ?? 1 }
        rateModels = genesis.assets.map { $0.rateModel ?? genesis.rateModel }
        orderRules = genesis.markets.map { m in
            OrderRules(tick: m.tick, lot: m.lot, minimumNotional: m.minNotional,
                       unitScale: (try? Pow10.int64(Int(genesis.assets[Int(m.base)].decimals))) ?? 1)
        }
        var perp = [MarketID?](repeating: nil, count: genesis.assets.count)
        var spot = [MarketID?](repeating: nil, count: genesis.assets.count)
        for (i, m) in genesis.markets.enumerated() {
            if m.kind == .perp { perp[Int(m.base)] = MarketID(i) } else { spot[Int(m.base)] = MarketID(i) }
        }
        perpMarket = perp
        spotMarket = spot
        marketBase = genesis.markets.map(\.base)
        markClampPpm = genesis.oracle.markClampPpm
        var index: [Address: UInt32] = [:]
        for (i, v) in genesis.validators.enumerated() { index[v.address] = UInt32(i) }
        validatorIndex = index
        totalStake = genesis.validators.reduce(0) { $0 + $1.stake }
        let usdcLTV = genesis.assets[0].ltvPpm
        margin = MarginParameters(marketShockPPM: genesis.risk.marketShockPpm,
                                  contingencyPPM: genesis.risk.contingencyPpm,
                                  minimumRequirement: genesis.risk.minRequirement,
                                  liquidationRatioPPM: genesis.risk.liquidationRatioPpm, usdcLTVPPM: usdcLTV)
        underlyings = genesis.assets.enumerated().dropFirst().map { i, a in
            UnderlyingRisk(asset: AssetID(i), decimals: Int(a.decimals), betaPPM: a.betaPpm,
                           idiosyncraticPPM: a.idiosyncraticPpm, ltvPPM: a.ltvPpm, depth: a.depth)
        }
        do {
            engine = try MarginEngine(parameters: margin, underlyings: underlyings)
        } catch {
            throw GenesisError(path: "assets", reason: "margin engine refused the parameters: \(error)")
        }
    }

    public var assetCount: Int { genesis.assets.count }
    public var marketCount: Int { genesis.markets.count }
    public func asset(_ id: AssetID) -> AssetConfig? { Int(id) < assetCount ? genesis.assets[Int(id)] : nil }
    public func market(_ id: MarketID) -> MarketConfig? { Int(id) < marketCount ? genesis.markets[Int(id)] : nil }
}

// MARK: - Canonical encodings

extension OracleSubmission: Canonical {
    public func encode(to w: inout ByteWriter) { w.write(validator); w.write(price); w.write(timeMs) }
    public init(from r: inout ByteReader) throws(CodecError) {
        validator = try r.readUInt32(); price = try r.readInt64(); timeMs = try r.readInt64()
    }
}

extension OracleState: Canonical {
    public func encode(to w: inout ByteWriter) { w.write(asset); w.write(price); w.write(submissions) }
    public init(from r: inout ByteReader) throws(CodecError) {
        asset = try r.readUInt32(); price = try r.readInt64()
        submissions = try r.readArray(field: "oracle.submissions", maximum: 1 << 16)
    }
}

extension MarketState: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(market); w.write(openInterest); w.writeInt128(premiumTimeSum); w.write(premiumTimeMs)
        w.writeInt128(lastFundingRate); w.writeInt128(cumulativeFunding)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        market = try r.readUInt32(); openInterest = try r.readInt64(); premiumTimeSum = try r.readInt128()
        premiumTimeMs = try r.readInt64(); lastFundingRate = try r.readInt128(); cumulativeFunding = try r.readInt128()
    }
}

extension GlobalState: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(genesisHash); w.write(height); w.write(timeMs); w.write(nextOrderID)
        w.write(lastFundingMs); w.write(deficit)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        genesisHash = try r.read(); height = try r.readUInt64(); timeMs = try r.readInt64()
        nextOrderID = try r.readUInt64(); lastFundingMs = try r.readInt64(); deficit = try r.readInt64()
    }
}
