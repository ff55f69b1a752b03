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
