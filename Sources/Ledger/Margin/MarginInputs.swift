/// Inputs of the margin engine. They are plain values, independent of how the ledger stores
/// accounts: the ledger builds an `AccountRisk` from an account and the current prices, and
/// the engine turns it into a `MarginSummary`.
///
/// Units everywhere: amounts in the asset's base units (`Int64`), USDC amounts in USDC base units
/// (6 decimals), prices in USDC base units per whole unit of the asset, ratios in ppm.

/// Genesis-wide margin parameters (the spec's S, c, 20 USDC, 0.95).
public struct MarginParameters: Sendable, Equatable, Hashable {
    /// Market-factor shock S, ppm (1% = 10,000).
    public var marketShockPPM: Int64
    /// Spot-perp basis contingency c, ppm (10% = 100,000).
    public var contingencyPPM: Int64
    /// MR's floor when the account has any risk, USDC base units (20 USDC = 20,000,000).
    public var minimumRequirement: Int64
    /// Liquidatable when MR / V_liq is above this, ppm (0.95 = 950,000).
    public var liquidationRatioPPM: Int64
    /// LTV of USDC held (wallet + supplied) in the borrow-capacity check, ppm. The spec's table
    /// gives USDC "value 1", so the default genesis uses 1,000,000.
    public var usdcLTVPPM: Int64

    public init(marketShockPPM: Int64, contingencyPPM: Int64, minimumRequirement: Int64,
                liquidationRatioPPM: Int64, usdcLTVPPM: Int64) {
        self.marketShockPPM = marketShockPPM
        self.contingencyPPM = contingencyPPM
        self.minimumRequirement = minimumRequirement
        self.liquidationRatioPPM = liquidationRatioPPM
        self.usdcLTVPPM = usdcLTVPPM
    }

    /// The spec's default genesis: S = 1%, c = 10%, 20 USDC, 0.95, USDC LTV 1.
    public static let specDefault = MarginParameters(
        marketShockPPM: 10_000, contingencyPPM: 100_000, minimumRequirement: 20_000_000,
        liquidationRatioPPM: 950_000, usdcLTVPPM: 1_000_000)
}

/// How one non-USDC asset (an underlying) moves and counts as collateral.
public struct UnderlyingRisk: Sendable, Equatable, Hashable {
    /// The asset (never 0, which is USDC).
    public var asset: AssetID
    /// Base units per whole unit are `10^decimals`; `0...MarginEngine.maxDecimals` (10).
    public var decimals: Int
    /// Sensitivity to the market factor, ppm (ETH 1.5 = 1,500,000).
    public var betaPPM: Int64
    /// Idiosyncratic move e, ppm (BTC 0.25% = 2,500).
    public var idiosyncraticPPM: Int64
    /// Loan-to-value, ppm (BTC 0.5 = 500,000). LT = 0.5 + 0.5 LTV is derived.
    public var ltvPPM: Int64
    /// Depth L_u for the size add-on, USDC base units (BTC 10M USDC = 10^13).
    public var depth: Int64

    public init(asset: AssetID, decimals: Int, betaPPM: Int64, idiosyncraticPPM: Int64, ltvPPM: Int64,
                depth: Int64) {
        self.asset = asset
        self.decimals = decimals
        self.betaPPM = betaPPM
        self.idiosyncraticPPM = idiosyncraticPPM
        self.ltvPPM = ltvPPM
        self.depth = depth
    }

    /// r_u = S x beta_u + e_u in ppm: the maintenance rate of a lone position. S x beta is rounded
    /// up to a whole ppm (exact for every default asset), so r_u is never understated.
    public func ratePPM(marketShockPPM: Int64) throws(LedgerMathError) -> Int64 {
        let factor = try Int64.mulDiv(marketShockPPM, betaPPM, PPM.one, rounding: .up)
        return try factor.checkedAdding(idiosyncraticPPM)
    }
}

