import Cluster
import Foundation
import Testing
import TestSupport

/// The same transaction stream applied in two separate processes, one with
/// SWIFT_DETERMINISTIC_HASHING=1 and one without, gives the same root at every
/// block. (CI size here; the 100,000 transactions:
/// `ballast ledger replay --accounts 10000 --blocks 100 --transactions 1000`.)
@Suite struct DeterminismProcessTests {
    private func replay(deterministicHashing: Bool) async throws -> String {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let binary = try BallastExecutable.locate(fallback: repo.appendingPathComponent(".build/debug/ballast").path)
        let run = try await ChildProcess.run(binary, ["ledger", "replay", "--genesis", repo.appendingPathComponent("genesis/bench.json").path,
                                                      "--accounts", "300", "--blocks", "8", "--transactions", "400", "--seed", "7"],
                                             environment: ["SWIFT_DETERMINISTIC_HASHING": deterministicHashing ? "1" : nil])
        #expect(run.status == 0, "\(run.errors)")
        return run.output
    }

    @Test func rootsAgreeAcrossProcessesAndHashSeeds() async throws {
        let a = try await replay(deterministicHashing: true)
        let b = try await replay(deterministicHashing: false)
        let lines = a.split(separator: "\n")
        #expect(lines.count >= 9, "\(a)")
        #expect(Set(lines.map { $0.split(separator: " ").last ?? "" }).count == lines.count, "roots must change from block to block")
        #expect(a == b)
    }
}
