import Codec
import Consensus
import BallastCrypto
import Foundation
import Ledger
import Logging
import Mempool
import Storage

/// The validator's connection to the other validators. Two implementations:
/// the TCP peer manager (`Network`) and an in-process hub for tests.
public protocol PeerTransport: Sendable {
    /// Sends to one validator (never this one).
    func send(_ bytes: [UInt8], to peer: PublicKey)
    /// Sends to every other validator.
    func broadcast(_ bytes: [UInt8])
    /// Validators with a live connection.
    func connectedPeers() -> [PublicKey]
}

/// A fatal condition: the node stops with this message rather than continue wrong.
public struct NodeHalt: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What the node reports on `/v1/status`.
public struct NodeStatus: Codable, Sendable, Equatable {
    public var moniker: String
    public var chainId: String
    public var height: UInt64
    public var round: UInt64
    public var leader: String
    public var stateRoot: String
    public var lastBlockTimeMs: UInt64
    public var peers: [String]
    public var mempoolSize: Int
    public var validatorIndex: Int
}

/// A committed transaction's receipt as the node serves it (stored as a `StoredReceipt`).
public struct ReceiptRecord: Codable, Sendable, Equatable {
    public var txId: String
    public var height: UInt64
    public var index: Int
    public var ok: Bool
    public var code: String?
    public var message: String?
    public var orders: [OrderRecord]
    public var notice: String?

    public struct OrderRecord: Codable, Sendable, Equatable {
        public var orderId: UInt64?
        public var filled: Int64
        public var resting: Int64
        public var code: String?
        public var message: String?
    }
}

