extension Replica {
    /// A timeout arrived: take in its high QC, help a peer that is behind, join
    /// the timeout once more than 1/3 of the stake has (some honest validator is
    /// stuck, so waiting longer cannot help), and form the TC at quorum.
    mutating func onTimeout(_ t: Timeout, from peer: ValidatorIndex) {
        guard let signer = validators.validator(t.signer), t.highQC.round < t.round,
              t.round <= round + 1_000 else { return }
        if !(peer == index && t.signer == index) {
            let message = SigningMessage.timeout(chain: chain, round: t.round, highQCRound: t.highQC.round)
            guard certificates.verifier.isValid(t.signature, by: signer.publicKey, over: message) else { return }
        }
        guard isValid(t.highQC) else { return }
        process(t.highQC, from: peer)
        if t.round < round {
            if peer != index { effects.append(.send(.syncInfo(SyncInfo(highQC: safety.highQC, highTC: highTC)), to: peer)) }
            return
        }
        switch timeouts.add(t, stake: signer.stake, validators: validators) {
        case .ignored:
            break
        case .counted(let stake):
            if t.round == round, ownTimeout == nil, stake >= validators.validityStake { timeOut() }
        case .certified(let tc):
            verifiedTCs.insert(CertificateKey(round: tc.round, blockID: tc.highQC.blockID, qcRound: tc.highQC.round))
            process(tc, from: peer)
        }
    }

    /// Gives up on the current round: raise the last voted round (persisted
    /// first), then sign and broadcast the timeout with our high QC. Called
    /// again while stuck, it re-broadcasts the same timeout.
    mutating func timeOut() {
        defer {
            effects.append(.startTimer(TimerID(kind: .round, round: round), afterMilliseconds: config.timeoutResendInterval))
        }
        if let own = ownTimeout {
            effects.append(.broadcast(.timeout(own)))
            return
        }
        guard SafetyRules.mayTimeout(round: round, state: safety) else { return }
        persistSafety(SafetyRules.recordingTimeout(round: round, highQC: safety.highQC, state: safety))
        let message = SigningMessage.timeout(chain: chain, round: round, highQCRound: safety.highQC.round)
        let timeout = Timeout(round: round, highQC: safety.highQC, signer: index, signature: key.sign(message))
        ownTimeout = timeout
        effects.append(.broadcast(.timeout(timeout)))
    }
}
