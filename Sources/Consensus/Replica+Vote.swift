extension Replica {
    /// A vote for a block of round r, sent to us as leader of r + 1: count it,
    /// report a second vote in the same round, and form the QC at quorum.
    mutating func onVote(_ v: Vote, from peer: ValidatorIndex) {
        // Rounds come from outside: compare without arithmetic on them.
        guard v.round < Round.max, isLeader(of: v.round + 1), v.round >= round || round - v.round <= 2, v.round <= round + 2,
              let voter = validators.validator(v.voter) else { return }
        if !(peer == index && v.voter == index) {
            let message = SigningMessage.vote(chain: chain, round: v.round, blockID: v.blockID)
            guard certificates.verifier.isValid(v.signature, by: voter.publicKey, over: message) else { return }
        }
        switch votes.add(v, stake: voter.stake, validators: validators) {
        case .counted, .ignored:
            break
        case .equivocation(let first):
            effects.append(.evidence(.conflictingVotes(first, v)))
        case .certified(let qc):
            verifiedQCs.insert(CertificateKey(round: qc.round, blockID: qc.blockID, qcRound: qc.round))
            announce(qc)
            process(qc, from: index)
        }
    }
}

extension Replica {
    /// Sends a QC we just formed to every other validator at once. Our proposal
    /// for the next round carries it too, but that waits for the minimum block
    /// interval and the payload; the QC alone lets the others commit the block it
    /// completes (and enter the next round) a few milliseconds sooner. They verify
    /// it once: the proposal's copy is then found among the verified QCs.
    private mutating func announce(_ qc: QuorumCertificate) {
        let message = ConsensusMessage.syncInfo(SyncInfo(highQC: qc, highTC: nil))
        for v in 0..<validators.count where ValidatorIndex(v) != index {
            effects.append(.send(message, to: ValidatorIndex(v)))
        }
    }
}
