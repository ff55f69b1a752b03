import Consensus
import Simulator
import Testing

@Suite struct FaultTests {
    /// Twins: with f + 1 = 2 keys each run by two processes, and the processes
    /// split so that both sides hold three keys, both sides form quorums and the
    /// honest validators 0 and 1 commit different blocks. The checker must see it.
    @Test func fPlusOneTwinsForkAndTheCheckerCatchesIt() {
        var config = SimulationConfig.noFaults(seed: 3, validators: 4, rounds: 40)
        config.byzantine = [2: .twin, 3: .twin]
        config.fixedPartition = [[0, 2, 3], [1, 4, 5]]  // processes 4 and 5 are the twins of 2 and 3
        let sim = Simulation(config: config)
        let report = sim.run()
        #expect(report.safetyViolations.contains { $0.hasPrefix("fork at height") }, "\(report.summary)")
        #expect(sim.committedHeights[0] > 5 && sim.committedHeights[1] > 5)
    }

    /// The same split with only f = 1 twin: the second side holds two keys, no
    /// quorum, so there is no fork (that side just cannot commit).
    @Test func fTwinsCannotFork() {
        var config = SimulationConfig.noFaults(seed: 3, validators: 4, rounds: 40)
        config.byzantine = [2: .twin]
        config.fixedPartition = [[0, 2, 3], [1, 4]]
        let sim = Simulation(config: config)
        let report = sim.run()
        #expect(report.safetyViolations.isEmpty, "\(report.summary)")
        #expect(report.finished)
        #expect(sim.committedHeights[0] > 10)
        #expect(sim.committedHeights[1] == 0)
    }

    /// Crash validator 0 right after each of its first persists (between the
    /// persist and the sends that follow), next to an equivocating leader, and
    /// restart it from what it persisted: it never votes twice in a round, never
    /// votes in a round it timed out, and commits again after catching up.
    @Test func crashBetweenPersistAndSendNeverDoubleVotes() {
        var crashes = 0
        for k in 1...24 {
            var config = SimulationConfig.noFaults(seed: UInt64(k), validators: 4, rounds: 40)
            config.byzantine = [3: .equivocatingLeader]
            config.network.jitter = 30
            let sim = Simulation(config: config)
            sim.crashAfterPersistNumber = (process: 0, n: k, downMilliseconds: UInt64(20 * (k % 5)))
            let report = sim.run()
            crashes += report.count(.crashAfterPersist)
            #expect(report.safetyViolations.isEmpty, "crash after persist \(k): \(report.summary)")
            #expect(report.finished, "crash after persist \(k): \(report.summary)")
            #expect(sim.committedHeights[0] + 10 >= report.committedBlocks, "validator 0 did not catch up after crash \(k)")
        }
        #expect(crashes == 24)
    }

    /// A validator down for most of a run restarts with only its disk and
    /// catches up through sync to commit with everyone else.
    @Test func restartedValidatorCatchesUpThroughSync() {
        var config = SimulationConfig.noFaults(seed: 5, validators: 4, rounds: 80)
        config.consensus.syncBatch = 8  // several batches to cover the gap
        let sim = Simulation(config: config)
        sim.crashAfterPersistNumber = (process: 2, n: 3, downMilliseconds: 3_000)
        let report = sim.run()
        #expect(report.safetyViolations.isEmpty)
        #expect(report.finished)
        #expect(report.count(.restart) == 1)
        #expect(sim.committedHeights[2] + 5 >= report.committedBlocks, "\(sim.committedHeights) \(report.summary)")
    }
}
