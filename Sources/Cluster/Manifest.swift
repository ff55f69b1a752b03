import Foundation
import Node

/// A scenario for a local cluster, in the spirit of CometBFT's e2e manifests: how many
/// validators, which price path the oracle feeders follow, the load to send (read by
/// `ballast cluster load`) and a schedule of faults the harness applies.
///
/// Written as JSON (`cluster/*.json`); every field but `name` has a default, so a manifest
/// only says what differs:
///
///     {
///       "name": "crash",
///       "validators": 4,
///       "durationSeconds": 180,
///       "prices": { "path": "crash", "seed": 7, "intervalMs": 1000, "eventAtSeconds": 30 },
///       "load": { "ratePerSecond": 200, "durationSeconds": 120, "accounts": 64,
///                 "mix": { "maker": 35, "taker": 25, "basis": 10, "borrower": 5, "cancel": 20, "leveraged": 5 } },
///       "schedule": [ { "at": 20, "op": "kill", "nodes": ["validator-1"] },
///                     { "at": 30, "op": "restart", "nodes": ["validator-1"] } ]
///     }
public struct Manifest: Codable, Sendable, Equatable {
    /// A short name, used in logs and reports.
    public var name: String
    /// Validators to create (only used when the cluster does not exist yet).
    public var validators: Int
    /// How long the scenario lasts, from the harness start; nil: until Ctrl-C or `cluster down`.
    /// When it ends, the harness stops the cluster (it keeps the chain for `cluster verify`).
    public var durationSeconds: Int?
    public var prices: Prices
    public var load: Load?
    public var schedule: [Step]

    public init(name: String, validators: Int = 4, durationSeconds: Int? = nil, prices: Prices = Prices(),
                load: Load? = nil, schedule: [Step] = []) {
        self.name = name
        self.validators = validators
        self.durationSeconds = durationSeconds
        self.prices = prices
        self.load = load
        self.schedule = schedule
    }

    /// The oracle feeders' price path (see `PricePath`).
    public struct Prices: Codable, Sendable, Equatable {
        public var path: PricePath.Kind
        public var seed: UInt64
        /// How often every validator submits its prices.
        public var intervalMs: Int
        /// When the crash or squeeze starts, in seconds from the harness start.
        public var eventAtSeconds: Int

        public init(path: PricePath.Kind = .calm, seed: UInt64 = 1, intervalMs: Int = 1_000, eventAtSeconds: Int = 30) {
            self.path = path
            self.seed = seed
            self.intervalMs = intervalMs
            self.eventAtSeconds = eventAtSeconds
        }

