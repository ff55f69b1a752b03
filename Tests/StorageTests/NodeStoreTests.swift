import BallastCrypto
import Foundation
import GRDB
@testable import Storage
import TestSupport
import Testing

@Suite struct NodeStoreTests {
    private func freshDirectory() -> String {
        let dir = NSTemporaryDirectory() + "ballast-store-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    private func block(_ height: UInt64, _ g: inout SplitMix64) -> StoredBlock {
        StoredBlock(height: height, hash: Blake2b.hash256(g.bytes(8)), stateRoot: Blake2b.hash256(g.bytes(8)),
                    bytes: g.bytes(Int(g.next() % 200)))
    }

    @Test func blocksPersistAcrossReopen() throws {
        let dir = freshDirectory()
        var g = SplitMix64(seed: 1)
        var written: [StoredBlock] = []
        do {
            let store = try NodeStore(directory: dir)
            #expect(try store.latestHeight() == nil)
            for h in 1...5 as ClosedRange<UInt64> {
                let b = block(h, &g)
                written.append(b)
                try store.commit(block: b)
            }
        }
        let store = try NodeStore(directory: dir)
        #expect(try store.latestHeight() == 5)
        #expect(try store.block(at: 3) == written[2])
        #expect(try store.block(hash: written[4].hash) == written[4])
        #expect(try store.blocks(from: 2, limit: 2) == Array(written[1...2]))
        #expect(try store.block(at: 6) == nil)
    }

    @Test func receiptsAndHistoryPersistAcrossReopenOfTheIndex() throws {
        let dir = freshDirectory()
        var g = SplitMix64(seed: 1)
        let alice = Address(bytes: g.bytes(20))!
        func indexed(_ h: UInt64) -> IndexedBlock {
            IndexedBlock(height: h,
                         transactions: (0..<3).map { StoredTransaction(id: Blake2b.hash256([UInt8(h), UInt8($0)]), height: h, index: $0, receipt: [UInt8(h), 9]) },
                         history: [HistoryEntry(address: alice, height: h, sequence: 0, kind: 1, bytes: [UInt8(h)],
                                                txId: h % 2 == 0 ? Blake2b.hash256([UInt8(h)]) : nil)])
        }
        do {
            let index = try IndexStore(directory: dir)
            #expect(try index.indexedHeight() == 0)
            try index.write([indexed(1), indexed(2)])
            try index.write([])
            try index.write([indexed(3), indexed(4), indexed(5)])
            // Only the next heights, in order: a gap or a repeat fails the whole batch.
            #expect(throws: StorageError.self) { try index.write([indexed(7)]) }
            #expect(throws: StorageError.self) { try index.write([indexed(6), indexed(6)]) }
        }
        let index = try IndexStore(directory: dir)
        #expect(try index.indexedHeight() == 5)
        let tx = try #require(try index.transaction(id: Blake2b.hash256([4, 2])))
        #expect(tx.height == 4 && tx.index == 2 && tx.receipt == [4, 9])
        #expect(try index.transaction(id: Blake2b.hash256([6, 0])) == nil)
        let page1 = try index.history(of: alice, limit: 2)
        #expect(page1.map(\.height) == [5, 4])
        #expect(page1.map(\.bytes) == [[5], [4]] && page1.map(\.txId) == [nil, Blake2b.hash256([4])])
        let page2 = try index.history(of: alice, before: (page1[1].height, page1[1].sequence), limit: 10)
        #expect(page2.map(\.height) == [3, 2, 1])
    }

    @Test func aReadOnlyStoreReadsWhatTheWriterCommitsAndWritesNothing() throws {
        let dir = freshDirectory()
        #expect(throws: StorageError.self) { try NodeStore(directory: dir, readOnly: true) }
        #expect(!FileManager.default.fileExists(atPath: dir + "/ballast.sqlite"))
        var g = SplitMix64(seed: 3)
        let writer = try NodeStore(directory: dir)
        let first = block(1, &g)
        try writer.commit(block: first)
        // Opened while the writer is open, as `ledger replay --blocks-from` reads a running node.
        let reader = try NodeStore(directory: dir, readOnly: true)
        #expect(try reader.blocks(from: 1, limit: 10) == [first])
        let second = block(2, &g)
        try writer.commit(block: second)
        #expect(try reader.latestHeight() == 2 && reader.block(at: 2) == second)
        #expect(throws: StorageError.self) { try reader.commit(block: block(3, &g)) }
        #expect(try writer.latestHeight() == 2)
    }

