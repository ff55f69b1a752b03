/// # Margin engine
///
/// A pure function from an account's balances, positions and prices to its margin numbers in
/// both modes (the spec's "The requirement (portfolio mode)" and "(standard mode)"). No state,
/// no allocation while evaluating, integers only.
///
/// ```swift
/// let engine = try MarginEngine(parameters: .specDefault, underlyings: [btc, eth, hype])
/// let account = AccountRisk(usdc: 1_000_000_000, exposures: [          // sorted by asset
///     Exposure(asset: 1, spot: 100_000_000, perpSize: -100_000_000, perpCostBasis: -62_000_000_000,
///              mark: 62_000_000_000, oracle: 62_000_000_000)])
/// let summary = try engine.evaluate(account)
/// summary.portfolio.maintenance      // MR, USDC base units (77_500_000 here)
/// summary.portfolio.slack            // V_init - IR: must cover the sum of order reserves
/// summary.portfolio.isLiquidatable   // MR / V_liq > 0.95
/// summary.standard.maintenance       // the same account in standard mode (775_000_000)
/// summary.withinBorrowCapacity       // borrowed value <= sum of collateral x LTV
/// try engine.reserve(for: fill, account: account, portfolioMode: true)   // an order's reserve
/// try engine.breakdown(account)      // PR's four parts, for display
/// try engine.liquidationPrices(account, asset: 1)   // marks where it would become liquidatable
/// ```
///
/// The ledger uses it for: the margin check after a risk-adding action (`slack >= reserves` and
/// `withinBorrowCapacity`), order reserves (`reserve(for:account:portfolioMode:)`), liquidation
/// (`isLiquidatable`, `ratioExceeds(ppm:)`, `liquidationValueBelow(numerator:denominator:)`, and
/// dMR as the difference of `maintenance` before and after a step), and account queries.
///
/// ## Exactness and rounding
/// Every output is its exact rational value rounded once: requirements (PR, MR, IR, MR_cross,
/// borrowed value, fees of hypothetical fills) up, values (V_liq, V_init, collateral, borrow
/// capacity) down. To do that the engine accumulates each quantity as an exact integer numerator
/// over a fixed denominator (`10^d` for notionals, where d is the largest asset decimals, times
/// 10^6 per ppm factor) and divides at the end. The only other rounding is the definition of
/// r_u = S x beta_u + e_u, whose S x beta part is rounded up to a whole ppm. Numerators are
/// `Int128` with checked arithmetic: an account with more than roughly 10^(20 - d) USDC of notional
/// (10^12 with the default 8 decimals) gets `MarginError.overflow` rather than a wrong number.
/// Underlyings may have at most `maxDecimals` (10) decimals.
public struct MarginEngine: Sendable {
    /// Largest decimals of an underlying the engine accepts.
    public static let maxDecimals = 10
    public let parameters: MarginParameters
    /// The underlyings as given, in the order given.
    public let underlyings: [UnderlyingRisk]
    /// Per-underlying constants, indexed by asset id; `known == false` for USDC and gaps.
    @usableFromInline let table: [Entry]
    /// K = 10^d, d the largest decimals: amount x mark x scale_u = notional x K.
    @usableFromInline let unit: Int128

