import Testing
@testable import Ledger

/// Rounding directions, overflow, input validation, reserves and liquidation prices.
@Suite("Margin engine")
struct MarginEngineTests {
    typealias F = MarginFixtures
    let engine: MarginEngine
    init() throws { engine = try F.engine() }

    @Test func requirementsRoundUpOnceFromTheExactValue() throws {
        // 1 base unit of BTC perp at 58,000: notional 0.00058 USDC = 580 base units.
        // MR_cross = 580 x 1.25% = 7.25 -> 8; IR = 2 x 7.25 = 14.5 -> 15 (not 2 x 8).
        let account = AccountRisk(usdc: 1_000 * F.usdc, exposures: [
            Exposure(asset: F.btc, perpSize: 1, perpCostBasis: 580, mark: 58_000 * F.usdc, oracle: 58_000 * F.usdc)])
        let s = try engine.evaluate(account)
        #expect(s.standard.maintenance == 8)
        #expect(s.standard.initial == 15)
        #expect(s.portfolioRequirement == 8)
        #expect(s.portfolio.maintenance == 20 * F.usdc)  // the floor
        #expect(try engine.breakdown(account) == RequirementBreakdown(
            marketFactor: 6, idiosyncratic: 2, basisContingency: 0, depthAddOn: 0))  // 5.8 and 1.45, each up
    }

    @Test func valuesRoundDownTowardNegativeInfinity() throws {
        // Long 1 base unit entered at 60,000 (cost 600), mark 58,000.5: PnL = 580.005 - 600 = -19.995 -> -20.
        let loss = AccountRisk(usdc: 0, exposures: [
            Exposure(asset: F.btc, perpSize: 1, perpCostBasis: 600, mark: 58_000_500_000, oracle: 58_000_500_000)])
        let s = try engine.evaluate(loss)
        #expect(s.standard.liquidationValue == -20)
        #expect(s.portfolio.liquidationValue == -20)
        // Held spot: 3 units at 58,000.01 = 1,740.0003 base units; x 0.75 = 1,305.000225 -> 1,305;
        // x 0.5 = 870.00015 -> 870.
        let held = AccountRisk(usdc: 0, exposures: [F.spot(F.btc, amount: 3, mark: 58_000_010_000)])
        let h = try engine.evaluate(held)
        #expect(h.portfolio.liquidationValue == 1_305)
        #expect(h.portfolio.initialValue == 870)
        #expect(h.borrowCapacity == 870)
        // Borrowed spot: -1,740.0003 x 1.25 = -2,175.000375 -> -2,176; x 1.5 = -2,610.00045 -> -2,611.
        // Borrowed value 1,740.0003 rounds up to 1,741.
        let borrowed = AccountRisk(usdc: 0, exposures: [F.spot(F.btc, amount: -3, mark: 58_000_010_000)])
        let b = try engine.evaluate(borrowed)
        #expect(b.portfolio.liquidationValue == -2_176)
        #expect(b.portfolio.initialValue == -2_611)
        #expect(b.borrowedValue == 1_741)
        #expect(b.hasRisk && b.portfolio.maintenance == 20 * F.usdc)
    }

    @Test func initialValueTakesTheWorseOfMarkAndOracle() throws {
        // Long 1 BTC entered at 60,000; mark 62,000, oracle 61,000: V_liq sees +2,000, V_init +1,000.
        let long = AccountRisk(usdc: 1_000 * F.usdc, exposures: [
            F.perp(F.btc, size: F.coin, entry: 60_000 * F.usdc, mark: 62_000 * F.usdc, oracle: 61_000 * F.usdc)])
        let l = try engine.evaluate(long)
        #expect(l.portfolio.liquidationValue == 3_000 * F.usdc)
        #expect(l.portfolio.initialValue == 2_000 * F.usdc)
        #expect(l.standard.initialValue == 2_000 * F.usdc)
        // A short the other way: the higher of the two is worse.
        let short = AccountRisk(usdc: 1_000 * F.usdc, exposures: [
            F.perp(F.btc, size: -F.coin, entry: 60_000 * F.usdc, mark: 59_000 * F.usdc, oracle: 59_500 * F.usdc)])
        let s = try engine.evaluate(short)
        #expect(s.portfolio.liquidationValue == 2_000 * F.usdc)
        #expect(s.portfolio.initialValue == 1_500 * F.usdc)
    }

    @Test func partiallyHedgedSpotSplitsIntoHedgedAndUnhedged() throws {
        // 3 ETH held, 1 ETH short perp at 2,000 (entry = mark): H = 1, R = 2, Q = 0.
        // PR = c r H m = 10% x 2% x 2,000 = 4 -> MR 20. V_liq = 2,000 + 2 x 2,000 x 0.75 = 5,000.
        // V_init = 2,000 + 2 x 2,000 x 0.5 = 4,000. Borrowed short spot with a long perp: B = -2,
        // P = 3: H = 2, Q = 1, V_liq = -2 x 2,000 (hedged, full value) + 6,000 cash.
        let mark = 2_000 * F.usdc
        let a = try engine.evaluate(AccountRisk(usdc: 0, exposures: [
            F.perp(F.eth, size: -F.coin, entry: mark, mark: mark, spot: 3 * F.coin)]))
        #expect(a.portfolioRequirement == 4 * F.usdc)
        #expect(a.portfolio.liquidationValue == 5_000 * F.usdc)
        #expect(a.portfolio.initialValue == 4_000 * F.usdc)
        let b = try engine.evaluate(AccountRisk(usdc: 6_000 * F.usdc, exposures: [
            F.perp(F.eth, size: 3 * F.coin, entry: mark, mark: mark, spot: -2 * F.coin)]))
        // PR = 1% x 1.5 x 2,000 + 0.5% x 2,000 + 10% x 2% x 4,000 = 30 + 10 + 8 = 48.
        #expect(b.portfolioRequirement == 48 * F.usdc)
        #expect(b.portfolio.initial == 96 * F.usdc)
        #expect(b.portfolio.liquidationValue == 2_000 * F.usdc)
        #expect(b.borrowedValue == 4_000 * F.usdc)
        #expect(b.borrowCapacity == 6_000 * F.usdc)
    }

    @Test func overflowIsATypedErrorNotATrap() throws {
        let huge = AccountRisk(usdc: 0, exposures: [
            Exposure(asset: F.btc, perpSize: .max, perpCostBasis: .max, mark: .max, oracle: .max)])
        #expect(throws: MarginError.overflow) { try engine.evaluate(huge) }
        let hugeShort = AccountRisk(usdc: .min, exposures: [
            Exposure(asset: F.eth, spot: .min, perpSize: .min, perpCostBasis: .min, mark: .max, oracle: 0)])
        #expect(throws: MarginError.overflow) { try engine.evaluate(hugeShort) }
        // Representable sums whose rounded value does not fit Int64.
        let rich = AccountRisk(usdc: .max, exposures: [F.spot(F.btc, amount: .max, mark: .max)])
        #expect(throws: MarginError.overflow) { try engine.evaluate(rich) }
        #expect(throws: MarginError.overflow) {
            try engine.evaluate(AccountRisk(usdc: 0), with: HypotheticalFill(
                asset: F.btc, spotDelta: .max, price: .max, feePPM: 450, mark: 1, oracle: 1))
        }
        // A large but sane account (1,000 BTC and 100,000 ETH, both hedged and unhedged) is fine.
        let whale = AccountRisk(usdc: 10_000_000_000 * F.usdc, exposures: [
            F.perp(F.btc, size: 1_000 * F.coin, entry: 100_000 * F.usdc, mark: 100_000 * F.usdc, spot: -500 * F.coin),
            F.perp(F.eth, size: -100_000 * F.coin, entry: 4_000 * F.usdc, mark: 4_000 * F.usdc, spot: 100_000 * F.coin)])
        #expect(try engine.evaluate(whale).portfolio.maintenance > 0)
    }

    @Test func badInputsAreRefusedWithTheirCause() throws {
        let price = 100 * F.usdc
        #expect(throws: MarginError.unknownAsset(0)) {
            try engine.evaluate(AccountRisk(usdc: 0, exposures: [F.spot(0, amount: 1, mark: price)]))
        }
        #expect(throws: MarginError.unknownAsset(9)) {
            try engine.evaluate(AccountRisk(usdc: 0, exposures: [F.spot(9, amount: 1, mark: price)]))
        }
        #expect(throws: MarginError.exposuresNotSorted(F.btc)) {
            try engine.evaluate(AccountRisk(usdc: 0, exposures: [F.spot(F.eth, amount: 1, mark: price),
                                                                  F.spot(F.btc, amount: 1, mark: price)]))
        }
        #expect(throws: MarginError.exposuresNotSorted(F.btc)) {
            try engine.evaluate(AccountRisk(usdc: 0, exposures: [F.spot(F.btc, amount: 1, mark: price),
                                                                  F.spot(F.btc, amount: 1, mark: price)]))
        }
        #expect(throws: MarginError.negativePrice(F.eth)) {
            try engine.evaluate(AccountRisk(usdc: 0, exposures: [F.spot(F.eth, amount: 1, mark: -1)]))
        }
        #expect(throws: MarginError.negativePrice(F.btc)) {
            try engine.evaluate(AccountRisk(usdc: 0), with: HypotheticalFill(asset: F.btc, perpDelta: 1, price: -5,
                                                                            mark: price, oracle: price))
        }
        var bad = F.underlyings
        bad[1].ltvPPM = 1_000_001
        #expect(throws: MarginError.invalidParameter(field: "underlyings[1].ltvPPM", reason: "must be in 0...1,000,000")) {
            try MarginEngine(parameters: .specDefault, underlyings: bad)
        }
        bad = F.underlyings + [F.underlyings[0]]
        #expect(throws: MarginError.invalidParameter(field: "underlyings[3].asset", reason: "listed twice")) {
            try MarginEngine(parameters: .specDefault, underlyings: bad)
        }
        bad = F.underlyings
        bad[2].decimals = 11
        #expect(throws: MarginError.invalidParameter(field: "underlyings[2].decimals", reason: "must be in 0...10")) {
            try MarginEngine(parameters: .specDefault, underlyings: bad)
        }
        var params = MarginParameters.specDefault
        params.liquidationRatioPPM = 0
        #expect(throws: MarginError.invalidParameter(field: "liquidationRatioPPM", reason: "must be in 1...1,000,000")) {
            try MarginEngine(parameters: params, underlyings: F.underlyings)
        }
    }

    @Test func reserveIsTheSlackAnOrderWouldUse() throws {
        let price = 62_000 * F.usdc
        let account = AccountRisk(usdc: 10_000 * F.usdc, exposures: [F.spot(F.eth, amount: 0, mark: 3_000 * F.usdc)])
        // Buy 1 BTC perp at 62,000: slack 10,000 -> 10,000 - 1,550 (IR 2.5%); fee 0.045% = 27.9.
        let perpBuy = HypotheticalFill(asset: F.btc, perpDelta: F.coin, price: price, feePPM: 450, mark: price, oracle: price)
        #expect(try engine.reserve(for: perpBuy, account: account, portfolioMode: true) == 1_577_900_000)
        #expect(try engine.reserve(for: perpBuy, account: account, portfolioMode: false) == 1_577_900_000)
        // Bought above mark: paying 62,100 for what is worth 62,000 also uses 100 of slack.
        var above = perpBuy
        above.price = 62_100 * F.usdc
        above.feePPM = 0
        #expect(try engine.reserve(for: above, account: account, portfolioMode: true) == 1_650 * F.usdc)
        // A spot buy that auto-borrows 52,000 USDC: V_init = -52,000 + 0.5 x 62,000, IR = MR = 20.
        let spotBuy = HypotheticalFill(asset: F.btc, spotDelta: F.coin, price: price, mark: price, oracle: price)
        let after = try engine.evaluate(account, with: spotBuy)
        #expect(after.portfolio.slack == -21_020 * F.usdc)
        #expect(try engine.reserve(for: spotBuy, account: account, portfolioMode: true) == 31_020 * F.usdc)
        // In standard mode the spot bought is not collateral: 62,000 of slack.
        #expect(try engine.reserve(for: spotBuy, account: account, portfolioMode: false) == 62_000 * F.usdc)
        // An order that reduces risk reserves nothing: selling the perp of a long.
        let long = AccountRisk(usdc: 10_000 * F.usdc, exposures: [F.perp(F.btc, size: F.coin, entry: price, mark: price)])
        let sell = HypotheticalFill(asset: F.btc, perpDelta: -F.coin, price: price, mark: price, oracle: price)
        #expect(try engine.reserve(for: sell, account: long, portfolioMode: true) == 0)
        #expect(try engine.evaluate(long, with: sell).portfolio.maintenance == 0)
        // The fill merges into an existing exposure: same result as editing the account.
        var filled = long
        filled.exposures[0].perpSize = 2 * F.coin
        filled.usdc -= 62_000 * F.usdc
        #expect(try engine.evaluate(long, with: HypotheticalFill(asset: F.btc, perpDelta: F.coin, price: price, mark: 0, oracle: 0))
                == engine.evaluate(filled))
    }

    @Test func liquidationPricesAreTheBoundaryMarks() throws {
        // Long 1 BTC from 62,000 with 2,000 USDC: MR = 1.25% m, V_liq = m - 60,000.
        // Liquidatable when 0.0125 m > 0.95 (m - 60,000), i.e. m < 60,800.
        let price = 62_000 * F.usdc
        let long = AccountRisk(usdc: 2_000 * F.usdc, exposures: [F.perp(F.btc, size: F.coin, entry: price, mark: price)])
        // Rounding MR up makes the rounded test ragged within a base unit of the exact boundary
        // (60,800.000001 is liquidatable, 60,800 is not), so the answer is exact to one unit.
        let l = try #require(try engine.liquidationPrices(long, asset: F.btc))
        let below = try #require(l.below)
        #expect(abs(below - 60_800 * F.usdc) <= 1)
        #expect(l.above == nil)
        var probe = long
        for (mark, liquidatable) in [(below, true), (60_800 * F.usdc, false), (60_799_999_999, true),
                                     (60_800_000_002, false), (60_000 * F.usdc, true)] {
            probe.exposures[0].mark = mark
            #expect(try engine.evaluate(probe).portfolio.isLiquidatable == liquidatable)
        }
        // Short 1 BTC from 62,000 with 2,000 USDC: V_liq = 64,000 - m, liquidatable when
        // 0.0125 m > 0.95 (64,000 - m), i.e. m > 60,800 / 0.9625 = 63,168.831168...
        let short = AccountRisk(usdc: 2_000 * F.usdc, exposures: [F.perp(F.btc, size: -F.coin, entry: price, mark: price)])
        let s = try #require(try engine.liquidationPrices(short, asset: F.btc))
        #expect(s.below == nil)
        let above = try #require(s.above)
        #expect(abs(above - 63_168_831_169) <= 1)
        probe = short
        for (mark, liquidatable) in [(above, true), (63_168_831_168, false), (63_168_831_170, true)] {
            probe.exposures[0].mark = mark
            #expect(try engine.evaluate(probe).portfolio.isLiquidatable == liquidatable)
        }
        // Nothing to report for an asset the account does not hold, or when already liquidatable.
        #expect(try engine.liquidationPrices(long, asset: F.eth) == nil)
        var sick = long
        sick.exposures[0].mark = 60_000 * F.usdc
        #expect(try engine.liquidationPrices(sick, asset: F.btc) == nil)
    }

    @Test func liquidationPricesInBothModesForALongAndAShort() throws {
        // 0.02 BTC (notional 1,240) from 62,000 with 101 USDC. Standard: MR = m / 4,000 (rounded
        // up), V_liq = 101 + 0.02 (m - 62,000). Portfolio: MR = the 20 USDC floor here.
        let price = 62_000 * F.usdc
        func account(_ size: Int64) -> AccountRisk {
            AccountRisk(usdc: 101 * F.usdc, exposures: [F.perp(F.btc, size: size, entry: price, mark: price)])
        }
        func check(_ size: Int64, portfolio: Bool, below: Int64?, above: Int64?) throws {
            let a = account(size)
            let l = try engine.liquidationPrices(a, asset: F.btc, portfolioMode: portfolio)
            #expect(l == LiquidationPrices(below: below, above: above), "size \(size), portfolio \(portfolio)")
            // Each boundary is liquidatable and the next mark toward the current one is not.
            var probe = a
            for (mark, liquidatable) in [(below, true), (below.map { $0 + 1 }, false), (above, true), (above.map { $0 - 1 }, false)] {
                guard let mark else { continue }
                probe.exposures[0].mark = mark
                #expect(try engine.evaluate(probe).requirement(portfolioMode: portfolio).isLiquidatable == liquidatable)
            }
        }
        // Long, standard: 0.00025 m > 0.95 (0.02 m - 1,139) below m = 57,709.3333... A bracket
        // starting at a mark of 0 missed it: there MR_cross is 0, so the account looks healthy.
        try check(2_000_000, portfolio: false, below: 57_709_333_399, above: nil)
        // Long, portfolio: V_liq < 20 / 0.95 = 21.0526... below m = 58,002.6315...
        try check(2_000_000, portfolio: true, below: 58_002_631_599, above: nil)
        // Short, standard: V_liq = 1,341 - 0.02 m; 0.00025 m > 0.95 (1,341 - 0.02 m) above 66,179.2207...
        try check(-2_000_000, portfolio: false, below: nil, above: 66_179_220_701)
        // Short, portfolio: 1,341 - 0.02 m < 21.0526... above 65,997.3684...
        try check(-2_000_000, portfolio: true, below: nil, above: 65_997_368_401)
    }
}
