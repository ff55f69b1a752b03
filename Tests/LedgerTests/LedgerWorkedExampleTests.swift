import Testing
import BallastCrypto
@testable import Ledger

/// The worked examples of docs/margin.md (lending, funding, liquidation), with exact numbers.
@Suite struct LedgerWorkedExampleTests {
    typealias C = TestChain

    /// 1,000,000 USDC supplied, 500,000 borrowed (U = 50%, APR 5%), one day.
    @Test func interestOverADay() throws {
        var chain = try TestChain()
        let lender = chain.trader("lender", usdc: 1_000_000)
        let borrower = chain.trader("borrower", btc: 20 * C.oneBTC)
        #expect(chain.run(lender, .supply(asset: 0, amount: C.usd(1_000_000))).succeeded)
        #expect(chain.run(borrower, .setMarginMode(.portfolio)).succeeded)
        #expect(chain.run(borrower, .borrow(asset: 0, amount: C.usd(500_000))).succeeded)
        let fundBefore = chain.ledger.insuranceFund[0]
        chain.block([], advanceMs: 86_400_000)
        let pool = try #require(chain.ledger.pool(0))
        // growth = 5% x 86,400 s / 31,536,000 s = 0.000136986301369863..., rounded up.
        #expect(pool.borrowIndex == 1_000_136_986_301_369_864)
        // Owed: 500,000 x index, rounded up.
        #expect(try pool.owed(shares: chain.ledger.account(borrower.address).holding(0).debtShares) == 500_068_493_151)
        // Interest 68.493150 USDC; suppliers get 90% (61.643835) through the supply index.
        #expect(pool.supplyIndex == 1_000_061_643_835_000_000)
        #expect(try pool.supplied(shares: chain.ledger.account(lender.address).holding(0).supplyShares) == 1_000_061_643_835)
        // The reserve (10%) and the rounding dust went to the insurance fund.
        #expect(chain.ledger.insuranceFund[0] - fundBefore == 6_849_315)
        #expect(try pool.surplus() == 0)
        chain.checkInvariants()
    }

    /// Long 1 BTC against short 1 BTC at 62,001, no premium: the hourly rate is the 0.00125%
    /// interest part; the long pays 0.7750125 USDC rounded up, the short gets it rounded down.
    @Test func fundingSettlement() throws {
        var chain = try TestChain()
        chain.setPrice(C.btc, C.usd(62_001))
        let long = chain.trader("long", usdc: 10_000), short = chain.trader("short", usdc: 10_000)
        chain.trade(maker: short, taker: long, market: C.btcPerp, takerSide: .buy, price: C.usd(62_001), size: C.oneBTC)
        let longUSDC = chain.ledger.account(long.address).holding(0).wallet
        let shortUSDC = chain.ledger.account(short.address).holding(0).wallet
        let fund = chain.ledger.insuranceFund[0]
        // Cross the hour boundary (genesis time is on one).
        let result = chain.block([], advanceMs: 3_600_000)
        #expect(result.fundingSettled)
        #expect(chain.ledger.marketState(C.btcPerp)?.lastFundingRate == 12_500_000_000_000)
        #expect(chain.ledger.account(long.address).holding(0).wallet == longUSDC - 775_013)
        #expect(chain.ledger.account(short.address).holding(0).wallet == shortUSDC + 775_012)
        #expect(chain.ledger.insuranceFund[0] == fund + 1)
        chain.checkInvariants()
    }

    /// Sets up a standard account long 10 BTC perp at 62,000 on 16,000 USDC.
    static func leveragedLong(_ chain: inout TestChain, insurance: Int64? = nil) -> (target: SigningKey, liquidator: SigningKey) {
        let whale = chain.trader("whale", usdc: 1_000_000)
        let target = chain.trader("target", usdc: 16_000)
        chain.trade(maker: whale, taker: target, market: C.btcPerp, takerSide: .buy, price: C.usd(62_000), size: 10 * C.oneBTC)
        let liquidator = chain.trader("liquidator", usdc: 100_000)
        return (target, liquidator)
    }

    /// The `leveragedLong` liquidated at 61,000: five steps of 20%, 10 -> 8 -> 6.4 -> 5.12 ->
    /// 4.096 -> 3.2768 BTC, then MR / V_liq <= 0.8. Per step, dMR = 1.25% of the size taken at
    /// 61,000 (rounded up like MR); 40% of it to the liquidator, 10% to the fund.
    static func partialLiquidationSteps() -> (sizes: [Int64], bonus: Int64, fee: Int64) {
        let sizes: [Int64] = [1_000_000_000, 800_000_000, 640_000_000, 512_000_000, 409_600_000, 327_680_000]
        var bonus: Int64 = 0, fee: Int64 = 0
        for (a, b) in zip(sizes, sizes.dropFirst()) {
            let mr = { (size: Int64) in (Int128(size) * 61_000_000_000 * 12_500 + 100_000_000 * 1_000_000 - 1) / (100_000_000 * 1_000_000) }
            let released = Int64(mr(a) - mr(b))
            bonus += released * 4 / 10
            fee += released / 10
        }
        return (sizes, bonus, fee)
    }