    /// Builds the engine; refuses parameters it cannot compute with, naming the field.
    public init(parameters: MarginParameters, underlyings: [UnderlyingRisk]) throws(MarginError) {
        func check(_ ok: Bool, _ field: String, _ reason: String) throws(MarginError) {
            if !ok { throw .invalidParameter(field: field, reason: reason) }
        }
        try check(parameters.marketShockPPM >= 0 && parameters.marketShockPPM <= PPM.one,
                  "marketShockPPM", "must be in 0...1,000,000")
        try check(parameters.contingencyPPM >= 0 && parameters.contingencyPPM <= PPM.one,
                  "contingencyPPM", "must be in 0...1,000,000")
        try check(parameters.minimumRequirement >= 0, "minimumRequirement", "must be >= 0")
        try check(parameters.liquidationRatioPPM > 0 && parameters.liquidationRatioPPM <= PPM.one,
                  "liquidationRatioPPM", "must be in 1...1,000,000")
        try check(parameters.usdcLTVPPM >= 0 && parameters.usdcLTVPPM <= PPM.one,
                  "usdcLTVPPM", "must be in 0...1,000,000")
        var maxDecimals = 0
        var maxAsset: AssetID = 0
        for (i, u) in underlyings.enumerated() {
            let field = "underlyings[\(i)]"
            try check(u.asset != 0, "\(field).asset", "0 is USDC, the numeraire")
            try check(u.asset < 4096, "\(field).asset", "must be < 4096")
            // Notionals are exact over 10^d (d the largest decimals) in Int128: beyond 10 decimals
            // the engine's capacity (about 10^(20 - d) USDC of notional per account) gets too small.
            try check(u.decimals >= 0 && u.decimals <= MarginEngine.maxDecimals, "\(field).decimals",
                      "must be in 0...\(MarginEngine.maxDecimals)")
            try check(u.betaPPM >= 0 && u.betaPPM <= 100 * PPM.one, "\(field).betaPPM", "must be in 0...100,000,000")
            try check(u.idiosyncraticPPM >= 0 && u.idiosyncraticPPM <= PPM.one,
                      "\(field).idiosyncraticPPM", "must be in 0...1,000,000")
            try check(u.ltvPPM >= 0 && u.ltvPPM <= PPM.one, "\(field).ltvPPM", "must be in 0...1,000,000")
            try check(u.depth >= 0, "\(field).depth", "must be >= 0")
            try check(!underlyings[..<i].contains { $0.asset == u.asset }, "\(field).asset", "listed twice")
            maxDecimals = max(maxDecimals, u.decimals)
            maxAsset = max(maxAsset, u.asset)
        }
        do throws(LedgerMathError) {
            let unit = try Pow10.int128(maxDecimals)
            var table = [Entry](repeating: Entry(), count: Int(maxAsset) + 1)
            for u in underlyings {
                table[Int(u.asset)] = Entry(
                    known: true,
                    scale: try Pow10.int128(maxDecimals - u.decimals),
                    beta: Int128(u.betaPPM),
                    idiosyncratic: Int128(u.idiosyncraticPPM),
                    rate: Int128(try u.ratePPM(marketShockPPM: parameters.marketShockPPM)),
                    ltv: Int128(u.ltvPPM),
                    depthScaled: try Int128(u.depth).checkedMultiplied(by: unit))
            }
            self.unit = unit
            self.table = table
        } catch {
            throw .overflow
        }
        self.parameters = parameters
        self.underlyings = underlyings
    }

    /// Both modes' numbers for `account`.
    public func evaluate(_ account: AccountRisk) throws(MarginError) -> MarginSummary {
        try summary(of: accumulate(account, fill: nil), account: account)
    }

    /// Both modes' numbers for `account` as if `fill` had happened.
    public func evaluate(_ account: AccountRisk, with fill: HypotheticalFill) throws(MarginError) -> MarginSummary {
        try summary(of: accumulate(account, fill: fill), account: account)
    }

    /// MR and V_liq of `account` in one mode, nothing else: the end-of-block recheck of every
    /// exposed account needs no more. Equal to `evaluate(account).requirement(portfolioMode:)`'s
    /// `maintenance` and `liquidationValue` whenever both return (the same sums and roundings);
    /// it skips the other quantities, so it may succeed where `evaluate` throws `.overflow`.
    public func liquidationNumbers(_ account: AccountRisk, portfolioMode: Bool) throws(MarginError)
        -> (maintenance: Int64, liquidationValue: Int64) {
        let sums = try accumulate(account, fill: nil, parts: portfolioMode ? .portfolioLiquidation : .standardLiquidation)
        do throws(LedgerMathError) {
            if portfolioMode {
                return (try portfolioMaintenance(sums, account: account).mr, try portfolioLiquidationValue(sums))
            }
            return (try standardMaintenance(sums), try standardLiquidationValue(sums))
        } catch {
            throw .overflow
        }
    }

