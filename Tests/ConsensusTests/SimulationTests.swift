import Consensus
import Simulator
import Testing

@Suite struct SimulationTests {
    /// With no faults every round commits a block: at most 3n + 2 messages per
    /// committed block (the proposal, the votes and the announced QC each reach
    /// n − 1 peers) and not a single timeout.
    @Test(arguments: [4, 7])
    func noFaultRunMeetsTheMessageBound(validators: Int) {
        // Seed 11 once timed out an idle leader (two idle waits in a row); it stays in as a regression.
        for seed: UInt64 in [7, 11] {
            let report = Simulation(config: .noFaults(seed: seed, validators: validators, rounds: 300)).run()
            #expect(report.finished, "\(report.summary)")
            #expect(report.safetyViolations.isEmpty)
            #expect(report.timeouts == 0, "\(report.summary)")
            #expect(report.committedBlocks >= 295)
            #expect(report.minCommittedBlocks >= 295)
            #expect(report.messages <= (3 * validators + 2) * report.committedBlocks)
        }
    }

    /// The safety run, CI-sized (the full 1,000 seeds x 500 rounds is
    /// `ballast sim --seeds 1000 --rounds 500 --validators 4|7`): every mix of
    /// faults with at most f Byzantine validators stays safe, reaches its round,
    /// and after the heal every honest validator commits within 10 rounds.
    @Test(arguments: [4, 7])
    func randomFaultsStaySafeAndLive(validators: Int) {
        let seeds = Array(UInt64(1)...UInt64(validators == 4 ? 30 : 20))
        let batch = SimulationBatch.run(seeds: seeds) { .randomFaults(seed: $0, validators: validators, rounds: 150) }
        for r in batch.unsafeRuns { Issue.record("unsafe: \(r.summary)") }
        for r in batch.stalledRuns { Issue.record("stalled: \(r.summary)") }
        for r in batch.slowRuns(bound: 10) { Issue.record("not live within 10 rounds after heal: \(r.summary)") }
        #expect(batch.runs.count == seeds.count)
        // Every fault type happened, many times over the batch.
        let totals = batch.faultTotals
        for kind in FaultKind.allCases {
            #expect((totals[kind] ?? 0) >= 3, "\(kind.rawValue) occurred \(totals[kind] ?? 0) times")
        }
        #expect(batch.totalEvidence > 0)
    }

    /// A seed replays exactly.
    @Test func aSeedReplaysExactly() {
        let config = SimulationConfig.randomFaults(seed: 11, validators: 4, rounds: 60)
        let a = Simulation(config: config).run(), b = Simulation(config: config).run()
        #expect(a.summary == b.summary)
        #expect(a.messages == b.messages && a.bytes == b.bytes && a.simulatedMilliseconds == b.simulatedMilliseconds)
    }
}
