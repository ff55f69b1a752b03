import Foundation
import Testing
import BallastCrypto
@testable import Ledger

/// Random workloads (orders, cancels, lending, transfers, liquidations, price paths with 30%
/// crashes), checked after every block. CI size is modest; BALLAST_FULL=1 runs thousands of
/// accounts.
@Suite struct LedgerPropertyTests {
    static let full = ProcessInfo.processInfo.environment["BALLAST_FULL"] == "1"

    static func workload(_ genesis: Genesis, accounts: Int, seed: UInt64, prefix: String = "ballast-testnet") -> Workload {
        var w = Workload(genesis: genesis, accounts: accounts, seed: seed, faucetSeedLabel: "\(prefix)-faucet",
                         validatorSeedPrefix: "\(prefix)-validator-")
        w.crashPercent = 8
        return w
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func invariantsHoldAfterEveryBlock(seed: UInt64) throws {
        // Full size runs on the benchmark genesis (10 perps, 4 spot markets, a larger faucet).
        let accounts = Self.full ? 2_000 : 60
        let blocks = Self.full ? 300 : 40
        let perBlock = Self.full ? 1_000 : 60
        var chain = try TestChain(file: Self.full ? "bench.json" : "testnet.json")
        var w = Self.workload(chain.genesis, accounts: accounts, seed: seed, prefix: Self.full ? "ballast-bench" : "ballast-testnet")
        for block in w.setupBlocks() {
            let r = chain.ledger.apply(block: block)
            #expect(r.receipts.allSatisfy { $0.succeeded }, "setup failed: \(r.receipts.compactMap(\.error).first.map { "\($0)" } ?? "")")
        }
        chain.checkInvariants()
        var applied: [SignedTransaction] = []
        var succeeded = 0, fills = 0, takeovers = 0
        for n in 0..<blocks {
            var block = w.nextBlock(transactions: perBlock)
            // Replays of earlier transactions must be refused: nonces are never reused.
            let replays = applied.isEmpty ? [] : [applied[n * 7 % applied.count], applied[n * 13 % applied.count]]
            block.transactions += replays
            let result = chain.ledger.apply(block: block)
            for r in result.receipts.suffix(replays.count) {
                #expect(["nonce_reused", "nonce_too_low"].contains(r.error?.code ?? ""), "a replayed nonce was accepted")
            }
            applied += block.transactions.prefix(block.transactions.count - replays.count)
            succeeded += result.receipts.filter(\.succeeded).count
            fills += result.receipts.flatMap(\.orders).filter { $0.filled > 0 }.count
            takeovers += result.backstopTakeovers.count
            chain.checkInvariants()
            // Nobody below 2/3 MR survives unless the backstop hit its per-block limit.
            if result.backstopTakeovers.count < Int(chain.genesis.risk.backstopMaxPerBlock) {
                for address in chain.ledger.addresses where address != chain.genesis.risk.backstopAddress {
                    let a = chain.ledger.account(address)
                    guard !a.positions.isEmpty || a.hasDebt, let req = try? chain.ledger.requirement(address) else { continue }
                    #expect(!(req.maintenance > 0 && req.liquidationValueBelow(numerator: 2, denominator: 3)),
                            "\(address) below 2/3 MR survived block \(n)")
                }
            }
            for asset in chain.genesis.assets.indices {
                let pool = try #require(chain.ledger.pool(AssetID(asset)))
                #expect(pool.cash >= 0 && pool.supplyShares >= 0 && pool.debtShares >= 0, "negative pool \(asset)")
            }
        }
        // The workload really trades, fails some actions and moves prices.
        #expect(fills > blocks)
        #expect(succeeded > blocks * perBlock / 3)
        #expect(takeovers > 0, "the crashes should bankrupt some lean traders")
        let restored = try Ledger(snapshot: chain.ledger.snapshot())
        #expect(restored.stateRoot == chain.ledger.stateRoot)
    }

    @Test func sameStreamSameRoots() throws {
        let g = try GenesisFiles.load("testnet.json")
        let run = { () throws -> [Hash256] in
            try Ledger.replayWorkload(genesis: g, accounts: 30, blocks: 15, transactionsPerBlock: 40, seed: 99,
                                      faucetSeedLabel: "ballast-testnet-faucet", validatorSeedPrefix: "ballast-testnet-validator-")
        }
        let a = try run(), b = try run()
        #expect(a == b)
        #expect(Set(a).count > 10)
    }

    @Test func snapshotMidStreamResumesToTheSameRoots() throws {
        let g = try GenesisFiles.load("testnet.json")
        var ledger = try Ledger(genesis: g)
        var w = Self.workload(g, accounts: 30, seed: 5)
        for b in w.setupBlocks() { ledger.apply(block: b) }
        for _ in 0..<5 { ledger.apply(block: w.nextBlock(transactions: 40)) }
        var restored = try Ledger(snapshot: ledger.snapshot())
        #expect(restored.stateRoot == ledger.stateRoot)
        for _ in 0..<5 {
            let block = w.nextBlock(transactions: 40)
            #expect(ledger.apply(block: block).stateRoot == restored.apply(block: block).stateRoot)
        }
        #expect(throws: SnapshotError.self) { try Ledger(snapshot: Array(ledger.snapshot().dropLast())) }
    }
}
