import BallastCrypto
import Foundation
import Histogram
import Node
import Synchronization

/// Submit-to-commit latencies in microseconds, with the percentiles a report shows.
public struct LatencySummary: Codable, Sendable, Equatable {
    public var count: UInt64
    public var p50Ms: Double
    public var p90Ms: Double
    public var p99Ms: Double
    public var maxMs: Double
    public var meanMs: Double

    /// The summary of an HdrHistogram of microseconds.
    public init(_ h: Histogram<UInt64>) {
        count = h.totalCount
        func ms(_ us: UInt64) -> Double { (Double(us) / 10).rounded() / 100 }
        p50Ms = count == 0 ? 0 : ms(h.valueAtPercentile(50))
        p90Ms = count == 0 ? 0 : ms(h.valueAtPercentile(90))
        p99Ms = count == 0 ? 0 : ms(h.valueAtPercentile(99))
        maxMs = count == 0 ? 0 : ms(h.max)
        meanMs = count == 0 ? 0 : (h.mean / 10).rounded() / 100
    }
}

/// Follows transactions from submission to commit: each id's submit time until a block's
/// receipts name it, the latency histogram, and every refusal and failure by code.
public final class CommitTracker: Sendable {
    public struct Counts: Sendable, Equatable {
        /// Sent to a node.
        public var submitted = 0
        /// Admitted by the node (HTTP 202).
        public var accepted = 0
        /// Seen in a committed block (with or without an error in its receipt).
        public var committed = 0
        /// Committed with an error-free receipt.
        public var committedOk = 0
        /// Refused at admission or not delivered, by code.
        public var rejected: [String: Int] = [:]
        /// Committed with an error receipt, by code.
        public var failed: [String: Int] = [:]
        /// Orders of committed transactions that the ledger refused one by one, by code.
        public var orderErrors: [String: Int] = [:]
        /// Still waiting for their commit.
        public var pending = 0
        /// Sent again to another node after theirs failed or did not answer in time (latency
        /// still counts from the first send).
        public var resent = 0
    }

    /// A transaction waiting for its commit: when it was first sent, its bytes (to send it again),
    /// and the node that admitted it, once one has.
    struct Pending {
        var submittedAt: UInt64
        var bytes: [UInt8]
        var admittedBy: Int?
        /// Whether a node admitted it (`accepted` counts each transaction once, resent or not).
        var admitted = false
    }

    struct State {
        var pending: [Hash256: Pending] = [:]
        /// Every commit seen, as (height, id), when `recordsCommits`.
        var commits: [(UInt64, String)] = []
        var counts = Counts()
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        /// How long each submit request waited for its answer.
        var answers = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }
    private let state = Mutex(State())
    /// A change the sender waits for (`waitForChange`): whether one happened since the last
    /// wait, and the task waiting, if any.
    private let change = Mutex<(happened: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    /// Whether to keep the id and height of every commit (`committedLog`).
    public let recordsCommits: Bool

    public init(recordsCommits: Bool = false) { self.recordsCommits = recordsCommits }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Clears the counts and the histogram (pending transactions stay followed).
    public func resetCounts() {
        state.withLock { s in
            s.counts = Counts()
            s.histogram.reset()
            s.answers.reset()
        }
    }

    /// Notes a transaction just before it is first sent; `bytes` let it be sent again to another
    /// node when the one that admitted it stops answering (`takeAdmitted`).
    public func submitted(_ id: Hash256, bytes: [UInt8] = []) {
        let t = Self.now()
        state.withLock { s in
            s.pending[id] = Pending(submittedAt: t, bytes: bytes)
            s.counts.submitted += 1
        }
    }

    /// Node `node` admitted `ids`.
    public func accepted(_ ids: some Sequence<Hash256>, by node: Int) {
        state.withLock { s in
            for id in ids {
                if s.pending[id]?.admitted != true { s.counts.accepted += 1 }
                s.pending[id]?.admittedBy = node
                s.pending[id]?.admitted = true
            }
        }
    }

    /// The transactions `node` admitted that have not committed yet, with their bytes, now no
    /// longer counted as admitted by it: a node that stopped answering (paused, killed) holds
    /// them in its mempool, where they wait for it, or are lost with it.
    public func takeAdmitted(by node: Int) -> [(bytes: [UInt8], id: Hash256)] {
        state.withLock { s in
            var taken: [(bytes: [UInt8], id: Hash256)] = []
            for (id, tx) in s.pending where tx.admittedBy == node && !tx.bytes.isEmpty {
                taken.append((tx.bytes, id))
            }
            for tx in taken { s.pending[tx.id]?.admittedBy = nil }
            // The order of a dictionary varies per process: send them in a fixed order.
            return taken.sorted { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
        }
    }

    /// A submit request sent at `sentAt` (uptime nanoseconds) got its answer now.
    public func answered(sentAt: UInt64) {
        let waited = max(1, (Self.now() &- sentAt) / 1_000)
        state.withLock { _ = $0.answers.record(waited) }
    }

    /// `count` transactions are being sent again, to another node.
    public func resent(_ count: Int) { state.withLock { $0.counts.resent += count } }

    /// The node refused it (or never answered): it will not commit.
    public func rejected(_ id: Hash256, code: String) {
        state.withLock { s in
            s.pending[id] = nil
            s.counts.rejected[code, default: 0] += 1
        }
        signalChange()
    }

    /// A committed block's receipts, seen at `seenAt` (uptime nanoseconds).
    public func committed(_ block: BlockReceipts, seenAt: UInt64) {
        state.withLock { s in
            for entry in block.entries {
                guard let submittedAt = s.pending.removeValue(forKey: entry.id)?.submittedAt else { continue }
                let outcome = entry.outcome
                s.counts.committed += 1
                if recordsCommits { s.commits.append((block.height, "0x" + entry.id.hex)) }
                if outcome.ok { s.counts.committedOk += 1 } else { s.counts.failed[outcome.code ?? "unknown", default: 0] += 1 }
                for order in outcome.orders { if let code = order.code { s.counts.orderErrors[code, default: 0] += 1 } }
                _ = s.histogram.record(max(1, (seenAt &- submittedAt) / 1_000))
            }
        }
        signalChange()
    }

    /// Returns once transactions committed or were refused (or `signalChange` was called) since
    /// the last return: the sender at `--rate max` waits here for room instead of polling.
    /// One task waits at a time.
    public func waitForChange() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let ready = change.withLock { c -> Bool in
                if c.happened {
                    c.happened = false
                    return true
                }
                c.waiter = waiter
                return false
            }
            if ready { waiter.resume() }
        }
    }

