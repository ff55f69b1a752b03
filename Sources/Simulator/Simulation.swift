import Codec
import Consensus
import BallastCrypto

/// A deterministic discrete-event simulation of a validator cluster running
/// the real consensus core over a faulty network, with real Ed25519.
///
/// Every random choice comes from `SplitMix64` streams derived from the seed
/// and events at equal times run in insertion order, so a seed replays a run
/// exactly (`ballast sim --seed S --seeds 1`).
public final class Simulation {
    public let config: SimulationConfig
    /// Commit log lengths per process (validators first, then twins).
    public var committedHeights: [Int] { processes.map(\.commitLog.count) }
    let validatorSet: ValidatorSet
    let genesis: Block
    let verifier: any SignatureVerifier
    var processes: [SimProcess] = []
    /// Process ids of each validator (two for a twin).
    var processesOf: [[Int]] = []
    var queue = EventQueue<SimEvent>()
    var time: UInt64 = 0
    var rng: SplitMix64
    var linkLatency: [[UInt64]] = []
    var linkSent: [[UInt64]] = []
    var linkDelivered: [[UInt64]] = []
    var monitor = SafetyMonitor()
    var faults: [FaultKind: Int] = [:]
    var messages = 0
    var bytes = 0
    var nextTimerToken: UInt64 = 0
    var maxHonestRound: Round = 0
    var partitioned = false
    var chaos: Bool
    var healRound: Round? = nil
    var healTime: UInt64 = 0
    var firstCommitAfterHeal: [Int: UInt64] = [:]
    var evidenceReports = 0
    var signaturesMade = 0
    /// Test hook: crash `process` right after its n-th persist (1-based), once.
    public var crashAfterPersistNumber: (process: Int, n: Int, downMilliseconds: UInt64)? = nil
    var persistCounts: [Int: Int] = [:]

    static let startTime: UInt64 = 10_000
    static let faultTick: UInt64 = 250

    /// A simulation of `config`, checking signatures with `verifier` (real Ed25519 by default).
    public init(config: SimulationConfig, verifier: any SignatureVerifier = Ed25519Verifier()) {
        self.config = config
        self.verifier = verifier
        self.rng = SplitMix64(seed: config.seed)
        self.chaos = config.partitions || config.crashes || config.crashAfterPersistPPM > 0
        var keys: [SigningKey] = []
        for i in 0..<config.validators {
            var seed = [UInt8](repeating: 0, count: 32)
            seed[0] = UInt8(truncatingIfNeeded: i)
            seed[1] = UInt8(truncatingIfNeeded: i >> 8)
            seed[31] = 0xBA
            // A 32-byte seed always yields a key.
            guard let key = try? SigningKey(seed: seed) else { preconditionFailure("32-byte seed refused") }
            keys.append(key)
        }
        guard let set = try? ValidatorSet(equalStake: keys.map(\.publicKey)) else {
            preconditionFailure("simulated validator set is invalid")
        }
        validatorSet = set
        genesis = Block.genesis(chainID: "ballast-sim")
        var setup = rng.fork()
        processesOf = Array(repeating: [], count: config.validators)
        for (i, key) in keys.enumerated() {
            addProcess(validator: ValidatorIndex(i), key: key, behaviour: config.byzantine[ValidatorIndex(i)], setup: &setup)
        }
        for (i, key) in keys.enumerated() where config.byzantine[ValidatorIndex(i)] == .twin {
            addProcess(validator: ValidatorIndex(i), key: key, behaviour: .twin, setup: &setup)
        }
        let n = processes.count
        linkLatency = (0..<n).map { _ in (0..<n).map { _ in setup.uniform(config.network.linkLatency) } }
        linkSent = Array(repeating: Array(repeating: 0, count: n), count: n)
        linkDelivered = Array(repeating: Array(repeating: 0, count: n), count: n)
        if let groups = config.fixedPartition {
            for (g, members) in groups.enumerated() { for p in members where p < n { processes[p].group = g } }
        }
    }

