import ArgumentParser
import BallastCrypto
import Foundation
import Simulator
import Storage
import Testing
@testable import BallastCLI

/// `ballast bench index` at a toy size writes what it reports: every block, in batches, each
/// transaction findable by id at its height and position, two history events per transaction.
@Suite struct IndexBenchTests {
    @Test func writesEveryBlockInBatches() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("index-bench-test-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var command = try Ballast.parseAsRoot([
            "bench", "index", "--blocks", "7", "--transactions", "30", "--accounts", "5", "--batch-blocks", "3",
            "--window", "4", "--directory", dir,
        ])
        try command.run()
        let store = try IndexStore(directory: dir)
        #expect(try store.indexedHeight() == 7)
        // The same seed gives the same blocks: look up block 5's transactions by id.
        var rng = SplitMix64(seed: 1)
        let addresses = (0..<5).map { _ in Address(filling: { IndexBench.fill($0, &rng) }) }
        var block5: IndexedBlock? = nil
        for height in UInt64(1)...5 {
            block5 = IndexBench.block(height: height, transactions: 30, addresses: addresses, eventBytes: 150, receiptBytes: 40, rng: &rng)
        }
        let txs = try #require(block5).transactions
        let stored = try store.transactions(ids: txs.map(\.id))
        #expect(stored == txs.map { Optional($0) })
        #expect(try #require(block5).history.count == 60)
        #expect(Set(try #require(block5).history.map(\.address)).isSubset(of: Set(addresses)))
    }
}
