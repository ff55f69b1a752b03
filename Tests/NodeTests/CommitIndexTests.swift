import BallastCrypto
import Foundation
import Node
import Storage
import Testing

/// The receipts and history of executed blocks read the same before and after the writer stores
/// them, and the store is written a batch at a time.
@Suite struct CommitIndexTests {
    private let alice = Address(bytes: [UInt8](repeating: 7, count: 20))!
    private let bob = Address(bytes: [UInt8](repeating: 8, count: 20))!

    private func directory() -> String { NSTemporaryDirectory() + "ballast-index-\(UUID().uuidString)" }

    /// Block `h`: two transactions, and three events (alice, bob, alice) in that order.
    private func block(_ h: UInt64) -> IndexedBlock {
        IndexedBlock(height: h,
                     transactions: (0..<2).map { StoredTransaction(id: Blake2b.hash256([UInt8(h), UInt8($0)]), height: h, index: $0, receipt: [UInt8(h)]) },
                     history: [alice, bob, alice].enumerated().map { i, who in
                         HistoryEntry(address: who, height: h, sequence: i, kind: 1, bytes: [UInt8(h), UInt8(i)])
                     })
    }

    @Test func pendingBlocksReadLikeStoredOnesAndAreStoredInOneBatch() throws {
        // A delay far beyond the test: nothing is stored until `flush`.
        let index = try CommitIndex(store: IndexStore(directory: directory()), delayMs: 600_000)
        for h in 1...3 as ClosedRange<UInt64> { index.append(block(h)) }
        #expect(index.indexedHeight == 0 && index.height == 3)
        #expect(try index.store.transaction(id: Blake2b.hash256([2, 1])) == nil)

        func reads() throws -> ([UInt64?], [StoredTransaction?], [[UInt8]], [[UInt8]], [[StoredTransaction]]) {
            let ids = [Blake2b.hash256([2, 1]), Blake2b.hash256([9, 9]), Blake2b.hash256([1, 0])]
            let newest = try index.history(of: alice, limit: 3).map(\.bytes)
            let older = try index.history(of: alice, before: (2, 2), limit: 10).map(\.bytes)
            let byHeight = try (0...4 as ClosedRange<UInt64>).map { try index.transactions(atHeight: $0) }
            return (try index.committedHeights(of: ids), try index.transactions(ids: ids), newest, older, byHeight)
        }
        let pending = try reads()
        #expect(pending.0 == [2, nil, 1])
        #expect(pending.1[0] == StoredTransaction(id: Blake2b.hash256([2, 1]), height: 2, index: 1, receipt: [2]))
        #expect(pending.2 == [[3, 2], [3, 0], [2, 2]])
        #expect(pending.3 == [[2, 0], [1, 2], [1, 0]])
        // A block's transactions in block order; none below the first block or above the last.
        #expect(pending.4 == [[], block(1).transactions, block(2).transactions, block(3).transactions, []])

        try index.flush()
        #expect(index.indexedHeight == 3 && index.height == 3)
        #expect(try index.store.indexedHeight() == 3)
        let stored = try reads()
        #expect(stored.0 == pending.0 && stored.1 == pending.1 && stored.2 == pending.2 && stored.3 == pending.3 && stored.4 == pending.4)
    }

    /// A page of history can start in the pending blocks and go on in the store.
    @Test func historyPagesRunFromPendingBlocksIntoTheStore() throws {
        let index = try CommitIndex(store: IndexStore(directory: directory()), delayMs: 600_000)
        index.append(block(1))
        index.append(block(2))
        try index.flush()
        index.append(block(3))
        #expect(try index.history(of: alice, limit: 3).map(\.bytes) == [[3, 2], [3, 0], [2, 2]])
        #expect(try index.history(of: bob, limit: 10).map(\.bytes) == [[3, 1], [2, 1], [1, 1]])
        // A cursor inside the pending block, and one below it.
        #expect(try index.history(of: alice, before: (3, 2), limit: 2).map(\.bytes) == [[3, 0], [2, 2]])
        #expect(try index.history(of: alice, before: (2, 0), limit: 5).map(\.bytes) == [[1, 2], [1, 0]])
    }

    /// The writer stores within its delay, without a flush.
    @Test func theWriterStoresWithinItsDelay() async throws {
        let index = try CommitIndex(store: IndexStore(directory: directory()), delayMs: 20)
        index.append(block(1))
        index.append(block(2))
        for _ in 0..<500 where index.indexedHeight < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(index.indexedHeight == 2)
        #expect(try index.store.committedHeights(of: [Blake2b.hash256([2, 0])]) == [2])
    }

    /// A batch the store refuses (here a gap in heights) stops the writer: the failure is kept
    /// for the node to halt on, and reads still answer from what is pending.
    @Test func aRefusedBatchIsReportedAndNothingIsLost() throws {
        let index = try CommitIndex(store: IndexStore(directory: directory()), delayMs: 600_000)
        index.append(block(2))
        #expect(throws: StorageError.self) { try index.flush() }
        #expect(index.failure != nil && index.indexedHeight == 0)
        #expect(try index.committedHeights(of: [Blake2b.hash256([2, 0])]) == [2])
    }

    /// Past `maxPendingBlocks`, `append` stores what is pending before it returns.
    @Test func tooManyPendingBlocksAreStoredAtOnce() throws {
        let index = try CommitIndex(store: IndexStore(directory: directory()), delayMs: 600_000, maxPendingBlocks: 3)
        index.append(block(1))
        index.append(block(2))
        #expect(index.indexedHeight == 0)
        index.append(block(3))
        #expect(index.indexedHeight == 3)
    }
}