    /// An open order's reserve: max(0, slack now - slack with the order alone filled), in the
    /// account's mode. Pass `currentSlack` when already known to save one evaluation.
    public func reserve(for fill: HypotheticalFill, account: AccountRisk, portfolioMode: Bool,
                        currentSlack: Int64? = nil) throws(MarginError) -> Int64 {
        let now: Int64
        if let currentSlack {
            now = currentSlack
        } else {
            now = try evaluate(account).requirement(portfolioMode: portfolioMode).slack
        }
        let after = try evaluate(account, with: fill).requirement(portfolioMode: portfolioMode).slack
        let (drop, overflow) = now.subtractingReportingOverflow(after)
        if overflow { throw .overflow }
        return max(0, drop)
    }

    /// PR's four parts, each rounded up (for account queries).
    public func breakdown(_ account: AccountRisk) throws(MarginError) -> RequirementBreakdown {
        let sums = try accumulate(account, fill: nil)
        do throws(LedgerMathError) {
            let p = parameters
            return RequirementBreakdown(
                marketFactor: try ceil(sums.marketFactor.checkedAbsolute()
                    .checkedMultiplied(by: Int128(p.marketShockPPM)), over: 1_000_000_000_000),
                idiosyncratic: try ceil(sums.idiosyncratic, over: 1_000_000),
                basisContingency: try ceil(sums.contingency.checkedMultiplied(by: Int128(p.contingencyPPM)),
                                           over: 1_000_000_000_000),
                depthAddOn: try ceil(sums.depth, over: 1_000_000))
        } catch {
            throw .overflow
        }
    }

    // MARK: - Internals

    /// Constants of one underlying, in the engine's integer units.
    @usableFromInline struct Entry: Sendable {
        var known = false
        /// 10^(d - decimals): amount x price x scale = notional x K.
        var scale: Int128 = 0
        var beta: Int128 = 0
        var idiosyncratic: Int128 = 0
        /// r_u, ppm.
        var rate: Int128 = 0
        var ltv: Int128 = 0
        /// L_u x K.
        var depthScaled: Int128 = 0
    }

    /// Which of `Sums`' quantities to accumulate (the rest stay zero).
    @usableFromInline struct Parts: OptionSet, Sendable {
        @usableFromInline let rawValue: UInt8
        @usableFromInline init(rawValue: UInt8) { self.rawValue = rawValue }
        /// PR's four sums and the spot valuation of V_liq.
        @usableFromInline static let portfolio = Parts(rawValue: 1)
        /// MR_cross.
        @usableFromInline static let standard = Parts(rawValue: 2)
        /// V_init (PnL at the worse price, spot at LTV) and the borrow-capacity sums.
        @usableFromInline static let initial = Parts(rawValue: 4)
        @usableFromInline static let all: Parts = [.portfolio, .standard, .initial]
        @usableFromInline static let portfolioLiquidation: Parts = [.portfolio]
        @usableFromInline static let standardLiquidation: Parts = [.standard]
    }

    /// Exact numerators accumulated over an account's exposures. Units: "xK" = USDC base units
    /// times K; "ppm xK" = that times 10^6.
    @usableFromInline struct Sums: Sendable {
        /// sum beta_u N_u (ppm xK), signed.
        var marketFactor: Int128 = 0
        /// sum e_u |N_u| (ppm xK).
        var idiosyncratic: Int128 = 0
        /// sum r_u H_u m_u (ppm xK), still to be multiplied by c.
        var contingency: Int128 = 0
        /// sum r_u max(0, G_u - L_u) (ppm xK).
        var depth: Int128 = 0
        /// sum r_u |P_u| m_u: standard MR_cross (ppm xK).
        var standardRequirement: Int128 = 0
        /// USDC, with a hypothetical fill's cash and fee (xK).
        var cash: Int128 = 0
        /// sum P_u m_u - cost basis (xK), and the same at the worse of mark and oracle.
        var pnlAtMark: Int128 = 0
        var pnlAtWorse: Int128 = 0
        /// Spot valuation for V_liq and V_init (2 ppm xK: LT = (10^6 + LTV) / (2 x 10^6)).
        var spotLiquidation: Int128 = 0
        var spotInitial: Int128 = 0
        /// sum |B_u| m_u over borrowed spot (xK).
        var borrowedSpot: Int128 = 0
        /// sum B_u m_u LTV_u over held spot (ppm xK).
        var collateralSpot: Int128 = 0
        var hasPerp = false
        var hasBorrowedSpot = false