    @Test func partialLiquidationInTwentyPercentSteps() throws {
        var chain = try TestChain()
        let (target, liquidator) = Self.leveragedLong(&chain)
        // 16,000 - 279 fee = 15,721 USDC. At 61,000: V_liq = 5,721, MR = 7,625: liquidatable, above 2/3 MR.
        chain.setPrice(C.btc, C.usd(61_000))
        let s0 = try chain.summary(target)
        #expect(s0.standard.liquidationValue == C.usd(5_721) && s0.standard.maintenance == 7_625_000_000 && s0.health == "liquidatable")
        let liquidatorUSDC = chain.ledger.account(liquidator.address).holding(0).wallet
        let fund = chain.ledger.insuranceFund[0]
        #expect(chain.run(liquidator, .liquidate(target: target.address)).succeeded)
        let (sizes, bonus, fee) = Self.partialLiquidationSteps()
        #expect(chain.ledger.account(target.address).position(C.btcPerp).size == sizes.last)
        #expect(chain.ledger.account(liquidator.address).position(C.btcPerp).size == 1_000_000_000 - 327_680_000)
        #expect(chain.ledger.account(liquidator.address).holding(0).wallet == liquidatorUSDC + bonus)
        #expect(chain.ledger.insuranceFund[0] == fund + fee)
        let s1 = try chain.summary(target)
        #expect(s1.standard.ratioPpm <= 800_000 && !s1.standard.liquidatable)
        chain.checkInvariants()
    }

    @Test func fullLiquidationBelowTwoThirds() throws {
        var chain = try TestChain()
        let lender = chain.trader("usdc-lender", usdc: 1_000_000)
        #expect(chain.run(lender, .supply(asset: 0, amount: C.usd(1_000_000))).succeeded)
        let (target, liquidator) = Self.leveragedLong(&chain)
        // Price and liquidation in one block (oracle first), so the backstop does not get there first.
        // At 60,500: V_liq = 15,721 - 15,000 = 721 < 2/3 x 7,562.5: everything at once.
        let txs = (0..<4).map { chain.tx(C.validator($0), .oraclePrices([OraclePrice(asset: C.btc, price: C.usd(60_500))])) }
            + [chain.tx(liquidator, .liquidate(target: target.address))]
        let liquidatorUSDC = chain.ledger.account(liquidator.address).holding(0).wallet
        let result = chain.block(txs)
        #expect(result.receipts[4].succeeded)
        #expect(chain.ledger.account(target.address).positions.isEmpty)
        #expect(chain.ledger.account(liquidator.address).position(C.btcPerp).size == 10 * C.oneBTC)
        // The 40% bonus (3,025 USDC) is capped at the target's remaining 721 USDC.
        #expect(chain.ledger.account(liquidator.address).holding(0).wallet == liquidatorUSDC + C.usd(721))
        #expect(try chain.ledger.netBalance(chain.ledger.account(target.address), 0) == 0)
        chain.checkInvariants()
    }

    @Test func bankruptcyPaidByTheInsuranceFund() throws {
        var chain = try TestChain()
        let lender = chain.trader("usdc-lender", usdc: 1_000_000)
        #expect(chain.run(lender, .supply(asset: 0, amount: C.usd(1_000_000))).succeeded)
        let (target, _) = Self.leveragedLong(&chain)
        let fund = chain.ledger.insuranceFund[0]
        // A crash to 59,000: V_liq = 15,721 - 30,000 = -14,279. The backstop takes over at the end of the block.
        let txs = (0..<4).map { chain.tx(C.validator($0), .oraclePrices([OraclePrice(asset: C.btc, price: C.usd(59_000))])) }
        let result = chain.block(txs)
        #expect(result.backstopTakeovers == [target.address])
        #expect(chain.ledger.account(chain.genesis.risk.backstopAddress).position(C.btcPerp).size == 10 * C.oneBTC)
        #expect(chain.ledger.insuranceFund[0] == fund - C.usd(14_279))
        #expect(try chain.ledger.netBalance(chain.ledger.account(target.address), 0) == 0)
        #expect(chain.ledger.pool(0)?.supplyIndex == Wad.one)
        chain.checkInvariants()
    }

    @Test func bankruptcySocializedOnUSDCSuppliers() throws {
        var chain = try TestChain { $0.insuranceFund = [AssetAmount(asset: 0, amount: C.usd(1_000))] }
        let lender = chain.trader("usdc-lender", usdc: 1_000_000)
        #expect(chain.run(lender, .supply(asset: 0, amount: C.usd(1_000_000))).succeeded)
        let (target, _) = Self.leveragedLong(&chain)
        let fund = chain.ledger.insuranceFund[0]   // 1,000 + the trade's fees
        let txs = (0..<4).map { chain.tx(C.validator($0), .oraclePrices([OraclePrice(asset: C.btc, price: C.usd(59_000))])) }
        #expect(chain.block(txs).backstopTakeovers == [target.address])
        #expect(chain.ledger.insuranceFund[0] == 0)
        // The rest of the 14,279 USDC hole is taken from the USDC suppliers' index.
        let hole = C.usd(14_279) - fund
        let pool = try #require(chain.ledger.pool(0))
        let lenderNow = try pool.supplied(shares: chain.ledger.account(lender.address).holding(0).supplyShares)
        #expect(lenderNow <= C.usd(1_000_000) - hole && lenderNow >= C.usd(1_000_000) - hole - 1)
        #expect(chain.ledger.global.deficit == 0)
        chain.checkInvariants()
    }

    @Test func unsocializableDeficitRefusesNewRisk() throws {
        var chain = try TestChain { $0.insuranceFund = [AssetAmount(asset: 0, amount: C.usd(1_000))] }
        let (target, _) = Self.leveragedLong(&chain)
        let fund = chain.ledger.insuranceFund[0]
        let txs = (0..<4).map { chain.tx(C.validator($0), .oraclePrices([OraclePrice(asset: C.btc, price: C.usd(59_000))])) }
        let result = chain.block(txs)
        #expect(result.backstopTakeovers == [target.address])
        #expect(chain.ledger.global.deficit == C.usd(14_279) - fund)
        #expect(result.receipts.allSatisfy { $0.notice != nil })
        let r = chain.run(C.key("whale"), LedgerRejectionTests.order(price: C.usd(59_000)))
        #expect(r.error?.code == "risk_refused")
    }
}
