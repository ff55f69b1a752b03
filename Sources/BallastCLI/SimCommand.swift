import ArgumentParser
import Consensus
import Simulator

/// `ballast sim`: run the consensus simulator over many seeds.
struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a validator cluster with network faults and Byzantine validators (use a release build).",
        discussion: """
            Each seed is one deterministic run with a fault mix drawn from it. Replay a failing seed \
            with --seed S (prints the run). Exits with status 1 if any run is unsafe, stalls, is not live \
            within 10 rounds of the heal, or (with 10+ seeds and random faults) a fault type occurred fewer than once per ten seeds.
            """
    )

    @Option(help: "Number of seeds to run.") var seeds = 100
    @Option(help: "First seed.") var seedStart: UInt64 = 1
    @Option(help: "Replay one seed (same as --seed-start S --seeds 1 --verbose).") var seed: UInt64?
    @Option(help: "Rounds per run.") var rounds: UInt64 = 500
    @Option(help: "Validators (f = (n-1)/3 of them may be Byzantine).") var validators = 4
    @Option(help: "Threads (runs are independent; results are the same for any count).") var threads = 2
    @Flag(help: "No faults at all (checks the 2n+2 message bound and zero timeouts).") var noFaults = false
    @Flag(help: "Print one line per run.") var verbose = false
    @Flag(help: "Run the consensus benchmark instead (n validators, --rounds rounds, no faults).") var bench = false

    func run() throws {
        guard validators >= 1, validators <= 512, rounds >= 1, seeds >= 1 else {
            throw ValidationError("need 1...512 validators, at least 1 round and 1 seed")
        }
        if bench {
            print(ConsensusBenchmark.run(validators: validators, rounds: rounds).summary)
            return
        }
        let first = seed ?? seedStart
        let count = seed == nil ? seeds : 1
        let verbose = self.verbose || seed != nil
        let (n, r, clean) = (validators, rounds, noFaults)
        let clock = ContinuousClock()
        let started = clock.now
        let makeConfig: @Sendable (UInt64) -> SimulationConfig = { s in
            clean ? SimulationConfig.noFaults(seed: s, validators: n, rounds: r)
                : SimulationConfig.randomFaults(seed: s, validators: n, rounds: r)
        }
        var printRun: (@Sendable (SimulationReport) -> Void)? = nil
        if verbose { printRun = { (report: SimulationReport) in Swift.print(report.summary) } }
        let seedList: [UInt64] = (0..<UInt64(count)).map { first + $0 }
        let batch = SimulationBatch.run(seeds: seedList, threads: threads, makeConfig: makeConfig, progress: printRun)
        let elapsed = clock.now - started

        let commits = max(batch.totalCommits, 1)
        print("\(batch.runs.count) runs, n=\(n), \(r) rounds each, \(clean ? "no faults" : "random faults") in \(elapsed)")
        print("rounds \(batch.totalRounds), commits \(batch.totalCommits), timeouts \(batch.totalTimeouts), "
              + "messages/block \(batch.totalMessages / commits), bytes/block \(batch.totalBytes / commits), "
              + "evidence reports \(batch.totalEvidence)")
        let totals = batch.faultTotals
        print("faults: " + FaultKind.allCases.map { "\($0.rawValue)=\(totals[$0] ?? 0)" }.joined(separator: " "))
        print("worst rounds to commit after heal: \(batch.worstRoundsToCommitAfterHeal.map(String.init) ?? "-")")

        var failed = false
        for report in batch.unsafeRuns { print("UNSAFE \(report.summary)"); failed = true }
        for report in batch.stalledRuns { print("STALLED \(report.summary)"); failed = true }
        for report in batch.slowRuns(bound: 10) { print("NOT LIVE \(report.summary)"); failed = true }
        if clean {
            for report in batch.runs where report.timeouts > 0 || report.messages > (2 * n + 2) * report.committedBlocks {
                print("OVER BOUND \(report.summary)")
                failed = true
            }
        } else if count >= 10 {
            // "Many times": at least once per ten seeds for every fault type.
            let rare = FaultKind.allCases.filter { (totals[$0] ?? 0) < count / 10 }
            if !rare.isEmpty {
                print("fault types that occurred fewer than \(count / 10) times: \(rare.map { $0.rawValue })")
                failed = true
            }
        }
        print(failed ? "FAILED" : "OK: safe in every run")
        if failed { throw ExitCode(1) }
    }
}
