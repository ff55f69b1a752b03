// The JSON shapes of Hyperliquid's info endpoint (`POST /info`), as Ballast answers them.
// Field names and nesting follow Hyperliquid's public API documentation; numbers are exact
// decimal strings made from integer base units (`HLNumber`), never floating point.

/// Exact decimal strings, as Hyperliquid writes its numbers: `"62000.0"`, `"0.00775"`, `"-1195.58"`.
public enum HLNumber {
    /// `value / 10^scale` written out exactly: no exponent, trailing zeros dropped, at least one
    /// digit after the point. `scale` is 0...36 (every power fits in `UInt128`).
    public static func string(_ value: Int128, scale: Int) -> String {
        let divisor = power(scale)
        let magnitude = value.magnitude
        let whole = magnitude / divisor
        var fraction = String(magnitude % divisor)
        fraction = String(repeating: "0", count: max(0, scale - fraction.count)) + fraction
        while fraction.count > 1 && fraction.hasSuffix("0") { fraction.removeLast() }
        if fraction.isEmpty { fraction = "0" }
        return (value < 0 ? "-" : "") + String(whole) + "." + fraction
    }

    public static func string(_ value: Int64, scale: Int) -> String { string(Int128(value), scale: scale) }

    /// `numerator / denominator` to `scale` decimals, rounded toward zero; nil when the
    /// denominator is zero or the scaled numerator would pass `Int128`.
    public static func ratio(_ numerator: Int128, _ denominator: Int128, scale: Int) -> String? {
        guard denominator != 0 else { return nil }
        let (scaled, overflow) = numerator.multipliedReportingOverflow(by: Int128(power(scale)))
        if overflow { return nil }
        return string(scaled / denominator, scale: scale)
    }

    static func power(_ scale: Int) -> UInt128 {
        var p: UInt128 = 1
        for _ in 0..<min(max(scale, 0), 36) { p *= 10 }
        return p
    }
}

/// A value that is written as JSON `null` when absent (Swift's synthesized `Encodable`
/// leaves an optional out instead; Hyperliquid clients expect the key).
public struct OrNull<Value: Encodable & Sendable>: Encodable, Sendable {
    public var value: Value?
    public init(_ value: Value?) { self.value = value }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
}

/// A two-element JSON array of different types: `[meta, contexts]`, `[token, state]`.
public struct HLPair<First: Encodable & Sendable, Second: Encodable & Sendable>: Encodable, Sendable {
    public var first: First
    public var second: Second
    public init(_ first: First, _ second: Second) { self.first = first; self.second = second }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(first)
        try c.encode(second)
    }
}

// MARK: - Markets

/// One perp of `meta.universe`; its position there is its asset index.
public struct HLPerpAsset: Encodable, Sendable {
    public var name: String
    public var szDecimals: Int
    public var maxLeverage: Int64
    public var onlyIsolated: Bool
}

/// `meta`.
public struct HLMeta: Encodable, Sendable {
    public var universe: [HLPerpAsset]
}

/// One token of `spotMeta.tokens` (a Ballast asset; `index` is its asset id).
public struct HLSpotToken: Encodable, Sendable {
    public var name: String
    public var szDecimals: Int
    public var weiDecimals: Int
    public var index: Int
    public var tokenId: String
    public var isCanonical: Bool
}

/// One pair of `spotMeta.universe`: `tokens` is [base, quote]; its asset is 10000 + `index`.
public struct HLSpotPair: Encodable, Sendable {
    public var name: String
    public var tokens: [Int]
    public var index: Int
    public var isCanonical: Bool
}

/// `spotMeta`.
public struct HLSpotMeta: Encodable, Sendable {
    public var tokens: [HLSpotToken]
    public var universe: [HLSpotPair]
}

/// A perp's context in `metaAndAssetCtxs`.
public struct HLPerpAssetContext: Encodable, Sendable {
    /// Last funding rate, per hour.
    public var funding: String
    public var openInterest: String
    public var oraclePx: String
    public var markPx: String
    public var midPx: OrNull<String>
    /// [impact bid, impact ask] for the genesis impact notional; null while a side is too thin.
    public var impactPxs: OrNull<[String]>
}

/// A spot pair's context in `spotMetaAndAssetCtxs`.
public struct HLSpotAssetContext: Encodable, Sendable {
    public var coin: String
    public var markPx: String
    public var midPx: OrNull<String>
    public var circulatingSupply: String
    public var totalSupply: String
}

/// One aggregated level of `l2Book`.
public struct HLLevel: Encodable, Sendable {
    public var px: String
    public var sz: String
    public var n: Int
}

