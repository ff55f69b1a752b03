import Codec
import BallastCrypto

/// A block: one per round, extending the block its QC certifies.
///
/// The payload is opaque to consensus: a list of transactions as bytes. The
/// state root is the one the proposer had after executing the committed block
/// at `executedHeight` (execution trails consensus; see docs/consensus.md).
public struct Block: Hashable, Sendable {
    public let round: Round
    /// Number of ancestors; genesis is height 0.
    public let height: UInt64
    /// The QC for the parent block.
    public let justify: QuorumCertificate
    /// Milliseconds on the proposer's clock; strictly increases along a chain.
    public let timestamp: UInt64
    public let proposer: ValidatorIndex
    public let executedHeight: UInt64
    public let stateRoot: Hash256
    public let payload: [[UInt8]]
    /// BLAKE2b-256 of the domain tag and the canonical encoding.
    public let id: Hash256

    public init(round: Round, height: UInt64, justify: QuorumCertificate, timestamp: UInt64,
                proposer: ValidatorIndex, executedHeight: UInt64, stateRoot: Hash256, payload: [[UInt8]]) {
        self.round = round
        self.height = height
        self.justify = justify
        self.timestamp = timestamp
        self.proposer = proposer
        self.executedHeight = executedHeight
        self.stateRoot = stateRoot
        self.payload = payload
        var w = ByteWriter(capacity: 256)
        w.writeRaw(ConsensusDomain.block)
        Block.encodeFields(round: round, height: height, justify: justify, timestamp: timestamp, proposer: proposer,
                           executedHeight: executedHeight, stateRoot: stateRoot, payload: payload, to: &w)
        self.id = Blake2b.hash256(w.bytes)
    }

    /// The parent block's id (the block the QC certifies).
    public var parentID: Hash256 { justify.blockID }

    /// The genesis block of chain `chainID`: round 0, height 0, no parent; its id is the chain tag.
    public static func genesis(chainID: String, stateRoot: Hash256 = .zero) -> Block {
        Block(round: 0, height: 0, justify: QuorumCertificate(blockID: .zero, round: 0, votes: []), timestamp: 0,
              proposer: 0, executedHeight: 0, stateRoot: stateRoot, payload: [Array(chainID.utf8)])
    }

    static func encodeFields(round: Round, height: UInt64, justify: QuorumCertificate, timestamp: UInt64,
                             proposer: ValidatorIndex, executedHeight: UInt64, stateRoot: Hash256,
                             payload: [[UInt8]], to w: inout ByteWriter) {
        w.write(round)
        w.write(height)
        w.write(justify)
        w.write(timestamp)
        w.write(index: proposer)
        w.write(executedHeight)
        w.write(stateRoot)
        w.writeLength(payload.count)
        for tx in payload { w.writeBytes(tx) }
    }
}

extension Block: Canonical {
    public func encode(to w: inout ByteWriter) {
        Block.encodeFields(round: round, height: height, justify: justify, timestamp: timestamp, proposer: proposer,
                           executedHeight: executedHeight, stateRoot: stateRoot, payload: payload, to: &w)
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        let round = try r.readUInt64()
        let height = try r.readUInt64()
        let justify: QuorumCertificate = try r.read()
        let timestamp = try r.readUInt64()
        let proposer = try r.readIndex()
        let executedHeight = try r.readUInt64()
        let stateRoot: Hash256 = try r.read()
        let count = try r.readLength(field: "block.payload", maximum: ConsensusLimits.maxTransactionsPerBlock)
        var payload: [[UInt8]] = []
        payload.reserveCapacity(count)
        for _ in 0..<count {
            payload.append(try r.readBytes(field: "block.payload[]", maximum: ConsensusLimits.maxTransactionBytes))
        }
        self.init(round: round, height: height, justify: justify, timestamp: timestamp, proposer: proposer,
                  executedHeight: executedHeight, stateRoot: stateRoot, payload: payload)
    }
}
