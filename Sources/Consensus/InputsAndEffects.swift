import BallastCrypto

/// The timers a replica asks its host to run.
public struct TimerID: Hashable, Sendable {
    public enum Kind: UInt8, Sendable {
        /// The round's deadline; re-armed to re-broadcast the timeout while stuck.
        case round
        /// An idle leader's wait before proposing an empty block.
        case idle
    }
    public var kind: Kind
    public var round: Round

    public init(kind: Kind, round: Round) {
        self.kind = kind
        self.round = round
    }
}

/// Everything that can happen to a replica. Each comes with the host's clock
/// reading (`Replica.handle(_:now:)`), the only clock consensus sees.
public enum Input: Sendable {
    /// The host is ready: enter the first round and start timers. Sent once after init or restart.
    case start
    /// A message arrived from validator `from` (the transport's authenticated peer).
    case message(ConsensusMessage, from: ValidatorIndex)
    /// A timer started by `Effect.startTimer` ran out.
    case timerFired(TimerID)
    /// Transactions for this leader's proposal in `round` (answering `Effect.requestPayload`;
    /// may be sent again with more transactions until the leader has proposed).
    case payloadReady(round: Round, payload: [[UInt8]])
    /// The host executed the committed block at `height`, reaching `stateRoot`.
    case blockExecuted(height: UInt64, blockID: Hash256, stateRoot: Hash256)
}

/// What a replica asks its host to do, in order. A `persist` must be durable
/// before any effect after it is performed: that is what keeps a restarted
/// validator from signing twice.
public enum Effect: Sendable {
    /// Write the safety state durably (before performing the following effects), and with it,
    /// when the state records a vote, the block voted for: kept until its round is committed,
    /// it is what `Recovery.uncommitted` gives back after a restart.
    case persist(SafetyState, votedBlock: Proposal?)
    /// Send to one validator (possibly this one: the host loops it back).
    case send(ConsensusMessage, to: ValidatorIndex)
    /// Send to every validator, this one included.
    case broadcast(ConsensusMessage)
    /// These blocks are final, oldest first, each exactly once; execute and store them.
    case commit([Proposal])
    /// Fire `timerID` after this many milliseconds, replacing a timer with the same id.
    case startTimer(TimerID, afterMilliseconds: UInt64)
    case cancelTimer(TimerID)
    /// This replica leads `round`: answer with `Input.payloadReady`.
    case requestPayload(round: Round)
    /// A validator signed two conflicting messages.
    case evidence(Evidence)
}

/// Tunables of the pacemaker. The round timeout must exceed the idle interval
/// plus a network round trip, or an idle cluster would time out.
public struct ConsensusConfig: Sendable {
    /// First round deadline, in ms.
    public var roundTimeout: UInt64 = 2_000
    /// Deadlines double per round without a QC, up to 2^this times the first.
    public var maxBackoffExponent: UInt64 = 3
    /// How often a stuck validator re-broadcasts its timeout (lossy links).
    public var timeoutResendInterval: UInt64 = 1_000
    /// An idle leader proposes an empty block at most this often.
    public var idleInterval: UInt64 = 1_000
    /// How far ahead of the local clock a block timestamp may be and still get a vote.
    public var maxClockDrift: UInt64 = 500
    /// Blocks asked for per sync request.
    public var syncBatch: UInt16 = 64
    /// Committed blocks kept in memory to serve peers that are catching up.
    public var committedRetention: Int = 10_000

    public init() {}
}
