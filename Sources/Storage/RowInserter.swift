import BallastCrypto
import GRDB
import GRDBSQLite

/// A prepared INSERT run with SQLite's own binding calls.
///
/// Why not GRDB's `execute(arguments:)`: it builds an array of boxed values and a `Data` per blob
/// for every row, which was about a quarter of the index writer's time in a profile of
/// `ballast bench index` (the writer inserts two or three rows per transaction).
struct RowInserter {
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

    /// Inserts the row bound so far and gets ready for the next.
    mutating func run() throws {
        let s = statement.sqliteStatement
        column = 0
        let code = sqlite3_step(s)
        // The message is read before the reset, which may replace it.
        let message = code == SQLITE_DONE ? nil : connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        sqlite3_reset(s)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message ?? "SQLite error \(code)", sql: statement.sql)
        }
    }
}

/// SQLite copies the bytes before the bind call returns.
private let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
