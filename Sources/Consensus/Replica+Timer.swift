extension Replica {
    /// A timer ran out. Timers of past rounds are ignored.
    mutating func onTimer(_ timer: TimerID) {
        guard timer.round == round else { return }
        switch timer.kind {
        case .idle:
            guard isLeader(of: round), !leading.proposed else { return }
            leading.idleExpired = true
            proposeIfReady()
        case .round:
            if let m = missing {
                // The last request may have been lost: ask someone else.
                missing?.awaitingResponse = false
                requestMissing(m.id, certifiedBy: nil, preferring: index)
            }
            timeOut()
        }
    }
}
