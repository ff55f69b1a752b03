import Codec
import Consensus

/// What validators send each other, inside the transport's frames.
enum PeerMessage: Sendable {
    /// A consensus message (proposal, vote, timeout, sync).
    case consensus(ConsensusMessage)
    /// Transactions a validator admitted from its clients, gossiped once.
    case transactions([[UInt8]])

    static let maxGossipBatch = TransactionBatch.maxCount
}

extension PeerMessage: Canonical {
    func encode(to w: inout ByteWriter) {
        switch self {
        case .consensus(let m):
            w.write(UInt8(1))
            w.write(m)
        case .transactions(let txs):
            w.write(UInt8(2))
            TransactionBatch(txs).encode(to: &w)
        }
    }

    init(from r: inout ByteReader) throws(CodecError) {
        switch try r.readUInt8() {
        case 1:
            self = .consensus(try r.read())
        case 2:
            self = .transactions(try TransactionBatch(from: &r).transactions)
        case let tag:
            throw .unknownTag(type: "PeerMessage", tag: tag)
        }
    }
}

/// Encoded transactions in one message: a LEB128 count, then each transaction as a LEB128
/// length and its canonical bytes. Validators gossip this form, and clients may send it to
/// `POST /v1/txs`.
public struct TransactionBatch: Canonical, Sendable, Equatable {
    /// Most transactions in one batch.
    public static let maxCount = 1_024
    /// Largest transaction in a batch.
    public static let maxTransactionBytes = 64 * 1024

    public var transactions: [[UInt8]]

    public init(_ transactions: [[UInt8]]) { self.transactions = transactions }

    public func encode(to w: inout ByteWriter) {
        w.writeLength(transactions.count)
        for tx in transactions { w.writeBytes(tx) }
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        let n = try r.readLength(field: "transactions", maximum: TransactionBatch.maxCount)
        var txs: [[UInt8]] = []
        txs.reserveCapacity(n)
        for _ in 0..<n { txs.append(try r.readBytes(field: "transaction", maximum: TransactionBatch.maxTransactionBytes)) }
        transactions = txs
    }
}