/// One validator: the consensus core and the ledger driven by network messages,
/// timers and client transactions, with every commit stored before it is
/// acknowledged.
///
/// All consensus and ledger state is touched from this actor only, one event at
/// a time, in the order the events arrive; effects are performed in the order
/// the replica returns them, and a `persist` is on disk before the next effect.
public actor ValidatorRuntime {
    public let config: NodeConfig
    public let genesis: Genesis
    public let key: SigningKey
    let store: NodeStore
    /// Receipts and account history: the index file plus the blocks executed since its last batch.
    let index: CommitIndex
    /// Writes the ledger snapshots, off this actor.
    let snapshots: SnapshotWriter
    public nonisolated let mempool: Mempool
    public nonisolated let metrics: NodeMetrics
    /// The peer transport, through the outbox that holds messages until the safety state written
    /// before them is synced.
    let transport: any PeerTransport
    let outbox: SyncedOutbox
    let logger: Logger
    let validators: ValidatorSet
    let consensusGenesis: Block

    var replica: Replica
    var ledger: Ledger
    var executedHeight: UInt64
    var lastBlockTime: UInt64 = 0
    /// Our state root after each recent height, to catch a divergence from the quorum.
    var rootsByHeight: [UInt64: Hash256] = [:]
    var timers = TimerSchedule()
    /// The task that wakes the loop when the earliest timer is due (`timers.wakeAt`).
    var timerWake: Task<Void, Never>?
    /// The task that answers the block waiters whose time is up (`blockWaiters.wakeAt`).
    var blockWaiterWake: Task<Void, Never>?
    /// Proposals seen and not yet committed, by block id: a leader leaves out the
    /// transactions of the chain it extends (its high QC's block and that block's
    /// uncommitted ancestors), which will commit with it. Transactions of a block
    /// that lost its round (no QC) are proposed again.
    var uncommitted: [Hash256: UncommittedBlock] = [:]
    var committedRound: Round = 0

    struct UncommittedBlock {
        var parent: Hash256
        var round: Round
        var transactions: [Hash256]
    }
    /// The round this validator leads and still owes a payload for.
    var awaitingPayload: Round?
    var gossipBuffer: [[UInt8]] = []
    /// When pending transactions were last checked for expiry (ms).
    var lastExpiry: UInt64 = 0
    /// When (node clock, ms) the latest proposal of any leader arrived: a leader waits
    /// `consensus.minBlockIntervalMs` after it before handing its payload over.
    var lastProposalAt: UInt64 = 0
    var payloadRetryScheduled = false
    var gossipScheduled = false
    /// Waiters for `?wait=commit`, by transaction id.
    var commitWaiters: [Hash256: [CheckedContinuation<ReceiptRecord?, Never>]] = [:]
    /// Requests waiting for a height to be executed (`GET /v1/blocks/{height}/receipts?wait=`).
    var blockWaiters = BlockWaiters()
    public private(set) var halted: NodeHalt?
    /// A crash test's injection point (nil in normal operation).
    let crashPoint: CrashPoint?
    var safetyWrites = 0
    /// Where every signed vote, timeout and proposal is recorded as it is sent (nil: nowhere).
    let signedMessageLog: SignedMessageLog?

    let events: AsyncStream<NodeEvent>
    let sink: AsyncStream<NodeEvent>.Continuation

    enum NodeEvent: Sendable {
        case start
        case consensus(ConsensusMessage, from: ValidatorIndex)
        /// The earliest timer may be due.
        case timersDue
    }

    /// Opens the store, restores the ledger (snapshot, then the blocks after it,
    /// each root checked against the stored one) and the consensus safety state.
    public init(config: NodeConfig, genesis: Genesis, key: SigningKey, store: NodeStore,
                transport: any PeerTransport, logger: Logger, metrics: NodeMetrics = NodeMetrics(),
                crashPoint: CrashPoint? = nil, signedMessageLog: SignedMessageLog? = nil) throws {
        self.config = config
        self.crashPoint = crashPoint
        self.signedMessageLog = signedMessageLog
        self.metrics = metrics
        self.genesis = genesis
        self.key = key
        self.store = store
        outbox = SyncedOutbox(transport) { try store.syncCommittedBlocks() }
        self.transport = outbox
        self.logger = logger
        var limits = MempoolLimits()
        limits.maxTransactions = config.mempool.maxTransactions
        limits.maxPerAccount = config.mempool.maxPerAccount
        mempool = Mempool(chainID: genesis.chainID, limits: limits)
        validators = try ValidatorSet(genesis.validators.map { Validator(publicKey: $0.publicKey, stake: UInt64($0.stake)) })

        let genesisLedger = try Ledger(genesis: genesis)
        consensusGenesis = ValidatorRuntime.consensusGenesis(genesis, ledger: genesisLedger)

        // Ledger: the newest intact snapshot the index has caught up with, then every stored block
        // after it; the blocks above the index's height are indexed again as they execute.
        let index = try CommitIndex(store: try IndexStore(directory: store.directory), blocks: store)
        let latest = try store.latestHeight() ?? 0
        if index.indexedHeight > latest {
            throw NodeHalt("""
                the index (\(index.store.databasePath)) is at height \(index.indexedHeight), above the block store's \(latest): \
                it belongs to another copy of this chain; delete it (with its -wal and -shm files) and the node rebuilds it
                """)
        }
        var ledger = genesisLedger
        var height: UInt64 = 0
        if let snapshot = try store.latestSnapshot(atMost: index.indexedHeight) {
            ledger = try Ledger(snapshot: snapshot.bytes)
            guard ledger.stateRoot == snapshot.stateRoot else {
                throw NodeHalt("snapshot at height \(snapshot.height) decodes to root \(ledger.stateRoot.hex), recorded \(snapshot.stateRoot.hex)")
            }
            height = snapshot.height
        }
        var roots: [UInt64: Hash256] = [height: ledger.stateRoot]
        var recent: [Proposal] = []
        while true {
            let batch = try store.blocks(from: height + 1, limit: 256)
            if batch.isEmpty { break }
            for stored in batch {
                let proposal = try Proposal(canonicalBytes: stored.bytes)
                let transactions = try ValidatorRuntime.validTransactions(proposal.block.payload, ids: proposal.block.payload.map { Blake2b.hash256($0) },
                                                                          height: stored.height, chainID: genesis.chainID, index: index, mempool: nil)
                let result = ledger.apply(block: BlockInput(timeMs: Int64(proposal.block.timestamp), transactions: transactions.map(\.transaction)))
                guard result.stateRoot == stored.stateRoot else {
                    throw NodeHalt("replaying height \(stored.height): state root \(result.stateRoot.hex) differs from the stored \(stored.stateRoot.hex)")
                }
                if stored.height > index.height {
                    index.append(ValidatorRuntime.indexed(height: stored.height, transactions: transactions, result: result))
                }
                height = stored.height
                roots[height] = result.stateRoot
                recent.append(proposal)
                if recent.count > 256 { recent.removeFirst(recent.count - 256) }
            }
        }
        // Consensus needs a contiguous committed tail; fetch it if the snapshot covered everything.
        if recent.isEmpty, height > 0 {
            recent = try store.blocks(from: height > 64 ? height - 63 : 1, limit: 64).map { try Proposal(canonicalBytes: $0.bytes) }
        }
        self.ledger = ledger
        self.index = index
        snapshots = SnapshotWriter(store: store, crashPoint: crashPoint)
        executedHeight = height
        rootsByHeight = roots
        lastBlockTime = recent.last?.block.timestamp ?? 0

        var consensusConfig = ConsensusConfig()
        consensusConfig.roundTimeout = UInt64(config.consensus.roundTimeoutMs)
        consensusConfig.idleInterval = UInt64(config.consensus.idleIntervalMs)
        consensusConfig.committedRetention = config.consensus.committedBlocksInMemory
        var recovery: Recovery? = nil
        if let safetyBytes = try store.loadSafetyState() {
            let safety = try SafetyState(canonicalBytes: safetyBytes)
            let voted = try store.votedBlocks().compactMap { try? Proposal(canonicalBytes: $0) }
            recovery = Recovery(safety: safety, committed: recent, executedHeight: height, stateRoot: ledger.stateRoot,
                                uncommitted: voted)
        } else if !recent.isEmpty {
            recovery = Recovery(safety: SafetyState(lastVotedRound: 0, highQC: .genesis(consensusGenesis.id)),
                                committed: recent, executedHeight: height, stateRoot: ledger.stateRoot)
        }
        replica = try Replica(validators: validators, genesis: consensusGenesis, key: key, config: consensusConfig, recovery: recovery)
        (events, sink) = AsyncStream.makeStream(of: NodeEvent.self)
    }

    /// The chain tag: the consensus genesis block id (it commits to the chain id
    /// and the genesis state root). Peers must agree on it to talk.
    public var chainTag: Hash256 { consensusGenesis.id }

    /// The chain tag of `genesis`, without starting a node.
    public static func chainTag(of genesis: Genesis) throws -> Hash256 {
        consensusGenesis(genesis, ledger: try Ledger(genesis: genesis)).id
    }

    private static func consensusGenesis(_ genesis: Genesis, ledger: Ledger) -> Block {
        Block.genesis(chainID: genesis.chainID, stateRoot: ledger.stateRoot)
    }

    /// Runs the event loop until the task is cancelled or the node halts.
    public func run() async throws {
        sink.yield(.start)
        defer {
            timerWake?.cancel()
            blockWaiterWake?.cancel()
            blockWaiters.release(upTo: .max)
        }
        for await event in events {
            if Task.isCancelled { break }
            handle(event)
            if let halted { throw halted }
        }
    }

    /// Stops the loop.
    public func stop() {
        sink.finish()
        // What is still pending would be indexed again at the next start; storing it now spares that.
        try? index.flush()
    }

    // MARK: Inputs

    /// A frame from another validator (already authenticated by the transport).
    public func receive(_ bytes: [UInt8], from peer: PublicKey) async {
        guard let index = validators.index(of: peer) else { return }
        let message: PeerMessage
        do { message = try PeerMessage(canonicalBytes: bytes) } catch {
            logger.warning("undecodable message from peer", metadata: ["peer": "\(peer.hex.prefix(16))", "error": "\(error)"])
            return
        }
        switch message {
        case .consensus(let m):
            handle(.consensus(m, from: index))
        case .transactions(let batch):
            // Verified off the actor and off the caller's loop: consensus messages behind it must not wait.
            Task { await self.admitGossip(batch) }
        }
    }

    private func admitGossip(_ batch: [[UInt8]]) async {
        let results = await admitInParallel(batch)
        if results.contains(where: { if case .success = $0 { return true } else { return false } }) {
            offerPayloadAgain()
        }
    }

    /// Admits a client's transaction and gossips it once. Throws the admission error.
    public func submit(_ bytes: [UInt8]) async throws(AdmissionError) -> Hash256 {
        switch await submit(batch: [bytes])[0] {
        case .success(let id): return id
        case .failure(let error): throw error
        }
    }

    /// Admits a batch of client transactions, results in input order, and gossips the admitted
    /// ones once. Signatures are verified on all cores off the actor, so consensus messages do not
    /// wait behind a client's batch.
    public func submit(batch: [[UInt8]]) async -> [Result<Hash256, AdmissionError>] {
        let results = await admitInParallel(batch)
        var admitted = 0
        let answers = results.map { result -> Result<Hash256, AdmissionError> in
            switch result {
            case .success(let pending):
                gossipBuffer.append(pending.bytes)
                admitted += 1
                return .success(pending.id)
            case .failure(let error):
                return .failure(error)
            }
        }
        metrics.admitted.increment(by: admitted)
        metrics.refused.increment(by: batch.count - admitted)
        // The payload a waiting leader is offered is built with the gossip flush, once per tick rather
        // than once per transaction: building it scans the mempool. A batch big enough to be worth
        // a message of its own goes at once: the tick's wait and its timer would gain nothing.
        if gossipBuffer.count >= ValidatorRuntime.gossipAtOnce {
            flushGossip()
        } else if admitted > 0 {
            scheduleGossip()
        }
        return answers
    }

    /// Waits until `id` is committed (or `timeout` passes) and returns its receipt.
    public func waitForCommit(_ id: Hash256, timeout: Duration) async -> ReceiptRecord? {
        if let stored = try? index.transactions(ids: [id])[0] { return try? decodeReceipt(stored) }
        return await withCheckedContinuation { continuation in
            commitWaiters[id, default: []].append(continuation)
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.expireWaiter(id)
            }
        }
    }

    /// Returns once the block at `height` is executed, or after `timeoutMs` (or at once when too
    /// many requests wait already). Many waiters cost one timer between them, not one each.
    public func waitForBlock(_ height: UInt64, timeoutMs: UInt64) async {
        guard height > executedHeight, blockWaiters.count < BlockWaiters.maxWaiting else { return }
        let now = ValidatorRuntime.clock()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if let wake = blockWaiters.add(height: height, expires: now + timeoutMs, continuation) { setBlockWaiterWake(at: wake, now: now) }
        }
    }

    private func setBlockWaiterWake(at deadline: UInt64, now: UInt64) {
        blockWaiterWake?.cancel()
        let delay = deadline > now ? deadline - now : 0
        blockWaiterWake = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int64(delay)))
            if !Task.isCancelled { await self?.expireBlockWaiters() }
        }
    }

    private func expireBlockWaiters() {
        blockWaiterWake = nil
        let now = ValidatorRuntime.clock()
        if let next = blockWaiters.expire(now: now) { setBlockWaiterWake(at: next, now: now) }
    }

    private func expireWaiter(_ id: Hash256) {
        guard let waiters = commitWaiters.removeValue(forKey: id) else { return }
        for w in waiters { w.resume(returning: nil) }
    }

    private func admitInParallel(_ batch: [[UInt8]]) async -> [Result<PendingTransaction, AdmissionError>] {
        let pool = mempool
        let now = Int64(ValidatorRuntime.clock())
        // Only the senders' nonce sets go with the task, read here. A copy of the whole ledger
        // would share its big arrays (the state tree, the accounts) with the actor's, and every
        // block executed while the task runs would copy them before changing them.
        // Decoded here, once: the task takes the decoded transactions.
        let decoded = batch.map { bytes in Result { () throws(AdmissionError) -> PendingTransaction in try pool.decode(bytes) } }
        var nonces: [PublicKey: NonceSet] = [:]
        for case .success(let pending) in decoded where nonces[pending.transaction.transaction.signer] == nil {
            nonces[pending.transaction.transaction.signer] = ledger.nonces(of: pending.sender)
        }
        let senders = nonces
        return await Task.detached {
            pool.admitBatch(decoded: decoded, nowMs: now) { tx in
                (senders[tx.signer] ?? NonceSet()).check(tx.nonce, blockTimeMs: now).map { "\($0)" }
            }
        }.value
    }

    // MARK: The loop

    func handle(_ event: NodeEvent) {
        guard halted == nil else { return }
        if let failure = outbox.failure {
            halted = NodeHalt("cannot sync the consensus safety state to disk: \(failure)")
            logger.critical("\(halted!.description)")
            return
        }
        let input: Input
        switch event {
        case .start:
            input = .start
        case .consensus(let m, let from):
            if case .proposal(let p) = m { noteProposal(p) }
            if case .blockRequest(let r) = m, serveFromStorage(r, to: from) { return }
            input = .message(m, from: from)
        case .timersDue:
            let now = ValidatorRuntime.clock()
            let (due, next) = timers.takeDue(now: now)
            setTimerWake(at: next, now: now)
            for id in due where halted == nil {
                if id.kind == .round { metrics.timeouts.increment() }
                perform(replica.handle(.timerFired(id), now: ValidatorRuntime.clock()))
            }
            return
        }
        perform(replica.handle(input, now: ValidatorRuntime.clock()))
    }

    /// Sets the wake-up task for `deadline` (node clock, ms), replacing the one set; none for nil.
    private func setTimerWake(at deadline: UInt64?, now: UInt64) {
        timerWake?.cancel()
        timerWake = nil
        guard let deadline else { return }
        let sink = self.sink
        let delay = deadline > now ? deadline - now : 0
        timerWake = Task {
            try? await Task.sleep(for: .milliseconds(Int64(delay)))
            if !Task.isCancelled { sink.yield(.timersDue) }
        }
    }

    private func perform(_ effects: [Effect]) {
        // Committed blocks execute after the batch's other effects: a vote or a proposal does not
        // depend on execution, so it leaves first and the next round is not held up by the ledger.
        // (The persist before a vote stays before it: only `.commit` moves.)
        var committed: [Proposal] = []
        for effect in effects {
            guard halted == nil else { return }
            if logger.logLevel <= .trace { logger.trace("effect", metadata: ["effect": "\(ValidatorRuntime.summary(effect))", "round": "\(replica.round)"]) }
            switch effect {
            case .persist(let safety, let votedBlock):
                let voted = votedBlock.map { VotedBlock(id: $0.block.id, round: $0.block.round, bytes: $0.canonicalBytes) }
                // Written unsynced; the outbox holds every message sent from here on until a writer
                // thread has synced it, while this actor goes on (executing the committed block).
                do { try store.saveSafetyState(safety.canonicalBytes, votedBlock: voted, committedRound: committedRound, synced: false) } catch {
                    // Without a durable safety state we must not send anything that depends on it.
                    halted = NodeHalt("cannot persist the consensus safety state: \(error)")
                    return
                }
                outbox.wrote()
                safetyWrites += 1
                if crashPoint == .afterSafetyWrite(count: safetyWrites) { crashPoint?.crash() }
            case .send(let m, let to):
                signedMessageLog?.record(m)
                if to == replica.index {
                    sink.yield(.consensus(m, from: to))
                } else if let peer = validators.validator(to)?.publicKey {
                    transport.send(PeerMessage.consensus(m).canonicalBytes, to: peer)
                }
            case .broadcast(let m):
                signedMessageLog?.record(m)
                transport.broadcast(PeerMessage.consensus(m).canonicalBytes)
                sink.yield(.consensus(m, from: replica.index))
            case .commit(let proposals):
                committed += proposals
            case .startTimer(let id, let ms):
                // A round led by an unreachable validator gets no proposal; one whose next leader is
                // unreachable gets no QC (its votes go to that leader). Either way only a timeout
                // certificate moves the cluster on, so there is no point waiting long for it.
                let delay = id.kind == .round && !(leaderIsReachable(id.round) && leaderIsReachable(id.round + 1))
                    ? min(ms, UInt64(config.consensus.disconnectedLeaderTimeoutMs)) : ms
                let now = ValidatorRuntime.clock()
                if let wake = timers.start(id, at: now + delay) { setTimerWake(at: wake, now: now) }
            case .cancelTimer(let id):
                timers.cancel(id)
            case .requestPayload(let round):
                awaitingPayload = round
                offerPayload(round)
            case .evidence(let evidence):
                logger.error("equivocation evidence", metadata: ["evidence": "\(evidence)"])
            }
        }
        if !committed.isEmpty, halted == nil { execute(committed) }
    }

    /// A one-line description of an effect for the trace log.
    static func summary(_ effect: Effect) -> String {
        func describe(_ m: ConsensusMessage) -> String {
            switch m {
            case .proposal(let p): return "proposal r\(p.block.round) h\(p.block.height) qc r\(p.block.justify.round) txs \(p.block.payload.count)"
            case .vote(let v): return "vote r\(v.round)"
            case .timeout(let t): return "timeout r\(t.round)"
            case .syncInfo: return "sync info"
            case .blockRequest: return "block request"
            case .blockResponse: return "block response"
            }
        }
        switch effect {
        case .persist: return "persist"
        case .send(let m, let to): return "send \(describe(m)) to \(to)"
        case .broadcast(let m): return "broadcast \(describe(m))"
        case .commit(let ps): return "commit \(ps.map { "r\($0.block.round) h\($0.block.height)" })"
        case .startTimer(let id, let ms): return "timer \(id.kind) r\(id.round) \(ms) ms"
        case .cancelTimer(let id): return "cancel timer \(id.kind) r\(id.round)"
        case .requestPayload(let r): return "request payload r\(r)"
        case .evidence: return "evidence"
        }
    }

    /// Whether `round`'s leader is this validator or one it is connected to. Rounds that need an
    /// unreachable leader time out early: the timeout is a local choice, so this changes how fast
    /// the cluster moves past a dead validator, never what it agrees on.
    private func leaderIsReachable(_ round: Round) -> Bool {
        let leader = validators.leader(of: round)
        guard leader != replica.index, let key = validators.validator(leader)?.publicKey else { return true }
        return transport.connectedPeers().contains(key)
    }

    /// Answers a peer's block request from the store when it starts below the
    /// committed blocks consensus keeps in memory (a peer that was down long);
    /// returns false to leave the request to consensus. The answer has the same
    /// shape as consensus's own: the committed chain from just above the peer's
    /// height, oldest first, each block with the QC of its parent, and the peer
    /// checks it the same way. It is cut short so that it fits in one frame.
    private func serveFromStorage(_ r: BlockRequest, to peer: ValidatorIndex) -> Bool {
        guard peer != replica.index, r.knownHeight < executedHeight,
              !replica.retainsCommittedBlock(atHeight: r.knownHeight + 1),
              let key = validators.validator(peer)?.publicKey else { return false }
        let limit = min(Int(r.maxBlocks), ConsensusLimits.maxBlocksPerResponse)
        var proposals: [Proposal] = []
        var bytes = 0
        do {
            for stored in try store.blocks(from: r.knownHeight + 1, limit: limit) {
                guard proposals.isEmpty || bytes + stored.bytes.count <= config.p2p.maxFrameBytes / 2 else { break }
                proposals.append(try Proposal(canonicalBytes: stored.bytes))
                bytes += stored.bytes.count
            }
        } catch {
            logger.error("cannot read stored blocks for a peer's sync", metadata: ["from": "\(r.knownHeight + 1)", "error": "\(error)"])
            return true
        }
        logger.debug("serving sync from storage", metadata: ["from": "\(r.knownHeight + 1)", "blocks": "\(proposals.count)"])
        transport.send(PeerMessage.consensus(.blockResponse(BlockResponse(targetID: r.targetID, proposals: proposals))).canonicalBytes, to: key)
        return true
    }

    private func offerPayload(_ round: Round) {
        // Blocks no closer together than the minimum interval: under load a leader would
        // otherwise propose as soon as the QC arrives, and many small blocks cost more per
        // transaction (signatures, fsyncs, the root update) than fewer larger ones.
        let earliest = lastProposalAt + UInt64(config.consensus.minBlockIntervalMs)
        let now = ValidatorRuntime.clock()
        if now < earliest {
            if !payloadRetryScheduled {
                payloadRetryScheduled = true
                Task { [weak self] in
                    try? await Task.sleep(for: .milliseconds(Int64(earliest - now)))
                    await self?.retryPayload()
                }
            }
            return
        }
        let excluded = transactionsOfExtendedChain()
        let txs = mempool.reap(maxCount: config.consensus.maxBlockTransactions, maxBytes: config.consensus.maxBlockBytes, excluding: excluded)
        logger.debug("payload", metadata: ["round": "\(round)", "transactions": "\(txs.count)", "excluded": "\(excluded.count)", "pending": "\(mempool.count)"])
        // Offered even when empty: the replica then proposes an empty block at once if an
        // uncommitted ancestor carries transactions (they need it to commit), and otherwise
        // waits for transactions or the idle interval.
        perform(replica.handle(.payloadReady(round: round, payload: txs.map(\.bytes)), now: ValidatorRuntime.clock()))
    }

    private func retryPayload() {
        payloadRetryScheduled = false
        offerPayloadAgain()
    }

    private func offerPayloadAgain() {
        guard let round = awaitingPayload, round >= replica.round else { awaitingPayload = nil; return }
        offerPayload(round)
    }

    private func noteProposal(_ p: Proposal) {
        lastProposalAt = ValidatorRuntime.clock()
        if awaitingPayload == p.block.round, p.block.proposer == replica.index { awaitingPayload = nil }
        guard p.block.round > committedRound, uncommitted[p.block.id] == nil else { return }
        uncommitted[p.block.id] = UncommittedBlock(parent: p.block.parentID, round: p.block.round,
                                                   transactions: p.block.payload.map { Blake2b.hash256($0) })
    }

    /// The transactions of the high QC's block and its uncommitted ancestors.
    private func transactionsOfExtendedChain() -> Set<Hash256> {
        var ids: Set<Hash256> = []
        var cursor = replica.safety.highQC.blockID
        while let block = uncommitted[cursor], block.round > committedRound {
            ids.formUnion(block.transactions)
            cursor = block.parent
        }
        return ids
    }

    // MARK: Commit

    /// Executes committed blocks in order, stores each with its receipts, and
    /// tells consensus the new root.
    private func execute(_ proposals: [Proposal]) {
        for proposal in proposals {
            let block = proposal.block
            guard block.height == executedHeight + 1 else {
                if block.height > executedHeight + 1 {
                    halted = NodeHalt("committed height \(block.height) arrived before \(executedHeight + 1)")
                }
                continue
            }
            // The committed block states the root a quorum reached at executedHeight: ours must match.
            if let ours = rootsByHeight[block.executedHeight], block.executedHeight > 0, ours != block.stateRoot {
                halted = NodeHalt("state root mismatch at height \(block.executedHeight): this node has \(ours.hex), the quorum committed \(block.stateRoot.hex)")
                logger.critical("\(halted!.description)")
                return
            }
            let payloadIDs = self.payloadIDs(of: block)
            let transactions: [ExecutableTransaction]
            do {
                transactions = try ValidatorRuntime.validTransactions(block.payload, ids: payloadIDs, height: block.height, chainID: genesis.chainID,
                                                                      index: index, mempool: mempool)
            } catch {
                halted = NodeHalt("cannot read the transaction index at height \(block.height): \(error)")
                return
            }
            if let failure = index.failure {
                halted = NodeHalt("cannot write the index of receipts and history (\(index.store.databasePath)): \(failure)")
                logger.critical("\(halted!.description)")
                return
            }
            if let failure = snapshots.failure {
                halted = NodeHalt("cannot write a snapshot of the ledger: \(failure)")
                logger.critical("\(halted!.description)")
                return
            }
            let result = ledger.apply(block: BlockInput(timeMs: Int64(block.timestamp), transactions: transactions.map(\.transaction)))
            do {
                try store.commit(block: StoredBlock(height: block.height, hash: block.id, stateRoot: result.stateRoot, bytes: proposal.canonicalBytes))
                index.append(ValidatorRuntime.indexed(height: block.height, transactions: transactions, result: result))
                if crashPoint == .afterBlock(height: block.height) { crashPoint?.crash() }
                if block.height % UInt64(config.snapshotInterval) == 0 {
                    snapshots.save(height: block.height, stateRoot: result.stateRoot, ledger: ledger)
                }
            } catch {
                halted = NodeHalt("cannot store block \(block.height): \(error)")
                return
            }
            executedHeight = block.height
            lastBlockTime = block.timestamp
            metrics.height.record(Int64(block.height))
            metrics.commits.increment()
            metrics.committedTransactions.increment(by: transactions.count)
            metrics.skippedTransactions.increment(by: block.payload.count - transactions.count)
            rootsByHeight[block.height] = result.stateRoot
            if block.height > 1_000 { rootsByHeight[block.height - 1_000] = nil }
            mempool.removeCommitted(payloadIDs)
            committedRound = max(committedRound, block.round)
            if !commitWaiters.isEmpty {
                for (tx, receipt) in zip(transactions, result.receipts) {
                    guard let waiters = commitWaiters.removeValue(forKey: tx.id) else { continue }
                    let record = ReceiptRecord(id: tx.id, height: block.height, receipt: receipt)
                    for waiter in waiters { waiter.resume(returning: record) }
                }
            }
            perform(replica.handle(.blockExecuted(height: block.height, blockID: block.id, stateRoot: result.stateRoot),
                                   now: ValidatorRuntime.clock()))
        }
        blockWaiters.release(upTo: executedHeight)
        if !uncommitted.isEmpty { uncommitted = uncommitted.filter { $0.value.round > committedRound } }
        let now = ValidatorRuntime.clock()
        if now >= lastExpiry + 1_000 {
            lastExpiry = now
            mempool.expire(nowMs: Int64(now)) { [ledger] tx in
                ledger.nonces(of: tx.sender).check(tx.nonce, blockTimeMs: Int64(now)).map { "\($0)" }
            }
        }
    }

    /// A payload transaction the ledger executes, with its id.
    typealias ExecutableTransaction = (id: Hash256, transaction: SignedTransaction)

    /// The ids of `block`'s payload: those computed when its proposal arrived, else hashed now.
    private func payloadIDs(of block: Block) -> [Hash256] {
        if let noted = uncommitted[block.id]?.transactions, noted.count == block.payload.count { return noted }
        return block.payload.map { Blake2b.hash256($0) }
    }

    /// The payload's transactions that the ledger executes, in payload order:
    /// those that decode, are for this chain, carry a valid signature, and were
    /// not committed at an earlier height (a leader that is still catching up can
    /// propose a transaction the chain already holds; it is skipped, not
    /// executed twice). Every honest node computes the same list, since all hold
    /// the same committed history below `height`. `ids[i]` is the id of `payload[i]`.
    /// The index is asked once for the whole payload.
    static func validTransactions(_ payload: [[UInt8]], ids: [Hash256], height: UInt64, chainID: String,
                                  index: CommitIndex, mempool: Mempool?) throws(StorageError) -> [ExecutableTransaction] {
        let heights = try index.committedHeights(of: ids)
        return validTransactions(payload, ids: ids, chainID: chainID, mempool: mempool,
                                 committedEarlier: heights.map { $0.map { $0 < height } ?? false })
    }

    /// `validTransactions` with the "committed at an earlier height" answer given per payload entry,
    /// for a replay that keeps its own record of what it committed. A transaction still pending in
    /// the mempool (same bytes, same id) was decoded, checked for this chain and verified at
    /// admission: it is taken from there, not decoded and verified again.
    static func validTransactions(_ payload: [[UInt8]], ids: [Hash256], chainID: String, mempool: Mempool?,
                                  committedEarlier: [Bool]) -> [ExecutableTransaction] {
        precondition(ids.count == payload.count && committedEarlier.count == payload.count, "one id and one answer per payload entry")
        let pending = mempool?.pending(ids)
        var out: [ExecutableTransaction] = []
        out.reserveCapacity(payload.count)
        var seen = Set<Hash256>(minimumCapacity: payload.count)
        for (i, bytes) in payload.enumerated() {
            if let admitted = pending?[i] {
                guard seen.insert(ids[i]).inserted, !committedEarlier[i] else { continue }
                out.append((ids[i], admitted.transaction))
                continue
            }
            guard let tx = try? SignedTransaction(canonicalBytes: bytes), tx.transaction.chainID == chainID,
                  seen.insert(ids[i]).inserted, !committedEarlier[i], tx.hasValidSignature(canonicalBytes: bytes) else { continue }
            out.append((ids[i], tx))
        }
        return out
    }

    /// What executing the block at `height` adds to the index: a receipt per executed transaction
    /// (by position among them) and the block's events in order.
    static func indexed(height: UInt64, transactions: [ExecutableTransaction], result: BlockResult) -> IndexedBlock {
        IndexedBlock(
            height: height,
            transactions: zip(transactions, result.receipts).enumerated().map { i, pair in
                StoredTransaction(id: pair.0.id, height: height, index: i, receipt: StoredReceipt(pair.1).canonicalBytes)
            },
            history: result.events.enumerated().map { sequence, event in
                HistoryEntry(address: event.address, height: height, sequence: sequence,
                             kind: event.kind.rawValue, bytes: event.canonicalBytes,
                             txId: event.txIndex.flatMap { Int($0) < transactions.count ? transactions[Int($0)].id : nil })
            })
    }

    /// The API receipt of a stored transaction row.
    func decodeReceipt(_ row: StoredTransaction) throws(StorageError) -> ReceiptRecord {
        do { return try ReceiptRecord(stored: row) } catch {
            throw .database(path: store.databasePath, reason: "receipt of 0x\(row.id.hex) at height \(row.height): \(error)")
        }
    }

    /// Admitted transactions waiting to be gossiped that are sent at once rather than at the next tick.
    static let gossipAtOnce = 16

    private func scheduleGossip() {
        guard !gossipScheduled else { return }
        gossipScheduled = true
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(2))
            await self?.flushGossip()
        }
    }

    private func flushGossip() {
        gossipScheduled = false
        while !gossipBuffer.isEmpty {
            let batch = Array(gossipBuffer.prefix(PeerMessage.maxGossipBatch))
            gossipBuffer.removeFirst(batch.count)
            transport.broadcast(PeerMessage.transactions(batch).canonicalBytes)
        }
        offerPayloadAgain()
    }

    // MARK: Queries

    /// Brings the gauges that are read rather than pushed up to date (before a scrape).
    public func refreshMetrics() {
        metrics.round.record(Int64(replica.round))
        metrics.mempoolTransactions.record(Int64(mempool.count))
        metrics.mempoolBytes.record(Int64(mempool.byteCount))
        metrics.peers.record(Int64(transport.connectedPeers().count))
    }

    /// The node's status.
    public func status() -> NodeStatus {
        let leader = validators.leader(of: replica.round)
        return NodeStatus(
            moniker: config.moniker, chainId: genesis.chainID, height: executedHeight, round: replica.round,
            leader: genesis.validators[Int(leader)].name, stateRoot: ledger.stateRoot.hex,
            lastBlockTimeMs: lastBlockTime, peers: transport.connectedPeers().map(\.hex).sorted(),
            mempoolSize: mempool.count, validatorIndex: Int(replica.index))
    }

    /// Runs `body` against the current ledger state.
    public func withLedger<T: Sendable>(_ body: (Ledger) throws -> T) rethrows -> T { try body(ledger) }

    /// A stored receipt.
    public func receipt(_ id: Hash256) throws -> ReceiptRecord? {
        try index.transactions(ids: [id])[0].map { row throws(StorageError) in try decodeReceipt(row) }
    }

    /// A stored block.
    public func block(at height: UInt64) throws -> StoredBlock? { try store.block(at: height) }

    /// Up to `limit` history events of `address`, newest first, strictly before `cursor` when
    /// given; `next` is the cursor of the last one when older events remain.
    public func history(of address: Address, before cursor: HistoryCursor?, limit: Int) throws -> HistoryPage {
        // One more than asked says whether another page exists.
        let entries = try index.history(of: address, before: cursor.map { ($0.height, $0.sequence) }, limit: limit + 1)
        let page = entries.prefix(limit)
        let events = try page.map { try AccountEvent(canonicalBytes: $0.bytes) }
        let next = entries.count > limit ? page.last.map { HistoryCursor(height: $0.height, sequence: $0.sequence) } : nil
        return HistoryPage(address: address, events: events, txIds: page.map { $0.txId.map { "0x" + $0.hex } },
                           next: next?.description)
    }

    /// Wall-clock milliseconds: the only clock consensus sees, passed in as an input.
    static func clock() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
}