        @inline(__always)
        mutating func add(spot: Int64, perpSize: Int64, costBasis: Int64, mark: Int64, oracle: Int64,
                          entry: Entry, unit: Int128, parts: Parts) throws(LedgerMathError) {
            let b = Int128(spot)
            let p = Int128(perpSize)
            // mark < 2^63 and scale <= 10^18 < 2^60: the product fits without a check.
            let markScaled = Int128(mark) * entry.scale
            // H_u: B and P of opposite signs. Both come from Int64, so abs cannot overflow.
            let hedged: Int128 = (b < 0 && p > 0) || (b > 0 && p < 0) ? min(Swift.abs(b), Swift.abs(p)) : 0
            if p != 0 {
                hasPerp = true
                if parts.contains(.portfolio) {
                    let q = p > 0 ? p - hedged : p + hedged
                    let notional = try q.checkedMultiplied(by: markScaled)                // N_u xK
                    try marketFactor.checkedAdd(notional.checkedMultiplied(by: entry.beta))
                    try idiosyncratic.checkedAdd(notional.checkedAbsolute().checkedMultiplied(by: entry.idiosyncratic))
                    let hedgedNotional = try hedged.checkedMultiplied(by: markScaled)
                    try contingency.checkedAdd(hedgedNotional.checkedMultiplied(by: entry.rate))
                }
                // G_u = (|Q_u| + H_u) m_u = |P_u| m_u.
                let gross = try p.checkedAbsolute().checkedMultiplied(by: markScaled)
                if parts.contains(.standard) {
                    try standardRequirement.checkedAdd(gross.checkedMultiplied(by: entry.rate))
                }
                if parts.contains(.portfolio) && gross > entry.depthScaled {
                    try depth.checkedAdd((gross - entry.depthScaled).checkedMultiplied(by: entry.rate))
                }
                let cost = try Int128(costBasis).checkedMultiplied(by: unit)
                try pnlAtMark.checkedAdd(p.checkedMultiplied(by: markScaled).checkedSubtracting(cost))
                if parts.contains(.initial) {
                    let worse = p > 0 ? min(mark, oracle) : max(mark, oracle)
                    let worseScaled = Int128(worse) * entry.scale
                    try pnlAtWorse.checkedAdd(p.checkedMultiplied(by: worseScaled).checkedSubtracting(cost))
                }
            }
            if b != 0 {
                if b < 0 { hasBorrowedSpot = true }
                if parts.contains(.portfolio) || parts.contains(.initial) {
                    // Hedged spot at full value, signed like B_u; 2 x 10^6 in the 2-ppm unit.
                    let hedgedValue = try (b > 0 ? hedged : -hedged).checkedMultiplied(by: markScaled)
                        .checkedMultiplied(by: 2_000_000)
                    if parts.contains(.portfolio) { try spotLiquidation.checkedAdd(hedgedValue) }
                    if parts.contains(.initial) { try spotInitial.checkedAdd(hedgedValue) }
                    let r = b > 0 ? b - hedged : b + hedged
                    if r != 0 {
                        let unhedged = try r.checkedMultiplied(by: markScaled)
                        // Held: x LT (liq) or x LTV (init). Borrowed: x (2 - LT) or x (2 - LTV).
                        if parts.contains(.portfolio) {
                            let liquidationWeight = r > 0 ? 1_000_000 + entry.ltv : 3_000_000 - entry.ltv
                            try spotLiquidation.checkedAdd(unhedged.checkedMultiplied(by: liquidationWeight))
                        }
                        if parts.contains(.initial) {
                            let initialWeight = r > 0 ? 2 * entry.ltv : 4_000_000 - 2 * entry.ltv
                            try spotInitial.checkedAdd(unhedged.checkedMultiplied(by: initialWeight))
                        }
                    }
                }
                if parts.contains(.initial) {
                    let value = try b.checkedMultiplied(by: markScaled)                     // B_u m_u xK
                    if b < 0 {
                        try borrowedSpot.checkedSubtract(value)
                    } else {
                        try collateralSpot.checkedAdd(value.checkedMultiplied(by: entry.ltv))
                    }
                }
            }
        }
    }

