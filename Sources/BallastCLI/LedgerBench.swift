import ArgumentParser
import BallastCrypto
import Foundation
@_spi(Benchmarks) import Ledger
import Node

/// `ballast bench ledger`: the ledger's three benchmarks of issue 3, on one core, over thread
/// CPU time: block throughput of the standard transaction mix, the margin requirement of an
/// account with a position in every market, and the incremental state root update.
struct LedgerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Ledger throughput, margin evaluation and state root update on one core.",
        discussion: """
            throughput: funds --accounts traders from the genesis faucet (untimed), applies --warmup-blocks \
            blocks so the books hold resting orders (untimed), then times --blocks blocks of --transactions \
            already-verified transactions each: 60% orders (a third crossing), 30% cancels, 10% lending \
            (supply, withdraw, borrow, repay), plus the validators' oracle moves. The stream is generated \
            before any timing; two runs apply it to fresh ledgers and must end on the same root, which must \
            also equal a full recomputation.
            margin: one account with a spot balance in every spot market and a perp position in every perp \
            market; times its whole margin summary (both modes) and the engine alone.
            root: --root-accounts accounts at genesis; each round applies a block of transfers touching \
            --root-touched of them and times only the incremental root update.
            """)

    @Option(help: "Genesis file (10 perps and 4 spot markets).") var genesis = "genesis/bench.json"
    @Option(help: "Parts to run, comma-separated: throughput, margin, root.") var parts = "throughput,margin,root"
    @Option(help: "Funded trader accounts.") var accounts = 10_000
    @Option(help: "Timed blocks per run.") var blocks = 10
    @Option(help: "Untimed blocks before the timed ones.") var warmupBlocks = 3
    @Option(help: "Transactions per block (besides the oracle updates).") var transactions = 20_000
    @Option(help: "Percent chance per block of a 30% crash of one asset.") var crashPercent = 0
    @Option(help: "Seed of the transaction stream.") var seed: UInt64 = 1
    @Option(help: "CPU seconds per margin measurement.") var marginSeconds = 2.0
    @Option(help: "Accounts in the state for the root benchmark.") var rootAccounts = 1_000_000
    @Option(help: "Accounts touched per root-benchmark block (even).") var rootTouched = 1_000
    @Option(help: "Root-benchmark blocks.") var rootBlocks = 20

    func run() throws {
        try reportingErrors(json: false) {
            let parsed = try loadBenchGenesis()
            let wanted = Set(parts.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let unknown = wanted.subtracting(["throughput", "margin", "root"])
            guard unknown.isEmpty else { throw UserError("unknown part(s): \(unknown.sorted().joined(separator: ", "))") }
            if wanted.contains("throughput") { try throughput(parsed) }
            if wanted.contains("margin") { try margin(parsed) }
            if wanted.contains("root") { try root(parsed) }
        }
    }

    /// The genesis, checked to be the pinned benchmark shape.
    func loadBenchGenesis() throws -> Genesis {
        guard let data = FileManager.default.contents(atPath: genesis) else { throw UserError("cannot read \(genesis)") }
        let g = try NodeHome.parseGenesis([UInt8](data), source: genesis)
        let perps = g.markets.filter { $0.kind == .perp }.count
        let spots = g.markets.count - perps
        guard perps == 10, spots == 4, g.faucet != nil else {
            throw UserError("\(genesis) has \(perps) perps and \(spots) spot markets (and faucet \(g.faucet.map { "\($0)" } ?? "none")); the benchmark genesis has 10 perps, 4 spot markets and a faucet")
        }
        return g
    }

    // MARK: Throughput

    func throughput(_ g: Genesis) throws {
        var workload = Workload(genesis: g, accounts: accounts, seed: seed, faucetSeedLabel: "ballast-bench-faucet",
                                validatorSeedPrefix: "ballast-bench-validator-")
        workload.crashPercent = crashPercent
        workload.lendingOnly = true
        let setup = workload.setupBlocks()
        let warmup = (0..<warmupBlocks).map { _ in workload.nextBlock(transactions: transactions) }
        let timed = (0..<blocks).map { _ in workload.nextBlock(transactions: transactions) }

        var mix = [String: Int]()
        var total = 0
        for block in timed {
            for tx in block.transactions {
                mix[tx.transaction.action.kind.name, default: 0] += 1
                total += 1
            }
        }
        print("ledger throughput: \(g.chainID), \(accounts) accounts, \(warmupBlocks) warm-up + \(blocks) timed blocks of \(transactions) transactions, seed \(seed), crash \(crashPercent)%")
        print("  timed mix: " + mix.keys.sorted().map { "\($0) \(mix[$0] ?? 0)" }.joined(separator: ", ") + " (\(total) in all)")

        var roots: [Hash256] = []
        for run in 1...2 {
            var ledger = try Ledger(genesis: g)
            for block in setup + warmup { _ = ledger.apply(block: block) }
            var failed = 0, fills = 0
            let start = threadCPUSeconds()
            for block in timed {
                let result = ledger.apply(block: block)
                for r in result.receipts {
                    if r.error != nil { failed += 1 }
                    for o in r.orders where o.filled > 0 { fills += 1 }
                }
            }
            let seconds = threadCPUSeconds() - start
            let root = ledger.stateRoot
            guard ledger.recomputeRoot() == root else { throw UserError("run \(run): incremental root differs from a full recomputation") }
            roots.append(root)
            let rate = Int((Double(total) / seconds).rounded())
            print("  run \(run): \(total) tx in \(String(format: "%.3f", seconds)) s CPU = \(rate) tx/s; \(failed) receipts with an error, \(fills) orders filled; root \(root.hex)")
        }
        guard roots[0] == roots[1] else { throw UserError("the two runs ended on different roots") }
        print("  roots equal across runs: yes")
    }

    // MARK: Margin

    func margin(_ base: Genesis) throws {
        func key(_ label: String) throws -> PublicKey {
            try SigningKey(seed: Blake2b.hash256(Array(label.utf8)).bytes).publicKey
        }
        let trader = try key("ballast-bench-margin-trader"), counterparty = try key("ballast-bench-margin-counterparty")
        var g = base
        let spotAssets = g.markets.filter { $0.kind == .spot }.map(\.base)
        for who in [trader, counterparty] {
            g.balances.append(InitialBalance(address: who.address, asset: 0, amount: 100_000_000_000_000))
            for asset in spotAssets {
                let a = g.assets[Int(asset)]
                // About 20,000 USDC worth.
                let amount = Int64(Int128(20_000_000_000) * Int128(pow10(a.decimals)) / Int128(a.initialPrice))
                g.balances.append(InitialBalance(address: who.address, asset: asset, amount: amount))
            }
        }
        var ledger = try Ledger(genesis: g)
        // The counterparty rests one order in every perp; the trader takes each: short the perps
        // whose spot it holds (hedged), long the others.
        var txs: [SignedTransaction] = []
        var nonce = UInt64(g.genesisTimeMs)
        var takes: [SignedTransaction] = []
        for (m, mc) in g.markets.enumerated() where mc.kind == .perp {
            let a = g.assets[Int(mc.base)]
            let price = a.initialPrice / mc.tick * mc.tick
            let size = max(mc.lot, Int64(Int128(10_000_000_000) * Int128(pow10(a.decimals)) / Int128(price)) / mc.lot * mc.lot)
            let traderSide: Side = spotAssets.contains(mc.base) ? .sell : .buy
            nonce += 1
            txs.append(unsigned(g, counterparty, nonce, .placeOrders([OrderRequest(
                market: MarketID(m), side: traderSide == .buy ? .sell : .buy, price: price, size: size)])))
            takes.append(unsigned(g, trader, nonce, .placeOrders([OrderRequest(
                market: MarketID(m), side: traderSide, price: price, size: size, timeInForce: .ioc)])))
        }
        let result = ledger.apply(block: BlockInput(timeMs: g.genesisTimeMs + 1_000, transactions: txs + takes))
        if let bad = result.receipts.first(where: { !$0.succeeded || $0.orders.contains { $0.error != nil } }) {
            throw UserError("setting up the margin account failed: \(bad)")
        }
        let account = ledger.account(trader.address)
        let perps = g.markets.filter { $0.kind == .perp }.count
        guard account.positions.count == perps, spotAssets.allSatisfy({ account.holding($0).wallet > 0 }) else {
            throw UserError("the margin account has \(account.positions.count) positions, not \(perps)")
        }
        let risk = try ledger.accountRisk(account)
        let summary = try ledger.marginSummary(trader.address)
        print("ledger margin: one account, \(account.positions.count) perp positions, \(spotAssets.count) spot balances, \(risk.exposures.count) underlyings")
        print("  portfolio MR \(summary.portfolio.maintenance), IR \(summary.portfolio.initial), V_liq \(summary.portfolio.liquidationValue); standard MR \(summary.standard.maintenance)")

        var sink: Int64 = 0
        var failures = 0
        let batch = 1_000
        let address = trader.address
        let engine = ledger.config.engine
        let results = interleaved(rounds: 3, secondsEach: marginSeconds / 3, batch: batch, [
            ("margin summary of the account (ledger)", {
                for _ in 0..<batch {
                    if let s = try? ledger.marginSummary(address) { sink &+= s.portfolio.maintenance } else { failures += 1 }
                }
            }),
            ("margin engine evaluate (AccountRisk built)", {
                for _ in 0..<batch {
                    if let s = try? engine.evaluate(risk) { sink &+= s.portfolio.maintenance } else { failures += 1 }
                }
            }),
        ])
        guard failures == 0, sink != 0 else { throw UserError("an evaluation failed") }
        for r in results {
            print("  \(r.name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(String(format: "%8.3f", 1e6 / r.perSecond)) us per evaluation (\(r.operations) in \(String(format: "%.2f", r.seconds)) s CPU)")
        }
    }

    // MARK: Root

    func root(_ base: Genesis) throws {
        guard rootTouched >= 2, rootTouched % 2 == 0, rootAccounts >= rootTouched / 2 * rootBlocks + rootTouched else {
            throw UserError("--root-touched must be even and --root-accounts large enough for the senders")
        }
        let senders = rootTouched / 2 * rootBlocks
        print("ledger root: building \(rootAccounts) accounts (untimed)...")
        let buildStart = Date()
        var keys: [PublicKey] = []
        keys.reserveCapacity(senders)
        for i in 0..<senders { keys.append(try SigningKey(seed: Blake2b.hash256(Array("ballast-bench-root-\(i)".utf8)).bytes).publicKey) }
        var others: [Address] = []
        others.reserveCapacity(rootAccounts - senders)
        var rng = WorkloadRandom(seed: seed)
        for _ in 0..<(rootAccounts - senders) {
            others.append(Address(storage: (rng.next(), rng.next(), UInt32(truncatingIfNeeded: rng.next()))))
        }
        var g = base
        g.balances += keys.map { InitialBalance(address: $0.address, asset: 0, amount: 2_000_000) }
        g.balances += others.map { InitialBalance(address: $0, asset: 0, amount: 1_000_000) }
        var ledger = try Ledger(genesis: g)
        print("  \(ledger.accountCount) accounts, built in \(String(format: "%.1f", Date().timeIntervalSince(buildStart))) s wall")

        var times: [Double] = []
        for round in 0..<rootBlocks {
            var txs: [SignedTransaction] = []
            for k in 0..<(rootTouched / 2) {
                let sender = keys[round * rootTouched / 2 + k]
                let to = others[rng.below(others.count)]
                txs.append(unsigned(g, sender, UInt64(g.genesisTimeMs) + 1, .transfer(to: to, asset: 0, amount: 1)))
            }
            let result = ledger.applyDeferringRoot(block: BlockInput(timeMs: g.genesisTimeMs + Int64(round + 1) * 1_000, transactions: txs))
            guard result.receipts.allSatisfy(\.succeeded) else { throw UserError("a root-benchmark transfer failed") }
            let start = threadCPUSeconds()
            _ = ledger.updateStateRoot()
            times.append(threadCPUSeconds() - start)
        }
        guard ledger.recomputeRoot() == ledger.stateRoot else { throw UserError("incremental root differs from a full recomputation") }
        let sorted = times.sorted()
        let mean = times.reduce(0, +) / Double(times.count)
        func ms(_ s: Double) -> String { String(format: "%.3f", s * 1e3) }
        print("  root update for a block touching \(rootTouched) of \(ledger.accountCount) accounts (\(rootBlocks) blocks): mean \(ms(mean)) ms, median \(ms(sorted[sorted.count / 2])) ms, max \(ms(sorted.last ?? 0)) ms CPU; matches full recomputation")
    }

    func unsigned(_ g: Genesis, _ signer: PublicKey, _ nonce: UInt64, _ action: Action) -> SignedTransaction {
        SignedTransaction(transaction: Transaction(chainID: g.chainID, signer: signer, nonce: nonce, action: action), signature: .zero)
    }

    func pow10(_ d: Int64) -> Int64 { (0..<d).reduce(1) { r, _ in r * 10 } }
}