/// An account's position in one underlying.
public struct Exposure: Sendable, Equatable, Hashable {
    public var asset: AssetID
    /// B_u: spot amount in base units, signed: pool position (negative when borrowed) plus wallet.
    public var spot: Int64
    /// P_u: perp size in base units, signed (short < 0).
    public var perpSize: Int64
    /// Perp cost basis in USDC base units, signed like the size (size x entry price).
    public var perpCostBasis: Int64
    /// Mark price m_u (USDC base units per whole unit). Values spot and perps alike.
    public var mark: Int64
    /// Oracle price; only V_init uses it (perp profit at the worse of mark and oracle).
    public var oracle: Int64

    public init(asset: AssetID, spot: Int64 = 0, perpSize: Int64 = 0, perpCostBasis: Int64 = 0,
                mark: Int64, oracle: Int64) {
        self.asset = asset
        self.spot = spot
        self.perpSize = perpSize
        self.perpCostBasis = perpCostBasis
        self.mark = mark
        self.oracle = oracle
    }
}

/// Everything about one account that its margin depends on.
public struct AccountRisk: Sendable, Equatable, Hashable {
    /// USDC, signed: pool position (negative when borrowed) plus wallet, USDC base units.
    public var usdc: Int64
    /// One entry per underlying the account touches, strictly increasing by `asset`.
    public var exposures: [Exposure]
    /// The account has at least one open order (MR's floor then applies).
    public var hasOpenOrders: Bool
    /// The account owes something in some pool. A negative `usdc` or `spot` counts as a borrow
    /// anyway; this flag covers debt netted against a wallet balance.
    public var hasDebt: Bool

    public init(usdc: Int64, exposures: [Exposure] = [], hasOpenOrders: Bool = false, hasDebt: Bool = false) {
        self.usdc = usdc
        self.exposures = exposures
        self.hasOpenOrders = hasOpenOrders
        self.hasDebt = hasDebt
    }
}

/// A fill that has not happened: an order filled in full at its limit price, for order reserves.
///
/// Its effect on the account: `spot += spotDelta`, `perpSize += perpDelta`, USDC changes by
/// exactly `-(spotDelta + perpDelta) x price / 10^decimals` (unrounded; for a perp this is the
/// change of USDC minus cost basis, whatever part of it is realized), minus a fee of
/// `ceil((|spotDelta| + |perpDelta|) x price / 10^decimals x feePPM)` USDC base units.
public struct HypotheticalFill: Sendable, Equatable, Hashable {
    public var asset: AssetID
    public var spotDelta: Int64
    public var perpDelta: Int64
    /// Fill price, USDC base units per whole unit.
    public var price: Int64
    public var feePPM: Int64
    /// The asset's current mark and oracle, used only when the account has no exposure in it yet
    /// (otherwise the exposure's own prices apply).
    public var mark: Int64
    public var oracle: Int64

    public init(asset: AssetID, spotDelta: Int64 = 0, perpDelta: Int64 = 0, price: Int64, feePPM: Int64 = 0,
                mark: Int64, oracle: Int64) {
        self.asset = asset
        self.spotDelta = spotDelta
        self.perpDelta = perpDelta
        self.price = price
        self.feePPM = feePPM
        self.mark = mark
        self.oracle = oracle
    }
}

/// Why the margin engine could not evaluate an account or be built.
public enum MarginError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A value beyond what the engine's 128-bit arithmetic holds (absurd sizes or prices).
    case overflow
    /// An exposure or fill names USDC or an asset the engine has no `UnderlyingRisk` for.
    case unknownAsset(AssetID)
    /// A negative mark, oracle or fill price, or a negative fee.
    case negativePrice(AssetID)
    /// Exposures must be strictly increasing by asset; this one is not.
    case exposuresNotSorted(AssetID)
    /// A parameter the engine cannot work with: field path and reason.
    case invalidParameter(field: String, reason: String)

    public var description: String {
        switch self {
        case .overflow: "arithmetic overflow in the margin computation"
        case .unknownAsset(let asset): "asset \(asset) has no risk parameters"
        case .negativePrice(let asset): "negative price or fee for asset \(asset)"
        case .exposuresNotSorted(let asset): "exposures not strictly increasing at asset \(asset)"
        case .invalidParameter(let field, let reason): "\(field): \(reason)"
        }
    }
}
