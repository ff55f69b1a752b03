import Codec
import Consensus
import BallastCrypto
import Testing

@Suite struct ConsensusEncodingTests {
    let f = Fixture(count: 4)

    func roundTrip(_ m: ConsensusMessage) throws {
        let bytes = m.canonicalBytes
        #expect(try ConsensusMessage(canonicalBytes: bytes) == m)
        // Every strict prefix is refused with a typed error, never a trap.
        for cut in [0, 1, bytes.count / 2, bytes.count - 1] {
            #expect(throws: CodecError.self) { try ConsensusMessage(canonicalBytes: Array(bytes.prefix(cut))) }
        }
        #expect(throws: CodecError.trailingBytes(count: 1)) { try ConsensusMessage(canonicalBytes: bytes + [0]) }
    }

    @Test func everyMessageRoundTrips() throws {
        let genesisQC = QuorumCertificate.genesis(f.chain)
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        let qc1 = f.qc(round: 1, blockID: p1.block.id, signers: [0, 1, 2])
        let tc = TimeoutCertificate(round: 2, highQC: qc1, signatures: [0, 1, 3].map {
            TimeoutSignature(signer: ValidatorIndex($0), highQCRound: 1, signature: f.timeout($0, round: 2, highQC: qc1).signature)
        })
        let p3 = f.proposal(round: 3, parent: p1.block, justify: qc1, tc: tc)
        try roundTrip(.proposal(p1))
        try roundTrip(.proposal(p3))
        try roundTrip(.vote(f.vote(2, round: 1, blockID: p1.block.id)))
        try roundTrip(.timeout(f.timeout(3, round: 2, highQC: qc1)))
        try roundTrip(.syncInfo(SyncInfo(highQC: qc1, highTC: tc)))
        try roundTrip(.blockRequest(BlockRequest(targetID: p3.block.id, knownHeight: 7, maxBlocks: 64)))
        try roundTrip(.blockResponse(BlockResponse(targetID: p3.block.id, proposals: [p1, p3])))
        let e = Evidence.conflictingVotes(f.vote(1, round: 4, blockID: p1.block.id), f.vote(1, round: 4, blockID: p3.block.id))
        #expect(try Evidence(canonicalBytes: e.canonicalBytes) == e)
        let s = SafetyState(lastVotedRound: 9, highQC: qc1)
        #expect(try SafetyState(canonicalBytes: s.canonicalBytes) == s)
    }

    @Test func blockIDCommitsToEveryField() {
        let qc = QuorumCertificate.genesis(f.chain)
        let base = Block(round: 1, height: 1, justify: qc, timestamp: 5, proposer: 1, executedHeight: 0,
                         stateRoot: .zero, payload: [[1]])
        let variants = [
            Block(round: 2, height: 1, justify: qc, timestamp: 5, proposer: 1, executedHeight: 0, stateRoot: .zero, payload: [[1]]),
            Block(round: 1, height: 2, justify: qc, timestamp: 5, proposer: 1, executedHeight: 0, stateRoot: .zero, payload: [[1]]),
            Block(round: 1, height: 1, justify: qc, timestamp: 6, proposer: 1, executedHeight: 0, stateRoot: .zero, payload: [[1]]),
            Block(round: 1, height: 1, justify: qc, timestamp: 5, proposer: 2, executedHeight: 0, stateRoot: .zero, payload: [[1]]),
            Block(round: 1, height: 1, justify: qc, timestamp: 5, proposer: 1, executedHeight: 1, stateRoot: .zero, payload: [[1]]),
            Block(round: 1, height: 1, justify: qc, timestamp: 5, proposer: 1, executedHeight: 0, stateRoot: Blake2b.hash256([1]), payload: [[1]]),
            Block(round: 1, height: 1, justify: qc, timestamp: 5, proposer: 1, executedHeight: 0, stateRoot: .zero, payload: [[1], []]),
        ]
        for v in variants { #expect(v.id != base.id) }
        #expect(Set(variants.map(\.id)).count == variants.count)
    }

    @Test func unknownTagAndVersionAreRefused() {
        #expect(throws: CodecError.unsupportedVersion(type: "ConsensusMessage", version: 2)) {
            try ConsensusMessage(canonicalBytes: [2, 1])
        }
        #expect(throws: CodecError.unknownTag(type: "ConsensusMessage", tag: 9)) {
            try ConsensusMessage(canonicalBytes: [1, 9])
        }
    }

    @Test func quorumThresholds() throws {
        let four = try ValidatorSet(equalStake: f.keys.map(\.publicKey))
        #expect(four.quorumStake == 3)
        #expect(four.validityStake == 2)
        let weighted = try ValidatorSet([Validator(publicKey: f.keys[0].publicKey, stake: 50),
                                         Validator(publicKey: f.keys[1].publicKey, stake: 25),
                                         Validator(publicKey: f.keys[2].publicKey, stake: 25)])
        #expect(weighted.quorumStake == 67)
        #expect(weighted.validityStake == 34)
        #expect(throws: ValidatorSetError.duplicateKey(index: 1)) {
            try ValidatorSet(equalStake: [f.keys[0].publicKey, f.keys[0].publicKey])
        }
        #expect(throws: ValidatorSetError.stakeOverflow) {
            try ValidatorSet([Validator(publicKey: f.keys[0].publicKey, stake: .max),
                              Validator(publicKey: f.keys[1].publicKey, stake: 1)])
        }
        #expect(throws: ValidatorSetError.zeroStake(index: 0)) {
            try ValidatorSet([Validator(publicKey: f.keys[0].publicKey, stake: 0)])
        }
    }

    @Test func certificateChecks() throws {
        let checker = CertificateVerifier(validators: f.validators, chain: f.chain, verifier: Ed25519Verifier())
        let id = Blake2b.hash256([7])
        try checker.check(f.qc(round: 3, blockID: id, signers: [0, 2, 3]))
        #expect(throws: CertificateError.noQuorum(stake: 2, needed: 3)) {
            try checker.check(f.qc(round: 3, blockID: id, signers: [0, 2]))
        }
        var dup = f.qc(round: 3, blockID: id, signers: [0, 2, 3])
        dup.votes[1] = dup.votes[0]
        #expect(throws: CertificateError.signersNotAscending) { try checker.check(dup) }
        var forged = f.qc(round: 3, blockID: id, signers: [0, 2, 3])
        forged.round = 4
        #expect(throws: CertificateError.badSignature(0)) { try checker.check(forged) }
        #expect(throws: CertificateError.badGenesis) {
            try checker.check(QuorumCertificate(blockID: id, round: 0, votes: []))
        }
        let qc = f.qc(round: 3, blockID: id, signers: [0, 1, 2])
        var tc = TimeoutCertificate(round: 5, highQC: qc, signatures: [1, 2, 3].map {
            TimeoutSignature(signer: ValidatorIndex($0), highQCRound: 3, signature: f.timeout($0, round: 5, highQC: qc).signature)
        })
        try checker.check(tc)
        tc.highQC = .genesis(f.chain)
        #expect(throws: CertificateError.highQCMismatch) { try checker.check(tc) }
    }
}