    /// The validated, exact sums for `account` (with `fill` applied when given).
    @usableFromInline
    func accumulate(_ account: AccountRisk, fill: HypotheticalFill?, parts: Parts = .all) throws(MarginError) -> Sums {
        var sums = Sums()
        var previous: Int64 = -1
        var fillPending = false
        if let fill {
            fillPending = true
            if fill.price < 0 || fill.feePPM < 0 { throw .negativePrice(fill.asset) }
        }
        do throws(LedgerMathError) {
            sums.cash = try Int128(account.usdc).checkedMultiplied(by: unit)
        } catch { throw .overflow }
        for exposure in account.exposures {
            let entry = try entry(exposure.asset)
            if Int64(exposure.asset) <= previous { throw .exposuresNotSorted(exposure.asset) }
            previous = Int64(exposure.asset)
            if exposure.mark < 0 || exposure.oracle < 0 { throw .negativePrice(exposure.asset) }
            var spot = exposure.spot
            var perpSize = exposure.perpSize
            do throws(LedgerMathError) {
                if let fill, fill.asset == exposure.asset {
                    fillPending = false
                    try applyCash(of: fill, entry: entry, to: &sums)
                    spot = try spot.checkedAdding(fill.spotDelta)
                    perpSize = try perpSize.checkedAdding(fill.perpDelta)
                }
                try sums.add(spot: spot, perpSize: perpSize, costBasis: exposure.perpCostBasis,
                             mark: exposure.mark, oracle: exposure.oracle, entry: entry, unit: unit, parts: parts)
            } catch { throw .overflow }
        }
        if fillPending, let fill {
            let entry = try entry(fill.asset)
            if fill.mark < 0 || fill.oracle < 0 { throw .negativePrice(fill.asset) }
            do throws(LedgerMathError) {
                try applyCash(of: fill, entry: entry, to: &sums)
                try sums.add(spot: fill.spotDelta, perpSize: fill.perpDelta, costBasis: 0,
                             mark: fill.mark, oracle: fill.oracle, entry: entry, unit: unit, parts: parts)
            } catch { throw .overflow }
        }
        return sums
    }

    @inline(__always)
    func entry(_ asset: AssetID) throws(MarginError) -> Entry {
        guard Int(asset) < table.count else { throw .unknownAsset(asset) }
        let entry = table[Int(asset)]
        guard entry.known else { throw .unknownAsset(asset) }
        return entry
    }

    /// A hypothetical fill's cash: -(spot + perp delta) x price exactly, minus the fee rounded up.
    func applyCash(of fill: HypotheticalFill, entry: Entry, to sums: inout Sums) throws(LedgerMathError) {
        let priceScaled = Int128(fill.price) * entry.scale
        let traded = try Int128(fill.spotDelta).checkedAdding(Int128(fill.perpDelta))
        try sums.cash.checkedSubtract(traded.checkedMultiplied(by: priceScaled))
        if fill.feePPM != 0 {
            let gross = try (Swift.abs(Int128(fill.spotDelta)) + Swift.abs(Int128(fill.perpDelta)))
                .checkedMultiplied(by: priceScaled)
            let fee = try Int128.mulDiv(gross, Int128(fill.feePPM), 1_000_000 * unit, rounding: .up)
            try sums.cash.checkedSubtract(fee.checkedMultiplied(by: unit))
        }
    }

    /// `numerator / (denominatorFactor x K)` rounded up, as `Int64`.
    @inline(__always)
    func ceil(_ numerator: Int128, over denominatorFactor: Int128) throws(LedgerMathError) -> Int64 {
        try Int64(checked: numerator.divided(by: denominatorFactor * unit, rounding: .up))
    }

    /// `numerator / (denominatorFactor x K)` rounded down, as `Int64`.
    @inline(__always)
    func floor(_ numerator: Int128, over denominatorFactor: Int128) throws(LedgerMathError) -> Int64 {
        try Int64(checked: numerator.divided(by: denominatorFactor * unit, rounding: .down))
    }