/// A position in an account's history: the block height and the event's sequence number in
/// that block, written `HEIGHT-SEQUENCE` (e.g. `57-3`).
public struct HistoryCursor: Sendable, Equatable, CustomStringConvertible {
    public var height: UInt64
    public var sequence: Int

    public init(height: UInt64, sequence: Int) {
        self.height = height
        self.sequence = sequence
    }

    /// Parses `HEIGHT-SEQUENCE`: two decimal integers, the height below 2^63, the sequence below 2^31.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 19 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let height = UInt64(parts[0]), height <= UInt64(Int64.max),
              let sequence = Int(parts[1]), sequence <= Int(Int32.max) else { return nil }
        self.init(height: height, sequence: sequence)
    }

    public var description: String { "\(height)-\(sequence)" }
}

/// `GET /v1/accounts/{address}/history`: events newest first, and the cursor of the next
/// (older) page, nil on the last page.
public struct HistoryPage: Codable, Sendable, Equatable {
    public var address: Address
    public var events: [AccountEvent]
    /// `txIds[i]`: the id (`0x` + 64 hex digits) of the transaction that produced `events[i]`,
    /// nil for block steps (funding settlement, backstop takeovers).
    public var txIds: [String?]
    public var next: String?

    public init(address: Address, events: [AccountEvent], txIds: [String?], next: String?) {
        self.address = address
        self.events = events
        self.txIds = txIds
        self.next = next
    }
}

/// A committed block as the API shows it.
public struct BlockView: Codable, Sendable, Equatable {
    public var height: UInt64
    public var round: UInt64
    public var hash: String
    public var parent: String
    public var timestampMs: UInt64
    public var proposer: Int
    /// The root after executing this block.
    public var stateRoot: String
    public var transactions: [String]
}

extension ValidatorRuntime {
    /// The committed block at `height`, decoded.
    public func blockView(at height: UInt64) throws -> BlockView? {
        guard let stored = try store.block(at: height) else { return nil }
        let block = try Proposal(canonicalBytes: stored.bytes).block
        return BlockView(height: stored.height, round: block.round, hash: stored.hash.hex, parent: block.parentID.hex,
                         timestampMs: block.timestamp, proposer: Int(block.proposer), stateRoot: stored.stateRoot.hex,
                         transactions: block.payload.map { "0x" + Blake2b.hash256($0).hex })
    }

    /// The receipts of the transactions the block at `height` executed, in block order
    /// (a payload entry that was skipped, such as a duplicate, has none). One read for all.
    public func blockReceipts(at height: UInt64) throws -> [ReceiptRecord]? {
        try blockReceiptRows(at: height)?.map { row throws(StorageError) in try decodeReceipt(row) }
    }
}
