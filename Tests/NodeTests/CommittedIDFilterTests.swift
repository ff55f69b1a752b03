import BallastCrypto
import Foundation
@testable import Node
import Storage
import Testing

/// The filter of committed ids never rules out an id it was given, however many levels it grew,
/// and rules out most others; the commit index built on it finds every stored id after a restart.
@Suite struct CommittedIDFilterTests {
    private func id(_ i: Int, salt: UInt8 = 0) -> Hash256 {
        Blake2b.hash256([salt] + withUnsafeBytes(of: UInt64(i).littleEndian) { Array($0) })
    }

    @Test func neverRulesOutAnInsertedIDAndRarelyLetsOthersThrough() {
        // A small first level, so that 5,000 ids fill six levels.
        var filter = CommittedIDFilter(firstCapacity: 100)
        for i in 0..<5_000 { filter.insert(id(i)) }
        #expect(filter.count == 5_000)
        #expect((0..<5_000).allSatisfy { filter.mayContain(id($0)) })
        let through = (0..<20_000).filter { filter.mayContain(id($0, salt: 1)) }.count
        // Under 1% per level, six levels: well under 5% in all.
        #expect(through < 1_000, "\(through) of 20,000 ids never inserted got through")
        // An empty filter rules out everything.
        #expect(!CommittedIDFilter().mayContain(id(0)))
    }

    /// A node that starts again builds the filter from the stored prefixes: the ids stored before
    /// are found, an id never committed is not.
    @Test func aRestartedIndexStillFindsEveryStoredID() throws {
        let directory = NSTemporaryDirectory() + "ballast-filter-\(UUID().uuidString)"
        let blocks = (1...3 as ClosedRange<UInt64>).map { h in
            IndexedBlock(height: h, transactions: (0..<100).map { StoredTransaction(id: id(Int(h) * 1_000 + $0), height: h, index: $0, receipt: [UInt8(h)]) },
                         history: [])
        }
        let first = try CommitIndex(store: IndexStore(directory: directory), delayMs: 600_000)
        for block in blocks { first.append(block) }
        try first.flush()
        let again = try CommitIndex(store: IndexStore(directory: directory), delayMs: 600_000)
        let ids = blocks.flatMap { $0.transactions.map(\.id) }
        #expect(try again.committedHeights(of: ids) == blocks.flatMap { b in b.transactions.map { _ in b.height } })
        #expect(try again.committedHeights(of: [id(7, salt: 9)]) == [nil])
    }
}
