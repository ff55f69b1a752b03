import BallastCrypto
import Foundation
import Ledger
import NIOCore
import Node

/// How fast the load generator sends.
public enum LoadRate: Sendable, Equatable, CustomStringConvertible {
    /// This many transactions a second.
    case fixed(Int)
    /// As fast as the cluster takes them: at most `LoadOptions.maxInFlight` uncommitted at once.
    case max

    /// `max` or a positive integer.
    public init?(_ text: String) {
        if text == "max" { self = .max } else if let n = Int(text), n > 0 { self = .fixed(n) } else { return nil }
    }

    public var description: String {
        switch self {
        case .fixed(let n): return "\(n)"
        case .max: return "max"
        }
    }
}

/// What `ballast cluster load` does.
public struct LoadOptions: Sendable {
    public var rate: LoadRate = .fixed(100)
    /// Seconds of load after funding.
    public var duration: Double = 10
    /// Funded accounts that send the mix.
    public var accounts = 200
    /// Seeds the account keys and the mix.
    public var seed: UInt64 = 1
    /// Sign every transaction before the clock starts.
    public var presign = false
    /// Transactions signed ahead at `--rate max` (a fixed rate signs rate x duration).
    public var presignCount = 200_000
    /// At `--rate max`: most transactions sent and not yet committed (and at most 40 per account).
    public var maxInFlight = 3_000
    /// Seconds to wait after the load for the last transactions to commit.
    public var drainSeconds = 15.0
    /// Fund the accounts from the faucet first (off when they are funded already).
    public var fund = true
    public var connectionsPerNode = 4
    /// Transactions per request: 1 sends each to `POST /v1/tx`; more sends batches to `POST /v1/txs`.
    public var batch = 1
    /// Relative weights of the traffic kinds (a manifest's `load.mix`).
    public var mix = Manifest.Mix()
    /// Write "HEIGHT TXID" for every transaction seen committed (funding included) to this file,
    /// so a test can check that each is in every node's log.
    public var committedLog: String?

    public init() {}
}

/// What a load run measured (the JSON of `--report`).
public struct LoadReport: Codable, Sendable {
    public var chainId: String
    public var validators: Int
    public var rate: String
    public var presigned: Bool
    /// Transactions per HTTP request (1: `POST /v1/tx` each; more: `POST /v1/txs` batches).
    public var batch: Int?
    public var accounts: Int
    public var seed: UInt64
    public var fundingSeconds: Double
    public var durationSeconds: Double
    public var submitted: Int
    public var accepted: Int
    /// Committed while the load ran, per second of it.
    public var committedPerSecond: Double
    /// Of the transactions submitted while the load ran, committed by the end of the drain.
    public var committed: Int
    public var committedOk: Int
    public var latency: LatencySummary
    /// How long each submit request (`POST /v1/tx` or `/v1/txs`) waited for the node's answer.
    public var answerLatency: LatencySummary?
    public var rejected: [String: Int]
    public var failed: [String: Int]
    public var orderErrors: [String: Int]
    /// Accepted but not seen in a block by the end of the drain.
    public var uncommitted: Int
    /// Transactions sent again to another node after theirs failed or did not answer in time
    /// (the request's, and those it had admitted that had not committed).
    public var resent: Int?
    /// CPU seconds all node processes used during the load (from /proc), when known.
    public var nodeCPUSeconds: Double?
    public var nodeCPUSecondsPerCommittedTx: Double?
    public var generatorCPUSeconds: Double
    /// The throughput bound B = cores x raw libsodium verifies/s on one core / validators, when
    /// measured in the same run (`ballast cluster load` does, before the load).
    public var bound: ThroughputBound?

