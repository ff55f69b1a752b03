import Ledger
import Simulator

/// The prices oracle feeders submit: a deterministic function of the time since the path
/// started, the seed and the starting prices, in integer arithmetic, so every feeder (and a
/// test) computes the same price for the same moment.
///
/// - `calm`: a random walk, each asset moving by up to ±0.1% per step.
/// - `crash`: the calm walk until the event, then every asset falls linearly by 30% over
///   one minute, then stays flat.
/// - `squeeze`: the calm walk until the event, then every asset rises linearly by 50% over
///   20 seconds, then stays flat.
public struct PricePath: Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case calm, crash, squeeze
    }

    public var kind: Kind
    public var seed: UInt64
    /// Prices of assets 1… at time 0 (asset 0, the quote asset, has no oracle submission).
    public var startPrices: [Int64]
    /// Length of one walk step.
    public var stepMs: Int64
    /// When the crash or squeeze starts.
    public var eventAtMs: Int64

    /// Largest move of one calm step, in ppm.
    public static let calmStepPpm: Int64 = 1_000
    /// The crash: -30% over 60 s.
    public static let crashPpm: Int64 = -300_000
    public static let crashMs: Int64 = 60_000
    /// The squeeze: +50% over 20 s.
    public static let squeezePpm: Int64 = 500_000
    public static let squeezeMs: Int64 = 20_000

    public init(kind: Kind, seed: UInt64, startPrices: [Int64], stepMs: Int64 = 1_000, eventAtMs: Int64 = 30_000) {
        self.kind = kind
        self.seed = seed
        self.startPrices = startPrices
        self.stepMs = max(1, stepMs)
        self.eventAtMs = max(0, eventAtMs)
    }

    /// The path a genesis's assets start from (their initial prices).
    public init(kind: Kind, seed: UInt64, genesis: Genesis, stepMs: Int64 = 1_000, eventAtMs: Int64 = 30_000) {
        self.init(kind: kind, seed: seed, startPrices: genesis.assets.dropFirst().map(\.initialPrice), stepMs: stepMs, eventAtMs: eventAtMs)
    }

    /// Every asset's price at `ms` after the start (negative counts as 0), each at least 1.
    public func prices(atMs ms: Int64) -> [OraclePrice] {
        let t = max(0, ms)
        let walkUntil = kind == .calm ? t : min(t, eventAtMs)
        let steps = walkUntil / stepMs
        return startPrices.enumerated().map { k, start in
            // One stream per asset, so adding an asset does not change the others' walks.
            var rng = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(k + 1))
            var price = start
            for _ in 0..<steps {
                let move = Int64(rng.below(UInt64(2 * PricePath.calmStepPpm + 1))) - PricePath.calmStepPpm
                price = PricePath.scale(price, ppm: move)
            }
            switch kind {
            case .calm: break
            case .crash: price = PricePath.ramp(price, since: t - eventAtMs, overMs: PricePath.crashMs, ppm: PricePath.crashPpm)
            case .squeeze: price = PricePath.ramp(price, since: t - eventAtMs, overMs: PricePath.squeezeMs, ppm: PricePath.squeezePpm)
            }
            return OraclePrice(asset: AssetID(k + 1), price: price)
        }
    }

    /// `price` moved by `ppm` parts per million, at least 1, at most the ledger's largest oracle price.
    static func scale(_ price: Int64, ppm: Int64) -> Int64 {
        let moved = Int128(price) * Int128(1_000_000 + ppm) / 1_000_000
        return Int64(min(max(moved, 1), Int128(Ledger.maxOraclePrice)))
    }

    /// `price` moved by the part of `ppm` that `elapsed` of `overMs` has covered (none before it starts).
    static func ramp(_ price: Int64, since elapsed: Int64, overMs: Int64, ppm: Int64) -> Int64 {
        guard elapsed > 0 else { return price }
        return scale(price, ppm: ppm * min(elapsed, overMs) / overMs)
    }
}
