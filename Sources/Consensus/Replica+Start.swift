extension Replica {
    /// Enters the first round not yet voted in (after a restart, the round after
    /// the persisted high QC, or the last voted round itself, whichever is later).
    mutating func onStart() {
        let first = max(Replica.after(safety.highQC.round), safety.lastVotedRound, 1)
        guard first > round else { return }
        startRound = first
        enterRound(first)
        let highID = safety.highQC.blockID
        if !store.contains(highID) && safety.highQC.round > store.committed.round {
            requestMissing(highID, certifiedBy: safety.highQC, preferring: index)
        }
    }
}
