import Codec
import BallastCrypto

/// A validator's signature, named by its index in the validator set.
public struct ValidatorSignature: Hashable, Sendable {
    public var signer: ValidatorIndex
    public var signature: Signature

    public init(signer: ValidatorIndex, signature: Signature) {
        self.signer = signer
        self.signature = signature
    }
}

/// A quorum certificate: votes from more than 2/3 of the stake for one block in
/// one round. Signers are strictly ascending, so each signer counts once and the
/// encoding is unique for a given set of votes.
public struct QuorumCertificate: Hashable, Sendable {
    public var blockID: Hash256
    public var round: Round
    public var votes: [ValidatorSignature]

    public init(blockID: Hash256, round: Round, votes: [ValidatorSignature]) {
        self.blockID = blockID
        self.round = round
        self.votes = votes
    }

    /// The certificate of the genesis block: round 0, no signatures.
    public static func genesis(_ genesisID: Hash256) -> QuorumCertificate {
        QuorumCertificate(blockID: genesisID, round: 0, votes: [])
    }
}

/// One validator's part of a timeout certificate: it timed out the round while
/// its highest QC was for `highQCRound`.
public struct TimeoutSignature: Hashable, Sendable {
    public var signer: ValidatorIndex
    public var highQCRound: Round
    public var signature: Signature

    public init(signer: ValidatorIndex, highQCRound: Round, signature: Signature) {
        self.signer = signer
        self.highQCRound = highQCRound
        self.signature = signature
    }
}

/// A timeout certificate: more than 2/3 of the stake timed out `round`. It
/// carries the highest QC any signer reported; a block justified by this TC must
/// extend a QC at least that high (the vote rule).
public struct TimeoutCertificate: Hashable, Sendable {
    public var round: Round
    public var highQC: QuorumCertificate
    public var signatures: [TimeoutSignature]

    public init(round: Round, highQC: QuorumCertificate, signatures: [TimeoutSignature]) {
        self.round = round
        self.highQC = highQC
        self.signatures = signatures
    }
}

/// Why a certificate was refused.
public enum CertificateError: Error, Equatable, Sendable {
    case badGenesis
    case signersNotAscending
    case unknownSigner(ValidatorIndex)
    case badSignature(ValidatorIndex)
    case noQuorum(stake: UInt64, needed: UInt64)
    case highQCMismatch
}

/// Checks certificates against a validator set. Stateless; `Replica` adds a cache.
public struct CertificateVerifier {
    public let validators: ValidatorSet
    public let chain: Hash256
    public let verifier: any SignatureVerifier

    public init(validators: ValidatorSet, chain: Hash256, verifier: any SignatureVerifier) {
        self.validators = validators
        self.chain = chain
        self.verifier = verifier
    }

    /// Checks every signature and the quorum; the genesis QC is the one valid QC without votes.
    public func check(_ qc: QuorumCertificate) throws(CertificateError) {
        if qc.round == 0 {
            guard qc.blockID == chain, qc.votes.isEmpty else { throw .badGenesis }
            return
        }
        let message = SigningMessage.vote(chain: chain, round: qc.round, blockID: qc.blockID)
        try checkSigners(qc.votes.map(\.signer))
        for vote in qc.votes {
            // checkSigners proved every index is in the set.
            guard let v = validators.validator(vote.signer) else { throw .unknownSigner(vote.signer) }
            guard verifier.isValid(vote.signature, by: v.publicKey, over: message) else {
                throw .badSignature(vote.signer)
            }
        }
    }

    /// Checks the quorum, every signature, and that the carried high QC is the
    /// highest any signer reported (and is itself valid).
    public func check(_ tc: TimeoutCertificate) throws(CertificateError) {
        try checkSigners(tc.signatures.map(\.signer))
        var highest: Round = 0
        for part in tc.signatures {
            guard let v = validators.validator(part.signer) else { throw .unknownSigner(part.signer) }
            let message = SigningMessage.timeout(chain: chain, round: tc.round, highQCRound: part.highQCRound)
            guard verifier.isValid(part.signature, by: v.publicKey, over: message) else {
                throw .badSignature(part.signer)
            }
            highest = max(highest, part.highQCRound)
        }
        guard tc.highQC.round == highest, tc.highQC.round < tc.round else { throw .highQCMismatch }
        try check(tc.highQC)
    }

    private func checkSigners(_ signers: [ValidatorIndex]) throws(CertificateError) {
        var stake: UInt64 = 0
        var previous: Int = -1
        for s in signers {
            guard Int(s) > previous else { throw .signersNotAscending }
            previous = Int(s)
            guard let v = validators.validator(s) else { throw .unknownSigner(s) }
            // The set's total fits in 64 bits, so no partial sum overflows.
            stake += v.stake
        }
        guard validators.isQuorum(stake) else { throw .noQuorum(stake: stake, needed: validators.quorumStake) }
    }
}

extension ValidatorSignature: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(index: signer)
        w.write(signature)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        self.init(signer: try r.readIndex(), signature: try r.read())
    }
}

extension QuorumCertificate: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(blockID)
        w.write(round)
        w.write(votes)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        self.init(blockID: try r.read(), round: try r.readUInt64(),
                  votes: try r.readArray(field: "qc.votes", maximum: ConsensusLimits.maxValidators))
    }
}

extension TimeoutSignature: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(index: signer)
        w.write(highQCRound)
        w.write(signature)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        self.init(signer: try r.readIndex(), highQCRound: try r.readUInt64(), signature: try r.read())
    }
}

extension TimeoutCertificate: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(round)
        w.write(highQC)
        w.write(signatures)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        self.init(round: try r.readUInt64(), highQC: try r.read(),
                  signatures: try r.readArray(field: "tc.signatures", maximum: ConsensusLimits.maxValidators))
    }
}
