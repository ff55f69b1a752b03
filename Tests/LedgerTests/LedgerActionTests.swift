import Testing
import BallastCrypto
@testable import Ledger

@Suite struct LedgerActionTests {
    @Test func genesisRootIsTheFullRecomputation() throws {
        let chain = try TestChain()
        #expect(chain.ledger.stateRoot == chain.ledger.recomputeRoot())
        #expect(chain.ledger.account(TestChain.faucet.address).holding(0).wallet == 100_000_000_000_000)
        chain.checkInvariants()
    }

    /// A root update re-hashes its entries in batches of `LeafBatch.chunk`: a block touching
    /// more than two batches' worth of accounts (and a partial last batch) must still give the
    /// root a full recomputation gives.
    @Test func rootOfABlockTouchingSeveralLeafBatchesIsTheFullRecomputation() throws {
        var chain = try TestChain()
        let count = 2 * LeafBatch.chunk + 300
        let transfers = (0..<count).map { i in
            chain.tx(TestChain.faucet, .transfer(to: TestChain.key("batch-\(i)").address, asset: 0, amount: 1_000_000 + Int64(i)))
        }
        let result = chain.block(transfers)
        #expect(result.receipts.filter { !$0.succeeded }.isEmpty)
        #expect(chain.ledger.accountCount >= count + 1)
        #expect(chain.ledger.stateRoot == chain.ledger.recomputeRoot())
        // And again with every one of those accounts touched a second time.
        let back = (0..<count).map { i in
            chain.tx(TestChain.key("batch-\(i)"), .transfer(to: TestChain.faucet.address, asset: 0, amount: 1 + Int64(i)))
        }
        let second = chain.block(back)
        #expect(second.receipts.filter { !$0.succeeded }.isEmpty)
        #expect(chain.ledger.stateRoot == chain.ledger.recomputeRoot())
        chain.checkInvariants()
    }

    @Test func transferMovesWalletFundsAndConsumesTheNonce() throws {
        var chain = try TestChain()
        let alice = TestChain.key("alice")
        chain.fund(alice.address, 0, 5_000_000_000)
        #expect(chain.ledger.account(alice.address).holding(0).wallet == 5_000_000_000)
        let faucetNonces = chain.ledger.account(TestChain.faucet.address).nonces.nonces
        #expect(faucetNonces.count == 1)
        chain.checkInvariants()
    }
}

extension LedgerActionTests {
    /// Two standard accounts trade 1 BTC of perp at 62,000: positions, fees, OI, and the
    /// taker's margin in standard mode.
    @Test func perpTradeMovesPositionsAndPaysFees() throws {
        var chain = try TestChain()
        let maker = TestChain.key("maker"), taker = TestChain.key("taker")
        chain.fund(maker.address, 0, 10_000_000_000)
        chain.fund(taker.address, 0, 10_000_000_000)
        let fundBefore = chain.ledger.insuranceFund[0]
        let rest = chain.run(maker, .placeOrders([OrderRequest(market: TestChain.btcPerp, side: .sell, price: 62_000_000_000, size: 100_000_000)]))
        #expect(rest.error == nil)
        #expect(rest.orders.first?.resting == 100_000_000)
        let fill = chain.run(taker, .placeOrders([OrderRequest(market: TestChain.btcPerp, side: .buy, price: 62_000_000_000, size: 100_000_000, timeInForce: .ioc)]))
        #expect(fill.error == nil, "\(String(describing: fill.error))")
        #expect(fill.orders.first?.filled == 100_000_000)
        let t = chain.ledger.account(taker.address), mk = chain.ledger.account(maker.address)
        #expect(t.position(TestChain.btcPerp) == PerpPosition(market: TestChain.btcPerp, size: 100_000_000, costBasis: 62_000_000_000))
        #expect(mk.position(TestChain.btcPerp) == PerpPosition(market: TestChain.btcPerp, size: -100_000_000, costBasis: -62_000_000_000))
        // Taker 450 ppm and maker 150 ppm of 62,000 USDC.
        #expect(t.holding(0).wallet == 10_000_000_000 - 27_900_000)
        #expect(mk.holding(0).wallet == 10_000_000_000 - 9_300_000)
        #expect(chain.ledger.insuranceFund[0] == fundBefore + 37_200_000)
        #expect(chain.ledger.marketState(TestChain.btcPerp)?.openInterest == 100_000_000)
        #expect(mk.openOrders == 0 && mk.reservedMargin == 0)
        chain.checkInvariants()
    }
}

extension LedgerActionTests {
    @Test func queriesShowPositionsOrdersPoolsAndMarkets() throws {
        var chain = try TestChain()
        let whale = chain.trader("q-whale", usdc: 1_000_000)
        let trader = chain.trader("q-trader", usdc: 10_000)
        #expect(chain.run(trader, .setMarginMode(.portfolio)).succeeded)
        chain.trade(maker: whale, taker: trader, market: TestChain.btcPerp, takerSide: .buy, price: TestChain.usd(62_000), size: TestChain.oneBTC)
        #expect(chain.run(trader, .placeOrders([OrderRequest(market: TestChain.btcPerp, side: .sell, price: TestChain.usd(63_000), size: TestChain.oneBTC / 2, reduceOnly: true)])).succeeded)
        chain.setPrice(TestChain.btc, TestChain.usd(61_000))
        let s = try chain.summary(trader)
        let p = try #require(s.positions.first)
        #expect(p.size == TestChain.oneBTC && p.entryPrice == TestChain.usd(62_000))
        // Only asks rest, so the mark is the oracle.
        #expect(p.mark == TestChain.usd(61_000) && p.oracle == TestChain.usd(61_000))
        #expect(p.unrealizedPnl == -TestChain.usd(1_000))
        // 10,000 - 27.9 fee: V_liq = 9,972.1 + (m - 62,000), MR = 1.25% m (a lone perp):
        // liquidatable when 0.0125 m > 0.95 (m - 52,027.9), below m = 49,426.505 / 0.9375 = 52,721.605333.
        let below = try #require(p.liquidationPriceBelow)
        #expect(below >= 52_721_605_000 && below <= 52_721_606_000)
        #expect(s.openOrders.count == 1 && s.openOrders[0].reduceOnly)
        #expect(s.portfolio.maintenance == 762_500_000 && s.standard.maintenance == 762_500_000 && s.health == "healthy")
        let pools = chain.ledger.poolViews()
        #expect(pools.count == 4 && pools[0].symbol == "USDC" && pools[0].borrowRate == "0.050000000000000000")
        let markets = chain.ledger.marketViews()
        #expect(markets[Int(TestChain.btcPerp)].openInterest == TestChain.oneBTC)
        #expect(markets[Int(TestChain.btcPerp)].bestAsk == TestChain.usd(63_000))
        let depth = try #require(chain.ledger.depth(TestChain.btcPerp, levels: 5))
        #expect(depth.asks.first?.size == TestChain.oneBTC / 2)
        #expect(chain.ledger.insuranceView.deficit == 0)
    }
}
