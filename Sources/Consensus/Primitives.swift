import Codec
import BallastCrypto

/// A consensus round. Round 0 belongs to the genesis block; proposals start at round 1.
public typealias Round = UInt64

/// A validator's position in the `ValidatorSet`; certificates name signers by index.
public typealias ValidatorIndex = UInt16

/// Bounds on everything decoded from the network, so a hostile peer cannot make
/// a replica allocate without limit.
public enum ConsensusLimits {
    /// Most validators a set may hold (and so most signatures in a certificate).
    public static let maxValidators = 1024
    /// Most transactions in one block.
    public static let maxTransactionsPerBlock = 65_536
    /// Largest single opaque transaction, in bytes.
    public static let maxTransactionBytes = 1 << 20
    /// Most blocks in one sync response.
    public static let maxBlocksPerResponse = 256
}

/// Domain tags that start every signed or hashed consensus message, so a
/// signature made for one purpose can never be replayed as another (nor as a
/// transaction signature, which uses "ballast/tx/v1").
public enum ConsensusDomain {
    public static let block: [UInt8] = Array("ballast/block/v1".utf8)
    public static let proposal: [UInt8] = Array("ballast/proposal/v1".utf8)
    public static let vote: [UInt8] = Array("ballast/vote/v1".utf8)
    public static let timeout: [UInt8] = Array("ballast/timeout/v1".utf8)
}

/// The exact bytes each signature covers. Every message also binds the chain
/// tag (the genesis block id), so votes cannot cross chains.
public enum SigningMessage {
    /// What a leader signs for a proposal: the block id commits to every field.
    public static func proposal(chain: Hash256, blockID: Hash256) -> [UInt8] {
        var w = ByteWriter(capacity: 96)
        w.writeRaw(ConsensusDomain.proposal)
        w.write(chain)
        w.write(blockID)
        return w.bytes
    }

    /// What a validator signs to vote for `blockID` in `round`.
    public static func vote(chain: Hash256, round: Round, blockID: Hash256) -> [UInt8] {
        var w = ByteWriter(capacity: 96)
        w.writeRaw(ConsensusDomain.vote)
        w.write(chain)
        w.write(round)
        w.write(blockID)
        return w.bytes
    }

    /// What a validator signs to time out `round`, naming the round of its highest QC
    /// (Jolteon signs the round only, so a TC can aggregate differing high QCs).
    public static func timeout(chain: Hash256, round: Round, highQCRound: Round) -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.writeRaw(ConsensusDomain.timeout)
        w.write(chain)
        w.write(round)
        w.write(highQCRound)
        return w.bytes
    }
}

/// Checks a signature. Verification is the main CPU cost of consensus, so it is
/// pluggable: a node may batch, cache or parallelise it; tests and the
/// simulator use `Ed25519Verifier` (real libsodium verification).
public protocol SignatureVerifier {
    /// Whether `signature` by `key` over `message` is valid.
    func isValid(_ signature: Signature, by key: PublicKey, over message: [UInt8]) -> Bool
}

/// Plain libsodium Ed25519 verification.
public struct Ed25519Verifier: SignatureVerifier, Sendable {
    public init() {}
    public func isValid(_ signature: Signature, by key: PublicKey, over message: [UInt8]) -> Bool {
        key.verify(signature, for: message)
    }
}

extension ByteWriter {
    @inlinable mutating func write(index: ValidatorIndex) { write(index as UInt16) }
}

extension ByteReader {
    @inlinable mutating func readIndex() throws(CodecError) -> ValidatorIndex { try readUInt16() }
}