    private func addProcess(validator: ValidatorIndex, key: SigningKey, behaviour: ByzantineBehaviour?, setup: inout SplitMix64) {
        let skewRange = config.maxClockSkew
        let skew = Int64(setup.uniform(0...(2 * skewRange))) - Int64(skewRange)
        if skew != 0 { count(.clockSkew) }
        let id = processes.count
        processes.append(SimProcess(id: id, validator: validator, key: key, behaviour: behaviour,
                                    stateRoot: genesis.stateRoot, skew: skew, rng: setup.fork()))
        processesOf[Int(validator)].append(id)
    }

    func count(_ kind: FaultKind, _ by: Int = 1) { faults[kind, default: 0] += by }

    func isHonest(_ p: Int) -> Bool { processes[p].behaviour == nil }

    func localNow(_ p: Int) -> UInt64 {
        UInt64(max(0, Int64(time) + processes[p].skew))
    }

    /// Runs to the target round (or the time limit) and reports.
    public func run() -> SimulationReport {
        time = Simulation.startTime
        for p in processes.indices { start(p) }
        if chaos { queue.push(.faultTick, at: time + Simulation.faultTick) }
        let deadline = Simulation.startTime + config.maxSimulatedMilliseconds
        var finished = false
        while let (at, event) = queue.pop() {
            if at > deadline { break }
            time = at
            handle(event)
            if let heal = config.healAtRound, healRound == nil, maxHonestRound >= heal { healEverything() }
            if maxHonestRound >= config.rounds {
                finished = true
                break
            }
        }
        return report(finished: finished)
    }

    func start(_ p: Int) {
        let persisted = processes[p].persisted
        let log = processes[p].commitLog
        let recovery = Recovery(
            safety: persisted ?? SafetyState(lastVotedRound: 0, highQC: .genesis(genesis.id)),
            committed: Array(log.suffix(config.consensus.committedRetention)),
            executedHeight: UInt64(log.count), stateRoot: processes[p].stateRoot,
            uncommitted: processes[p].votedBlocks.values.sorted { $0.block.id < $1.block.id })
        do {
            processes[p].replica = try Replica(validators: validatorSet, genesis: genesis, key: processes[p].key,
                                               config: config.consensus, verifier: verifier, recovery: recovery)
        } catch {
            monitor.violation("process \(p) could not restart: \(error)")
            return
        }
        deliver(.start, to: p)
    }

    func handle(_ event: SimEvent) {
        switch event {
        case .deliver(let to, let from, let fromProcess, let bytes, let sequence):
            receive(bytes, to: to, from: from, fromProcess: fromProcess, sequence: sequence)
        case .timer(let p, let id, let token):
            guard processes[p].replica != nil, processes[p].timers[id] == token else { return }
            processes[p].timers[id] = nil
            deliver(.timerFired(id), to: p)
        case .restart(let p):
            guard processes[p].replica == nil else { return }
            count(.restart)
            start(p)
        case .faultTick:
            guard chaos else { return }
            injectFaults()
            queue.push(.faultTick, at: time + Simulation.faultTick)
        }
    }

    /// Runs `input` and everything it triggers at this process (loop-backs,
    /// payloads, executions) to completion, unless the process crashes.
    func deliver(_ input: Input, to p: Int) {
        var work: [Input] = [input]
        var i = 0
        while i < work.count {
            let current = work[i]
            i += 1
            let now = localNow(p)
            guard let effects = processes[p].replica?.handle(current, now: now) else { return }
            if let r = processes[p].replica?.round, isHonest(p), r > maxHonestRound { maxHonestRound = r }
            guard perform(effects, of: p, followUps: &work) else { return }
            if processes[p].behaviour == .conflictingVoter, case .message(.proposal(let proposal), _) = current {
                voteRegardless(proposal, from: p, alreadyVoted: effects, followUps: &work)
            }
        }
    }

