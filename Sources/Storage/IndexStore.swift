import BallastCrypto
import Codec
import Foundation
import GRDB

/// What one committed block adds to the index: its transactions' receipts and the history
/// events it produced.
public struct IndexedBlock: Equatable, Sendable {
    public var height: UInt64
    public var transactions: [StoredTransaction]
    public var history: [HistoryEntry]

    public init(height: UInt64, transactions: [StoredTransaction], history: [HistoryEntry]) {
        self.height = height
        self.transactions = transactions
        self.history = history
    }
}

/// The node's index of committed blocks, in its own SQLite file beside the block store: where each
/// transaction was committed with its receipt, and each account's history.
///
/// Everything here is derived: executing the stored blocks again gives it back. So it lives apart
/// from the block store, with its own writer (writing it never holds up a block or a vote),
/// is written several blocks at a time (an account's history page and the index's inner pages
/// are written once per batch, not once per block), and is not synced on every commit
/// (`synchronous = NORMAL`: a crash can lose the last batches, never corrupt the file).
/// An account's events of one block share one row (an active account has several per block).
/// `indexedHeight` says how far it is complete; on start the node executes the blocks above it
/// again and indexes them (docs/architecture.md, "Storage").
///
/// Transactions are found by id through two levels of a table of 8-byte id prefixes (see
/// `write`): new ids go to a small recent level, which is merged into the large one in a single
/// sorted pass once it holds an eighth as many rows (and at least `minimumMerge`).
public final class IndexStore: Sendable {
    /// The SQLite file.
    public let databasePath: String
    private let pool: DatabasePool
    /// The fewest ids the recent level holds before it is merged.
    private let minimumMerge: Int

