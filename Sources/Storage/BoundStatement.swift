#if canImport(Glibc)
import Glibc
#endif
import BallastCrypto
import GRDB
import GRDBSQLite

/// A cached statement run with SQLite's own binding, stepping and column calls.
///
/// Why not GRDB's `execute(arguments:)` and row cursors: they build an array of boxed values and a
/// `Data` per blob for every row, in and out. That was about a quarter of the index writer's time
/// in a profile of `ballast bench index` (the writer inserts two or three rows per transaction),
/// and most of a lookup by id (every node looks up every transaction of every block it executes).
struct BoundStatement {
    private let statement: Statement
    private let connection: SQLiteConnection?
    private var column: Int32 = 0

    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        connection = db.sqliteConnection
    }

    /// Binds the next parameter.
    mutating func bind(_ value: Int64) {
        column += 1
        sqlite3_bind_int64(statement.sqliteStatement, column, value)
    }

    /// Binds the next parameter to a copy of `bytes`.
    mutating func bind(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { bind(raw: $0) }
    }

    /// Binds the next parameter to a copy of the first `count` bytes of `value` (all by default).
    mutating func bind<Value: FixedBytes>(_ value: Value, first count: Int = Value.byteCount) {
        value.withUnsafeBytes { bind(raw: UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
    }

    private mutating func bind(raw: UnsafeRawBufferPointer) {
        column += 1
        // A zero-length blob still needs a non-null pointer, or SQLite stores NULL.
        let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)
        sqlite3_bind_blob(statement.sqliteStatement, column, base, Int32(raw.count), SQLITE_TRANSIENT)
    }

    /// Runs a statement that returns no rows (an insert) with what is bound, and gets ready for
    /// the next.
    mutating func run() throws {
        if try step() { try finish(SQLITE_ROW) }
    }

    /// Steps a query with what is bound: true with a row to read, false (and ready for the next
    /// bindings) after the last row.
    mutating func step() throws -> Bool {
        let code = sqlite3_step(statement.sqliteStatement)
        if code == SQLITE_ROW { return true }
        try finish(code)
        return false
    }

    /// Resets the statement for the next bindings (after a query's wanted row, before its end).
    mutating func reset() {
        column = 0
        sqlite3_reset(statement.sqliteStatement)
    }

    private mutating func finish(_ code: Int32) throws {
        // The message is read before the reset, which may replace it.
        let message = code == SQLITE_DONE ? nil : connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        reset()
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message ?? "SQLite error \(code)", sql: statement.sql)
        }
    }

    /// The integer in column `index` (from 0) of the current row.
    func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(statement.sqliteStatement, index) }

    /// The bytes of the blob in column `index` of the current row.
    func bytes(_ index: Int32) -> [UInt8] {
        let s = statement.sqliteStatement
        // The pointer first, then the size (SQLite's documented order).
        guard let base = sqlite3_column_blob(s, index) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: Int(sqlite3_column_bytes(s, index))))
    }

    /// The first 8 bytes of the blob in column `index` as an integer's memory (the same value as
    /// loading them from an id's bytes; zero bytes after a shorter blob).
    func prefix(_ index: Int32) -> UInt64 {
        let s = statement.sqliteStatement
        guard let base = sqlite3_column_blob(s, index) else { return 0 }
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base, count: min(8, Int(sqlite3_column_bytes(s, index))))) }
        return value
    }

    /// Whether the blob in column `index` holds exactly the bytes of `value`.
    func blob<Value: FixedBytes>(_ index: Int32, equals value: Value) -> Bool {
        let s = statement.sqliteStatement
        guard let base = sqlite3_column_blob(s, index), Int(sqlite3_column_bytes(s, index)) == Value.byteCount else { return false }
        return value.withUnsafeBytes { memcmp($0.baseAddress!, base, Value.byteCount) == 0 }
    }
}

/// SQLite copies the bytes before the bind call returns.
private let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
