import BallastCrypto
import Codec
import Consensus
import Storage

/// A committed block's receipts in their binary form: what `GET /v1/blocks/{height}/receipts`
/// answers to `Accept: application/octet-stream` (docs/api.md, docs/wire.md).
///
/// ```
/// u8      version (1)
/// u64     height
/// LEB128  receipt count (at most 65,536), then per receipt, in block order:
///   hash    transaction id (32 bytes)
///   LEB128  index: the transaction's position in the block (at most 65,535)
///   …       its outcome as a `StoredReceipt` (version byte first)
/// ```
/// The node copies each outcome from its index as it is: serving a block takes no JSON
/// encoder and no decoding, and a receipt takes 36 bytes (a transfer) to about 100 (an error
/// with its message) instead of about 190 as JSON.
public struct BlockReceipts: Equatable, Sendable {
    /// One executed transaction: its id, its position in the block and its outcome.
    public struct Entry: Equatable, Sendable {
        public var id: Hash256
        public var index: Int
        public var outcome: StoredReceipt

        public init(id: Hash256, index: Int, outcome: StoredReceipt) {
            self.id = id
            self.index = index
            self.outcome = outcome
        }
    }

    public var height: UInt64
    public var entries: [Entry]

    public static let version: UInt8 = 1
    /// Most receipts a block can have (one per payload entry).
    public static let maxEntries = ConsensusLimits.maxTransactionsPerBlock

    public init(height: UInt64, entries: [Entry]) {
        self.height = height
        self.entries = entries
    }

    /// The receipts as the JSON form shows them.
    public var records: [ReceiptRecord] {
        entries.map { $0.outcome.record(id: $0.id, height: height, index: $0.index) }
    }

    /// The binary form of the indexed rows of the block at `height`, each outcome copied as
    /// the index holds it (a `StoredReceipt`'s canonical bytes), not decoded.
    static func encode(height: UInt64, rows: [StoredTransaction]) -> [UInt8] {
        var w = ByteWriter(capacity: 16 + rows.reduce(0) { $0 + 40 + $1.receipt.count })
        w.write(version)
        w.write(height)
        w.writeLength(rows.count)
        for row in rows {
            w.write(row.id)
            w.writeLength(row.index)
            w.writeRaw(row.receipt)
        }
        return w.bytes
    }
}

extension BlockReceipts: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(BlockReceipts.version)
        w.write(height)
        w.writeLength(entries.count)
        for entry in entries {
            w.write(entry.id)
            w.writeLength(entry.index)
            w.write(entry.outcome)
        }
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        let version = try r.readUInt8()
        guard version == BlockReceipts.version else { throw .unsupportedVersion(type: "block receipts", version: version) }
        height = try r.readUInt64()
        let count = try r.readLength(field: "block receipts", maximum: BlockReceipts.maxEntries)
        entries = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let id = try r.read(Hash256.self)
            let index = try r.readLength(field: "receipt index", maximum: BlockReceipts.maxEntries - 1)
            entries.append(Entry(id: id, index: index, outcome: try StoredReceipt(from: &r)))
        }
    }
}

extension ValidatorRuntime {
    /// The indexed rows of the transactions the block at `height` executed, in block order (a
    /// payload entry the block skipped, such as a duplicate, has none); nil until the block is
    /// executed (a block is stored before it executes, and its receipts reach the index after).
    /// Reads without entering the actor: the index keeps an executed block's rows in memory
    /// until they are stored.
    nonisolated func blockReceiptRows(at height: UInt64) throws -> [StoredTransaction]? {
        guard height >= 1, height <= index.height else { return nil }
        return try index.transactions(atHeight: height)
    }

    /// The receipts of the block at `height` in their binary form (`BlockReceipts`), or nil
    /// when no block is committed there.
    public nonisolated func blockReceiptBytes(at height: UInt64) throws -> [UInt8]? {
        try blockReceiptRows(at: height).map { BlockReceipts.encode(height: height, rows: $0) }
    }
}
