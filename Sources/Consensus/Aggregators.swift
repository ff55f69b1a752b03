import BallastCrypto

/// Collects votes for the rounds this replica leads next, forms QCs, and
/// catches validators voting twice in a round (the Aggregator of HotStuff).
struct VoteAggregator {
    enum Outcome {
        case counted
        case ignored
        /// `voter` already voted for another block in this round; reported once per voter and round.
        case equivocation(first: Vote)
        case certified(QuorumCertificate)
    }

    private struct Tally {
        var stake: UInt64 = 0
        var signatures: [ValidatorIndex: Signature] = [:]
    }

    private struct RoundVotes {
        var first: [ValidatorIndex: Vote] = [:]
        var reported: Set<ValidatorIndex> = []
        var tallies: [Hash256: Tally] = [:]
        var certified = false
    }

    private var rounds = RoundIndexed<RoundVotes>()

    mutating func add(_ vote: Vote, stake: UInt64, validators: ValidatorSet) -> Outcome {
        var r = rounds[vote.round] ?? RoundVotes()
        defer { rounds[vote.round] = r }
        if let first = r.first[vote.voter] {
            guard first.blockID != vote.blockID else { return .ignored }
            guard r.reported.insert(vote.voter).inserted else { return .ignored }
            return .equivocation(first: first)
        }
        r.first[vote.voter] = vote
        guard !r.certified else { return .counted }
        var tally = r.tallies[vote.blockID] ?? Tally()
        tally.stake += stake
        tally.signatures[vote.voter] = vote.signature
        r.tallies[vote.blockID] = tally
        guard validators.isQuorum(tally.stake) else { return .counted }
        r.certified = true
        let votes = tally.signatures.keys.sorted().compactMap { signer in
            tally.signatures[signer].map { ValidatorSignature(signer: signer, signature: $0) }
        }
        return .certified(QuorumCertificate(blockID: vote.blockID, round: vote.round, votes: votes))
    }

    mutating func prune(below round: Round) { rounds.removeAll(below: round) }
}

/// Collects timeouts per round and forms TCs.
struct TimeoutAggregator {
    enum Outcome {
        case ignored
        /// Counted; the stake that has now timed out this round.
        case counted(stake: UInt64)
        case certified(TimeoutCertificate)
    }

    private struct RoundTimeouts {
        var parts: [ValidatorIndex: TimeoutSignature] = [:]
        var stake: UInt64 = 0
        var highQC: QuorumCertificate?
        var certified = false
    }

    private var rounds = RoundIndexed<RoundTimeouts>()

    mutating func add(_ t: Timeout, stake: UInt64, validators: ValidatorSet) -> Outcome {
        var r = rounds[t.round] ?? RoundTimeouts()
        defer { rounds[t.round] = r }
        guard r.parts[t.signer] == nil, !r.certified else { return .ignored }
        r.parts[t.signer] = TimeoutSignature(signer: t.signer, highQCRound: t.highQC.round, signature: t.signature)
        r.stake += stake
        if r.highQC.map({ t.highQC.round > $0.round }) ?? true { r.highQC = t.highQC }
        guard validators.isQuorum(r.stake), let highQC = r.highQC else { return .counted(stake: r.stake) }
        r.certified = true
        let parts = r.parts.keys.sorted().compactMap { r.parts[$0] }
        return .certified(TimeoutCertificate(round: t.round, highQC: highQC, signatures: parts))
    }

    mutating func prune(below round: Round) { rounds.removeAll(below: round) }
}
