import Testing
import BallastCrypto
@testable import Ledger

/// The spec's five numbered properties, end to end through signed transactions.
@Suite struct LedgerSpecTests {
    typealias C = TestChain

    @Test func property1FullyPaidSpotHasNoRequirement() throws {
        var chain = try TestChain()
        let buyer = chain.trader("spot-buyer", usdc: 70_000)
        let seller = chain.trader("spot-seller", btc: C.oneBTC)
        let empty = try chain.summary(C.key("nobody"))
        #expect(empty.portfolio.maintenance == 0 && empty.portfolio.ratioPpm == 0 && empty.health == "healthy")
        chain.trade(maker: seller, taker: buyer, market: C.btcSpot, takerSide: .buy, price: C.usd(62_000), size: C.oneBTC)
        let s = try chain.summary(buyer)
        #expect(s.balances.first { $0.asset == C.btc }?.net == C.oneBTC)
        #expect(s.portfolio.maintenance == 0 && s.portfolio.ratioPpm == 0 && !s.portfolio.liquidatable)
        // A 30% crash changes nothing: still no requirement.
        chain.setPrice(C.btc, C.usd(43_400))
        #expect(try chain.summary(buyer).portfolio.maintenance == 0)
        chain.checkInvariants()
    }

    @Test func property2LonePerpMatchesStandardMode() throws {
        var chain = try TestChain()
        let whale = chain.trader("whale", usdc: 1_000_000)
        let trader = chain.trader("perp-trader", usdc: 10_000)
        #expect(chain.run(trader, .setMarginMode(.portfolio)).error == nil)
        chain.trade(maker: whale, taker: trader, market: C.btcPerp, takerSide: .buy, price: C.usd(62_000), size: C.oneBTC)
        let s = try chain.summary(trader)
        // 1.25% of 62,000 = 775 USDC maintenance, 2.5% = 1,550 initial, in both modes.
        #expect(s.portfolio.maintenance == 775_000_000 && s.standard.maintenance == 775_000_000)
        #expect(s.portfolio.initial == 1_550_000_000 && s.standard.initial == 1_550_000_000)
        chain.checkInvariants()
    }

    @Test func property3HedgedSpotPaysOnlyTheContingency() throws {
        var chain = try TestChain()
        let whale = chain.trader("whale", usdc: 1_000_000)
        let hedger = chain.trader("hedger", usdc: 1_000, btc: C.oneBTC)
        #expect(chain.run(hedger, .setMarginMode(.portfolio)).error == nil)
        chain.trade(maker: whale, taker: hedger, market: C.btcPerp, takerSide: .sell, price: C.usd(62_000), size: C.oneBTC)
        let s = try chain.summary(hedger)
        #expect(s.portfolio.maintenance == 77_500_000)
        #expect(s.standard.maintenance == 775_000_000)
        chain.checkInvariants()
    }

    @Test func property4CrossAssetHedgeOffsets() throws {
        var chain = try TestChain()
        chain.setPrice(C.btc, C.usd(62_500))
        chain.setPrice(C.eth, C.usd(2_500))
        let whale = chain.trader("whale", usdc: 5_000_000)
        let pair = chain.trader("pair-trader", usdc: 100_000)
        #expect(chain.run(pair, .setMarginMode(.portfolio)).error == nil)
        chain.trade(maker: whale, taker: pair, market: C.btcPerp, takerSide: .buy, price: C.usd(62_500), size: 16 * C.oneBTC)
        chain.trade(maker: whale, taker: pair, market: C.ethPerp, takerSide: .sell, price: C.usd(2_500), size: 400 * C.oneBTC)
        let s = try chain.summary(pair)
        #expect(s.portfolioRequirement == C.usd(12_500))
        // Legs apart: 1% x 0.5M + 2,500 + 5,000 ... the standard sum is 1.25% + 2% of 1M each.
        #expect(s.standard.maintenance == C.usd(32_500))
        chain.checkInvariants()
    }

    @Test func property5BorrowAgainstBitcoin() throws {
        var chain = try TestChain()
        let lender = chain.trader("lender", usdc: 1_000_000)
        #expect(chain.run(lender, .supply(asset: C.usdc, amount: C.usd(1_000_000))).error == nil)
        let borrower = chain.trader("borrower", btc: C.oneBTC)
        let sink = C.key("sink")
        #expect(chain.run(borrower, .setMarginMode(.portfolio)).error == nil)
        // 0.5 x 62,000 - 20 = 30,980 USDC may be borrowed and spent (one block: no interest between).
        let borrowAndSpend = [chain.tx(borrower, .borrow(asset: C.usdc, amount: C.usd(30_980) + 1)),
                              chain.tx(borrower, .transfer(to: sink.address, asset: C.usdc, amount: C.usd(30_980)))]
        let receipts = chain.block(borrowAndSpend).receipts
        #expect(receipts.allSatisfy { $0.succeeded })
        let s = try chain.summary(borrower)
        #expect(s.portfolio.slack == 0 && s.portfolio.maintenance == C.usd(20))
        // One base unit more would leave slack at -1.
        chain.expectRejected(borrower, .transfer(to: sink.address, asset: C.usdc, amount: 1), "insufficient_margin")
        #expect(try chain.summary(borrower).portfolio.liquidatable == false)
        // Liquidatable once V_liq < 20 / 0.95: debt 30,980 against 0.75 x price.
        chain.setPrice(C.btc, C.usd(41_335))
        #expect(try chain.summary(borrower).portfolio.liquidatable == false)
        chain.setPrice(C.btc, C.usd(41_334))
        #expect(try chain.summary(borrower).portfolio.liquidatable == true)
        chain.checkInvariants()
    }
}
