import Codec
import BallastCrypto

/// Why a replica could not be created.
public enum ReplicaError: Error, Equatable, Sendable {
    /// The signing key is not in the validator set.
    case notAValidator
    /// The recovered committed chain is not a chain.
    case brokenCommittedChain
}

/// What a restarted validator read back from its disk: the last persisted
/// safety state and its committed blocks (the newest ones, oldest first).
public struct Recovery: Sendable {
    public var safety: SafetyState
    public var committed: [Proposal]
    public var executedHeight: UInt64
    public var stateRoot: Hash256
    /// Uncommitted blocks this replica voted for (persisted with each vote), in any order.
    /// A block is certified only by 2f+1 votes, so after every validator restarts at least f+1
    /// honest ones still hold the highest certified block; without it nobody could extend it.
    public var uncommitted: [Proposal]

    public init(safety: SafetyState, committed: [Proposal], executedHeight: UInt64, stateRoot: Hash256,
                uncommitted: [Proposal] = []) {
        self.safety = safety
        self.committed = committed
        self.executedHeight = executedHeight
        self.stateRoot = stateRoot
        self.uncommitted = uncommitted
    }
}

/// One validator's consensus state machine: 2-chain HotStuff (Jolteon).
///
/// Pure: `handle(_:now:)` takes an input and the host's clock reading and
/// returns the effects to perform, in order. The message handlers live in
/// `Replica+*.swift`, one per input; the safety rules in `SafetyRules`.
public struct Replica {
    public let validators: ValidatorSet
    public let index: ValidatorIndex
    public let genesis: Block
    let key: SigningKey
    let config: ConsensusConfig
    let certificates: CertificateVerifier

    /// Persisted state (the high QC here may be newer than the last persisted copy).
    public internal(set) var safety: SafetyState
    public internal(set) var round: Round = 0
    public internal(set) var highTC: TimeoutCertificate?
    var store: BlockStore
    var votes = VoteAggregator()
    var timeouts = TimeoutAggregator()
    var proposalsSeen = RoundIndexed<[ValidatorIndex: SeenProposal]>()
    var leading = LeaderState()
    /// This validator's signed timeout for the current round, re-broadcast while stuck.
    var ownTimeout: Timeout?
    /// A proposal for the current round waiting for its parent to arrive through sync.
    var pendingProposal: Proposal?
    var missing: MissingBlock?
    var verifiedQCs: Set<CertificateKey> = []
    var verifiedTCs: Set<CertificateKey> = []
    var executedRoots = RoundIndexed<Hash256>()
    var lastExecuted: (height: UInt64, root: Hash256)
    var now: UInt64 = 0
    var effects: [Effect] = []
    /// The round this process started in. Back-off counts failed rounds from here at the
    /// earliest: rounds that failed before a restart (often because peers were down too)
    /// say nothing about the network now, and counting them would leave a restarted
    /// cluster waiting out the longest deadline before its first timeout.
    var startRound: Round = 0

    struct SeenProposal {
        var first: Proposal
        var reported: Bool
    }

    struct LeaderState {
        var payload: [[UInt8]]?
        var idleExpired = false
        var proposed = false
    }

    struct MissingBlock {
        var id: Hash256
        var attempts: Int
        /// A request is out; the next one waits for the round timer.
        var awaitingResponse: Bool
    }

    struct CertificateKey: Hashable {
        var round: Round
        var blockID: Hash256
        var qcRound: Round
    }

    /// The chain tag every signature binds: the genesis block id.
    public var chain: Hash256 { genesis.id }
    /// The last committed block.
    public var committedBlock: Block { store.committed }

    /// A replica for the validator holding `key`, from genesis or from `recovery`.
    public init(validators: ValidatorSet, genesis: Block, key: SigningKey, config: ConsensusConfig = ConsensusConfig(),
                verifier: any SignatureVerifier = Ed25519Verifier(), recovery: Recovery? = nil) throws(ReplicaError) {
        guard let index = validators.index(of: key.publicKey) else { throw .notAValidator }
        self.validators = validators
        self.index = index
        self.genesis = genesis
        self.key = key
        self.config = config
        self.certificates = CertificateVerifier(validators: validators, chain: genesis.id, verifier: verifier)
        let genesisProposal = Proposal(block: genesis, timeoutCertificate: nil, signature: .zero)
        if let recovery, !recovery.committed.isEmpty {
            for (a, b) in zip(recovery.committed, recovery.committed.dropFirst())
            where b.block.parentID != a.block.id || b.block.height != Replica.after(a.block.height) || a.block.height == .max {
                throw .brokenCommittedChain
            }
            store = BlockStore(committedChain: recovery.committed)
        } else {
            store = BlockStore(committedChain: [genesisProposal])
        }
        safety = recovery?.safety ?? SafetyState(lastVotedRound: 0, highQC: .genesis(genesis.id))
        lastExecuted = (recovery?.executedHeight ?? 0, recovery?.stateRoot ?? genesis.stateRoot)
        executedRoots[lastExecuted.height] = lastExecuted.root
        // Voted blocks come back oldest round first, each only on top of a stored parent and
        // with the checks a proposal gets on arrival (the persisted bytes are not trusted blindly).
        for p in (recovery?.uncommitted ?? []).sorted(by: { $0.block.round < $1.block.round }) {
            guard p.block.round > store.committed.round, let parent = store.block(p.block.parentID),
                  extendsParent(p.block, parent), signatureIsValid(p) else { continue }
            store.insert(p)
        }
        // A voted block that followed a timeout carries the TC that moved the cluster to its
        // round. Restarted without it, this replica (in that round through its last vote) could
        // not help a validator still in the round before: nobody would hold the certificate any
        // more, and the two groups would each wait for the other's timeouts.
        for p in recovery?.uncommitted ?? [] {
            if let tc = p.timeoutCertificate, tc.round > (highTC?.round ?? 0), isValid(tc) { highTC = tc }
        }
    }