    /// The lines `ballast cluster load` prints.
    public var summary: String {
        func codes(_ d: [String: Int]) -> String {
            d.isEmpty ? "none" : d.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        var lines = [
            "load: \(validators) validators, rate \(rate), \(accounts) accounts, \(presigned ? "presigned" : "signed while sending"), \((batch ?? 1) > 1 ? "batches of \(batch ?? 1)" : "one per request"), \(String(format: "%.1f", durationSeconds)) s",
            "submitted \(submitted), accepted \(accepted), committed \(committed) (\(committedOk) without error), uncommitted \(uncommitted)",
            "committed tx/s \(String(format: "%.1f", committedPerSecond))",
            "latency submit→commit ms: p50 \(latency.p50Ms)  p90 \(latency.p90Ms)  p99 \(latency.p99Ms)  max \(latency.maxMs)  (\(latency.count) samples)",
            "node answers to submits ms: p50 \(answerLatency?.p50Ms ?? 0)  p99 \(answerLatency?.p99Ms ?? 0)  max \(answerLatency?.maxMs ?? 0)",
            "rejected: \(codes(rejected))" + ((resent ?? 0) > 0 ? "; sent again to another node when theirs stopped answering: \(resent ?? 0)" : ""),
            "failed in block: \(codes(failed))",
            "order errors: \(codes(orderErrors))",
        ]
        if let bound {
            lines.append("bound B = \(bound.cores) cores x \(bound.rawRateText) / \(validators) validators = "
                + "\(Int(bound.perSecond)) tx/s; committed = \(String(format: "%.1f%%", committedPerSecond / bound.perSecond * 100)) of B")
        }
        if let cpu = nodeCPUSeconds, let per = nodeCPUSecondsPerCommittedTx {
            lines.append("node CPU \(String(format: "%.2f", cpu)) s, \(String(format: "%.1f", per * 1e6)) µs per committed tx; generator CPU \(String(format: "%.2f", generatorCPUSeconds)) s")
        }
        return lines.joined(separator: "\n")
    }
}

/// B = cores x raw verifies per second / validators: each replica verifies every transaction.
public struct ThroughputBound: Codable, Sendable, Equatable {
    public var cores: Int
    /// Raw libsodium Ed25519 verifications per CPU second on one core: the mean of `measurements`.
    public var rawVerifiesPerSecond: Double
    /// Each measurement of the raw rate, in order: before the load, and after it (once the nodes
    /// are idle again) when measured. One measurement moves by ±10% on a shared machine.
    public var measurements: [Double]?
    public var perSecond: Double

    public init(cores: Int, rawVerifiesPerSecond measurements: [Double], validators: Int) {
        self.cores = cores
        self.measurements = measurements.map { $0.rounded() }
        let mean = measurements.isEmpty ? 0 : measurements.reduce(0, +) / Double(measurements.count)
        rawVerifiesPerSecond = mean.rounded()
        perSecond = (Double(cores) * mean / Double(max(validators, 1))).rounded()
    }

    /// How the raw rate was measured, for the summary line.
    var rawRateText: String {
        guard let m = measurements, m.count == 2 else { return "\(Int(rawVerifiesPerSecond)) raw verifies/s" }
        return "\(Int(rawVerifiesPerSecond)) raw verifies/s (mean of \(Int(m[0])) before the load and \(Int(m[1])) after)"
    }
}

/// `DIR/load/accounts.json`: the accounts a load run funded, for the keeper.
public struct LoadAccountsFile: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var address: String
        public var role: LoadRole
    }
    public var seed: UInt64
    public var accounts: [Entry]

    public static func path(_ layout: ClusterLayout) -> String { layout.directory + "/load/accounts.json" }

    public static func load(_ layout: ClusterLayout) throws -> LoadAccountsFile {
        guard let data = FileManager.default.contents(atPath: path(layout)) else {
            throw ClusterError("no \(path(layout)): run `ballast cluster load` first, or pass the accounts to watch")
        }
        return try JSONDecoder().decode(LoadAccountsFile.self, from: data)
    }

    func write(_ layout: ClusterLayout) throws {
        try FileManager.default.createDirectory(atPath: layout.directory + "/load", withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(layout)))
    }
}

/// One progress report, about once a second.
public struct LoadProgress: Sendable {
    public var phase: String
    public var elapsed: Double
    public var duration: Double
    public var counts: CommitTracker.Counts
    public var committedPerSecond: Double
    public var latency: LatencySummary
    /// Each node's health as the generator sees it.
    public var nodes: [NodeHealth] = []

