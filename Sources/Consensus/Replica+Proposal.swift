extension Replica {
    /// A proposal arrived: check it, report equivocation, take in its
    /// certificates, store the block and vote if the vote rule allows.
    mutating func onProposal(_ p: Proposal, from peer: ValidatorIndex) {
        let b = p.block
        guard b.round > 0, b.justify.round < b.round, b.proposer == validators.leader(of: b.round) else { return }
        // A loop-back of our own proposal needs no signature check.
        guard (peer == index && b.proposer == index) || signatureIsValid(p) else { return }
        recordForEquivocation(p)
        guard isValid(b.justify) else { return }
        if let tc = p.timeoutCertificate {
            guard tc.round == b.round - 1, isValid(tc) else { return }
        }
        process(b.justify, from: peer)
        if let tc = p.timeoutCertificate { process(tc, from: peer) }
        // Its certificates must have brought us to its round; a block for a later round is unjustified.
        guard b.round <= round else { return }
        guard let parent = store.block(b.parentID) else {
            if b.round == round {
                pendingProposal = p
                requestMissing(b.parentID, certifiedBy: b.justify, preferring: peer)
            }
            return
        }
        guard extendsParent(b, parent) else { return }
        if store.insert(p) { blockInserted(b.id) }
        guard b.round == round else { return }
        voteIfSafe(p)
    }

    /// Two different signed proposals from one leader for one round are evidence.
    private mutating func recordForEquivocation(_ p: Proposal) {
        let b = p.block
        guard b.round >= round || round - b.round <= 2 else { return }
        var seen = proposalsSeen[b.round] ?? [:]
        defer { proposalsSeen[b.round] = seen }
        guard var entry = seen[b.proposer] else {
            seen[b.proposer] = SeenProposal(first: p, reported: false)
            return
        }
        guard entry.first.block.id != b.id, !entry.reported else { return }
        entry.reported = true
        seen[b.proposer] = entry
        effects.append(.evidence(.conflictingProposals(entry.first, p)))
    }

    /// Votes for a stored block of the current round when the clock, the state
    /// root and the vote rule all allow it. Persists before the vote leaves.
    private mutating func voteIfSafe(_ p: Proposal) {
        let b = p.block
        guard b.timestamp <= now &+ config.maxClockDrift else { return }
        if let root = executedRoots[b.executedHeight], root != b.stateRoot { return }
        guard SafetyRules.mayVote(for: b, timeoutCertificate: p.timeoutCertificate, state: safety) else { return }
        persistSafety(SafetyRules.recordingVote(round: b.round, highQC: safety.highQC, state: safety), votingFor: p)
        let signature = key.sign(SigningMessage.vote(chain: chain, round: b.round, blockID: b.id))
        let vote = Vote(round: b.round, blockID: b.id, voter: index, signature: signature)
        effects.append(.send(.vote(vote), to: validators.leader(of: b.round + 1)))
    }
}
