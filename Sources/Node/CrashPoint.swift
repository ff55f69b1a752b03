#if canImport(Glibc)
import Glibc
#endif

/// A fault-injection point for crash tests: the process exits at once (as a
/// kill -9 would stop it, with no cleanup) right after a chosen write is
/// durable. Set by `BALLAST_CRASH_AFTER` for `ballast node start`:
///
/// - `block:H`: after the block at height H (with its receipts) is stored,
///   before its snapshot (if any) and before consensus hears of it;
/// - `snapshot:H`: after the snapshot at height H is written and recorded;
/// - `safety:N`: after the N-th safety-state write, before the vote, timeout or
///   proposal it protects is sent.
public enum CrashPoint: Equatable, Sendable {
    case afterBlock(height: UInt64)
    case afterSnapshot(height: UInt64)
    case afterSafetyWrite(count: Int)

    /// Parses `block:H`, `snapshot:H` or `safety:N`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let n = UInt64(parts[1]), n > 0 else { return nil }
        switch parts[0] {
        case "block": self = .afterBlock(height: n)
        case "snapshot": self = .afterSnapshot(height: n)
        case "safety": self = .afterSafetyWrite(count: Int(n))
        default: return nil
        }
    }

    /// Exit code of a deliberate crash, so a test can tell it from a failure.
    public static let exitCode: Int32 = 86

    func crash() -> Never {
        _exit(CrashPoint.exitCode)
    }
}
