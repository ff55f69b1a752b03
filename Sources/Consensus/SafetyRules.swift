import Codec
import BallastCrypto

/// What a validator must keep across restarts so it never signs two
/// conflicting messages: the last round it voted or timed out in, its
/// highest QC (which every timeout it signs must carry), and the last round it
/// proposed in (so a restarted leader does not propose a second block). The
/// host writes this to disk on `Effect.persist`, before any later effect.
public struct SafetyState: Hashable, Sendable {
    public var lastVotedRound: Round
    public var highQC: QuorumCertificate
    public var lastProposedRound: Round

    public init(lastVotedRound: Round, highQC: QuorumCertificate, lastProposedRound: Round = 0) {
        self.lastVotedRound = lastVotedRound
        self.highQC = highQC
        self.lastProposedRound = lastProposedRound
    }
}

/// The three rules that make 2-chain HotStuff safe; everything else in the
/// replica is about liveness.
public enum SafetyRules {
    /// Vote rule: at most one vote per round, in increasing rounds, and only for
    /// a block that extends the previous round's QC, or that follows a TC for the
    /// previous round and extends a QC at least as high as any in that TC.
    public static func mayVote(for block: Block, timeoutCertificate tc: TimeoutCertificate?, state: SafetyState) -> Bool {
        guard block.round > state.lastVotedRound else { return false }
        // round > lastVotedRound >= 0, so round - 1 cannot underflow.
        if block.justify.round == block.round - 1 { return true }
        guard let tc, tc.round == block.round - 1 else { return false }
        return block.justify.round >= tc.highQC.round
    }

    /// Timeout rule: a validator may time out any round it has not moved past.
    /// Signing the timeout raises the last voted round to it (`recordingTimeout`),
    /// so it can no longer vote in that round: without this, a quorum could both
    /// certify a block in round r and time r out, and a 2-chain commit could be
    /// overtaken by a TC whose high QC predates it.
    public static func mayTimeout(round: Round, state: SafetyState) -> Bool {
        round >= state.lastVotedRound
    }

    /// Commit rule (2-chain): when `block` is certified and its parent is from the
    /// round just before it, the parent and all its ancestors are committed.
    public static func certifyingCommits(_ block: Block, parent: Block) -> Bool {
        block.round > 0 && parent.round == block.round - 1
    }

    /// The state after voting in `round` (the high QC only grows).
    public static func recordingVote(round: Round, highQC: QuorumCertificate, state: SafetyState) -> SafetyState {
        SafetyState(lastVotedRound: max(state.lastVotedRound, round),
                    highQC: highQC.round > state.highQC.round ? highQC : state.highQC,
                    lastProposedRound: state.lastProposedRound)
    }

    /// Proposal rule: one proposal per round, even across restarts.
    public static func mayPropose(round: Round, state: SafetyState) -> Bool {
        round > state.lastProposedRound
    }

    /// The state after proposing in `round`.
    public static func recordingProposal(round: Round, state: SafetyState) -> SafetyState {
        var next = state
        next.lastProposedRound = max(state.lastProposedRound, round)
        return next
    }

    /// The state after timing out `round`.
    public static func recordingTimeout(round: Round, highQC: QuorumCertificate, state: SafetyState) -> SafetyState {
        recordingVote(round: round, highQC: highQC, state: state)
    }
}

extension SafetyState: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(lastVotedRound)
        w.write(highQC)
        w.write(lastProposedRound)
    }
    public init(from r: inout ByteReader) throws(CodecError) {
        self.init(lastVotedRound: try r.readUInt64(), highQC: try r.read(), lastProposedRound: try r.readUInt64())
    }
}
