/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fast, seedable generator. The
/// simulator draws every random choice from one of these, so a seed replays a
/// run exactly; system randomness is never used.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in `0..<bound` (bound > 0), without modulo bias.
    public mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "empty range")
        let (limit, _) = (UInt64.max - bound + 1).remainderReportingOverflow(dividingBy: bound)
        while true {
            let x = next()
            if x >= limit || limit == 0 { return x % bound }
        }
    }

    /// A uniform value in `range`.
    public mutating func uniform(_ range: ClosedRange<UInt64>) -> UInt64 {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `ppm` parts per million.
    public mutating func chance(ppm: UInt64) -> Bool { below(1_000_000) < ppm }

    /// An independent generator for a sub-component, so adding draws in one
    /// component does not shift another's sequence.
    public mutating func fork() -> SplitMix64 { SplitMix64(seed: next()) }
}
