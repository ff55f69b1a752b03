#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BallastCrypto
import Foundation
import GRDB

/// Why the node's store failed. Each case says what and where.
public enum StorageError: Error, CustomStringConvertible {
    case database(path: String, reason: String)
    case snapshotFile(path: String, reason: String)
    case outOfOrder(expected: UInt64, got: UInt64)
    /// The store was written in a format this build cannot read (or by a newer build).
    case unsupportedFormat(path: String, reason: String)

    public var description: String {
        switch self {
        case .unsupportedFormat(let path, let reason): return "database \(path): \(reason)"
        case .database(let path, let reason): return "database \(path): \(reason)"
        case .snapshotFile(let path, let reason): return "snapshot \(path): \(reason)"
        case .outOfOrder(let expected, let got): return "block height \(got) stored out of order: expected \(expected)"
        }
    }
}

/// A committed block as stored: its canonical bytes (block with its certificate),
/// its hash and the state root after executing it.
public struct StoredBlock: Equatable, Sendable {
    public var height: UInt64
    public var hash: Hash256
    public var stateRoot: Hash256
    public var bytes: [UInt8]

    public init(height: UInt64, hash: Hash256, stateRoot: Hash256, bytes: [UInt8]) {
        self.height = height
        self.hash = hash
        self.stateRoot = stateRoot
        self.bytes = bytes
    }
}

/// Where a committed transaction landed, and its receipt (canonical bytes).
public struct StoredTransaction: Equatable, Sendable {
    public var id: Hash256
    public var height: UInt64
    public var index: Int
    public var receipt: [UInt8]

    public init(id: Hash256, height: UInt64, index: Int, receipt: [UInt8]) {
        self.id = id
        self.height = height
        self.index = index
        self.receipt = receipt
    }
}

/// One event in an account's history (fill, funding payment, liquidation, transfer, lending
/// action). The store keeps it as bytes: the node writes the ledger's `AccountEvent` canonical
/// encoding, and its kind tag in `kind` so a reader can filter without decoding.
public struct HistoryEntry: Equatable, Sendable {
    /// The account whose history holds the event.
    public var address: Address
    public var height: UInt64
    /// The event's position among the block's events (unique within the block).
    public var sequence: Int
    /// `AccountEvent.Kind` raw value.
    public var kind: UInt8
    /// `AccountEvent` canonical bytes.
    public var bytes: [UInt8]
    /// The transaction that produced the event (nil for block steps such as funding).
    public var txId: Hash256?

    public init(address: Address, height: UInt64, sequence: Int, kind: UInt8, bytes: [UInt8], txId: Hash256? = nil) {
        self.address = address
        self.height = height
        self.sequence = sequence
        self.kind = kind
        self.bytes = bytes
        self.txId = txId
    }
}

/// A state snapshot: the ledger's canonical state encoding at a height.
/// A block this validator voted for, kept until it is committed so that it survives a restart.
public struct VotedBlock: Equatable, Sendable {
    public var id: Hash256
    public var round: UInt64
    /// The proposal's canonical bytes.
    public var bytes: [UInt8]

    public init(id: Hash256, round: UInt64, bytes: [UInt8]) {
        self.id = id
        self.round = round
        self.bytes = bytes
    }
}

public struct StoredSnapshot: Equatable, Sendable {
    public var height: UInt64
    public var stateRoot: Hash256
    public var bytes: [UInt8]

    public init(height: UInt64, stateRoot: Hash256, bytes: [UInt8]) {
        self.height = height
        self.stateRoot = stateRoot
        self.bytes = bytes
    }
}

