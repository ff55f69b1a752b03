import ArgumentParser
import BallastCrypto
import Cluster
import Foundation
import Ledger
import Node

/// `ballast ledger`: run the state machine without a network.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Run the ledger on its own.",
        subcommands: [Replay.self]
    )

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a seeded random transaction stream and print the state root after every block.",
            discussion: """
                Two runs with the same options must print the same roots, in any process: for example one \
                with SWIFT_DETERMINISTIC_HASHING=1 and one without (Swift seeds its hashing per process, so \
                any dependence on Dictionary or Set order would show). The stream funds the accounts from the \
                genesis faucet, then mixes orders (a third crossing), cancels and lending actions.
                """)
        @Option(help: "Genesis file.") var genesis = "genesis/bench.json"
        @Option(help: "Funded accounts.") var accounts = 1_000
        @Option(help: "Blocks after the funding blocks.") var blocks = 20
        @Option(help: "Transactions per block.") var transactions = 1_000
        @Option(help: "Seed of the stream.") var seed: UInt64 = 1
        @Option(name: .customLong("faucet-seed-label"), help: "The faucet key is BLAKE2b-256 of this label.") var faucetLabel = "ballast-bench-faucet"
        @Option(name: .customLong("validator-seed-prefix"), help: "Validator i's key is BLAKE2b-256 of this prefix + i.") var validatorPrefix = "ballast-bench-validator-"
        @Option(name: .customLong("blocks-from"), help: "Replay the committed block log of this node home instead (read-only), checking every stored root.")
        var blocksFrom: String?
        @Option(help: "With --blocks-from: stop at this height.") var to: UInt64?
        @Flag(help: "With --blocks-from: print the result as JSON.") var json = false

        func run() throws {
            if let blocksFrom { return try replayBlockLog(home: blocksFrom) }
            try reportingErrors(json: false) {
                guard let data = FileManager.default.contents(atPath: genesis) else { throw UserError("cannot read \(genesis)") }
                let parsed = try NodeHome.parseGenesis([UInt8](data), source: genesis)
                let roots = try Ledger.replayWorkload(genesis: parsed, accounts: accounts, blocks: blocks, transactionsPerBlock: transactions,
                                                      seed: seed, faucetSeedLabel: faucetLabel, validatorSeedPrefix: validatorPrefix)
                for (height, root) in roots.enumerated() { print("\(height + 1) \(root.hex)") }
            }
        }

        /// `--blocks-from HOME`: a fresh ledger from the home's genesis, every stored block applied.
        private func replayBlockLog(home: String) throws {
            try reportingErrors(json: json) {
                let result = try BlockLogReplay.run(home: home, upTo: to) { height, root in
                    if !json { print("\(height) \(root.hex)") }
                }
                if json {
                    printJSON(ClusterVerifier.ReplayOutput(height: result.height, stateRoot: result.stateRoot.hex,
                                                           transactions: result.transactions, mismatch: result.mismatch?.description))
                } else {
                    print("replayed \(result.height) blocks, \(result.transactions) transactions: root \(result.stateRoot.hex)")
                }
                if let mismatch = result.mismatch {
                    // The JSON already says why: one object on stdout, and a failing exit status.
                    throw json ? ExitCode.failure : UserError("the block log diverges: \(mismatch)")
                }
            }
        }
    }
}