    /// Performs effects in order; returns false if the process crashed midway.
    func perform(_ effects: [Effect], of p: Int, followUps: inout [Input]) -> Bool {
        for effect in effects {
            switch effect {
            case .persist(let state, let votedBlock):
                processes[p].persisted = state
                if let votedBlock { processes[p].votedBlocks[votedBlock.block.id] = votedBlock }
                if shouldCrashAfterPersist(p) {
                    count(.crashAfterPersist)
                    crash(p, downFor: crashAfterPersistNumber?.downMilliseconds ?? rng.uniform(200...3_000))
                    return false
                }
            case .send(let message, let to):
                outgoing(message, from: p, to: [to], followUps: &followUps)
            case .broadcast(let message):
                outgoing(message, from: p, to: (0..<validatorSet.count).map { ValidatorIndex($0) }, followUps: &followUps)
            case .commit(let chain):
                commit(chain, at: p, followUps: &followUps)
                if let top = chain.last?.block.round {
                    processes[p].votedBlocks = processes[p].votedBlocks.filter { $0.value.block.round > top }
                }
            case .startTimer(let id, let after):
                nextTimerToken += 1
                processes[p].timers[id] = nextTimerToken
                queue.push(.timer(process: p, id: id, token: nextTimerToken), at: time + after)
            case .cancelTimer(let id):
                processes[p].timers[id] = nil
            case .requestPayload(let round):
                followUps.append(.payloadReady(round: round, payload: makePayload(for: p)))
            case .evidence(let evidence):
                if isHonest(p) {
                    evidenceReports += 1
                    if config.byzantine[evidence.offender] == nil {
                        monitor.violation("honest validator \(evidence.offender) reported for equivocating in round \(evidence.round)")
                    }
                }
            }
        }
        return true
    }

    func shouldCrashAfterPersist(_ p: Int) -> Bool {
        persistCounts[p, default: 0] += 1
        if let hook = crashAfterPersistNumber, hook.process == p, hook.n == persistCounts[p] { return true }
        guard chaos, isHonest(p), config.crashAfterPersistPPM > 0, crashedHonestValidators() < config.f else { return false }
        return rng.chance(ppm: config.crashAfterPersistPPM)
    }

    func makePayload(for p: Int) -> [[UInt8]] {
        if processes[p].rng.chance(ppm: config.emptyPayloadPPM) { return [] }
        let count = Int(processes[p].rng.uniform(1...4))
        return (0..<count).map { _ in
            let length = Int(processes[p].rng.uniform(8...64))
            return (0..<length).map { _ in UInt8(truncatingIfNeeded: processes[p].rng.next()) }
        }
    }

    /// Records committed blocks, checks them, and executes them (the state
    /// root is a hash chain of block ids: deterministic, so honest roots agree).
    func commit(_ chain: [Proposal], at p: Int, followUps: inout [Input]) {
        for proposal in chain {
            let block = proposal.block
            let expectedParent = processes[p].commitLog.last?.block.id ?? genesis.id
            if isHonest(p) {
                if block.height != UInt64(processes[p].commitLog.count + 1) || block.parentID != expectedParent {
                    monitor.violation("process \(p) committed height \(block.height) after \(processes[p].commitLog.count)")
                }
                monitor.recordCommit(block, by: p)
                if healRound != nil, firstCommitAfterHeal[p] == nil, let heal = healRound {
                    firstCommitAfterHeal[p] = maxHonestRound - min(maxHonestRound, heal)
                }
            }
            processes[p].commitLog.append(proposal)
            var hasher = Blake2bHasher()
            hasher.update(processes[p].stateRoot)
            hasher.update(block.id)
            processes[p].stateRoot = hasher.finalize()
            followUps.append(.blockExecuted(height: block.height, blockID: block.id, stateRoot: processes[p].stateRoot))
        }
    }

    func crash(_ p: Int, downFor milliseconds: UInt64) {
        count(.crash)
        processes[p].replica = nil
        processes[p].timers = [:]
        queue.push(.restart(p), at: time + milliseconds)
    }

    func crashedHonestValidators() -> Int {
        processes.filter { $0.behaviour == nil && $0.replica == nil }.count
    }