    /// A stored block (committed within the retention window, or uncommitted) with its proposal.
    public func proposal(_ id: Hash256) -> Proposal? { store.proposal(id) }

    /// Handles one input at local time `now` (ms) and returns the effects, in order.
    public mutating func handle(_ input: Input, now: UInt64) -> [Effect] {
        self.now = now
        effects = []
        switch input {
        case .start:
            onStart()
        case .message(let message, let from):
            guard validators.validator(from) != nil else { break }
            switch message {
            case .proposal(let p): onProposal(p, from: from)
            case .vote(let v): onVote(v, from: from)
            case .timeout(let t): onTimeout(t, from: from)
            case .syncInfo(let s): onSyncInfo(s, from: from)
            case .blockRequest(let r): onBlockRequest(r, from: from)
            case .blockResponse(let r): onBlockResponse(r, from: from)
            }
        case .timerFired(let timer):
            onTimer(timer)
        case .payloadReady(let round, let payload):
            onPayloadReady(round: round, payload: payload)
        case .blockExecuted(let height, let blockID, let root):
            onBlockExecuted(height: height, blockID: blockID, stateRoot: root)
        }
        let out = effects
        effects = []
        return out
    }

    /// The round after `r`, saturating (rounds in verified certificates are far from the limit, but never trap).
    static func after(_ r: Round) -> Round { r == .max ? r : r + 1 }

    func isLeader(of round: Round) -> Bool { validators.leader(of: round) == index }

    func stake(of v: ValidatorIndex) -> UInt64 { validators.validator(v)?.stake ?? 0 }

    /// Persists the safety state, then signs: the order of the effects list is
    /// the order the host performs them, so a crash can never leave a signature
    /// out in the world that the disk does not know about.
    mutating func persistSafety(_ next: SafetyState, votingFor block: Proposal? = nil) {
        safety = next
        effects.append(.persist(next, votedBlock: block))
    }
}

// MARK: - Certificates and round changes (shared by the handlers)

extension Replica {
    /// Verifies a QC, remembering QCs already verified (one per block and round).
    mutating func isValid(_ qc: QuorumCertificate) -> Bool {
        let key = CertificateKey(round: qc.round, blockID: qc.blockID, qcRound: qc.round)
        if verifiedQCs.contains(key) { return true }
        do { try certificates.check(qc) } catch { return false }
        if verifiedQCs.count > 4096 { verifiedQCs.removeAll() }
        verifiedQCs.insert(key)
        return true
    }

    mutating func isValid(_ tc: TimeoutCertificate) -> Bool {
        let key = CertificateKey(round: tc.round, blockID: tc.highQC.blockID, qcRound: tc.highQC.round)
        if verifiedTCs.contains(key) { return true }
        do { try certificates.check(tc) } catch { return false }
        if verifiedTCs.count > 4096 { verifiedTCs.removeAll() }
        verifiedTCs.insert(key)
        verifiedQCs.insert(CertificateKey(round: tc.highQC.round, blockID: tc.highQC.blockID, qcRound: tc.highQC.round))
        return true
    }

    /// Takes in a verified QC: raise the high QC, commit what it completes, move to the next round.
    mutating func process(_ qc: QuorumCertificate, from peer: ValidatorIndex) {
        if qc.round > safety.highQC.round { safety.highQC = qc }
        if store.contains(qc.blockID) {
            commitIfCertifiedChain(qc.blockID)
        } else if qc.round > store.committed.round {
            requestMissing(qc.blockID, certifiedBy: qc, preferring: peer)
        }
        advance(to: Replica.after(qc.round))
    }

    /// Takes in a verified TC.
    mutating func process(_ tc: TimeoutCertificate, from peer: ValidatorIndex) {
        if tc.round > (highTC?.round ?? 0) { highTC = tc }
        process(tc.highQC, from: peer)
        advance(to: Replica.after(tc.round))
    }

