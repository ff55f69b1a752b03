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
public final class IndexStore: Sendable {
    /// The SQLite file.
    public let databasePath: String
    private let pool: DatabasePool

    /// Opens (creating if needed) the index in `directory`.
    public init(directory: String) throws(StorageError) {
        let path = (directory as NSString).appendingPathComponent("ballast-index.sqlite")
        databasePath = path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            pool = try NodeStore.openPool(path: path, synchronous: .normal, checkpointPages: NodeStore.checkpointPages, readOnly: false)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.execute(sql: """
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

    /// The height through which every block is indexed (0 for none).
    public func indexedHeight() throws(StorageError) -> UInt64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT height FROM indexed WHERE id = 1").map(UInt64.init) ?? 0 }
    }

    /// Indexes `blocks` in one transaction. They must be the blocks right above `indexedHeight`,
    /// in height order; an empty list does nothing.
    public func write(_ blocks: [IndexedBlock]) throws(StorageError) {
        guard let last = blocks.last else { return }
        try write { db in
            let indexed = try Int64.fetchOne(db, sql: "SELECT height FROM indexed WHERE id = 1").map(UInt64.init) ?? 0
            var expected = indexed + 1
            for block in blocks {
                guard block.height == expected else { throw StorageError.outOfOrder(expected: expected, got: block.height) }
                expected += 1
            }
            // A transaction commits once; a second row would be a bug upstream, so it fails the batch.
            let insertTx = try db.cachedStatement(sql: "INSERT INTO tx (id, height, position, receipt) VALUES (?, ?, ?, ?)")
            let insertHistory = try db.cachedStatement(sql: "INSERT INTO history (address, height, events) VALUES (?, ?, ?)")
            var events = ByteWriter(capacity: 1024)
            for block in blocks {
                for tx in block.transactions {
                    try insertTx.execute(arguments: [Data(tx.id.bytes), Int64(tx.height), tx.index, Data(tx.receipt)])
                }
                // One row per account: its events in block order (which is sequence order).
                var byAccount: [Address: [Int]] = [:]
                for (i, entry) in block.history.enumerated() { byAccount[entry.address, default: []].append(i) }
                for address in byAccount.keys.sorted() {
                    events.removeAll()
                    for i in byAccount[address] ?? [] { IndexStore.encode(block.history[i], to: &events) }
                    try insertHistory.execute(arguments: [Data(address.bytes), Int64(block.height), Data(events.bytes)])
                }
            }
            try db.execute(sql: "UPDATE indexed SET height = ? WHERE id = 1", arguments: [Int64(last.height)])
        }
    }

    /// Where the transaction `id` was committed, with its receipt.
    public func transaction(id: Hash256) throws(StorageError) -> StoredTransaction? {
        try transactions(ids: [id])[0]
    }

    /// Where each of `ids` was committed, with its receipt (nil for one never committed), in the
    /// order of `ids`: one read however many there are.
    public func transactions(ids: [Hash256]) throws(StorageError) -> [StoredTransaction?] {
        if ids.isEmpty { return [] }
        return try read { db in
            let statement = try db.cachedStatement(sql: "SELECT height, position, receipt FROM tx WHERE id = ?")
            return try ids.map { id in
                guard let row = try Row.fetchOne(statement, arguments: [Data(id.bytes)]) else { return nil }
                let height: Int64 = row[0], receipt: Data = row[2]
                return StoredTransaction(id: id, height: UInt64(height), index: row[1], receipt: [UInt8](receipt))
            }
        }
    }

    /// The height at which each of `ids` was committed (nil for one never committed), in the order
    /// of `ids`, in one read.
    public func committedHeights(of ids: [Hash256]) throws(StorageError) -> [UInt64?] {
        if ids.isEmpty { return [] }
        return try read { db in
            let statement = try db.cachedStatement(sql: "SELECT height FROM tx WHERE id = ?")
            return try ids.map { id in try Int64.fetchOne(statement, arguments: [Data(id.bytes)]).map(UInt64.init) }
        }
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
