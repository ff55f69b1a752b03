import BallastCrypto
import Codec
import Ledger
import Storage

/// What a committed transaction's row stores as its receipt (`StoredTransaction.receipt`): the
/// outcome without the transaction id, height and position, which the row holds already. The
/// binary block receipts (`BlockReceipts`) carry it as it is stored.
///
/// Canonical binary form (store format 4; before it, receipts were stored as JSON):
/// ```
/// u8      version (1)
/// u8      flags: 1 ok, 2 code, 4 message, 8 notice (no other bit set)
/// string  code, message, notice: each only when its flag is set (LEB128 length, UTF-8)
/// LEB128  order count, then per order:
///   u8      flags: 1 order id, 2 code, 4 message (no other bit set)
///   u64     order id (when flagged), i64 filled, i64 resting (little-endian)
///   string  code, message (when flagged)
/// ```
/// A typical receipt takes 20-40 bytes instead of about 190 as JSON, and needs no JSON encoder
/// on the commit path nor a decoder to serve it.
public struct StoredReceipt: Equatable, Sendable {
    /// Executed without error.
    public var ok: Bool
    /// The error's code and message, when not `ok`.
    public var code: String?
    public var message: String?
    /// Each order's outcome, for an order placement.
    public var orders: [ReceiptRecord.OrderRecord]
    public var notice: String?

    public static let version: UInt8 = 1
    /// Bounds a reader applies (the node writes far less).
    public static let maxText = 64 * 1024
    public static let maxOrders = 1 << 16

    public init(ok: Bool, code: String?, message: String?, orders: [ReceiptRecord.OrderRecord], notice: String?) {
        self.ok = ok
        self.code = code
        self.message = message
        self.orders = orders
        self.notice = notice
    }

    /// The outcome of a ledger receipt.
    init(_ receipt: Receipt) {
        self.init(ok: receipt.error == nil, code: receipt.error?.code, message: receipt.error?.description,
                  orders: receipt.orders.map {
                      ReceiptRecord.OrderRecord(orderId: $0.orderID, filled: $0.filled, resting: $0.resting,
                                                code: $0.error?.code, message: $0.error?.description)
                  },
                  notice: receipt.notice)
    }

    /// The outcome part of an API receipt.
    init(_ record: ReceiptRecord) {
        self.init(ok: record.ok, code: record.code, message: record.message, orders: record.orders, notice: record.notice)
    }

    /// The API receipt of the transaction `id`, committed at `height` in position `index`.
    public func record(id: Hash256, height: UInt64, index: Int) -> ReceiptRecord {
        ReceiptRecord(txId: "0x" + id.hex, height: height, index: index, ok: ok, code: code, message: message,
                      orders: orders, notice: notice)
    }
}

extension StoredReceipt: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(StoredReceipt.version)
        w.write((ok ? 1 : 0) | (code == nil ? 0 : 2) | (message == nil ? 0 : 4) | (notice == nil ? 0 : 8) as UInt8)
        for text in [code, message, notice] { if let text { w.writeString(text) } }
        w.writeLength(orders.count)
        for order in orders {
            w.write((order.orderId == nil ? 0 : 1) | (order.code == nil ? 0 : 2) | (order.message == nil ? 0 : 4) as UInt8)
            if let id = order.orderId { w.write(id) }
            w.write(order.filled)
            w.write(order.resting)
            for text in [order.code, order.message] { if let text { w.writeString(text) } }
        }
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        let version = try r.readUInt8()
        guard version == StoredReceipt.version else { throw .unsupportedVersion(type: "stored receipt", version: version) }
        let flags = try StoredReceipt.flags(&r, allowed: 0x0f, field: "receipt flags")
        func text(_ bit: UInt8, _ field: String, _ flags: UInt8, _ r: inout ByteReader) throws(CodecError) -> String? {
            flags & bit == 0 ? nil : try r.readString(field: field, maximum: StoredReceipt.maxText)
        }
        ok = flags & 1 != 0
        code = try text(2, "receipt code", flags, &r)
        message = try text(4, "receipt message", flags, &r)
        notice = try text(8, "receipt notice", flags, &r)
        let count = try r.readLength(field: "receipt orders", maximum: StoredReceipt.maxOrders)
        orders = []
        orders.reserveCapacity(count)
        for _ in 0..<count {
            let orderFlags = try StoredReceipt.flags(&r, allowed: 0x07, field: "order flags")
            let orderId = orderFlags & 1 == 0 ? nil : try r.readUInt64()
            let filled = try r.readInt64()
            let resting = try r.readInt64()
            orders.append(ReceiptRecord.OrderRecord(orderId: orderId, filled: filled, resting: resting,
                                                    code: try text(2, "order code", orderFlags, &r),
                                                    message: try text(4, "order message", orderFlags, &r)))
        }
    }

    private static func flags(_ r: inout ByteReader, allowed: UInt8, field: String) throws(CodecError) -> UInt8 {
        let flags = try r.readUInt8()
        guard flags & ~allowed == 0 else { throw .invalidValue(field: field, reason: "unknown flag bits in \(flags)") }
        return flags
    }
}

extension ReceiptRecord {
    /// The receipt of a stored transaction row (its receipt column decoded).
    init(stored row: StoredTransaction) throws(CodecError) {
        self = try StoredReceipt(canonicalBytes: row.receipt).record(id: row.id, height: row.height, index: row.index)
    }
}

extension ReceiptRecord {
    /// The receipt of the transaction `id` that the ledger executed at `height`.
    init(id: Hash256, height: UInt64, receipt: Receipt) {
        self = StoredReceipt(receipt).record(id: id, height: height, index: receipt.index)
    }
}
