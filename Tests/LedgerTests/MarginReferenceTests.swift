import Foundation
import Testing
import TestSupport
@testable import Ledger

/// The margin formulas written a second time, straight from the spec, in exact rationals: no
/// scaling, no shared helpers, no `Int128`. Every engine output must be the reference's exact
/// value rounded once in the documented direction (requirements up, values down).
struct ReferenceMargin {
    let parameters: MarginParameters
    let assets: [AssetID: UnderlyingRisk]

    init(parameters: MarginParameters, underlyings: [UnderlyingRisk]) {
        self.parameters = parameters
        var table: [AssetID: UnderlyingRisk] = [:]
        for u in underlyings { table[u.asset] = u }
        assets = table
    }

    /// The exact values of one account (with `fill` applied if given).
    struct Exact {
        var pr = RefRational(0)
        var marketFactor = RefRational(0)
        var idiosyncratic = RefRational(0)
        var contingency = RefRational(0)
        var depth = RefRational(0)
        var hasRisk = false
        var liquidationValue = RefRational(0)
        var initialValue = RefRational(0)
        var standardRequirement = RefRational(0)
        var standardValue = RefRational(0)
        var standardInitialValue = RefRational(0)
        var borrowed = RefRational(0)
        var capacity = RefRational(0)
    }

    static func ppm(_ x: Int64) -> RefRational { RefRational(x, over: 1_000_000) }

    static func pow10(_ n: Int) -> Int64 { n == 0 ? 1 : 10 * pow10(n - 1) }

    func exact(_ account: AccountRisk, fill: HypotheticalFill?) -> Exact {
        var exposures = account.exposures
        var cash = RefRational(account.usdc)
        if let fill {
            let u = assets[fill.asset]!
            let unit = Self.pow10(u.decimals)
            let traded = fill.spotDelta + fill.perpDelta
            cash = cash - RefRational(traded) * RefRational(fill.price, over: unit)
            // Fee: ceil(gross x price / 10^d x fee ppm); test inputs keep the product within Int128.
            let gross = Int128(fill.spotDelta.magnitude + fill.perpDelta.magnitude)
            let feeNumerator = gross * Int128(fill.price) * Int128(fill.feePPM)
            let feeDenominator = Int128(unit) * 1_000_000
            let fee = Int64((feeNumerator + feeDenominator - 1) / feeDenominator)
            cash = cash - RefRational(fee)
            if let i = exposures.firstIndex(where: { $0.asset == fill.asset }) {
                exposures[i].spot += fill.spotDelta
                exposures[i].perpSize += fill.perpDelta
            } else {
                exposures.append(Exposure(asset: fill.asset, spot: fill.spotDelta, perpSize: fill.perpDelta,
                                          perpCostBasis: 0, mark: fill.mark, oracle: fill.oracle))
            }
        }
        let p = parameters
        var e = Exact()
        var betaNotional = RefRational(0)
        var pnl = RefRational(0)
        var pnlWorse = RefRational(0)
        var spotLiquidation = RefRational(0)
        var spotInitial = RefRational(0)
        var hasPerp = false
        var hasBorrow = account.hasDebt || cash.signum < 0
        for x in exposures {
            let u = assets[x.asset]!
            let perUnit = RefRational(x.mark, over: Self.pow10(u.decimals))
            let worsePerUnit = RefRational(x.perpSize > 0 ? min(x.mark, x.oracle) : max(x.mark, x.oracle),
                                           over: Self.pow10(u.decimals))
            let b = x.spot, perp = x.perpSize
            let hedged: Int64 = (b > 0 && perp < 0) || (b < 0 && perp > 0) ? min(abs(b), abs(perp)) : 0
            let q = perp > 0 ? perp - hedged : perp + hedged
            let r = b > 0 ? b - hedged : b + hedged
            let rate = Self.ppm((p.marketShockPPM * u.betaPPM + 999_999) / 1_000_000 + u.idiosyncraticPPM)
            let notional = RefRational(q) * perUnit
            betaNotional = betaNotional + Self.ppm(u.betaPPM) * notional
            e.idiosyncratic = e.idiosyncratic + Self.ppm(u.idiosyncraticPPM) * notional.absolute
            e.contingency = e.contingency + Self.ppm(p.contingencyPPM) * rate * RefRational(hedged) * perUnit
            let gross = RefRational(abs(q) + hedged) * perUnit
            let excess = gross - RefRational(u.depth)
            if excess.signum > 0 { e.depth = e.depth + rate * excess }
            e.standardRequirement = e.standardRequirement + RefRational(abs(perp)) * perUnit * rate
            if perp != 0 { hasPerp = true }
            pnl = pnl + RefRational(perp) * perUnit - RefRational(x.perpCostBasis)
            pnlWorse = pnlWorse + RefRational(perp) * worsePerUnit - RefRational(x.perpCostBasis)
            let hedgedValue = RefRational(b > 0 ? hedged : -hedged) * perUnit
            let lt = RefRational(1, over: 2) + RefRational(u.ltvPPM, over: 2_000_000)
            let ltv = Self.ppm(u.ltvPPM)
            let unhedged = RefRational(r) * perUnit
            spotLiquidation = spotLiquidation + hedgedValue + unhedged * (r > 0 ? lt : RefRational(2) - lt)
            spotInitial = spotInitial + hedgedValue + unhedged * (r > 0 ? ltv : RefRational(2) - ltv)
            if b < 0 {
                hasBorrow = true
                e.borrowed = e.borrowed - RefRational(b) * perUnit
            } else {
                e.capacity = e.capacity + RefRational(b) * perUnit * ltv
            }
        }
        e.marketFactor = Self.ppm(p.marketShockPPM) * betaNotional.absolute
        e.pr = e.marketFactor + e.idiosyncratic + e.contingency + e.depth
        e.hasRisk = hasPerp || hasBorrow || account.hasOpenOrders
        e.liquidationValue = cash + pnl + spotLiquidation
        e.initialValue = cash + pnlWorse + spotInitial
        e.standardValue = cash + pnl
        e.standardInitialValue = cash + pnlWorse
        if cash.signum < 0 { e.borrowed = e.borrowed - cash }
        if cash.signum > 0 { e.capacity = e.capacity + cash * Self.ppm(p.usdcLTVPPM) }
        return e
    }