/// A validator's durable store under its home folder: SQLite (WAL mode) for committed
/// blocks and the consensus safety state; snapshot files beside it. (Receipts and account
/// history, which executing the blocks gives back, are in `IndexStore`, a second file in the
/// same folder.)
///
/// Every write is atomic: a block in one SQL transaction; the safety state in one row; a
/// snapshot as a file written, synced and renamed into place before the row that names it. A
/// crash at any point leaves either the old or the new state, never a mix: at worst an orphan
/// snapshot file, which is ignored.
///
/// Durability: the safety state (with the voted block) and a snapshot's row are synced to disk
/// before their write returns (`synchronous = FULL`). A committed block is not synced on its
/// own (`NORMAL`): a process crash cannot lose it (it is in the operating system's cache when
/// `commit` returns), and a power loss can lose only blocks committed after the last synced
/// write, since syncing the write-ahead log syncs every transaction before it. That is the
/// next vote's safety state, a few milliseconds later, or `syncCommittedBlocks()`. A node that
/// lost such blocks restarts as if it had stopped before storing them, and fetches them again
/// from its peers (docs/operations.md, "What a crash can lose").
///
/// The store holds bytes, not types: the node encodes consensus and ledger
/// values canonically, so this target depends on neither core.
public final class NodeStore: Sendable {
    /// The folder holding the store's files.
    public let directory: String
    /// The SQLite file.
    public let databasePath: String
    /// The folder of snapshot files.
    public let snapshotDirectory: String
    private let pool: DatabasePool
    /// How many snapshots to keep (older ones are deleted after a new one lands).
    public let snapshotsKept: Int

    /// Opens (creating if needed) the store in `directory`. `readOnly`: opens an existing
    /// store without writing to it (a verifier reading the log of a node that may be running).
    ///
    /// Throws `unsupportedFormat` for a store this build cannot read: one written by a newer
    /// build or, read-only, one that has not been brought to this build's format yet. (A store of
    /// format 4 or older still holds receipts and history, in the JSON form before format 4: the
    /// format 5 step drops them, and the node indexes its blocks again into `IndexStore`.)
    public init(directory: String, snapshotsKept: Int = 2, readOnly: Bool = false) throws(StorageError) {
        self.directory = directory
        let dbPath = (directory as NSString).appendingPathComponent("ballast.sqlite")
        databasePath = dbPath
        snapshotDirectory = (directory as NSString).appendingPathComponent("snapshots")
        self.snapshotsKept = max(1, snapshotsKept)
        if readOnly {
            guard FileManager.default.fileExists(atPath: dbPath) else { throw .database(path: dbPath, reason: "no such store") }
        }
        // FULL: a write is on disk (WAL synced) before it returns, unless it asks otherwise.
        let migrator = NodeStore.migrator
        do {
            if !readOnly { try FileManager.default.createDirectory(atPath: snapshotDirectory, withIntermediateDirectories: true) }
            pool = try NodeStore.openPool(path: dbPath, synchronous: .full, checkpointPages: NodeStore.blockStoreCheckpointPages, readOnly: readOnly)
            try pool.read { db in
                if try migrator.hasBeenSuperseded(db) {
                    let unknown = try migrator.appliedIdentifiers(db).subtracting(NodeStore.formatMigrations).sorted()
                    throw StorageError.unsupportedFormat(path: dbPath, reason: "written by a newer ballast (store format steps \(unknown) are unknown to this build, which reads format \(NodeStore.format))")
                }
                if readOnly, try !migrator.hasCompletedMigrations(db) {
                    throw StorageError.unsupportedFormat(path: dbPath, reason: "not in store format \(NodeStore.format) yet (open it with `ballast node start` of this build first)")
                }
            }
            if !readOnly { try migrator.migrate(pool) }
        } catch let error as StorageError {
            throw error
        } catch {
            throw .database(path: dbPath, reason: "\(error)")
        }
    }

    /// The store format this build reads and writes: the number of format steps (migrations).
    /// 3: voted blocks kept until committed; 4: receipts in the node's compact binary form (JSON before);
    /// 5: receipts and history moved to their own file (`IndexStore`).
    public static let format = 5
    static let mmapBytes = 1 << 30
    static let writerCacheKiB = 64 * 1024
    /// WAL pages between checkpoints of the index (SQLite's default is 1,000, which a batch of
    /// blocks fills on its own): its hot pages, rewritten by every batch, are copied to the
    /// database file once per checkpoint rather than once per batch.
    static let checkpointPages = 16_000
    /// WAL pages between checkpoints of the block store (SQLite's default). It writes about 15
    /// pages a block (the voted block, the committed block, the safety row), nearly all of them
    /// new, so a longer interval saves little copying. A checkpoint runs inside the commit that
    /// crosses the line, on the consensus path: 1,000 pages (4 MB) is a short pause about once a
    /// second under load, where 16,000 (64 MB) was a long one; and the log stops growing after its
    /// first 4 MB, so the vote's synced commit rewrites blocks the file already has and does not
    /// wait for the file system to record a bigger file.
    static let blockStoreCheckpointPages = 1_000