    @Test func heightsMustFollowOn() throws {
        let store = try NodeStore(directory: freshDirectory())
        var g = SplitMix64(seed: 2)
        try store.commit(block: block(10, &g))
        #expect(throws: StorageError.self) { try store.commit(block: block(12, &g)) }
        #expect(throws: StorageError.self) { try store.commit(block: block(10, &g)) }
        try store.commit(block: block(11, &g))
        #expect(try store.latestHeight() == 11)
    }

    @Test func theWriterSyncsEveryCommitButABlocks() throws {
        // GRDB sets NORMAL when it opens a pool in WAL mode, after the connection's own setup: the
        // store sets FULL once the pool is open (2 is FULL), and a block's commit, which runs at
        // NORMAL, puts it back, whether it succeeds or not.
        let dir = freshDirectory()
        var g = SplitMix64(seed: 5)
        let store = try NodeStore(directory: dir)
        #expect(try store.writerSynchronous() == 2)
        try store.commit(block: block(1, &g))
        #expect(try store.writerSynchronous() == 2)
        #expect(throws: StorageError.self) { try store.commit(block: block(3, &g)) }
        #expect(try store.writerSynchronous() == 2)
        try store.saveSafetyState([1, 2, 3])
        #expect(try store.writerSynchronous() == 2)
        try store.syncCommittedBlocks()
        #expect(try NodeStore(directory: dir).latestHeight() == 1)
    }

    @Test func safetyStateRoundTrips() throws {
        let dir = freshDirectory()
        do {
            let store = try NodeStore(directory: dir)
            #expect(try store.loadSafetyState() == nil)
            try store.saveSafetyState([1, 2, 3])
            try store.saveSafetyState([4, 5])
        }
        #expect(try NodeStore(directory: dir).loadSafetyState() == [4, 5])
    }

    /// A voted block is stored with the safety state, survives reopening, and is forgotten once
    /// a later persist says its round is committed.
    @Test func votedBlocksLastUntilTheirRoundIsCommitted() throws {
        let dir = freshDirectory()
        let blocks = (1...3).map { VotedBlock(id: Blake2b.hash256([UInt8($0)]), round: UInt64($0), bytes: [UInt8($0), 9]) }
        do {
            let store = try NodeStore(directory: dir)
            #expect(try store.votedBlocks().isEmpty)
            for b in blocks.reversed() { try store.saveSafetyState([b.bytes[0]], votedBlock: b) }
            try store.saveSafetyState([7], votedBlock: blocks[2])  // a repeated vote changes nothing
        }
        let reopened = try NodeStore(directory: dir)
        #expect(try reopened.votedBlocks() == blocks.map(\.bytes))
        try reopened.saveSafetyState([8], votedBlock: VotedBlock(id: Blake2b.hash256([4]), round: 4, bytes: [4, 9]), committedRound: 2)
        #expect(try reopened.votedBlocks() == [[3, 9], [4, 9]])
        #expect(try reopened.loadSafetyState() == [8])
    }

