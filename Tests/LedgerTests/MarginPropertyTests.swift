import Testing
@testable import Ledger

/// The spec's five numbered properties ("What this must give"), with exact integer results.
@Suite("Margin: the spec's five properties")
struct MarginPropertyTests {
    typealias F = MarginFixtures
    let engine: MarginEngine
    init() throws { engine = try F.engine() }

    // 1. Fully paid spot alone, or an empty account: MR = 0, PMR = 0, never liquidatable.
    @Test func emptyAccountAndFullyPaidSpotHaveNoRequirement() throws {
        let accounts = [
            AccountRisk(usdc: 0),
            AccountRisk(usdc: 5_000 * F.usdc),
            AccountRisk(usdc: 0, exposures: [F.spot(F.btc, amount: F.coin, mark: 62_000 * F.usdc)]),
            AccountRisk(usdc: 1, exposures: [
                F.spot(F.btc, amount: 3 * F.coin, mark: 62_000 * F.usdc),
                F.spot(F.eth, amount: 1, mark: 3_000 * F.usdc),
                F.spot(F.hype, amount: 40 * F.coin, mark: 0),  // worthless: still no requirement
            ]),
        ]
        for account in accounts {
            let s = try engine.evaluate(account)
            #expect(s.portfolio.maintenance == 0)
            #expect(s.portfolio.initial == 0)
            #expect(s.portfolio.ratioPPM == 0)
            #expect(!s.portfolio.isLiquidatable)
            #expect(!s.hasRisk)
            #expect(s.portfolio.slack == s.portfolio.initialValue)
            #expect(s.standard.maintenance == 0 && !s.standard.isLiquidatable)
        }
        // 1 BTC at 62,000 held: V_liq = 0.75 x 62,000, V_init = 0.5 x 62,000.
        let s = try engine.evaluate(accounts[2])
        #expect(s.portfolio.liquidationValue == 46_500 * F.usdc)
        #expect(s.portfolio.initialValue == 31_000 * F.usdc)
        #expect(s.standard.liquidationValue == 0)  // spot is not collateral in standard mode
    }

    // 2. A lone BTC perp with notional between 1,600 and 10M USDC: portfolio == standard.
    @Test(arguments: [
        // (size in base units, mark in USDC base units, expected MR, expected IR)
        (Int64(2_580_646), Int64(62_000) * 1_000_000, Int64(20_000_007), Int64(40_000_013)),  // 1,600.00052 USDC
        (Int64(100_000_000), Int64(62_000) * 1_000_000, Int64(775_000_000), Int64(1_550_000_000)),  // 1 BTC
        (Int64(-100_000_000), Int64(62_000) * 1_000_000, Int64(775_000_000), Int64(1_550_000_000)),
        (Int64(16_129_032_258), Int64(62_000) * 1_000_000, Int64(125_000_000_000), Int64(249_999_999_999)),  // 9,999,999.99996
        (Int64(-10_000_000_000), Int64(100_000) * 1_000_000, Int64(125_000_000_000), Int64(250_000_000_000)),  // 10M exactly
    ])
    func lonePerpMatchesStandardMode(size: Int64, mark: Int64, mr: Int64, ir: Int64) throws {
        let account = AccountRisk(usdc: 2_000_000 * F.usdc,
                                  exposures: [F.perp(F.btc, size: size, entry: mark - 1_000_000, mark: mark)])
        let s = try engine.evaluate(account)
        #expect(s.portfolio.maintenance == mr)
        #expect(s.standard.maintenance == mr)
        #expect(s.portfolio.initial == ir)
        #expect(s.standard.initial == ir)
        #expect(s.portfolio.liquidationValue == s.standard.liquidationValue)
        #expect(s.portfolio.initialValue == s.standard.initialValue)
        #expect(s.portfolio.slack == s.standard.slack)
        // 40x: IR is 2.5% and MR 1.25% of the notional (to the rounding unit).
        let notional = Int128(size.magnitude) * Int128(mark) / Int128(F.coin)
        #expect(Int128(mr) * 80 >= notional && Int128(mr - 1) * 80 < notional)
    }