    /// PR (rounded up), its exact numerator x 10^12 K, and MR = max(minimum, PR) when the
    /// account has risk (else 0).
    func portfolioMaintenance(_ sums: Sums, account: AccountRisk) throws(LedgerMathError)
        -> (exactPR: Int128, pr: Int64, hasRisk: Bool, mr: Int64) {
        let p = parameters
        // PR x 10^12 K: S |sum beta N| + 10^6 sum e|N| + c sum r H m + 10^6 sum r max(0, G - L).
        var exactPR = try sums.marketFactor.checkedAbsolute().checkedMultiplied(by: Int128(p.marketShockPPM))
        try exactPR.checkedAdd(sums.idiosyncratic.checkedMultiplied(by: 1_000_000))
        try exactPR.checkedAdd(sums.contingency.checkedMultiplied(by: Int128(p.contingencyPPM)))
        try exactPR.checkedAdd(sums.depth.checkedMultiplied(by: 1_000_000))
        let pr = try ceil(exactPR, over: 1_000_000_000_000)
        let hasRisk = sums.hasPerp || sums.hasBorrowedSpot || sums.cash < 0 || account.hasDebt
            || account.hasOpenOrders
        return (exactPR, pr, hasRisk, hasRisk ? max(p.minimumRequirement, pr) : 0)
    }

    /// Portfolio V_liq: cash and PnL at mark, spot at LT (hedged spot at full value), rounded down.
    func portfolioLiquidationValue(_ sums: Sums) throws(LedgerMathError) -> Int64 {
        try floor(sums.cash.checkedAdding(sums.pnlAtMark).checkedMultiplied(by: 2_000_000)
            .checkedAdding(sums.spotLiquidation), over: 2_000_000)
    }

    /// Standard MR_cross, rounded up.
    func standardMaintenance(_ sums: Sums) throws(LedgerMathError) -> Int64 {
        try ceil(sums.standardRequirement, over: 1_000_000)
    }

    /// Standard V_liq: cash and PnL at mark, rounded down.
    func standardLiquidationValue(_ sums: Sums) throws(LedgerMathError) -> Int64 {
        try floor(sums.cash.checkedAdding(sums.pnlAtMark), over: 1)
    }

    /// Turns exact sums into the rounded numbers of both modes.
    func summary(of sums: Sums, account: AccountRisk) throws(MarginError) -> MarginSummary {
        do throws(LedgerMathError) {
            let p = parameters
            let (exactPR, pr, hasRisk, mr) = try portfolioMaintenance(sums, account: account)
            let twicePR = try ceil(exactPR.checkedMultiplied(by: 2), over: 1_000_000_000_000)
            let cashAndWorsePnL = try sums.cash.checkedAdding(sums.pnlAtWorse)
            let portfolio = try Requirement(
                maintenance: mr,
                initial: max(twicePR, mr),
                liquidationValue: portfolioLiquidationValue(sums),
                initialValue: floor(cashAndWorsePnL.checkedMultiplied(by: 2_000_000)
                    .checkedAdding(sums.spotInitial), over: 2_000_000),
                liquidationRatioPPM: p.liquidationRatioPPM)
            let standard = try Requirement(
                maintenance: standardMaintenance(sums),
                initial: ceil(sums.standardRequirement.checkedMultiplied(by: 2), over: 1_000_000),
                liquidationValue: standardLiquidationValue(sums),
                initialValue: floor(cashAndWorsePnL, over: 1),
                liquidationRatioPPM: p.liquidationRatioPPM)
            let borrowed = try sums.borrowedSpot.checkedAdding(max(0, -sums.cash))
            let capacity = try sums.collateralSpot.checkedAdding(
                max(0, sums.cash).checkedMultiplied(by: Int128(p.usdcLTVPPM)))
            return MarginSummary(
                portfolio: portfolio, standard: standard, portfolioRequirement: pr, hasRisk: hasRisk,
                borrowedValue: try ceil(borrowed, over: 1), borrowCapacity: try floor(capacity, over: 1_000_000))
        } catch {
            throw .overflow
        }
    }
}
