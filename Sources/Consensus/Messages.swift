import Codec
import BallastCrypto

/// A block signed by its proposer, with the timeout certificate that lets it
/// follow a failed round (nil when it extends the previous round's QC).
public struct Proposal: Hashable, Sendable {
    public var block: Block
    public var timeoutCertificate: TimeoutCertificate?
    public var signature: Signature

    public init(block: Block, timeoutCertificate: TimeoutCertificate?, signature: Signature) {
        self.block = block
        self.timeoutCertificate = timeoutCertificate
        self.signature = signature
    }
}

/// A vote for a block, sent to the leader of the next round.
public struct Vote: Hashable, Sendable {
    public var round: Round
    public var blockID: Hash256
    public var voter: ValidatorIndex
    public var signature: Signature

    public init(round: Round, blockID: Hash256, voter: ValidatorIndex, signature: Signature) {
        self.round = round
        self.blockID = blockID
        self.voter = voter
        self.signature = signature
    }
}

/// A validator gave up on `round`; broadcast to everyone, with its highest QC.
public struct Timeout: Hashable, Sendable {
    public var round: Round
    public var highQC: QuorumCertificate
    public var signer: ValidatorIndex
    public var signature: Signature

    public init(round: Round, highQC: QuorumCertificate, signer: ValidatorIndex, signature: Signature) {
        self.round = round
        self.highQC = highQC
        self.signer = signer
        self.signature = signature
    }
}

/// The certificates a validator holds, sent to a peer that is behind.
public struct SyncInfo: Hashable, Sendable {
    public var highQC: QuorumCertificate
    public var highTC: TimeoutCertificate?

    public init(highQC: QuorumCertificate, highTC: TimeoutCertificate?) {
        self.highQC = highQC
        self.highTC = highTC
    }
}

/// Asks a peer for the chain ending at `targetID`, above the requester's committed height.
public struct BlockRequest: Hashable, Sendable {
    public var targetID: Hash256
    public var knownHeight: UInt64
    public var maxBlocks: UInt16

    public init(targetID: Hash256, knownHeight: UInt64, maxBlocks: UInt16) {
        self.targetID = targetID
        self.knownHeight = knownHeight
        self.maxBlocks = maxBlocks
    }
}

/// The oldest blocks above the requester's committed height on the way to the
/// target, oldest first. Each block's QC certifies the one before it.
public struct BlockResponse: Hashable, Sendable {
    public var targetID: Hash256
    public var proposals: [Proposal]

    public init(targetID: Hash256, proposals: [Proposal]) {
        self.targetID = targetID
        self.proposals = proposals
    }
}

/// Every message validators exchange. Canonical form: a version byte, a tag, the fields.
public enum ConsensusMessage: Hashable, Sendable {
    case proposal(Proposal)
    case vote(Vote)
    case timeout(Timeout)
    case syncInfo(SyncInfo)
    case blockRequest(BlockRequest)
    case blockResponse(BlockResponse)

    public static let version: UInt8 = 1
}

/// Proof that a validator signed two conflicting messages for one round.
public enum Evidence: Hashable, Sendable {
    case conflictingProposals(Proposal, Proposal)
    case conflictingVotes(Vote, Vote)

    /// The validator both messages came from.
    public var offender: ValidatorIndex {
        switch self {
        case .conflictingProposals(let a, _): return a.block.proposer
        case .conflictingVotes(let a, _): return a.voter
        }
    }

    /// The round both messages were signed for.
    public var round: Round {
        switch self {
        case .conflictingProposals(let a, _): return a.block.round
        case .conflictingVotes(let a, _): return a.round
        }
    }
}

extension Proposal: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(block)
        w.write(timeoutCertificate)
        w.write(signature)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        self.init(block: try r.read(), timeoutCertificate: try r.readOptional(field: "proposal.tc"),
                  signature: try r.read())
    }
}

extension Vote: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(round)
        w.write(blockID)
        w.write(index: voter)
        w.write(signature)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        self.init(round: try r.readUInt64(), blockID: try r.read(), voter: try r.readIndex(), signature: try r.read())
    }
}

extension Timeout: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(round)
        w.write(highQC)
        w.write(index: signer)
        w.write(signature)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        self.init(round: try r.readUInt64(), highQC: try r.read(), signer: try r.readIndex(), signature: try r.read())
    }
}

extension SyncInfo: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(highQC)
        w.write(highTC)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        self.init(highQC: try r.read(), highTC: try r.readOptional(field: "sync.tc"))
    }
}

extension BlockRequest: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(targetID)
        w.write(knownHeight)
        w.write(maxBlocks)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        self.init(targetID: try r.read(), knownHeight: try r.readUInt64(), maxBlocks: try r.readUInt16())
    }
}

extension BlockResponse: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(targetID)
        w.write(proposals)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        self.init(targetID: try r.read(),
                  proposals: try r.readArray(field: "response.blocks", maximum: ConsensusLimits.maxBlocksPerResponse))
    }
}

extension ConsensusMessage: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(ConsensusMessage.version)
        switch self {
        case .proposal(let m): w.write(UInt8(1)); w.write(m)
        case .vote(let m): w.write(UInt8(2)); w.write(m)
        case .timeout(let m): w.write(UInt8(3)); w.write(m)
        case .syncInfo(let m): w.write(UInt8(4)); w.write(m)
        case .blockRequest(let m): w.write(UInt8(5)); w.write(m)
        case .blockResponse(let m): w.write(UInt8(6)); w.write(m)
        }
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        let version = try r.readUInt8()
        guard version == ConsensusMessage.version else {
            throw .unsupportedVersion(type: "ConsensusMessage", version: version)
        }
        switch try r.readUInt8() {
        case 1: self = .proposal(try r.read())
        case 2: self = .vote(try r.read())
        case 3: self = .timeout(try r.read())
        case 4: self = .syncInfo(try r.read())
        case 5: self = .blockRequest(try r.read())
        case 6: self = .blockResponse(try r.read())
        case let tag: throw .unknownTag(type: "ConsensusMessage", tag: tag)
        }
    }
}

extension Evidence: Canonical {
    public func encode(to w: inout ByteWriter) {
        switch self {
        case .conflictingProposals(let a, let b): w.write(UInt8(1)); w.write(a); w.write(b)
        case .conflictingVotes(let a, let b): w.write(UInt8(2)); w.write(a); w.write(b)
        }
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        switch try r.readUInt8() {
        case 1: self = .conflictingProposals(try r.read(), try r.read())
        case 2: self = .conflictingVotes(try r.read(), try r.read())
        case let tag: throw .unknownTag(type: "Evidence", tag: tag)
        }
    }
}