    @Test func lonePerpOutsideTheBandDiffersFromStandardMode() throws {
        // Below 1,600 USDC the 20 USDC floor applies to portfolio mode only.
        let small = AccountRisk(usdc: 100 * F.usdc, exposures: [F.perp(F.btc, size: F.coin / 100, entry: 62_000 * F.usdc, mark: 62_000 * F.usdc)])
        let s = try engine.evaluate(small)
        #expect(s.standard.maintenance == 7_750_000)
        #expect(s.portfolio.maintenance == 20 * F.usdc)
        #expect(s.portfolio.initial == 20 * F.usdc)  // max(2 x 7.75, 20)
        // Beyond 10M the depth add-on r x (G - L) applies to portfolio mode only: 20M notional
        // adds 1.25% x 10M = 125,000 USDC.
        let big = AccountRisk(usdc: 5_000_000 * F.usdc, exposures: [F.perp(F.btc, size: 200 * F.coin, entry: 100_000 * F.usdc, mark: 100_000 * F.usdc)])
        let b = try engine.evaluate(big)
        #expect(b.standard.maintenance == 250_000 * F.usdc)
        #expect(b.portfolio.maintenance == 375_000 * F.usdc)
        #expect(try engine.breakdown(big) == RequirementBreakdown(
            marketFactor: 200_000 * F.usdc, idiosyncratic: 50_000 * F.usdc, basisContingency: 0,
            depthAddOn: 125_000 * F.usdc))
    }

    // 3. 1 BTC spot + 1 BTC short perp at 62,000: MR = 77.5 USDC against 775 in standard mode.
    @Test func hedgedSpotAndPerpPayOnlyTheContingency() throws {
        let price = 62_000 * F.usdc
        let account = AccountRisk(usdc: 0, exposures: [
            F.perp(F.btc, size: -F.coin, entry: price, mark: price, spot: F.coin)])
        let s = try engine.evaluate(account)
        #expect(s.portfolioRequirement == 77_500_000)
        #expect(s.portfolio.maintenance == 77_500_000)
        #expect(s.portfolio.initial == 155_000_000)
        #expect(s.standard.maintenance == 775_000_000)
        #expect(s.standard.initial == 1_550_000_000)
        // Hedged spot counts at full value in portfolio mode, not at all in standard mode.
        #expect(s.portfolio.liquidationValue == 62_000 * F.usdc)
        #expect(s.standard.liquidationValue == 0)
        #expect(s.standard.isLiquidatable)  // 775 against nothing
        #expect(!s.portfolio.isLiquidatable)
        #expect(try engine.breakdown(account) == RequirementBreakdown(
            marketFactor: 0, idiosyncratic: 0, basisContingency: 77_500_000, depthAddOn: 0))
        // A 20 USDC floor-only case: 0.1 BTC hedged needs 7.75, so MR = 20.
        let small = AccountRisk(usdc: 0, exposures: [
            F.perp(F.btc, size: -F.coin / 10, entry: price, mark: price, spot: F.coin / 10)])
        #expect(try engine.evaluate(small).portfolio.maintenance == 20 * F.usdc)
    }

    // 4. Long BTC perp / short ETH perp, 1M notional each: PR 12,500 against 32,500 apart.
    @Test func crossAssetHedgeOffsetsTheMarketFactor() throws {
        let btcMark = 100_000 * F.usdc, ethMark = 2_500 * F.usdc
        let account = AccountRisk(usdc: 100_000 * F.usdc, exposures: [
            F.perp(F.btc, size: 10 * F.coin, entry: btcMark, mark: btcMark),
            F.perp(F.eth, size: -400 * F.coin, entry: ethMark, mark: ethMark),
        ])
        let s = try engine.evaluate(account)
        #expect(s.portfolioRequirement == 12_500 * F.usdc)
        #expect(s.portfolio.maintenance == 12_500 * F.usdc)
        #expect(s.standard.maintenance == 32_500 * F.usdc)
        #expect(try engine.breakdown(account) == RequirementBreakdown(
            marketFactor: 5_000 * F.usdc, idiosyncratic: 7_500 * F.usdc, basisContingency: 0, depthAddOn: 0))
        // The legs apart, each in its own account, add up to 32,500.
        let btcAlone = try engine.evaluate(AccountRisk(usdc: 0, exposures: [account.exposures[0]]))
        let ethAlone = try engine.evaluate(AccountRisk(usdc: 0, exposures: [account.exposures[1]]))
        #expect(btcAlone.portfolio.maintenance == 12_500 * F.usdc)
        #expect(ethAlone.portfolio.maintenance == 20_000 * F.usdc)
        // Same direction: no offset, 1% x 2.5M + 7,500 = 32,500.
        var same = account
        same.exposures[1].perpSize = 400 * F.coin
        same.exposures[1].perpCostBasis = 1_000_000 * F.usdc
        #expect(try engine.evaluate(same).portfolio.maintenance == 32_500 * F.usdc)
    }

    // 5. USDC borrowed against 1 BTC at 62,000.
    static let borrowLimit: Int64 = 30_980 * 1_000_000  // 0.5 x 62,000 - 20
    static let liquidationDebt: Int64 = 46_478_947_369   // first debt with 20 / V_liq > 0.95

    func borrower(debt: Int64) -> AccountRisk {
        AccountRisk(usdc: -debt, exposures: [F.spot(F.btc, amount: F.coin, mark: 62_000 * F.usdc)], hasDebt: debt > 0)
    }

    @Test func borrowIsRefusedOnceDebtPassesHalfTheBTCLessTheFloor() throws {
        let atLimit = try engine.evaluate(borrower(debt: Self.borrowLimit))
        #expect(atLimit.portfolio.maintenance == 20 * F.usdc)
        #expect(atLimit.portfolio.initial == 20 * F.usdc)
        #expect(atLimit.portfolio.initialValue == 1_000 * F.usdc * 31 - Self.borrowLimit)
        #expect(atLimit.portfolio.slack == 0)        // accepted: slack >= reserves (none)
        #expect(atLimit.withinBorrowCapacity)
        let past = try engine.evaluate(borrower(debt: Self.borrowLimit + 1))
        #expect(past.portfolio.slack == -1)          // refused
        #expect(past.withinBorrowCapacity)           // the LTV check alone would allow up to 31,000
        #expect(past.borrowCapacity == 31_000 * F.usdc)
        #expect(past.borrowedValue == Self.borrowLimit + 1)
        let overLTV = try engine.evaluate(borrower(debt: 31_000 * F.usdc + 1))
        #expect(!overLTV.withinBorrowCapacity)
    }

    @Test func borrowerIsLiquidatableOnceDebtPassesThreeQuartersLess21_05() throws {
        let healthy = try engine.evaluate(borrower(debt: Self.liquidationDebt - 1))
        #expect(healthy.portfolio.liquidationValue == 21_052_632)
        #expect(healthy.portfolio.ratioPPM == 950_000)   // 0.94999998... rounded up
        #expect(!healthy.portfolio.isLiquidatable)
        let sick = try engine.evaluate(borrower(debt: Self.liquidationDebt))
        #expect(sick.portfolio.liquidationValue == 21_052_631)
        #expect(sick.portfolio.ratioPPM == 950_001)
        #expect(sick.portfolio.isLiquidatable)
        // Whole takeover below 2/3 MR = 13.33 USDC: V_liq 13,333,333 is below, 13,333,334 not.
        let deep = try engine.evaluate(borrower(debt: 46_500 * F.usdc - 13_333_333))
        #expect(deep.portfolio.liquidationValueBelow(numerator: 2, denominator: 3))
        let shallow = try engine.evaluate(borrower(debt: 46_500 * F.usdc - 13_333_334))
        #expect(!shallow.portfolio.liquidationValueBelow(numerator: 2, denominator: 3))
        // Underwater: V_liq <= 0 is an infinite ratio.
        let under = try engine.evaluate(borrower(debt: 46_500 * F.usdc))
        #expect(under.portfolio.ratioPPM == .max && under.portfolio.isLiquidatable)
    }
}