    /// Every disagreement between `summary` and the exact values, as text (empty when none).
    func disagreements(_ s: MarginSummary, _ e: Exact, breakdown: RequirementBreakdown?) -> [String] {
        var issues: [String] = []
        func up(_ name: String, _ k: Int64, _ exact: RefRational) {
            if !exact.hasCeiling(k) { issues.append("\(name) = \(k), exact \(exact): not rounded up") }
        }
        func down(_ name: String, _ k: Int64, _ exact: RefRational) {
            if !exact.hasFloor(k) { issues.append("\(name) = \(k), exact \(exact): not rounded down") }
        }
        func same<T: Equatable>(_ name: String, _ a: T, _ b: T) {
            if a != b { issues.append("\(name): engine \(a), reference \(b)") }
        }
        let p = parameters
        let mr = e.hasRisk ? maxRational(RefRational(p.minimumRequirement), e.pr) : RefRational(0)
        same("hasRisk", s.hasRisk, e.hasRisk)
        up("PR", s.portfolioRequirement, e.pr)
        up("MR", s.portfolio.maintenance, mr)
        up("IR", s.portfolio.initial, maxRational(RefRational(2) * e.pr, mr))
        down("V_liq", s.portfolio.liquidationValue, e.liquidationValue)
        down("V_init", s.portfolio.initialValue, e.initialValue)
        up("MR_cross", s.standard.maintenance, e.standardRequirement)
        up("IR_cross", s.standard.initial, RefRational(2) * e.standardRequirement)
        down("standard V_liq", s.standard.liquidationValue, e.standardValue)
        down("standard V_init", s.standard.initialValue, e.standardInitialValue)
        up("borrowed", s.borrowedValue, e.borrowed)
        down("capacity", s.borrowCapacity, e.capacity)
        for (name, r) in [("portfolio", s.portfolio), ("standard", s.standard)] {
            same("\(name) slack", RefRational(r.slack), RefRational(r.initialValue) - RefRational(r.initial))
            let mr = RefRational(r.maintenance), v = RefRational(r.liquidationValue)
            let threshold = Self.ppm(p.liquidationRatioPPM)
            let liquidatable = mr.signum > 0 && (v.signum <= 0 || threshold * v < mr)
            same("\(name) liquidatable", r.isLiquidatable, liquidatable)
            if mr.signum == 0 {
                same("\(name) ratio", r.ratioPPM, 0)
            } else if v.signum <= 0 {
                same("\(name) ratio", r.ratioPPM, Int64.max)
            } else if r.ratioPPM != .max {
                up("\(name) ratio", r.ratioPPM, RefRational(numerator: mr.numerator * RefInt(1_000_000),
                                                            denominator: v.numerator))
            }
        }
        if let b = breakdown {
            up("market factor", b.marketFactor, e.marketFactor)
            up("idiosyncratic", b.idiosyncratic, e.idiosyncratic)
            up("contingency", b.basisContingency, e.contingency)
            up("depth add-on", b.depthAddOn, e.depth)
        }
        return issues
    }
}

