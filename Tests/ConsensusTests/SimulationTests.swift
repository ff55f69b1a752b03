import Consensus
import Simulator
import Testing

@Suite struct SimulationTests {
    /// With no faults every round commits a block: at most 2n + 2 messages per
    /// committed block and not a single timeout.
    @Test(arguments: [4, 7])
    func noFaultRunMeetsTheMessageBound(validators: Int) {
        let report = Simulation(config: .noFaults(seed: 7, validators: validators, rounds: 60)).run()
        print(report.summary)
        #expect(report.finished)
        #expect(report.safetyViolations.isEmpty)
        #expect(report.timeouts == 0)
        #expect(report.committedBlocks >= 55)
        #expect(report.minCommittedBlocks >= 55)
        #expect(report.messages <= (2 * validators + 2) * report.committedBlocks)
    }
}
