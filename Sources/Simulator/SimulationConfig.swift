import Consensus

/// A Byzantine behaviour a simulated validator can have.
public enum ByzantineBehaviour: String, CaseIterable, Sendable {
    /// As leader, sends one block to half the validators and another to the rest.
    case equivocatingLeader
    /// Every vote it casts is followed by a second vote, same round, for a made-up block.
    case doubleVoter
    /// Ignores the vote rule: votes for every proposal it sees (late ones, both
    /// halves of an equivocation, rounds it already timed out).
    case conflictingVoter
    /// Never sends its votes.
    case voteWithholder
    /// Runs two honest replicas with the same key (the Twins method).
    case twin
}

/// Every fault the simulator injects or observes, counted per run.
public enum FaultKind: String, CaseIterable, Sendable {
    case drop, duplicate, reorder, partition, heal, crash, restart, crashAfterPersist, clockSkew
    case equivocatingProposal, doubleVote, conflictingVote, withheldVote, twinConflict
}

/// Network behaviour. Probabilities are parts per million; delays in ms.
public struct NetworkConditions: Sendable {
    /// Range of the fixed one-way latency drawn per directed link.
    public var linkLatency: ClosedRange<UInt64> = 5...40
    /// Extra uniform delay per message (reorders messages on a link).
    public var jitter: UInt64 = 0
    public var dropPPM: UInt64 = 0
    public var duplicatePPM: UInt64 = 0

    public init() {}
}

/// Everything that defines a simulated run; with the seed it determines the run exactly.
public struct SimulationConfig: Sendable {
    public var seed: UInt64
    public var validators: Int
    /// The run ends when an honest validator reaches this round.
    public var rounds: UInt64
    public var network = NetworkConditions()
    /// Partitions form and heal at random until the heal round.
    public var partitions = false
    /// Honest validators crash (at most f at a time) and restart until the heal round.
    public var crashes = false
    /// Chance that an honest validator crashes right after a persist, before the sends that follow.
    public var crashAfterPersistPPM: UInt64 = 0
    /// Each process's clock is off by up to this many ms either way.
    public var maxClockSkew: UInt64 = 0
    /// Byzantine validators and what they do (at most f for the safety guarantee to apply).
    public var byzantine: [ValidatorIndex: ByzantineBehaviour] = [:]
    /// Processes that stay apart for the whole run (indices of processes: validators
    /// first, then one twin per `.twin` validator in ascending validator order).
    public var fixedPartition: [[Int]]? = nil
    /// When an honest validator reaches this round: partitions heal, crashed
    /// validators restart, and no new partition or crash starts. Liveness is
    /// measured from here.
    public var healAtRound: UInt64? = nil
    /// Chance a leader has no transactions for a round (it then waits the idle interval).
    public var emptyPayloadPPM: UInt64 = 100_000
    public var consensus = ConsensusConfig()
    /// Give up after this much simulated time (a stall).
    public var maxSimulatedMilliseconds: UInt64

    public init(seed: UInt64, validators: Int, rounds: UInt64) {
        self.seed = seed
        self.validators = validators
        self.rounds = rounds
        self.maxSimulatedMilliseconds = 60_000 + rounds * 20_000
    }

    /// Most Byzantine validators the set tolerates.
    public var f: Int { (validators - 1) / 3 }

    /// A clean network: no faults of any kind.
    public static func noFaults(seed: UInt64, validators: Int, rounds: UInt64) -> SimulationConfig {
        SimulationConfig(seed: seed, validators: validators, rounds: rounds)
    }

    /// The fault mix of the safety run, drawn from the seed: lossy, duplicating,
    /// reordering links, partitions, crashes (some right after a persist), clock
    /// skew, and up to f Byzantine validators with random behaviours. Everything
    /// heals at 70% of the rounds, after which liveness is measured.
    public static func randomFaults(seed: UInt64, validators: Int, rounds: UInt64) -> SimulationConfig {
        var c = SimulationConfig(seed: seed, validators: validators, rounds: rounds)
        var rng = SplitMix64(seed: seed ^ 0x5EED_FA17)
        c.network.linkLatency = rng.uniform(2...10)...rng.uniform(20...80)
        c.network.jitter = rng.uniform(0...60)
        c.network.dropPPM = rng.uniform(0...30_000)
        c.network.duplicatePPM = rng.uniform(0...30_000)
        c.partitions = rng.chance(ppm: 800_000)
        c.crashes = rng.chance(ppm: 800_000)
        c.crashAfterPersistPPM = c.crashes ? rng.uniform(0...3_000) : 0
        c.maxClockSkew = rng.uniform(0...200)
        // 1...f Byzantine validators; the first behaviour cycles with the seed so
        // that any five consecutive seeds exercise all of them.
        let byzantineCount = c.f == 0 ? 0 : 1 + Int(rng.below(UInt64(c.f)))
        var candidates = (0..<validators).map { ValidatorIndex($0) }
        let all = ByzantineBehaviour.allCases
        for k in 0..<byzantineCount {
            let v = candidates.remove(at: Int(rng.below(UInt64(candidates.count))))
            c.byzantine[v] = k == 0 ? all[Int(seed % UInt64(all.count))] : all[Int(rng.below(UInt64(all.count)))]
        }
        c.healAtRound = rounds * 7 / 10
        return c
    }
}
