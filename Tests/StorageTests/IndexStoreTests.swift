import BallastCrypto
import Codec
import Foundation
import GRDB
@testable import Storage
import TestSupport
import Testing

/// The index finds a transaction by id through two levels of 8-byte id prefixes: ids sharing a
/// prefix are told apart, merges keep every id findable, and an index of the first format is
/// converted in place.
@Suite struct IndexStoreTests {
    private func freshDirectory() -> String {
        NSTemporaryDirectory() + "ballast-index-store-\(UUID().uuidString)"
    }

    /// An id whose first 8 bytes are `prefix` and whose rest is `tail`.
    private func id(prefix: UInt8, tail: UInt8) -> Hash256 {
        Hash256(bytes: [UInt8](repeating: prefix, count: 8) + [UInt8](repeating: tail, count: 24))!
    }

    private func block(_ height: UInt64, _ ids: [Hash256]) -> IndexedBlock {
        IndexedBlock(height: height,
                     transactions: ids.enumerated().map { StoredTransaction(id: $1, height: height, index: $0, receipt: [UInt8(height), UInt8($0)]) },
                     history: [])
    }

    @Test func idsSharingAPrefixAreToldApart() throws {
        let index = try IndexStore(directory: freshDirectory())
        let a = id(prefix: 1, tail: 1), b = id(prefix: 1, tail: 2), neverCommitted = id(prefix: 1, tail: 3)
        try index.write([block(1, [a]), block(2, [id(prefix: 2, tail: 2), b])])
        #expect(try index.transactions(ids: [b, neverCommitted, a]) == [
            StoredTransaction(id: b, height: 2, index: 1, receipt: [2, 1]), nil,
            StoredTransaction(id: a, height: 1, index: 0, receipt: [1, 0]),
        ])
        #expect(try index.committedHeights(of: [neverCommitted, a, b]) == [nil, 1, 2])
        // By height: a block's rows in position order, and none for a height not written.
        #expect(try index.transactions(atHeight: 2) == block(2, [id(prefix: 2, tail: 2), b]).transactions)
        #expect(try index.transactions(atHeight: 1) == block(1, [a]).transactions)
        #expect(try index.transactions(atHeight: 3) == [])
    }

    /// A failed insert fails the whole batch and stores none of it; an empty receipt is stored as
    /// empty bytes (not as NULL, which the table refuses).
    @Test func aFailedInsertStoresNothingAndAnEmptyReceiptIsKept() throws {
        let index = try IndexStore(directory: freshDirectory())
        let a = id(prefix: 4, tail: 1), b = id(prefix: 4, tail: 2), c = id(prefix: 5, tail: 1)
        try index.write([IndexedBlock(height: 1, transactions: [StoredTransaction(id: a, height: 1, index: 0, receipt: [])], history: [])])
        #expect(try index.transactions(ids: [a]) == [StoredTransaction(id: a, height: 1, index: 0, receipt: [])])
        // Two receipts at one position of one block: the second insert fails.
        let clash = IndexedBlock(height: 2, transactions: [StoredTransaction(id: b, height: 2, index: 0, receipt: [1]),
                                                           StoredTransaction(id: c, height: 2, index: 0, receipt: [2])], history: [])
        #expect(throws: StorageError.self) { try index.write([clash]) }
        #expect(try index.indexedHeight() == 1)
        #expect(try index.committedHeights(of: [a, b, c]) == [1, nil, nil])
        // The next batch goes in as if the failed one had never been tried.
        try index.write([block(2, [b, c])])
        #expect(try index.committedHeights(of: [a, b, c]) == [1, 2, 2])
    }

    /// With merges after every few ids, every id written stays findable (in either level, before
    /// and after a reopen), and a colliding prefix is found in both levels at once.
    @Test func everyIDStaysFindableAcrossMergesAndReopen() throws {
        let dir = freshDirectory()
        var g = SplitMix64(seed: 7)
        var written: [(Hash256, UInt64, Int)] = []
        do {
            let index = try IndexStore(directory: dir, minimumMerge: 5)
            for height in 1...12 as ClosedRange<UInt64> {
                var ids = (0..<Int(g.next() % 4)).map { _ in Blake2b.hash256(g.bytes(8)) }
                // The same prefix at heights 2 and 11: one lands in the merged level, one in the recent.
                if height == 2 || height == 11 { ids.append(id(prefix: 9, tail: UInt8(height))) }
                for (i, id) in ids.enumerated() { written.append((id, height, i)) }
                try index.write([block(height, ids)])
                let found = try index.transactions(ids: written.map(\.0))
                #expect(found.map { $0?.height } == written.map(\.1))
                #expect(found.map { $0?.index } == written.map(\.2))
            }
        }
        let reopened = try IndexStore(directory: dir, minimumMerge: 5)
        #expect(try reopened.committedHeights(of: written.map(\.0)) == written.map(\.1))
        #expect(try reopened.committedHeights(of: [id(prefix: 9, tail: 2), id(prefix: 9, tail: 11), id(prefix: 9, tail: 5)]) == [2, 11, nil])
        let counts = try DatabaseQueue(path: reopened.databasePath).read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM tx_id") ?? -1, try Int.fetchOne(db, sql: "SELECT count(*) FROM tx_id_recent") ?? -1,
             try Row.fetchOne(db, sql: "SELECT recent_ids, merged_ids FROM indexed"))
        }
        // Both levels hold rows, their counts are recorded, and no id is in both.
        #expect(counts.0 > 0 && counts.1 > 0 && counts.0 + counts.1 == written.count)
        #expect(counts.2?[0] == counts.1 && counts.2?[1] == counts.0)
    }

    /// A file written in the first format (ids as keys of one table, history keyed by account and
    /// height without a rowid) opens, is converted, and answers the same.
    @Test func anIndexOfTheFirstFormatIsConverted() throws {
        let dir = freshDirectory()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let alice = Address(bytes: [UInt8](repeating: 7, count: 20))!
        let ids = (0..<3).map { Blake2b.hash256([UInt8($0)]) }
        do {
            let queue = try DatabaseQueue(path: dir + "/ballast-index.sqlite")
            try queue.write { db in
                try db.execute(sql: IndexStore.formatV1)
                try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY); INSERT INTO grdb_migrations VALUES ('v1')")
                for (i, id) in ids.enumerated() {
                    try db.execute(sql: "INSERT INTO tx VALUES (?, ?, ?, ?)", arguments: [Data(id.bytes), 1 + i / 2, i % 2, Data([UInt8(i)])])
                }
                var events = ByteWriter(capacity: 64)
                IndexStore.encode(HistoryEntry(address: alice, height: 2, sequence: 4, kind: 1, bytes: [5], txId: ids[2]), to: &events)
                try db.execute(sql: "INSERT INTO history VALUES (?, 2, ?)", arguments: [Data(alice.bytes), Data(events.bytes)])
                try db.execute(sql: "UPDATE indexed SET height = 2")
            }
            try queue.close()
        }
        let index = try IndexStore(directory: dir)
        #expect(try index.indexedHeight() == 2)
        #expect(try index.transactions(ids: ids) == [
            StoredTransaction(id: ids[0], height: 1, index: 0, receipt: [0]),
            StoredTransaction(id: ids[1], height: 1, index: 1, receipt: [1]),
            StoredTransaction(id: ids[2], height: 2, index: 0, receipt: [2]),
        ])
        #expect(try index.history(of: alice, limit: 5) == [HistoryEntry(address: alice, height: 2, sequence: 4, kind: 1, bytes: [5], txId: ids[2])])
        // The converted file takes the next blocks.
        try index.write([block(3, [id(prefix: 3, tail: 3)])])
        #expect(try index.committedHeights(of: [id(prefix: 3, tail: 3), ids[1]]) == [3, 1])
    }
}