    /// Wakes the task in `waitForChange`, or the next one to call it.
    public func signalChange() {
        let waiter = change.withLock { c -> CheckedContinuation<Void, Never>? in
            guard let waiter = c.waiter else {
                c.happened = true
                return nil
            }
            c.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Gives up on transactions submitted more than `seconds` ago; returns how many.
    public func expire(olderThan seconds: Double) -> Int {
        let cutoff = Self.now() &- UInt64(seconds * 1e9)
        return state.withLock { s in
            let old = s.pending.filter { $0.value.submittedAt < cutoff }.map(\.key)
            for id in old { s.pending[id] = nil }
            s.counts.rejected["not_committed", default: 0] += old.count
            return old.count
        }
    }

    /// Whether `id` is still waiting for its commit.
    public func isPending(_ id: Hash256) -> Bool { state.withLock { $0.pending[id] != nil } }

    /// "HEIGHT TXID" per commit seen, in the order seen (empty unless `recordsCommits`).
    public var committedLog: [String] { state.withLock { $0.commits.map { "\($0.0) \($0.1)" } } }

    public var pendingCount: Int { state.withLock { $0.pending.count } }

    public var counts: Counts {
        state.withLock { s in
            var c = s.counts
            c.pending = s.pending.count
            return c
        }
    }

    public var latency: LatencySummary { state.withLock { LatencySummary($0.histogram) } }

    /// How long submit requests waited for their answers.
    public var answerLatency: LatencySummary { state.withLock { LatencySummary($0.answers) } }
}

/// Follows one node's committed blocks and hands each block's receipts to a tracker. It asks
/// for the next block's receipts in their binary form (`GET /v1/blocks/{height}/receipts?wait=`,
/// `Accept: application/octet-stream`), which the node answers as soon as it has executed the
/// block (or after `wait`, with a 404): one small request per block, and the block's commit time
/// is when its receipts arrived. Moves on to the next healthy node when one does not answer
/// within `wait` and `deadline`.
///
/// It has a connection of its own to each node: on the shared ones its requests would wait
/// behind the submits pipelined before them (adding their wait to every latency), and its
/// short deadline would close connections that submits are waiting on.
public struct BlockFollower: Sendable {
    public let connection: ClusterConnection
    public let tracker: CommitTracker
    /// How long the node holds a request for a block it has not executed yet (ms).
    public var waitMs = 250
    /// The pause before asking again after a 404 that came back sooner than this (a node that
    /// does not wait).
    public var pollInterval: Duration = .milliseconds(5)
    /// A node that answers none of these requests in this long (beyond the wait) is left for the next one.
    public var deadline: Duration = .milliseconds(500)
    let clients: [PipelinedHTTPClient]

    public init(connection: ClusterConnection, tracker: CommitTracker) {
        self.connection = connection
        self.tracker = tracker
        clients = connection.clients.map { PipelinedHTTPClient(host: $0.host, port: $0.port, connections: 1, group: connection.group) }
    }

    /// Follows the blocks after `height` until the task is cancelled.
    public func run(after height: UInt64) async {
        defer { for client in clients { client.close() } }
        var node = connection.isHealthy(0) ? 0 : connection.healthyNode(after: 0)
        var next = height + 1
        // A node that lacks a block the others have (one that started from a snapshot, or lags)
        // is left after a second of asking.
        var askedSince = ContinuousClock.now
        while !Task.isCancelled {
            do {
                let asked = ContinuousClock.now
                let answer = try await clients[node].request(.GET, "/v1/blocks/\(next)/receipts?wait=\(waitMs)", accept: "application/octet-stream",
                                                             deadline: deadline + .milliseconds(waitMs)).get()
                let seen = CommitTracker.now()
                switch answer.status {
                case 200:
                    let block = try answer.decodeCanonical(BlockReceipts.self)
                    guard block.height == next else { throw ClusterError("node \(node) answered block \(block.height) for \(next)") }
                    tracker.committed(block, seenAt: seen)
                    next += 1
                    askedSince = ContinuousClock.now
                case 404 where ContinuousClock.now - askedSince < .seconds(1):
                    if ContinuousClock.now - asked < pollInterval { try? await Task.sleep(for: pollInterval) }
                default:
                    throw ClusterError("GET /v1/blocks/\(next)/receipts on node \(node): \(answer.errorCode)")
                }
            } catch {
                node = connection.healthyNode(after: node)
                askedSince = ContinuousClock.now
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}
