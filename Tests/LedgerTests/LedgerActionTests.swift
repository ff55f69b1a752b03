import Testing
import Crypto
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