        enum CodingKeys: String, CodingKey { case path, seed, intervalMs, eventAtSeconds }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Prices()
            path = try c.decodeIfPresent(PricePath.Kind.self, forKey: .path) ?? defaults.path
            seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? defaults.seed
            intervalMs = try c.decodeIfPresent(Int.self, forKey: .intervalMs) ?? defaults.intervalMs
            eventAtSeconds = try c.decodeIfPresent(Int.self, forKey: .eventAtSeconds) ?? defaults.eventAtSeconds
        }
    }

    /// The load shape `ballast cluster load` sends. The harness itself does not send load.
    public struct Load: Codable, Sendable, Equatable {
        /// Transactions per second; nil: as fast as the cluster takes them.
        public var ratePerSecond: Int?
        public var durationSeconds: Int
        /// Funded trader accounts (the faucet funds them first).
        public var accounts: Int
        /// Relative weights of the kinds of traffic.
        public var mix: Mix
        /// When the load starts, in seconds from the harness start.
        public var startAtSeconds: Int

        public init(ratePerSecond: Int? = 100, durationSeconds: Int = 60, accounts: Int = 32, mix: Mix = Mix(), startAtSeconds: Int = 0) {
            self.ratePerSecond = ratePerSecond
            self.durationSeconds = durationSeconds
            self.accounts = accounts
            self.mix = mix
            self.startAtSeconds = startAtSeconds
        }

        enum CodingKeys: String, CodingKey { case ratePerSecond, durationSeconds, accounts, mix, startAtSeconds }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Load()
            ratePerSecond = c.contains(.ratePerSecond) ? try c.decodeIfPresent(Int.self, forKey: .ratePerSecond) : defaults.ratePerSecond
            durationSeconds = try c.decodeIfPresent(Int.self, forKey: .durationSeconds) ?? defaults.durationSeconds
            accounts = try c.decodeIfPresent(Int.self, forKey: .accounts) ?? defaults.accounts
            mix = try c.decodeIfPresent(Mix.self, forKey: .mix) ?? defaults.mix
            startAtSeconds = try c.decodeIfPresent(Int.self, forKey: .startAtSeconds) ?? defaults.startAtSeconds
        }
    }

    /// Relative weights (any non-negative integers) of the load's traffic kinds.
    public struct Mix: Codable, Sendable, Equatable {
        /// Market makers quoting both sides.
        public var maker: Int
        /// Takers crossing the spread.
        public var taker: Int
        /// Basis traders holding spot against perps.
        public var basis: Int
        /// Borrowers (supply, borrow, repay).
        public var borrower: Int
        /// Cancels of resting orders.
        public var cancel: Int
        /// Thinly collateralised perp longs bought up to the leverage limit (what a crash liquidates).
        public var leveraged: Int

        public init(maker: Int = 35, taker: Int = 25, basis: Int = 10, borrower: Int = 5, cancel: Int = 20, leveraged: Int = 5) {
            self.maker = maker
            self.taker = taker
            self.basis = basis
            self.borrower = borrower
            self.cancel = cancel
            self.leveraged = leveraged
        }

        enum CodingKeys: String, CodingKey { case maker, taker, basis, borrower, cancel, leveraged }
        /// Missing weights take their defaults (`leveraged` came later than the others).
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Mix()
            maker = try c.decodeIfPresent(Int.self, forKey: .maker) ?? d.maker
            taker = try c.decodeIfPresent(Int.self, forKey: .taker) ?? d.taker
            basis = try c.decodeIfPresent(Int.self, forKey: .basis) ?? d.basis
            borrower = try c.decodeIfPresent(Int.self, forKey: .borrower) ?? d.borrower
            cancel = try c.decodeIfPresent(Int.self, forKey: .cancel) ?? d.cancel
            leveraged = try c.decodeIfPresent(Int.self, forKey: .leveraged) ?? d.leveraged
        }

        public var total: Int { maker + taker + basis + borrower + cancel + leveraged }
    }

    /// One step of the perturbation schedule.
    public struct Step: Codable, Sendable, Equatable {
        /// Seconds from the harness start.
        public var at: Double
        public var fault: Fault

        public init(at: Double, _ fault: Fault) {
            self.at = at
            self.fault = fault
        }

        enum CodingKeys: String, CodingKey { case at, op, nodes, ms, percent, path }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            at = try c.decode(Double.self, forKey: .at)
            fault = Fault(op: try c.decode(Fault.Op.self, forKey: .op),
                          nodes: try c.decodeIfPresent([String].self, forKey: .nodes) ?? [],
                          ms: try c.decodeIfPresent(Int.self, forKey: .ms),
                          percent: try c.decodeIfPresent(Int.self, forKey: .percent),
                          path: try c.decodeIfPresent(PricePath.Kind.self, forKey: .path))
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(at, forKey: .at)
            try c.encode(fault.op, forKey: .op)
            if !fault.nodes.isEmpty { try c.encode(fault.nodes, forKey: .nodes) }
            try c.encodeIfPresent(fault.ms, forKey: .ms)
            try c.encodeIfPresent(fault.path, forKey: .path)
            try c.encodeIfPresent(fault.percent, forKey: .percent)
        }
    }

    /// Reads and checks a manifest file.
    public static func load(path: String) throws -> Manifest {
        guard let data = FileManager.default.contents(atPath: path) else { throw ClusterError("cannot read the manifest \(path)") }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw ClusterError("\(path): \(describeJSONError(error))")
        }
        try manifest.validate()
        return manifest
    }

    enum CodingKeys: String, CodingKey { case name, validators, durationSeconds, prices, load, schedule }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        validators = try c.decodeIfPresent(Int.self, forKey: .validators) ?? 4
        durationSeconds = try c.decodeIfPresent(Int.self, forKey: .durationSeconds)
        prices = try c.decodeIfPresent(Prices.self, forKey: .prices) ?? Prices()
        load = try c.decodeIfPresent(Load.self, forKey: .load)
        schedule = try c.decodeIfPresent([Step].self, forKey: .schedule) ?? []
    }

    /// Refuses what the harness could not run: names no validator has, negative times, a
    /// schedule out of order, faults without their parameter.
    public func validate() throws {
        guard validators >= 1 else { throw ClusterError("validators must be at least 1, got \(validators)") }
        if let durationSeconds, durationSeconds < 1 { throw ClusterError("durationSeconds must be at least 1, got \(durationSeconds)") }
        guard prices.intervalMs >= 100 else { throw ClusterError("prices.intervalMs must be at least 100, got \(prices.intervalMs)") }
        guard prices.eventAtSeconds >= 0 else { throw ClusterError("prices.eventAtSeconds must not be negative") }
        if let load {
            guard load.durationSeconds >= 1, load.accounts >= 1, load.startAtSeconds >= 0 else {
                throw ClusterError("load: durationSeconds and accounts must be at least 1, startAtSeconds not negative")
            }
            if let rate = load.ratePerSecond, rate < 1 { throw ClusterError("load.ratePerSecond must be at least 1 (or absent: as fast as possible)") }
            let weights = [load.mix.maker, load.mix.taker, load.mix.basis, load.mix.borrower, load.mix.cancel, load.mix.leveraged]
            guard weights.allSatisfy({ $0 >= 0 }), load.mix.total > 0 else { throw ClusterError("load.mix: weights must be non-negative and not all zero") }
        }
        var previous = 0.0
        for (k, step) in schedule.enumerated() {
            let position = "schedule[\(k)] (at \(step.at))"
            guard step.at >= previous else { throw ClusterError("\(position): steps must be in time order, not before \(previous)") }
            previous = step.at
            do { _ = try step.fault.resolve(validators: validators) } catch let error as ClusterError {
                throw ClusterError("\(position): \(error.description)")
            }
            if let durationSeconds, step.at > Double(durationSeconds) {
                throw ClusterError("\(position): after the end of the scenario (durationSeconds \(durationSeconds))")
            }
        }
    }
}
