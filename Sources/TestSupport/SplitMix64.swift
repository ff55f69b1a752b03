#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Simulator

/// The simulator's seeded generator, so that every randomized test replays
/// exactly from its seed with the same generator the simulations use.
public typealias SplitMix64 = Simulator.SplitMix64

extension SplitMix64 {
    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

/// Reads an integer size from the environment, for tests whose CI size is
/// modest and whose full size runs on demand (e.g. `BALLAST_FUZZ_CASES=1000000`).
public func testSize(_ name: String, default value: Int) -> Int {
    guard let raw = getenv(name), let parsed = Int(String(cString: raw)), parsed > 0 else { return value }
    return parsed
}