    @Test func snapshotsKeepTheNewestIntactOnes() throws {
        let dir = freshDirectory()
        let store = try NodeStore(directory: dir, snapshotsKept: 2)
        #expect(try store.latestSnapshot() == nil)
        let snaps = (1...3).map { StoredSnapshot(height: UInt64($0 * 1000), stateRoot: Blake2b.hash256([UInt8($0)]), bytes: [UInt8](repeating: UInt8($0), count: 10_000)) }
        for s in snaps { try store.saveSnapshot(s) }
        #expect(try store.latestSnapshot() == snaps[2])
        let files = try FileManager.default.contentsOfDirectory(atPath: store.snapshotDirectory).sorted()
        #expect(files == ["00000000000000002000.snapshot", "00000000000000003000.snapshot"])

        // A crash that tore the newest file (or a disk that corrupted it): fall back to the previous one.
        let newest = (store.snapshotDirectory as NSString).appendingPathComponent(files[1])
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: newest))
        #expect(try NodeStore(directory: dir).latestSnapshot() == snaps[1])
    }

    /// A crash after the snapshot file was renamed into place but before its row
    /// was written leaves an orphan file (and maybe a .tmp): both are ignored.
    @Test func crashBetweenSnapshotFileAndRowIsHarmless() throws {
        let dir = freshDirectory()
        let store = try NodeStore(directory: dir)
        let kept = StoredSnapshot(height: 1000, stateRoot: Blake2b.hash256([1]), bytes: [1, 2, 3])
        try store.saveSnapshot(kept)
        try Data([9, 9]).write(to: URL(fileURLWithPath: (store.snapshotDirectory as NSString).appendingPathComponent("00000000000000002000.snapshot")))
        try Data([9]).write(to: URL(fileURLWithPath: (store.snapshotDirectory as NSString).appendingPathComponent("00000000000000003000.snapshot.tmp")))
        #expect(try NodeStore(directory: dir).latestSnapshot() == kept)
    }

    @Test func transactionsAndCommittedHeightsAnswerInTheOrderAsked() throws {
        let index = try IndexStore(directory: freshDirectory())
        let ids = (0..<4).map { Blake2b.hash256([UInt8($0)]) }
        try index.write([IndexedBlock(height: 1, transactions: [StoredTransaction(id: ids[2], height: 1, index: 0, receipt: [7])], history: []),
                         IndexedBlock(height: 2, transactions: [StoredTransaction(id: ids[0], height: 2, index: 0, receipt: [8]),
                                                                StoredTransaction(id: ids[3], height: 2, index: 1, receipt: [9])], history: [])])
        #expect(try index.committedHeights(of: ids + [ids[2]]) == [2, nil, 1, 2, 1])
        #expect(try index.committedHeights(of: []) == [])
        let rows = try index.transactions(ids: [ids[3], ids[1], ids[0]])
        #expect(rows == [StoredTransaction(id: ids[3], height: 2, index: 1, receipt: [9]), nil,
                         StoredTransaction(id: ids[0], height: 2, index: 0, receipt: [8])])
    }

    /// A store of an older format opens and is brought to format 5: its blocks stay, and its
    /// receipts and history tables (JSON receipts before format 4) are dropped, since the node
    /// indexes its blocks again into `IndexStore`. Read-only, a store not yet brought to format 5
    /// is refused; a store of a newer format is refused either way.
    @Test func anOlderStoreIsBroughtToThisFormatAndANewerOneIsRefused() throws {
        func rewind(_ dir: String, _ sql: String) throws {
            let queue = try DatabaseQueue(path: dir + "/ballast.sqlite")
            try queue.write { try $0.execute(sql: sql) }
            try queue.close()
        }
        func reason(_ body: () throws -> Void) -> String? {
            do { try body() } catch StorageError.unsupportedFormat(_, let reason) { return reason } catch { return "other: \(error)" }
            return nil
        }
        func tables(_ dir: String) throws -> [String] {
            let queue = try DatabaseQueue(path: dir + "/ballast.sqlite")
            defer { try? queue.close() }
            return try queue.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
        }
        // The receipts and history tables as formats 1 to 4 had them, with a row each.
        let legacyTables = """
            CREATE TABLE tx (id BLOB PRIMARY KEY, height INTEGER NOT NULL, position INTEGER NOT NULL, receipt BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE history (address BLOB NOT NULL, height INTEGER NOT NULL, sequence INTEGER NOT NULL, kind INTEGER NOT NULL,
                                  bytes BLOB NOT NULL, tx_id BLOB, PRIMARY KEY (address, height, sequence)) WITHOUT ROWID;
            INSERT INTO tx VALUES (x'01', 1, 0, '{"ok":true}');
            INSERT INTO history VALUES (x'02', 1, 0, 1, x'03', NULL);
            """
        let toFormat4 = legacyTables + "DELETE FROM grdb_migrations WHERE identifier = 'index in its own file'"
        let toFormat3 = toFormat4 + "; DELETE FROM grdb_migrations WHERE identifier = 'binary receipts'"
        var g = SplitMix64(seed: 5)
        for (rewindSQL, format) in [(toFormat4, 4), (toFormat3, 3)] {
            let dir = freshDirectory()
            let stored = block(1, &g)
            do { try NodeStore(directory: dir).commit(block: stored) }
            try rewind(dir, rewindSQL)
            #expect(try tables(dir).contains("tx"), "format \(format)")
            #expect(reason { _ = try NodeStore(directory: dir, readOnly: true) }
                    == "not in store format 5 yet (open it with `ballast node start` of this build first)")
            let upgraded = try NodeStore(directory: dir)
            #expect(try upgraded.block(at: 1) == stored)
            #expect(try tables(dir) == ["block", "grdb_migrations", "safety", "snapshot", "voted_block"], "format \(format)")
            #expect(try NodeStore(directory: dir, readOnly: true).latestHeight() == 1)
        }

        let empty = freshDirectory()
        _ = try NodeStore(directory: empty)
        try rewind(empty, "INSERT INTO grdb_migrations (identifier) VALUES ('v6: from the future')")
        let newer = "written by a newer ballast (store format steps [\"v6: from the future\"] are unknown to this build, which reads format 5)"
        #expect(reason { _ = try NodeStore(directory: empty) } == newer)
        #expect(reason { _ = try NodeStore(directory: empty, readOnly: true) } == newer)
    }
}
