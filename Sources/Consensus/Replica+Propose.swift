import BallastCrypto

extension Replica {
    /// The host supplied transactions for the round we lead.
    mutating func onPayloadReady(round r: Round, payload: [[UInt8]]) {
        guard r == round, isLeader(of: r), !leading.proposed else { return }
        leading.payload = payload
        proposeIfReady()
    }

    /// Proposes once per round we lead, as soon as the parent (the high QC's
    /// block) is known and there is something to propose: transactions, an
    /// uncommitted non-empty ancestor that needs more rounds to commit, or the
    /// idle interval has passed (then an empty block keeps the chain alive).
    mutating func proposeIfReady() {
        guard isLeader(of: round), !leading.proposed, SafetyRules.mayPropose(round: round, state: safety) else { return }
        let payload = leading.payload ?? []
        guard leading.payload != nil || leading.idleExpired else { return }
        let highQC = safety.highQC
        guard let parent = store.block(highQC.blockID) else {
            requestMissing(highQC.blockID, certifiedBy: highQC, preferring: index)
            return
        }
        guard !payload.isEmpty || leading.idleExpired || pipelineCarriesTransactions(from: parent) else { return }
        var tc: TimeoutCertificate? = nil
        if Replica.after(highQC.round) != round {
            // Only a TC for the previous round lets us skip rounds.
            guard let highTC, Replica.after(highTC.round) == round else { return }
            tc = highTC
        }
        let block = Block(round: round, height: parent.height + 1, justify: highQC,
                          timestamp: max(now, Replica.after(parent.timestamp)), proposer: index,
                          executedHeight: min(lastExecuted.height, parent.height), stateRoot: executedRoot(atMost: parent.height),
                          payload: payload)
        let signature = key.sign(SigningMessage.proposal(chain: chain, blockID: block.id))
        leading.proposed = true
        persistSafety(SafetyRules.recordingProposal(round: round, state: safety))
        effects.append(.cancelTimer(TimerID(kind: .idle, round: round)))
        effects.append(.broadcast(.proposal(Proposal(block: block, timeoutCertificate: tc, signature: signature))))
        if leading.idleExpired {
            // The idle wait was our own choice, not a fault: restart our deadline
            // from the proposal, or the next leader's idle wait would time us out.
            effects.append(.startTimer(TimerID(kind: .round, round: round), afterMilliseconds: roundDeadline))
        }
    }

    /// The root that goes with `min(lastExecuted.height, maxHeight)`.
    private func executedRoot(atMost maxHeight: UInt64) -> Hash256 {
        if lastExecuted.height <= maxHeight { return lastExecuted.root }
        return executedRoots[maxHeight] ?? lastExecuted.root
    }

    /// Whether an uncommitted ancestor holds transactions (so the leader should
    /// not wait for the idle interval: the next two blocks commit them).
    private func pipelineCarriesTransactions(from tip: Block) -> Bool {
        var cursor: Block? = tip
        var steps = 0
        while let b = cursor, b.height > store.committed.height, steps < 64 {
            if !b.payload.isEmpty { return true }
            cursor = store.block(b.parentID)
            steps += 1
        }
        return false
    }
}