    /// The 2-chain commit: `certified` has a QC; if its parent is from the round
    /// before, the parent and its uncommitted ancestors are final.
    mutating func commitIfCertifiedChain(_ certified: Hash256) {
        guard let block = store.block(certified), let parent = store.block(block.parentID),
              SafetyRules.certifyingCommits(block, parent: parent),
              parent.height > store.committed.height,
              let chain = store.uncommittedChain(to: parent.id), !chain.isEmpty
        else { return }
        store.commit(chain, retention: config.committedRetention)
        effects.append(.commit(chain))
    }

    mutating func advance(to newRound: Round) {
        guard newRound > round else { return }
        enterRound(newRound)
    }

    /// Starts `newRound`: drop old collections, arm the deadline (doubling per
    /// round since the last QC), and lead if it is our turn.
    mutating func enterRound(_ newRound: Round) {
        effects.append(.cancelTimer(TimerID(kind: .round, round: round)))
        if isLeader(of: round) && !leading.proposed { effects.append(.cancelTimer(TimerID(kind: .idle, round: round))) }
        round = newRound
        ownTimeout = nil
        leading = LeaderState()
        if let p = pendingProposal, p.block.round < newRound { pendingProposal = nil }
        votes.prune(below: newRound >= 2 ? newRound - 2 : 0)
        timeouts.prune(below: newRound >= 1 ? newRound - 1 : 0)
        proposalsSeen.removeAll(below: newRound >= 2 ? newRound - 2 : 0)
        effects.append(.startTimer(TimerID(kind: .round, round: newRound), afterMilliseconds: roundDeadline))
        if isLeader(of: newRound) {
            effects.append(.requestPayload(round: newRound))
            effects.append(.startTimer(TimerID(kind: .idle, round: newRound), afterMilliseconds: config.idleInterval))
            proposeIfReady()
        }
    }

    /// The current round's deadline: doubled for each round since the last QC (or since this
    /// process started, if later) beyond the first, up to a cap. One crashed validator always
    /// costs two rounds without a QC (the round whose votes it should collect, then its own):
    /// doubling from the first would make every single crash wait 2 + 4 s instead of 2 + 2 s.
    var roundDeadline: UInt64 {
        let sinceQC = round - min(round, max(Replica.after(safety.highQC.round), startRound))
        let failedRounds = sinceQC - min(sinceQC, 1)
        return config.roundTimeout << min(failedRounds, config.maxBackoffExponent)
    }

    /// Asks a peer for a block we hold a QC for but not the block (and its
    /// missing ancestors). One request at a time per block; the round timer retries elsewhere.
    mutating func requestMissing(_ id: Hash256, certifiedBy qc: QuorumCertificate?, preferring peer: ValidatorIndex) {
        if let m = missing, m.id == id, m.awaitingResponse { return }
        let attempts = missing?.id == id ? (missing?.attempts ?? 0) + 1 : 0
        missing = MissingBlock(id: id, attempts: attempts, awaitingResponse: true)
        var target = peer
        if target == index || attempts > 0 {
            // Rotate through the QC's signers (they hold the block), else everyone.
            let candidates = (qc?.votes.map(\.signer) ?? []).filter { $0 != index }
            if !candidates.isEmpty {
                target = candidates[attempts % candidates.count]
            } else {
                target = ValidatorIndex((Int(index) + 1 + attempts % max(validators.count - 1, 1)) % validators.count)
            }
        }
        guard target != index else { return }
        sendBlockRequest(id, knownHeight: store.committed.height, to: target)
    }

    mutating func sendBlockRequest(_ id: Hash256, knownHeight: UInt64, to peer: ValidatorIndex) {
        let request = BlockRequest(targetID: id, knownHeight: knownHeight, maxBlocks: config.syncBatch)
        effects.append(.send(.blockRequest(request), to: peer))
    }

    /// Called whenever a block joins the store: it may complete a commit, be the
    /// parent a leader or a waiting proposal needed, or end a sync.
    mutating func blockInserted(_ id: Hash256) {
        if missing?.id == id { missing = nil }
        if id == safety.highQC.blockID {
            commitIfCertifiedChain(id)
            proposeIfReady()
        }
        if let p = pendingProposal, p.block.parentID == id {
            pendingProposal = nil
            onProposal(p, from: p.block.proposer)
        }
    }

    /// Structural checks of a block against its parent (signatures aside).
    func extendsParent(_ b: Block, _ parent: Block) -> Bool {
        b.height == parent.height + 1 && b.round > parent.round && b.justify.round == parent.round
            && b.timestamp > parent.timestamp && b.executedHeight <= parent.height
            && b.proposer == validators.leader(of: b.round)
    }

    func signatureIsValid(_ p: Proposal) -> Bool {
        guard let v = validators.validator(p.block.proposer) else { return false }
        return certificates.verifier.isValid(p.signature, by: v.publicKey,
                                             over: SigningMessage.proposal(chain: chain, blockID: p.block.id))
    }
}
