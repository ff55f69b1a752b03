import ArgumentParser
import Foundation
import Testing
@testable import BallastCLI

/// `ballast bench ledger` at toy sizes (the real sizes are for release builds): every part sets
/// up its state, checks its own results (equal roots across the two runs, incremental root equal
/// to a full recomputation, the margin account's positions) and finishes; a genesis of another
/// shape is refused.
@Suite struct LedgerBenchTests {
    static let genesisDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("genesis")

    func bench(genesis file: String) throws -> any ParsableCommand {
        try Ballast.parseAsRoot([
            "bench", "ledger", "--genesis", Self.genesisDirectory.appendingPathComponent(file).path,
            "--accounts", "40", "--blocks", "2", "--warmup-blocks", "1", "--transactions", "200",
            "--margin-seconds", "0.03", "--root-accounts", "1000", "--root-touched", "20", "--root-blocks", "2",
        ])
    }

    @Test func everyPartRunsAndPassesItsOwnChecks() throws {
        var command = try bench(genesis: "bench.json")
        try command.run()
    }

    @Test func refusesAGenesisThatIsNotTheBenchmarkShape() throws {
        // The testnet genesis has 3 perps and 3 spot markets.
        var command = try bench(genesis: "testnet.json")
        #expect(throws: (any Error).self) { try command.run() }
    }
}