@Suite("Margin: engine against an exact rational reference")
struct MarginReferenceTests {
    /// Odd parameters that exercise the scaling: mixed decimals (6, 9, 10), an asset-id gap, S x beta not a
    /// whole ppm, odd LTVs.
    static let oddUnderlyings = [
        UnderlyingRisk(asset: 1, decimals: 6, betaPPM: 1_234_567, idiosyncraticPPM: 3_333, ltvPPM: 333_333,
                       depth: 123_456_789),
        UnderlyingRisk(asset: 2, decimals: 9, betaPPM: 0, idiosyncraticPPM: 1, ltvPPM: 999_999, depth: 0),
        UnderlyingRisk(asset: 5, decimals: 10, betaPPM: 2_000_001, idiosyncraticPPM: 77_777, ltvPPM: 1,
                       depth: 9_999_999_999_999),
    ]
    static let oddParameters = MarginParameters(marketShockPPM: 12_345, contingencyPPM: 99_999,
                                                minimumRequirement: 7, liquidationRatioPPM: 900_001,
                                                usdcLTVPPM: 777_777)

    /// A magnitude spread over many orders: 0, 1, or log-uniform up to `limit`.
    static func magnitude(_ limit: Int64, _ rng: inout SplitMix64) -> Int64 {
        switch rng.next() % 8 {
        case 0: return 0
        case 1: return 1
        default:
            let digits = Int64.random(in: 0...Int64(String(limit).count - 1), using: &rng)
            var cap: Int64 = 1
            for _ in 0..<digits { cap *= 10 }
            return Int64.random(in: 0...min(cap * 10 - 1, limit), using: &rng)
        }
    }

    static func signed(_ limit: Int64, _ rng: inout SplitMix64) -> Int64 {
        let m = magnitude(limit, &rng)
        return Bool.random(using: &rng) ? m : -m
    }

    /// A price near `mark` (within about 20%), never negative.
    static func near(_ mark: Int64, _ rng: inout SplitMix64) -> Int64 {
        max(0, mark + signed(max(1, mark / 5), &rng))
    }

