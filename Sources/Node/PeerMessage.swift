import Codec
import Consensus

/// What validators send each other, inside the transport's frames.
enum PeerMessage: Sendable {
    /// A consensus message (proposal, vote, timeout, sync).
    case consensus(ConsensusMessage)
    /// Transactions a validator admitted from its clients, gossiped once.
    case transactions([[UInt8]])

    static let maxGossipBatch = 1_024
    static let maxTransactionBytes = 64 * 1024
}

extension PeerMessage: Canonical {
    func encode(to w: inout ByteWriter) {
        switch self {
        case .consensus(let m):
            w.write(UInt8(1))
            w.write(m)
        case .transactions(let txs):
            w.write(UInt8(2))
            w.writeLength(txs.count)
            for tx in txs { w.writeBytes(tx) }
        }
    }

    init(from r: inout ByteReader) throws(CodecError) {
        switch try r.readUInt8() {
        case 1:
            self = .consensus(try r.read())
        case 2:
            let n = try r.readLength(field: "transactions", maximum: PeerMessage.maxGossipBatch)
            var txs: [[UInt8]] = []
            txs.reserveCapacity(n)
            for _ in 0..<n { txs.append(try r.readBytes(field: "transaction", maximum: PeerMessage.maxTransactionBytes)) }
            self = .transactions(txs)
        case let tag:
            throw .unknownTag(type: "PeerMessage", tag: tag)
        }
    }
}