    /// Partitions and crashes during the chaos phase.
    func injectFaults() {
        if config.partitions && config.fixedPartition == nil {
            if !partitioned, rng.chance(ppm: 60_000) {
                // Two non-empty sides; a random split of the processes.
                var sides = processes.map { _ in Int(rng.below(2)) }
                if !sides.contains(0) { sides[0] = 0 }
                if !sides.contains(1) { sides[sides.count - 1] = 1 }
                for p in processes.indices { processes[p].group = sides[p] }
                partitioned = true
                count(.partition)
            } else if partitioned, rng.chance(ppm: 150_000) {
                healPartition()
            }
        }
        if config.crashes, crashedHonestValidators() < config.f, rng.chance(ppm: 30_000) {
            let live = processes.indices.filter { isHonest($0) && processes[$0].replica != nil }
            if !live.isEmpty {
                crash(live[Int(rng.below(UInt64(live.count)))], downFor: rng.uniform(500...6_000))
            }
        }
    }

    func healPartition() {
        for p in processes.indices { processes[p].group = 0 }
        partitioned = false
        count(.heal)
    }

    /// The heal round: end the chaos, restart everyone, start measuring liveness.
    func healEverything() {
        chaos = false
        if partitioned { healPartition() }
        for p in processes.indices where processes[p].replica == nil {
            count(.restart)
            start(p)
        }
        healRound = maxHonestRound
        healTime = time
    }

    func report(finished: Bool) -> SimulationReport {
        let honestLogs = processes.filter { $0.behaviour == nil }.map(\.commitLog.count)
        var livenessRounds: UInt64? = nil
        if healRound != nil {
            let honest = processes.indices.filter(isHonest)
            if honest.allSatisfy({ firstCommitAfterHeal[$0] != nil }) {
                livenessRounds = honest.compactMap { firstCommitAfterHeal[$0] }.max()
            }
        }
        return SimulationReport(
            seed: config.seed, validators: config.validators, rounds: maxHonestRound,
            committedBlocks: honestLogs.max() ?? 0, minCommittedBlocks: honestLogs.min() ?? 0,
            timeouts: monitor.honestTimeouts, messages: messages, bytes: bytes, faults: faults,
            evidenceReports: evidenceReports, safetyViolations: monitor.violations,
            roundsToCommitAfterHeal: livenessRounds, healed: healRound != nil, finished: finished,
            simulatedMilliseconds: time - Simulation.startTime,
            signaturesMade: signaturesMade, signaturesVerified: (verifier as? CountingVerifier)?.count ?? 0)
    }
}

/// One simulated process: a replica plus what its disk keeps.
struct SimProcess {
    let id: Int
    let validator: ValidatorIndex
    let key: SigningKey
    let behaviour: ByzantineBehaviour?
    var replica: Replica? = nil
    /// The last safety state written by a `persist` effect: survives crashes.
    var persisted: SafetyState? = nil
    /// Committed blocks: survive crashes.
    var commitLog: [Proposal] = []
    /// Uncommitted blocks this process voted for: survive crashes (the node's voted_block table).
    var votedBlocks: [Hash256: Proposal] = [:]
    var stateRoot: Hash256
    var timers: [TimerID: UInt64] = [:]
    let skew: Int64
    var rng: SplitMix64
    var group = 0
    /// Blocks a conflicting voter has already voted for outside the rules.
    var extraVotes: Set<Hash256> = []

    init(id: Int, validator: ValidatorIndex, key: SigningKey, behaviour: ByzantineBehaviour?, stateRoot: Hash256,
         skew: Int64, rng: SplitMix64) {
        self.id = id
        self.validator = validator
        self.key = key
        self.behaviour = behaviour
        self.stateRoot = stateRoot
        self.skew = skew
        self.rng = rng
    }
}

enum SimEvent {
    case deliver(to: Int, from: ValidatorIndex, fromProcess: Int, bytes: [UInt8], sequence: UInt64)
    case timer(process: Int, id: TimerID, token: UInt64)
    case restart(Int)
    case faultTick
}

/// An Ed25519 verifier that counts its calls (for the benchmark and reports).
public final class CountingVerifier: SignatureVerifier {
    public private(set) var count = 0
    private let inner = Ed25519Verifier()
    public init() {}
    public func isValid(_ signature: Signature, by key: PublicKey, over message: [UInt8]) -> Bool {
        count += 1
        return inner.isValid(signature, by: key, over: message)
    }
}
