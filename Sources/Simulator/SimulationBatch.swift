import Consensus
import Dispatch
import Synchronization

/// Many seeds of one configuration, and what they add up to.
public struct BatchReport: Sendable {
    public var runs: [SimulationReport]

    public var faultTotals: [FaultKind: Int] {
        var totals: [FaultKind: Int] = [:]
        for r in runs { for k in FaultKind.allCases { totals[k, default: 0] += r.count(k) } }
        return totals
    }
    /// Runs that broke safety.
    public var unsafeRuns: [SimulationReport] { runs.filter { !$0.safetyViolations.isEmpty } }
    /// Runs that did not reach their target round.
    public var stalledRuns: [SimulationReport] { runs.filter { !$0.finished } }
    /// Healed runs where some honest validator took more than `bound` rounds to commit again.
    public func slowRuns(bound: UInt64) -> [SimulationReport] {
        runs.filter { $0.healed && ($0.roundsToCommitAfterHeal.map { $0 > bound } ?? true) }
    }
    public var worstRoundsToCommitAfterHeal: UInt64? { runs.compactMap(\.roundsToCommitAfterHeal).max() }
    public var totalCommits: Int { runs.reduce(0) { $0 + $1.committedBlocks } }
    public var totalRounds: UInt64 { runs.reduce(0) { $0 + $1.rounds } }
    public var totalTimeouts: Int { runs.reduce(0) { $0 + $1.timeouts } }
    public var totalMessages: Int { runs.reduce(0) { $0 + $1.messages } }
    public var totalBytes: Int { runs.reduce(0) { $0 + $1.bytes } }
    public var totalEvidence: Int { runs.reduce(0) { $0 + $1.evidenceReports } }
    /// Fault kinds that never occurred in the batch.
    public var missingFaultKinds: [FaultKind] { FaultKind.allCases.filter { (faultTotals[$0] ?? 0) == 0 } }
}

/// Runs seeds `seeds` with configurations from `makeConfig`, on up to
/// `threads` threads. Each run is deterministic on its own; results come back
/// in seed order whatever the thread count.
public enum SimulationBatch {
    public static func run(seeds: [UInt64], threads: Int = 1,
                           makeConfig: @escaping @Sendable (UInt64) -> SimulationConfig,
                           progress: (@Sendable (SimulationReport) -> Void)? = nil) -> BatchReport {
        let results = Mutex<[SimulationReport?]>(Array(repeating: nil, count: seeds.count))
        let next = Atomic<Int>(0)
        let workers = max(1, min(threads, seeds.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < seeds.count else { return }
                let report = Simulation(config: makeConfig(seeds[i])).run()
                progress?(report)
                results.withLock { $0[i] = report }
            }
        }
        return BatchReport(runs: results.withLock { $0.compactMap { $0 } })
    }
}