    static func randomAccount(_ underlyings: [UnderlyingRisk], _ rng: inout SplitMix64)
        -> (AccountRisk, HypotheticalFill?)
    {
        // Within the engine's capacity (about 10^(20 - d) USDC of notional, d the largest decimals):
        // up to 10^9 USDC per asset with 8 decimals, 10^7 with 10.
        let largestDecimals = underlyings.map(\.decimals).max() ?? 0
        let maxUnits: Int64 = largestDecimals > 8 ? 100 : 1_000  // whole units of each asset
        let maxPrice: Int64 = (largestDecimals > 8 ? 100_000 : 1_000_000) * 1_000_000
        var exposures: [Exposure] = []
        for u in underlyings where rng.next() % 4 != 0 {
            let unit = ReferenceMargin.pow10(u.decimals)
            let mark = rng.next() % 16 == 0 ? 0 : magnitude(maxPrice, &rng)
            var spot = rng.next() % 3 == 0 ? 0 : signed(maxUnits * unit, &rng)
            var perp = rng.next() % 3 == 0 ? 0 : signed(maxUnits * unit, &rng)
            switch rng.next() % 6 {
            case 0: perp = -spot  // exactly hedged
            case 1: spot = -perp / 2  // half hedged
            default: break
            }
            let entry = near(mark, &rng)
            let cost = Int64(Int128(perp) * Int128(entry) / Int128(unit))
            let oracle = rng.next() % 2 == 0 ? mark : near(mark, &rng)
            exposures.append(Exposure(asset: u.asset, spot: spot, perpSize: perp, perpCostBasis: cost,
                                      mark: mark, oracle: oracle))
        }
        let account = AccountRisk(usdc: signed(10_000_000 * 1_000_000, &rng), exposures: exposures,
                                  hasOpenOrders: rng.next() % 4 == 0, hasDebt: rng.next() % 8 == 0)
        guard rng.next() % 3 == 0 else { return (account, nil) }
        let u = underlyings[Int(rng.next() % UInt64(underlyings.count))]
        let unit = ReferenceMargin.pow10(u.decimals)
        let mark = exposures.first { $0.asset == u.asset }?.mark ?? magnitude(maxPrice, &rng)
        let size = signed(maxUnits * unit, &rng)
        let isSpot = Bool.random(using: &rng)
        let fill = HypotheticalFill(asset: u.asset, spotDelta: isSpot ? size : 0, perpDelta: isSpot ? 0 : size,
                                    price: near(mark, &rng), feePPM: Int64(rng.next() % 1_000),
                                    mark: mark, oracle: near(mark, &rng))
        return (account, fill)
    }

    /// 2,000 accounts by default; 10,000 (the issue's number) with BALLAST_FULL=1, or any number
    /// with BALLAST_MARGIN_ACCOUNTS=n.
    static var accountCount: Int {
        ProcessInfo.processInfo.environment["BALLAST_FULL"] == "1"
            ? 10_000 : testSize("BALLAST_MARGIN_ACCOUNTS", default: 2_000)
    }

    @Test(arguments: [false, true])
    func engineAgreesWithTheReference(oddParameters: Bool) throws {
        let underlyings = oddParameters ? Self.oddUnderlyings : MarginFixtures.underlyings
        let parameters = oddParameters ? Self.oddParameters : .specDefault
        let engine = try MarginEngine(parameters: parameters, underlyings: underlyings)
        let reference = ReferenceMargin(parameters: parameters, underlyings: underlyings)
        var rng = SplitMix64(seed: oddParameters ? 0x0DD : 0xBA11A57)
        var checked = 0, withRisk = 0, liquidatable = 0, withFill = 0
        for i in 0..<Self.accountCount / 2 {
            let (account, fill) = Self.randomAccount(underlyings, &rng)
            let summary = try fill.map { try engine.evaluate(account, with: $0) } ?? engine.evaluate(account)
            let breakdown = fill == nil ? try engine.breakdown(account) : nil
            let issues = reference.disagreements(summary, reference.exact(account, fill: fill), breakdown: breakdown)
            #expect(issues.isEmpty, "account \(i): \(account) fill \(String(describing: fill)): \(issues)")
            if !issues.isEmpty { break }
            checked += 1
            if summary.hasRisk { withRisk += 1 }
            if summary.portfolio.isLiquidatable { liquidatable += 1 }
            if fill != nil { withFill += 1 }
        }
        // The generator must reach every branch often enough for the comparison to mean something.
        #expect(checked == Self.accountCount / 2)
        #expect(withRisk > checked / 2 && liquidatable > checked / 20 && withFill > checked / 5)
    }
}
