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
    }

    struct State {
        var pending: [Hash256: UInt64] = [:]
        /// Every commit seen, as (height, id), when `recordsCommits`.
        var commits: [(UInt64, String)] = []
        var counts = Counts()
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }
    private let state = Mutex(State())

    /// Whether to keep the id and height of every commit (`committedLog`).
    public let recordsCommits: Bool

    public init(recordsCommits: Bool = false) { self.recordsCommits = recordsCommits }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Clears the counts and the histogram (pending transactions stay followed).
    public func resetCounts() {
        state.withLock { s in
            s.counts = Counts()
            s.histogram.reset()
        }
    }

    /// Notes a transaction just before it is sent.
    public func submitted(_ id: Hash256) {
        let t = Self.now()
        state.withLock { s in
            s.pending[id] = t
            s.counts.submitted += 1
        }
    }

    /// The node admitted it.
    public func accepted() { state.withLock { $0.counts.accepted += 1 } }

    /// The node refused it (or never answered): it will not commit.
    public func rejected(_ id: Hash256, code: String) {
        state.withLock { s in
            s.pending[id] = nil
            s.counts.rejected[code, default: 0] += 1
        }
    }

    /// A committed block's receipts, seen at `seenAt` (uptime nanoseconds).
    public func committed(_ receipts: [ReceiptRecord], seenAt: UInt64) {
        let ids = receipts.map { try? Hash256(hex: $0.txId) }
        state.withLock { s in
            for (receipt, id) in zip(receipts, ids) {
                guard let id, let submittedAt = s.pending.removeValue(forKey: id) else { continue }
                s.counts.committed += 1
                if recordsCommits { s.commits.append((receipt.height, receipt.txId)) }
                if receipt.ok { s.counts.committedOk += 1 } else { s.counts.failed[receipt.code ?? "unknown", default: 0] += 1 }
                for order in receipt.orders { if let code = order.code { s.counts.orderErrors[code, default: 0] += 1 } }
                _ = s.histogram.record(max(1, (seenAt &- submittedAt) / 1_000))
            }
        }
    }

    /// Gives up on transactions submitted more than `seconds` ago; returns how many.
    public func expire(olderThan seconds: Double) -> Int {
        let cutoff = Self.now() &- UInt64(seconds * 1e9)
        return state.withLock { s in
            let old = s.pending.filter { $0.value < cutoff }.map(\.key)
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
}

/// Polls one node for new heights and hands each new block's receipts to a tracker; the
/// commit time of a block is when its height was first seen, before its receipts are fetched.
/// Moves on to the next node when one stops answering.
public struct BlockFollower: Sendable {
    public let connection: ClusterConnection
    public let tracker: CommitTracker
    public var pollInterval: Duration = .milliseconds(5)

    public init(connection: ClusterConnection, tracker: CommitTracker) {
        self.connection = connection
        self.tracker = tracker
    }

    /// Follows the blocks after `height` until the task is cancelled.
    public func run(after height: UInt64) async {
        var node = 0
        var done = height
        while !Task.isCancelled {
            do {
                let status = try await connection.clients[node].get("/v1/status", as: NodeStatus.self)
                let seen = CommitTracker.now()
                if status.height > done {
                    for h in (done + 1)...status.height {
                        let receipts = try await connection.clients[node].get("/v1/blocks/\(h)/receipts", as: [ReceiptRecord].self)
                        tracker.committed(receipts, seenAt: seen)
                        done = h
                    }
                } else {
                    try? await Task.sleep(for: pollInterval)
                }
            } catch {
                node = (node + 1) % connection.clients.count
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}