    /// The one-line form for stderr; it names the nodes that are not healthy.
    public var line: String {
        let rejected = counts.rejected.values.reduce(0, +)
        let unhealthy = nodes.indices.filter { nodes[$0] != .healthy }.map { "node \($0) \(nodes[$0].rawValue)" }
        return "\(phase) \(String(format: "%5.1f", elapsed))/\(Int(duration)) s  sent \(counts.submitted)  committed \(counts.committed) "
            + "(\(Int(committedPerSecond.rounded())) tx/s)  pending \(counts.pending)  rejected \(rejected)  "
            + "p50 \(latency.p50Ms) ms  p99 \(latency.p99Ms) ms" + (unhealthy.isEmpty ? "" : "  " + unhealthy.joined(separator: ", "))
    }
}

/// Funds load accounts, sends the mix and measures it (`ballast cluster load`).
public final class LoadGenerator: Sendable {
    public let connection: ClusterConnection
    public let options: LoadOptions
    let tracker: CommitTracker

    public init(connection: ClusterConnection, options: LoadOptions) {
        self.connection = connection
        self.options = options
        tracker = CommitTracker(recordsCommits: options.committedLog != nil)
    }

    /// Runs the load; `progress` is called about once a second.
    public func run(progress: @escaping @Sendable (LoadProgress) -> Void) async throws -> LoadReport {
        let params = try await connection.parameters()
        let accounts = try LoadAccounts(count: options.accounts, seed: options.seed)
        let height = try await connection.get("/v1/status", as: NodeStatus.self).height
        let follower = Task { [connection, tracker] in await BlockFollower(connection: connection, tracker: tracker).run(after: height) }
        defer { follower.cancel() }
        // What a node that stops answering admitted and has not committed goes to the others.
        connection.onNodeFailure { [connection, tracker, batch = options.batch] node in
            let stranded = tracker.takeAdmitted(by: node)
            tracker.resent(stranded.count)
            LoadGenerator.dispatch(stranded, batch: batch, resend: true, connection: connection, tracker: tracker)
        }
        defer { connection.onNodeFailure(nil) }

        let fundingStart = ContinuousClock.now
        if options.fund { try await fund(accounts, params: params, progress: progress) }
        try LoadAccountsFile(seed: options.seed, accounts: accounts.keys.indices.map {
            .init(address: accounts.keys[$0].address.description, role: LoadRole.of($0))
        }).write(connection.layout)
        let fundingSeconds = seconds(ContinuousClock.now - fundingStart)

        var mix = LoadMix(assets: params.assets, markets: params.markets, accounts: options.accounts, seed: options.seed,
                          clientIDBase: UInt64(Date().timeIntervalSince1970 * 1000) << 20)
        mix.weights = options.mix
        if let marks = try? await connection.marks(), marks.count == mix.marks.count { mix.marks = marks }
        var nonces = Array(repeating: NonceClock(), count: options.accounts)
        let chainID = params.chainId
        func make() -> (bytes: [UInt8], id: Hash256) {
            let (i, action) = mix.next()
            let tx = Transaction(chainID: chainID, signer: accounts.keys[i].publicKey, nonce: nonces[i].next(), action: action)
                .signed(with: accounts.keys[i])
            let bytes = tx.canonicalBytes
            return (bytes, Blake2b.hash256(bytes))
        }
        var presigned: [(bytes: [UInt8], id: Hash256)] = []
        if options.presign {
            let count: Int
            switch options.rate {
            case .fixed(let n): count = Int((Double(n) * options.duration).rounded(.up))
            case .max: count = options.presignCount
            }
            presigned.reserveCapacity(count)
            for _ in 0..<count { presigned.append(make()) }
        }

        tracker.resetCounts()
        // Wakes the sender at --rate max at least every 100 ms when nothing commits.
        let ticker = Task { [tracker] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                tracker.signalChange()
            }
        }
        defer { ticker.cancel() }
        let cpuStart = NodeCPU.seconds(layout: connection.layout)
        let generatorStart = processCPUSeconds()
        let start = ContinuousClock.now
        var sent = 0
        var lastProgress = start
        var lastMarks = start
        var committedAtLastProgress = 0
        var windowCommitted = 0
        while true {
            let elapsed = seconds(ContinuousClock.now - start)
            if elapsed >= options.duration { break }
            var due: Int
            let maxPerRound = max(500, options.batch)
            switch options.rate {
            case .fixed(let n): due = LoadGenerator.dueAtFixedRate(n, elapsed: elapsed, sent: sent, batch: options.batch)
            case .max:
                // An account keeps its 100 highest nonces: far more than that in flight and late ones are refused.
                let limit = min(options.maxInFlight, options.accounts * 40)
                due = min(limit - tracker.pendingCount, maxPerRound)
                // Whole batches only: room opens a block at a time, far more than a batch.
                if due < min(options.batch, limit) { due = 0 }
            }
            if options.presign && sent >= presigned.count { break }
            var outgoing: [(bytes: [UInt8], id: Hash256)] = []
            for _ in 0..<max(0, due) {
                if options.presign && sent >= presigned.count { break }
                outgoing.append(options.presign ? presigned[sent] : make())
                sent += 1
            }
            send(outgoing)
            let now = ContinuousClock.now
            if !options.presign, now - lastMarks >= .seconds(1) {
                lastMarks = now
                if let marks = try? await connection.marks(), marks.count == mix.marks.count { mix.marks = marks }
            }
            if now - lastProgress >= .seconds(1) {
                let counts = tracker.counts
                let rate = Double(counts.committed - committedAtLastProgress) / seconds(now - lastProgress)
                committedAtLastProgress = counts.committed
                lastProgress = now
                progress(LoadProgress(phase: "load", elapsed: elapsed, duration: options.duration, counts: counts,
                                      committedPerSecond: rate, latency: tracker.latency, nodes: connection.nodeHealth))
            }
            switch options.rate {
            case .max where outgoing.count == maxPerRound:
                await Task.yield()   // more room: send on after letting the answers in
            case .max:
                await tracker.waitForChange()   // until commits or refusals make room (or 100 ms pass)
            case .fixed(let n):
                let wait = LoadGenerator.waitAtFixedRate(n, elapsed: seconds(ContinuousClock.now - start), sent: sent, batch: options.batch)
                try await Task.sleep(for: .microseconds(Int(wait * 1e6)))
            }
        }
        let duration = seconds(ContinuousClock.now - start)
        windowCommitted = tracker.counts.committed
        let cpuEnd = NodeCPU.seconds(layout: connection.layout)
        let generatorCPU = processCPUSeconds() - generatorStart