/// `l2Book`: `levels` is [bids, asks], best first.
public struct HLL2Book: Encodable, Sendable {
    public var coin: String
    public var time: Int64
    public var levels: [[HLLevel]]
}

// MARK: - Accounts

public struct HLLeverage: Encodable, Sendable {
    public var type: String
    public var value: Int64
}

public struct HLCumulativeFunding: Encodable, Sendable {
    public var allTime: String
    public var sinceOpen: String
    public var sinceChange: String
}

public struct HLPosition: Encodable, Sendable {
    public var coin: String
    public var szi: String
    public var entryPx: String
    public var positionValue: String
    public var unrealizedPnl: String
    public var returnOnEquity: String
    public var leverage: HLLeverage
    public var liquidationPx: OrNull<String>
    public var marginUsed: String
    public var maxLeverage: Int64
    public var cumFunding: HLCumulativeFunding
}

public struct HLAssetPosition: Encodable, Sendable {
    public var type: String
    public var position: HLPosition
}

public struct HLMarginSummary: Encodable, Sendable {
    public var accountValue: String
    public var totalNtlPos: String
    public var totalRawUsd: String
    public var totalMarginUsed: String
}

/// `clearinghouseState`.
public struct HLClearinghouseState: Encodable, Sendable {
    public var assetPositions: [HLAssetPosition]
    public var marginSummary: HLMarginSummary
    public var crossMarginSummary: HLMarginSummary
    public var crossMaintenanceMarginUsed: String
    public var withdrawable: String
    public var time: Int64
}

/// One balance of `spotClearinghouseState`. `total` is net (wallet + supplied - borrowed) and
/// is negative for a net borrow; `supplied` and `borrowed` are the pool positions beside it.
public struct HLSpotBalance: Encodable, Sendable {
    public var coin: String
    public var token: Int
    public var total: String
    public var hold: String
    public var entryNtl: String
    public var supplied: String
    public var borrowed: String
    public var ltv: String
}

/// `spotClearinghouseState`, with Hyperliquid's portfolio-margin fields.
public struct HLSpotClearinghouseState: Encodable, Sendable {
    public var balances: [HLSpotBalance]
    public var portfolioMarginEnabled: Bool
    /// MR / V_liq in portfolio mode; null when V_liq <= 0 with MR > 0 (infinite).
    public var portfolioMarginRatio: OrNull<String>
    /// [[0, V_liq - MR]] (USDC), at least 0.
    public var tokenToAvailableAfterMaintenance: [HLPair<Int, String>]
}

/// One resting order (`openOrders`; `frontendOpenOrders` adds the optional fields).
public struct HLOpenOrder: Encodable, Sendable {
    public var coin: String
    public var side: String
    public var limitPx: String
    public var sz: String
    public var oid: UInt64
    public var timestamp: Int64
    public var origSz: String
    public var cloid: String?
    public var orderType: String?
    public var tif: String?
    public var reduceOnly: Bool?
    public var isTrigger: Bool?
    public var isPositionTpsl: Bool?
    public var triggerCondition: String?
    public var triggerPx: String?
    public var children: [String]?
}

public struct HLBasisValue: Encodable, Sendable {
    public var basis: String
    public var value: String
}

public struct HLTokenLendState: Encodable, Sendable {
    public var borrow: HLBasisValue
    public var supply: HLBasisValue
}

/// `borrowLendUserState`.
public struct HLBorrowLendUserState: Encodable, Sendable {
    public var tokenToState: [HLPair<Int, HLTokenLendState>]
    public var health: String
    public var healthFactor: OrNull<String>
}

/// `borrowLendReserveState` (and each entry of `allBorrowLendReserveStates`).
public struct HLReserveState: Encodable, Sendable {
    public var borrowYearlyRate: String
    public var supplyYearlyRate: String
    public var balance: String
    public var utilization: String
    public var oraclePx: String
    public var ltv: String
    public var totalSupplied: String
    public var totalBorrowed: String
}

/// One fill of `userFills`, newest first.
public struct HLFill: Encodable, Sendable, Equatable {
    public var coin: String
    public var px: String
    public var sz: String
    /// "B" (bought) or "A" (sold).
    public var side: String
    public var time: Int64
    /// Position (perps) or balance (spot) before the fill.
    public var startPosition: String
    /// "Open Long", "Close Short", "Buy", "Sell", ...
    public var dir: String
    public var closedPnl: String
    /// The transaction that made the fill, 0x + 64 hex digits.
    public var hash: String
    public var oid: UInt64
    /// Taker (true) or maker (false).
    public var crossed: Bool
    public var fee: String
    /// Height x 2^32 + the trade's number in its block: both sides of a trade share it.
    public var tid: UInt64
    public var feeToken: String
    /// The order's client id, when it had one.
    public var cloid: String?
}
