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
            process(qc, from: index)
        }
    }
}