        // The last transactions commit (or are given up on) before the numbers are read.
        let drainStart = ContinuousClock.now
        while tracker.pendingCount > 0, ContinuousClock.now - drainStart < .seconds(options.drainSeconds) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let counts = tracker.counts
        if let path = options.committedLog {
            try (tracker.committedLog.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        let nodeCPU = zip(cpuStart, cpuEnd).map { $1 - $0 }.reduce(0, +)
        let knownCPU = !cpuStart.isEmpty && cpuStart.count == cpuEnd.count
        return LoadReport(
            chainId: params.chainId, validators: connection.manifest.validators, rate: options.rate.description,
            presigned: options.presign, batch: options.batch, accounts: options.accounts, seed: options.seed,
            fundingSeconds: (fundingSeconds * 100).rounded() / 100, durationSeconds: (duration * 100).rounded() / 100,
            submitted: counts.submitted, accepted: counts.accepted,
            committedPerSecond: (Double(windowCommitted) / duration * 10).rounded() / 10,
            committed: counts.committed, committedOk: counts.committedOk, latency: tracker.latency, answerLatency: tracker.answerLatency,
            rejected: counts.rejected, failed: counts.failed, orderErrors: counts.orderErrors, uncommitted: counts.pending,
            resent: counts.resent,
            nodeCPUSeconds: knownCPU ? (nodeCPU * 100).rounded() / 100 : nil,
            nodeCPUSecondsPerCommittedTx: knownCPU && windowCommitted > 0 ? nodeCPU / Double(windowCommitted) : nil,
            generatorCPUSeconds: (generatorCPU * 100).rounded() / 100, bound: nil)
    }

    /// How many transactions to send now at `rate` per second, `elapsed` seconds in, `sent` so far:
    /// whole batches only, a batch leaving when its last transaction is due (at 2,600/s, batches
    /// of 50 every 19 ms). Sending what was due at each wake-up made requests of two or three
    /// transactions whatever `--batch` said.
    static func dueAtFixedRate(_ rate: Int, elapsed: Double, sent: Int, batch: Int) -> Int {
        let due = max(0, Int(elapsed * Double(rate)) - sent)
        return due - due % max(1, batch)
    }

    /// Seconds to sleep until the next batch is due: at most 0.1 (the progress line), at least 0.001.
    static func waitAtFixedRate(_ rate: Int, elapsed: Double, sent: Int, batch: Int) -> Double {
        min(max(Double(sent + max(1, batch)) / Double(max(1, rate)) - elapsed, 0.001), 0.1)
    }

    /// Sends to the next healthy node in turn, one transaction or `options.batch` per request; the
    /// answers are counted when they arrive. When a node fails or does not answer within the
    /// connection's deadline it is marked (`ClusterConnection.markFailed`) and the request goes to
    /// the next healthy node, until every node has been tried; so do the transactions that node
    /// admitted and that have not committed (they wait in its mempool, or died with it). A
    /// transaction's latency still counts from its first send.
    private func send(_ transactions: [(bytes: [UInt8], id: Hash256)]) {
        for tx in transactions { tracker.submitted(tx.id, bytes: tx.bytes) }
        LoadGenerator.dispatch(transactions, batch: options.batch, resend: false, connection: connection, tracker: tracker)
    }

    /// Delivers `transactions` in requests of `batch` (one per request when 1).
    private static func dispatch(_ transactions: [(bytes: [UInt8], id: Hash256)], batch: Int, resend: Bool,
                                 connection: ClusterConnection, tracker: CommitTracker) {
        var start = 0
        while start < transactions.count {
            let chunk = Array(transactions[start..<min(start + max(1, batch), transactions.count)])
            start += chunk.count
            deliver(chunk, batch: batch, tries: connection.clients.count, resend: resend, connection: connection, tracker: tracker)
        }
    }

    /// Just the count of a `BatchAnswer`: when every transaction was admitted, the results need
    /// not be decoded one by one.
    struct AcceptedCount: Decodable { var accepted: Int }

    private static func deliver(_ chunk: [(bytes: [UInt8], id: Hash256)], batch: Int, tries: Int, resend: Bool,
                                connection: ClusterConnection, tracker: CommitTracker) {
        let batched = batch > 1
        let node = connection.pickNode()
        let sentAt = CommitTracker.now()
        let request = batched ? connection.post(batch: chunk.map(\.bytes), node: node) : connection.post(chunk[0].bytes, node: node)
        // A resent transaction may have reached this node through the one that failed:
        // `duplicate_tx` then means this node holds it.
        @Sendable func refused(_ tx: (bytes: [UInt8], id: Hash256), _ code: String) {
            if resend && code == "duplicate_tx" { tracker.accepted([tx.id], by: node) } else { tracker.rejected(tx.id, code: code) }
        }
        request.whenComplete { result in
            if case .success = result { tracker.answered(sentAt: sentAt) }
            switch result {
            case .success(let answer) where batched && answer.status == 200:
                if let count = try? answer.decode(AcceptedCount.self), count.accepted == chunk.count {
                    tracker.accepted(chunk.lazy.map(\.id), by: node)
                    return
                }
                guard let outcome = try? answer.decode(BatchAnswer.self), outcome.results.count == chunk.count else {
                    for tx in chunk { tracker.rejected(tx.id, code: "bad_batch_answer") }
                    return
                }
                for (tx, item) in zip(chunk, outcome.results) {
                    if let error = item.error { refused(tx, error.code) } else { tracker.accepted([tx.id], by: node) }
                }
            case .success(let answer) where !batched && (answer.status == 202 || answer.status == 200):
                tracker.accepted([chunk[0].id], by: node)
            case .success(let answer):
                let code = answer.errorCode
                for tx in chunk { refused(tx, code) }
            case .failure(let error):
                connection.markFailed(node, error: error)
                if tries > 1 {
                    tracker.resent(chunk.count)
                    deliver(chunk, batch: batch, tries: tries - 1, resend: true, connection: connection, tracker: tracker)
                } else {
                    for tx in chunk { tracker.rejected(tx.id, code: error is NoAnswerInTime ? "no_answer" : "unreachable") }
                }
            }
        }
    }

    /// Faucet transfers to every account: USDC and each other asset (leveraged accounts: 3,000
    /// USDC only), in waves the faucet's
    /// nonce window and pending limit allow, each wave committed before the next.
    func fund(_ accounts: LoadAccounts, params: ChainParameters, progress: @escaping @Sendable (LoadProgress) -> Void) async throws {
        let faucet = try connection.walletKey(ClusterLayout.faucetKeyName)
        let faucetSummary = try await connection.get("/v1/accounts/\(faucet.address)", as: AccountSummary.self)
        var transfers: [(Address, AssetID, Int64)] = []
        let amounts = LoadGenerator.fundingAmounts(assets: params.assets, faucet: faucetSummary.balances, accounts: accounts.keys.count)
        for (i, address) in accounts.addresses.enumerated() {
            let role = LoadRole.of(i).funding
            for (asset, amount) in amounts.enumerated() where amount > 0 && (asset == 0 || role.otherAssets) {
                transfers.append((address, AssetID(asset), asset == 0 ? min(amount, role.usdc) : amount))
            }
        }
        var nonce = NonceClock()
        let wave = 90
        let start = ContinuousClock.now
        for first in stride(from: 0, to: transfers.count, by: wave) {
            let txs = transfers[first..<min(first + wave, transfers.count)].map { to, asset, amount in
                let bytes = Transaction(chainID: params.chainId, signer: faucet.publicKey, nonce: nonce.next(),
                                        action: .transfer(to: to, asset: asset, amount: amount)).signed(with: faucet).canonicalBytes
                return (bytes: bytes, id: Blake2b.hash256(bytes))
            }
            let ids = txs.map(\.id)
            send(txs)
            let deadline = ContinuousClock.now + .seconds(60)
            while ids.contains(where: tracker.isPending), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            let counts = tracker.counts
            if !counts.rejected.isEmpty || !counts.failed.isEmpty || ids.contains(where: tracker.isPending) {
                throw ClusterError("funding failed: refused \(counts.rejected), failed \(counts.failed), \(ids.filter(tracker.isPending).count) not committed in 60 s")
            }
            progress(LoadProgress(phase: "fund", elapsed: seconds(ContinuousClock.now - start), duration: 0, counts: counts,
                                  committedPerSecond: 0, latency: tracker.latency))
        }
    }

    /// What each account gets of each asset: 100,000 USDC and about 20,000 USDC worth of
    /// every other asset, less when the faucet holds too little for every account twice over.
    public static func fundingAmounts(assets: [AssetConfig], faucet: [BalanceView], accounts: Int) -> [Int64] {
        assets.enumerated().map { i, asset in
            let held = faucet.first { $0.asset == AssetID(i) }?.wallet ?? 0
            let scale = Int128((0..<asset.decimals).reduce(Int64(1)) { r, _ in r * 10 })
            let wanted = i == 0 ? Int128(100_000_000_000) : Int128(20_000_000_000) * scale / Int128(max(asset.initialPrice, 1))
            return Int64(min(wanted, Int128(held) / Int128(2 * max(accounts, 1))))
        }
    }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// CPU seconds used by this process (all threads).
public func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// CPU time of a cluster's node processes, from /proc/PID/stat.
public enum NodeCPU {
    /// Waits until the nodes of `layout` together use less than `threshold` of a core over a
    /// second (they finish the blocks and index batches of a load), for at most `limit` seconds.
    /// Returns whether they did.
    public static func waitUntilIdle(layout: ClusterLayout, threshold: Double = 0.1, limit: Int = 15) async -> Bool {
        var last = seconds(layout: layout).reduce(0, +)
        for _ in 0..<limit {
            try? await Task.sleep(for: .seconds(1))
            let now = seconds(layout: layout).reduce(0, +)
            if now - last < threshold { return true }
            last = now
        }
        return false
    }

    /// User + system seconds of each running node of `layout` (empty without /proc or pids.json).
    public static func seconds(layout: ClusterLayout) -> [Double] {
        guard let pids = ClusterPIDs.load(layout)?.running else { return [] }
        return pids.compactMap { seconds(pid: $0.pid) }
    }

    /// User + system seconds of `pid`.
    public static func seconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
