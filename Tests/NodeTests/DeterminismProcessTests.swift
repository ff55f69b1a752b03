import Cluster
import Foundation
import Testing

/// The same transaction stream applied in two separate processes, one with
/// SWIFT_DETERMINISTIC_HASHING=1 and one without, gives the same root at every
/// block. (CI size here; the 100,000 transactions:
/// `ballast ledger replay --accounts 10000 --blocks 100 --transactions 1000`.)
@Suite struct DeterminismProcessTests {
    private func replay(deterministicHashing: Bool) throws -> String {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try BallastExecutable.locate(fallback: repo.appendingPathComponent(".build/debug/ballast").path))
        p.arguments = ["ledger", "replay", "--genesis", repo.appendingPathComponent("genesis/bench.json").path,
                       "--accounts", "300", "--blocks", "8", "--transactions", "400", "--seed", "7"]
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_DETERMINISTIC_HASHING"] = deterministicHashing ? "1" : nil
        p.environment = environment
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    @Test func rootsAgreeAcrossProcessesAndHashSeeds() throws {
        let a = try replay(deterministicHashing: true)
        let b = try replay(deterministicHashing: false)
        let lines = a.split(separator: "\n")
        #expect(lines.count >= 9, "\(a)")
        #expect(Set(lines.map { $0.split(separator: " ").last ?? "" }).count == lines.count, "roots must change from block to block")
        #expect(a == b)
    }
}