    private static let formatMigrations: Set<String> = ["v1", "v2: history tx id", "voted blocks", "binary receipts", "index in its own file"]

    /// The format steps.
    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE block (
                    height INTEGER PRIMARY KEY,
                    hash BLOB NOT NULL UNIQUE,
                    state_root BLOB NOT NULL,
                    bytes BLOB NOT NULL
                );
                CREATE TABLE tx (
                    id BLOB PRIMARY KEY,
                    height INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    receipt BLOB NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE history (
                    address BLOB NOT NULL,
                    height INTEGER NOT NULL,
                    sequence INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    bytes BLOB NOT NULL,
                    PRIMARY KEY (address, height, sequence)
                ) WITHOUT ROWID;
                CREATE TABLE safety (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    bytes BLOB NOT NULL
                );
                CREATE TABLE snapshot (
                    height INTEGER PRIMARY KEY,
                    state_root BLOB NOT NULL,
                    file TEXT NOT NULL,
                    checksum BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2: history tx id") { db in
            try db.execute(sql: "ALTER TABLE history ADD COLUMN tx_id BLOB")
        }
        migrator.registerMigration("voted blocks") { db in
            try db.execute(sql: """
                CREATE TABLE voted_block (
                    id BLOB PRIMARY KEY,
                    round INTEGER NOT NULL,
                    bytes BLOB NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("binary receipts") { _ in
            // A marker: from this step on the receipt column held the node's binary form (JSON before).
        }
        migrator.registerMigration("index in its own file") { db in
            // Receipts and history now live in `IndexStore`; the node rebuilds them there by
            // executing its blocks again (its index starts at height 0), whatever form they had here.
            try db.execute(sql: "DROP TABLE tx; DROP TABLE history")
        }
        return migrator
    }

    private func write<T>(_ body: (Database) throws -> T) throws(StorageError) -> T {
        try NodeStore.write(pool, path: databasePath, body)
    }

    private func read<T>(_ body: (Database) throws -> T) throws(StorageError) -> T {
        try NodeStore.read(pool, path: databasePath, body)
    }

    /// SQLite's `synchronous` setting of a writing connection (https://sqlite.org/pragma.html#pragma_synchronous).
    enum Synchronous: String {
        /// In WAL mode: the log is synced before each checkpoint only.
        case normal = "NORMAL"
        /// In WAL mode: the log is synced at every commit.
        case full = "FULL"
    }

    /// Opens a pool on one of the node's SQLite files (the block store and the index): its writer
    /// at `synchronous`; pages read through a memory map rather than a pread per page (address
    /// space only: the kernel's page cache holds the data either way); on the writing connection a
    /// big page cache (readers' caches are dropped whenever the writer commits, so a big one there
    /// would only cost memory) and a WAL checkpoint every `checkpointPages` pages.
    ///
    /// `synchronous` is set after the pool is open: GRDB sets `NORMAL` when it puts the writer in
    /// WAL mode, after `prepareDatabase` has run, so a setting made there does not last.
    static func openPool(path: String, synchronous: Synchronous, checkpointPages: Int, readOnly: Bool) throws -> DatabasePool {
        var config = Configuration()
        config.readonly = readOnly
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA mmap_size = \(NodeStore.mmapBytes)")
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA cache_size = -\(NodeStore.writerCacheKiB)")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(checkpointPages)")
            }
        }
        let pool = try DatabasePool(path: path, configuration: config)
        if !readOnly { try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)") } }
        return pool
    }

    /// The writing connection's `synchronous` setting as SQLite reports it (0 off, 1 normal, 2 full).
    func writerSynchronous() throws(StorageError) -> Int {
        do { return try pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 } } catch {
            throw .database(path: databasePath, reason: "\(error)")
        }
    }

    /// A write transaction on `pool`; a failure other than a `StorageError` names the file.
    static func write<T>(_ pool: DatabasePool, path: String, _ body: (Database) throws -> T) throws(StorageError) -> T {
        do { return try pool.write(body) } catch let error as StorageError { throw error } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    /// A write transaction that is not synced when it commits (the connection is `FULL` otherwise).
    private func writeUnsynced<T>(_ body: (Database) throws -> T) throws(StorageError) -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
                var result: T?
                try db.inTransaction {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw StorageError.database(path: databasePath, reason: "write transaction without a result") }
                return result
            }
        } catch let error as StorageError { throw error } catch {
            throw .database(path: databasePath, reason: "\(error)")
        }
    }

    /// Syncs the write-ahead log to disk: every write so far (blocks, an unsynced safety state) is
    /// then durable. The node's outbox calls it after an unsynced safety write, before the vote
    /// leaves; the index writer before it stores a batch, so that the index is never ahead of the
    /// blocks on disk (on start, an index above the block store is refused).
    public func syncCommittedBlocks() throws(StorageError) {
        let fd = open(databasePath + "-wal", O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { return }   // no log: everything is in the database file, synced by the last checkpoint
            throw .database(path: databasePath, reason: "open the write-ahead log to sync it: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw .database(path: databasePath, reason: "sync the write-ahead log: \(String(cString: strerror(errno)))")
        }
    }

    /// A read on `pool`; a failure names the file.
    static func read<T>(_ pool: DatabasePool, path: String, _ body: (Database) throws -> T) throws(StorageError) -> T {
        do { return try pool.read(body) } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    // MARK: Blocks

    /// Stores a committed block. Heights must follow on from the last one. Not synced on its own:
    /// durable once the next synced write (a safety state, a snapshot) or `syncCommittedBlocks`
    /// returns; a process crash cannot lose it.
    public func commit(block: StoredBlock) throws(StorageError) {
        try writeUnsynced { db in
            let last = try UInt64.fetchOne(db.cachedStatement(sql: "SELECT MAX(height) FROM block"))
            let expected = last.map { $0 + 1 } ?? block.height
            guard block.height == expected else { throw StorageError.outOfOrder(expected: expected, got: block.height) }
            try db.cachedStatement(sql: "INSERT INTO block (height, hash, state_root, bytes) VALUES (?, ?, ?, ?)")
                .execute(arguments: [Int64(block.height), Data(block.hash.bytes), Data(block.stateRoot.bytes), Data(block.bytes)])
        }
    }

    /// The highest stored height, or nil when no block is stored.
    public func latestHeight() throws(StorageError) -> UInt64? {
        try read { db in try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(height) FROM block")).map(UInt64.init) }
    }

    /// The block at `height`.
    public func block(at height: UInt64) throws(StorageError) -> StoredBlock? {
        try read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM block WHERE height = ?"), arguments: [Int64(height)]).flatMap(NodeStore.block)
        }
    }

    /// The block whose hash is `hash`.
    public func block(hash: Hash256) throws(StorageError) -> StoredBlock? {
        try read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM block WHERE hash = ?"), arguments: [Data(hash.bytes)]).flatMap(NodeStore.block)
        }
    }

    /// Blocks from `height` upward, at most `limit`, in height order (for sync and replay).
    public func blocks(from height: UInt64, limit: Int) throws(StorageError) -> [StoredBlock] {
        try read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM block WHERE height >= ? ORDER BY height LIMIT ?"),
                             arguments: [Int64(height), limit]).compactMap(NodeStore.block)
        }
    }

    private static func block(_ row: Row) -> StoredBlock? {
        let hashData: Data = row["hash"], rootData: Data = row["state_root"], bytes: Data = row["bytes"]
        let height: Int64 = row["height"]
        guard let hash = Hash256(bytes: hashData), let root = Hash256(bytes: rootData) else { return nil }
        return StoredBlock(height: UInt64(height), hash: hash, stateRoot: root, bytes: [UInt8](bytes))
    }

    // MARK: Safety state

    /// Persists the consensus safety state (last voted round, highest QC...) and, in the same
    /// transaction, the block a vote is for (`votedBlock`), forgetting voted blocks at or below
    /// `committedRound` (they are committed or can no longer be). `synced`: returns only once it
    /// is on disk; otherwise the caller must call `syncCommittedBlocks` (which syncs every write
    /// before it) before any vote or timeout that depends on it leaves the process.
    public func saveSafetyState(_ bytes: [UInt8], votedBlock: VotedBlock? = nil, committedRound: UInt64 = 0,
                                synced: Bool = true) throws(StorageError) {
        let body = { (db: Database) throws -> Void in
            try db.cachedStatement(sql: "INSERT INTO safety (id, bytes) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET bytes = excluded.bytes")
                .execute(arguments: [Data(bytes)])
            if let votedBlock {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO voted_block (id, round, bytes) VALUES (?, ?, ?)")
                    .execute(arguments: [Data(votedBlock.id.bytes), Int64(votedBlock.round), Data(votedBlock.bytes)])
                try db.cachedStatement(sql: "DELETE FROM voted_block WHERE round <= ?").execute(arguments: [Int64(committedRound)])
            }
        }
        if synced { try write(body) } else { try writeUnsynced(body) }
    }

    /// The voted blocks not yet forgotten, lowest round first.
    public func votedBlocks() throws(StorageError) -> [[UInt8]] {
        try read { db in try Data.fetchAll(db, sql: "SELECT bytes FROM voted_block ORDER BY round").map { [UInt8]($0) } }
    }

    /// The last persisted safety state, or nil on a fresh node.
    public func loadSafetyState() throws(StorageError) -> [UInt8]? {
        try read { db in try Data.fetchOne(db, sql: "SELECT bytes FROM safety WHERE id = 1").map { [UInt8]($0) } }
    }

    // MARK: Snapshots

    /// Writes a snapshot file (temporary name, fsync, rename, fsync of the folder),
    /// then records it; older snapshots beyond `snapshotsKept` are removed.
    public func saveSnapshot(_ snapshot: StoredSnapshot) throws(StorageError) {
        let name = String(format: "%020llu.snapshot", snapshot.height)
        let path = (snapshotDirectory as NSString).appendingPathComponent(name)
        try writeDurably(snapshot.bytes, to: path)
        let checksum = Blake2b.hash256(snapshot.bytes)
        let obsolete: [String] = try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO snapshot (height, state_root, file, checksum) VALUES (?, ?, ?, ?)",
                           arguments: [Int64(snapshot.height), Data(snapshot.stateRoot.bytes), name, Data(checksum.bytes)])
            let old = try String.fetchAll(db, sql: "SELECT file FROM snapshot ORDER BY height DESC LIMIT -1 OFFSET ?",
                                          arguments: [snapshotsKept])
            try db.execute(sql: "DELETE FROM snapshot WHERE height NOT IN (SELECT height FROM snapshot ORDER BY height DESC LIMIT ?)",
                           arguments: [snapshotsKept])
            return old
        }
        for file in obsolete {
            unlink((snapshotDirectory as NSString).appendingPathComponent(file))
        }
    }

    /// The newest snapshot at or below `height` whose file is intact (checksum matches), or nil.
    public func latestSnapshot(atMost height: UInt64 = UInt64(Int64.max)) throws(StorageError) -> StoredSnapshot? {
        let rows: [Row] = try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM snapshot WHERE height <= ? ORDER BY height DESC", arguments: [Int64(min(height, UInt64(Int64.max)))])
        }
        for row in rows {
            let file: String = row["file"], rootData: Data = row["state_root"], checksumData: Data = row["checksum"]
            let height: Int64 = row["height"]
            let path = (snapshotDirectory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path),
                  let root = Hash256(bytes: rootData),
                  Blake2b.hash256([UInt8](data)).bytes == [UInt8](checksumData)
            else { continue }
            return StoredSnapshot(height: UInt64(height), stateRoot: root, bytes: [UInt8](data))
        }
        return nil
    }

    private func writeDurably(_ bytes: [UInt8], to path: String) throws(StorageError) {
        let temporary = path + ".tmp"
        func fail(_ what: String) -> StorageError {
            .snapshotFile(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw fail("open") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n <= 0 { close(fd); unlink(temporary); throw fail("write") }
            offset += n
        }
        guard fsync(fd) == 0 else { close(fd); unlink(temporary); throw fail("fsync") }
        close(fd)
        guard rename(temporary, path) == 0 else { unlink(temporary); throw fail("rename") }
        let dir = open(snapshotDirectory, O_RDONLY)
        if dir >= 0 { fsync(dir); close(dir) }
    }
}
