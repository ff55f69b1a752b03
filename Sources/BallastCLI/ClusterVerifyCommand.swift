import ArgumentParser
import Cluster
import Foundation

extension ClusterCommand {
    /// `ballast cluster verify`: replicas agree, and an independent replay agrees with them.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that every replica has the same blocks and state roots, and that a replay from genesis reaches the same root.",
            discussion: """
                Compares the hash and state root of every block up to the highest height all running \
                replicas have (GET /v1/blocks/H), then runs `ballast ledger replay --blocks-from NODE_HOME` \
                in a new process, which rebuilds the state from genesis out of that node's stored blocks. \
                Prints a one-line verdict with the first divergence; exits non-zero on failure.
                """)
        @OptionGroup var location: ClusterCommand.Location
        @Option(name: .customLong("replay-node"), help: "The node whose block log is replayed.") var replayNode = 0

        func run() async throws {
            try await reportingErrors(json: false) {
                let report = try await ClusterVerifier.verify(layout: location.layout, replayNode: replayNode,
                                                              executable: try BallastExecutable.locate())
                print(report.verdict)
                if !report.passed { throw ExitCode.failure }
            }
        }
    }
}