    /// Opens (creating if needed) the index in `directory`. `minimumMerge`: the recent level of
    /// the id lookup is merged once it holds this many ids and an eighth of the merged level's.
    public init(directory: String, minimumMerge: Int = 50_000) throws(StorageError) {
        let path = (directory as NSString).appendingPathComponent("ballast-index.sqlite")
        databasePath = path
        self.minimumMerge = max(1, minimumMerge)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            pool = try NodeStore.openPool(path: path, synchronous: .normal, checkpointPages: NodeStore.checkpointPages, readOnly: false)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in try db.execute(sql: IndexStore.formatV1) }
            // v2: receipts in commit order; ids found through two levels of 8-byte prefixes, with
            // their row counts in `indexed` (see `write`); history rows in a rowid table, stored
            // in the order written. An index of v1 is converted in place.
            //
            // Why history is no longer WITHOUT ROWID: such a table is a B-tree of keys, whose
            // cells hold at most about a quarter of a page (1,004 bytes of 4 KiB) before spilling
            // to an overflow page of their own. A busy account's row of one block is about 1 KiB,
            // so most rows took two pages, half empty. A rowid table holds up to a whole page in
            // the leaf, appends its rows in order, and finds them through its (address, height)
            // index. `ballast bench index` (150 accounts, 140-byte events): 14 → 8.5 µs of CPU per
            // transaction at 200,000 indexed, 19 → 12 µs at 400,000, and 40% less file.
            migrator.registerMigration("v2: receipts by position, ids by prefix in two levels, history by rowid") { db in
                let idLevel = """
                    prefix BLOB NOT NULL,
                    height INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (prefix, height, position)
                    """
                try db.execute(sql: """
                    CREATE TABLE receipt (
                        height INTEGER NOT NULL,
                        position INTEGER NOT NULL,
                        id BLOB NOT NULL,
                        receipt BLOB NOT NULL,
                        PRIMARY KEY (height, position)
                    ) WITHOUT ROWID;
                    CREATE TABLE tx_id (\(idLevel)) WITHOUT ROWID;
                    CREATE TABLE tx_id_recent (\(idLevel)) WITHOUT ROWID;
                    INSERT INTO receipt (height, position, id, receipt) SELECT height, position, id, receipt FROM tx ORDER BY height, position;
                    INSERT INTO tx_id (prefix, height, position) SELECT substr(id, 1, 8), height, position FROM tx ORDER BY 1, 2, 3;
                    DROP TABLE tx;
                    CREATE TABLE history_v2 (
                        address BLOB NOT NULL,
                        height INTEGER NOT NULL,
                        events BLOB NOT NULL,
                        PRIMARY KEY (address, height)
                    );
                    INSERT INTO history_v2 (address, height, events) SELECT address, height, events FROM history ORDER BY height, address;
                    DROP TABLE history;
                    ALTER TABLE history_v2 RENAME TO history;
                    ALTER TABLE indexed ADD COLUMN recent_ids INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE indexed ADD COLUMN merged_ids INTEGER NOT NULL DEFAULT 0;
                    UPDATE indexed SET merged_ids = (SELECT count(*) FROM tx_id);
                    """)
            }
            if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
                throw StorageError.unsupportedFormat(path: path, reason: "written by a newer ballast (index format steps unknown to this build)")
            }
            try migrator.migrate(pool)
        } catch let error as StorageError {
            throw error
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    /// The index's first format (tables created by the step "v1"; the step "v2" converts them).
    static let formatV1 = """
        CREATE TABLE tx (
            id BLOB PRIMARY KEY,
            height INTEGER NOT NULL,
            position INTEGER NOT NULL,
            receipt BLOB NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE history (
            address BLOB NOT NULL,
            height INTEGER NOT NULL,
            events BLOB NOT NULL,
            PRIMARY KEY (address, height)
        ) WITHOUT ROWID;
        CREATE TABLE indexed (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            height INTEGER NOT NULL
        );
        INSERT INTO indexed (id, height) VALUES (1, 0);
        """

    /// The height through which every block is indexed (0 for none).
    public func indexedHeight() throws(StorageError) -> UInt64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT height FROM indexed WHERE id = 1").map(UInt64.init) ?? 0 }
    }

    /// Indexes `blocks` in one transaction. They must be the blocks right above `indexedHeight`,
    /// in height order; an empty list does nothing.
    public func write(_ blocks: [IndexedBlock]) throws(StorageError) {
        guard let last = blocks.last else { return }
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT height, recent_ids, merged_ids FROM indexed WHERE id = 1") else {
                throw StorageError.database(path: databasePath, reason: "the index has no `indexed` row")
            }
            let indexed: Int64 = row[0]
            var recentIDs: Int = row[1], mergedIDs: Int = row[2]
            var expected = UInt64(indexed) + 1
            for block in blocks {
                guard block.height == expected else { throw StorageError.outOfOrder(expected: expected, got: block.height) }
                expected += 1
            }
            // Receipts are appended in commit order. The lookup by id is what inserts at random
            // places, and once a table has more pages than a batch has rows, each such insert
            // dirties a page of its own (written to the log and again at the checkpoint). So the
            // lookup rows are small (the id's first 8 bytes and the receipt's key, about 20 bytes
            // against about 90 for the whole id with the receipt), and they go to a recent level
            // small enough that a batch's inserts share its pages; `mergeRecentIDs` moves it into
            // the large level in one sorted pass. Two ids can share a prefix (2^32 tries make
            // that happen), so a lookup compares the whole id stored with the receipt.
            // A transaction commits once; a second receipt would be a bug upstream, so it fails the batch.
            var insertReceipt = try BoundStatement(db, sql: "INSERT INTO receipt (height, position, id, receipt) VALUES (?, ?, ?, ?)")
            var insertID = try BoundStatement(db, sql: "INSERT INTO tx_id_recent (prefix, height, position) VALUES (?, ?, ?)")
            var insertHistory = try BoundStatement(db, sql: "INSERT INTO history (address, height, events) VALUES (?, ?, ?)")
            var events = ByteWriter(capacity: 1024)
            for block in blocks {
                for tx in block.transactions {
                    insertReceipt.bind(Int64(tx.height)); insertReceipt.bind(Int64(tx.index))
                    insertReceipt.bind(tx.id); insertReceipt.bind(tx.receipt)
                    try insertReceipt.run()
                    insertID.bind(tx.id, first: 8); insertID.bind(Int64(tx.height)); insertID.bind(Int64(tx.index))
                    try insertID.run()
                    recentIDs += 1
                }
                // One row per account: its events in block order (which is sequence order).
                var byAccount: [Address: [Int]] = [:]
                for (i, entry) in block.history.enumerated() { byAccount[entry.address, default: []].append(i) }
                for address in byAccount.keys.sorted() {
                    events.removeAll()
                    for i in byAccount[address] ?? [] { IndexStore.encode(block.history[i], to: &events) }
                    insertHistory.bind(address); insertHistory.bind(Int64(block.height)); insertHistory.bind(events.bytes)
                    try insertHistory.run()
                }
            }
            if recentIDs >= max(minimumMerge, mergedIDs / 8) {
                try IndexStore.mergeRecentIDs(db)
                mergedIDs += recentIDs
                recentIDs = 0
            }
            try db.execute(sql: "UPDATE indexed SET height = ?, recent_ids = ?, merged_ids = ? WHERE id = 1",
                           arguments: [Int64(last.height), recentIDs, mergedIDs])
        }
    }

    /// Moves the recent level of the id lookup into the merged one. The rows go in key order, so
    /// each page of the merged level is written once per merge: with the recent level at an eighth
    /// of the merged one, a merge rewrites about eight pages' worth of rows per row it moves, once,
    /// instead of a page per row in every batch.
    static func mergeRecentIDs(_ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO tx_id (prefix, height, position) SELECT prefix, height, position FROM tx_id_recent ORDER BY prefix, height, position;
            DELETE FROM tx_id_recent;
            """)
    }

    /// The ids' lookup: candidate receipts by prefix from both levels, the whole id compared.
    private static let lookupSQL = """
        SELECT r.height, r.position, r.id, r.receipt FROM tx_id_recent t
        JOIN receipt r ON r.height = t.height AND r.position = t.position WHERE t.prefix = ?1
        UNION ALL
        SELECT r.height, r.position, r.id, r.receipt FROM tx_id t
        JOIN receipt r ON r.height = t.height AND r.position = t.position WHERE t.prefix = ?1
        """

    /// Where the transaction `id` was committed, with its receipt.
    public func transaction(id: Hash256) throws(StorageError) -> StoredTransaction? {
        try transactions(ids: [id])[0]
    }

    /// Where each of `ids` was committed, with its receipt (nil for one never committed), in the
    /// order of `ids`: one read however many there are.
    public func transactions(ids: [Hash256]) throws(StorageError) -> [StoredTransaction?] {
        if ids.isEmpty { return [] }
        return try read { db in
            var lookup = try BoundStatement(db, sql: IndexStore.lookupSQL)
            return try ids.map { id in
                lookup.bind(id, first: 8)
                while try lookup.step() {
                    guard lookup.blob(2, equals: id) else { continue }
                    let found = StoredTransaction(id: id, height: UInt64(lookup.int64(0)), index: Int(lookup.int64(1)), receipt: lookup.bytes(3))
                    lookup.reset()
                    return found
                }
                return nil
            }
        }
    }

    /// Calls `body` with the first 8 bytes (loaded as an integer) of every stored id, in no
    /// particular order: what a filter of the committed ids is built from when a node starts.
    public func forEachIDPrefix(_ body: (UInt64) -> Void) throws(StorageError) {
        try read { db in
            var rows = try BoundStatement(db, sql: "SELECT prefix FROM tx_id UNION ALL SELECT prefix FROM tx_id_recent")
            while try rows.step() { body(rows.prefix(0)) }
        }
    }

    /// The transactions the block at `height` executed, in block order, with their receipts:
    /// one range of the receipts' table (empty for a height not indexed, or whose block executed none).
    public func transactions(atHeight height: UInt64) throws(StorageError) -> [StoredTransaction] {
        let rows = try read { db in
            var rows = try BoundStatement(db, sql: "SELECT position, id, receipt FROM receipt WHERE height = ? ORDER BY position")
            rows.bind(Int64(height))
            var out: [(index: Int, id: [UInt8], receipt: [UInt8])] = []
            while try rows.step() { out.append((Int(rows.int64(0)), rows.bytes(1), rows.bytes(2))) }
            return out
        }
        return try rows.map { row throws(StorageError) in
            guard let id = Hash256(bytes: row.id) else {
                throw .database(path: databasePath, reason: "the receipt at height \(height), position \(row.index) has an id of \(row.id.count) bytes")
            }
            return StoredTransaction(id: id, height: height, index: row.index, receipt: row.receipt)
        }
    }

    /// The height at which each of `ids` was committed (nil for one never committed), in the order
    /// of `ids`, in one read.
    public func committedHeights(of ids: [Hash256]) throws(StorageError) -> [UInt64?] {
        try transactions(ids: ids).map { $0?.height }
    }

    /// An account's history, newest first: entries strictly before (`height`, `sequence`) when a
    /// cursor is given, at most `limit`.
    public func history(of address: Address, before cursor: (height: UInt64, sequence: Int)? = nil, limit: Int) throws(StorageError) -> [HistoryEntry] {
        guard limit > 0 else { return [] }
        return try read { db in
            var out: [HistoryEntry] = []
            // Rows newest first, a few at a time: each holds at least one event.
            var below = cursor.map { Int64(clamping: $0.height) + 1 } ?? Int64.max
            let statement = try db.cachedStatement(sql: "SELECT height, events FROM history WHERE address = ? AND height < ? ORDER BY height DESC LIMIT ?")
            while out.count < limit {
                let wanted = limit - out.count
                let rows = try Row.fetchAll(statement, arguments: [Data(address.bytes), below, wanted])
                for row in rows {
                    let height: Int64 = row[0], events: Data = row[1]
                    let entries = try IndexStore.decode(events, address: address, height: UInt64(height))
                    for entry in entries.reversed() where out.count < limit {
                        if let cursor, entry.height == cursor.height, entry.sequence >= cursor.sequence { continue }
                        out.append(entry)
                    }
                    below = height
                }
                if rows.count < wanted { break }
            }
            return out
        }
    }

    /// An event in its row: sequence, kind, the transaction id if any, the event's bytes.
    static func encode(_ entry: HistoryEntry, to writer: inout ByteWriter) {
        writer.writeLength(entry.sequence)
        writer.write(entry.kind)
        writer.write(entry.txId != nil)
        if let txId = entry.txId { writer.writeRaw(txId.bytes) }
        writer.writeBytes(entry.bytes)
    }

    static func decode(_ events: Data, address: Address, height: UInt64) throws -> [HistoryEntry] {
        try events.withUnsafeBytes { raw throws(CodecError) -> [HistoryEntry] in
            var reader = ByteReader(raw)
            var entries: [HistoryEntry] = []
            while reader.remaining > 0 {
                let sequence = try reader.readLength(field: "history.sequence", maximum: Int(Int32.max))
                let kind = try reader.readUInt8()
                let txId = try reader.readBool(field: "history.txId") ? Hash256(bytes: Array(try reader.readRaw(count: 32))) : nil
                let bytes = try reader.readBytes(field: "history.bytes", maximum: 1 << 20)
                entries.append(HistoryEntry(address: address, height: height, sequence: sequence, kind: kind, bytes: bytes, txId: txId))
            }
            return entries
        }
    }

    private func write<T>(_ body: (Database) throws -> T) throws(StorageError) -> T {
        try NodeStore.write(pool, path: databasePath, body)
    }

    private func read<T>(_ body: (Database) throws -> T) throws(StorageError) -> T {
        try NodeStore.read(pool, path: databasePath, body)
    }
}
