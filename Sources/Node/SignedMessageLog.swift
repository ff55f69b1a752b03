import BallastCrypto
import Consensus
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An append-only record of every vote, timeout and proposal this validator
/// signs, written on the send path just before the message is handed to the
/// network (or looped back to itself). Enabled by `BALLAST_VOTE_LOG=PATH` for
/// `ballast node start`; tests use it to check, from what a validator actually
/// sent, that it never signed two conflicting messages, across crashes and
/// restarts.
///
/// Each record is one `write(2)` on a file opened with `O_APPEND`: the line is
/// in the kernel before the message leaves, so a `kill -9` cannot lose it (a
/// machine crash can; this is a test and audit aid, not the safety mechanism,
/// which is the safety state the node syncs to disk).
///
/// Lines: `start PID` when a process opens the log, then
/// `vote ROUND BLOCK`, `proposal ROUND BLOCK` and `timeout ROUND HIGH_QC_ROUND`.
public final class SignedMessageLog: Sendable {
    private let descriptor: Int32

    /// Opens (creating if needed) the log at `path` and records this process's start.
    public init(path: String) throws(ConfigError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ConfigError("BALLAST_VOTE_LOG", "cannot open \(path): \(String(cString: strerror(errno)))") }
        descriptor = fd
        append("start \(getpid())")
    }

    deinit { close(descriptor) }

    /// Records `message` if it is one this validator signed for a round.
    func record(_ message: ConsensusMessage) {
        switch message {
        case .vote(let v): append("vote \(v.round) \(v.blockID.hex)")
        case .proposal(let p): append("proposal \(p.block.round) \(p.block.id.hex)")
        case .timeout(let t): append("timeout \(t.round) \(t.highQC.round)")
        default: break
        }
    }

    private func append(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    /// One line of a log.
    public enum Entry: Equatable, Sendable {
        case start(pid: Int)
        case vote(round: UInt64, block: String)
        case proposal(round: UInt64, block: String)
        case timeout(round: UInt64, highQCRound: UInt64)
    }

    /// Parses a log's text; nil for a line that is not a record.
    public static func entries(_ text: String) -> [Entry?] {
        text.split(separator: "\n").map { line in
            let f = line.split(separator: " ").map(String.init)
            switch (f.first, f.count) {
            case ("start", 2): return Int(f[1]).map { .start(pid: $0) }
            case ("vote", 3): return UInt64(f[1]).map { .vote(round: $0, block: f[2]) }
            case ("proposal", 3): return UInt64(f[1]).map { .proposal(round: $0, block: f[2]) }
            case ("timeout", 3): return UInt64(f[1]).flatMap { r in UInt64(f[2]).map { .timeout(round: r, highQCRound: $0) } }
            default: return nil
            }
        }
    }

    /// Breaches of the safety rules in one validator's log, in order: two
    /// proposals or two votes for different blocks in one round, a vote in a
    /// round not above the previous vote's, a vote in a round it had already
    /// timed out, and lines that are not records.
    public static func violations(_ entries: [Entry?]) -> [String] {
        var problems: [String] = []
        var proposals: [UInt64: String] = [:]
        var votes: [UInt64: String] = [:]
        var lastVoteRound: UInt64?
        var timedOut: Set<UInt64> = []
        for (line, entry) in entries.enumerated() {
            switch entry {
            case nil:
                problems.append("line \(line + 1): not a record")
            case .start:
                break
            case .proposal(let round, let block):
                if let earlier = proposals[round], earlier != block {
                    problems.append("line \(line + 1): second proposal in round \(round): \(block) after \(earlier)")
                }
                proposals[round] = proposals[round] ?? block
            case .vote(let round, let block):
                if let earlier = votes[round], earlier != block {
                    problems.append("line \(line + 1): double vote in round \(round): \(block) after \(earlier)")
                } else if let last = lastVoteRound, round <= last {
                    problems.append("line \(line + 1): vote in round \(round) after a vote in round \(last)")
                }
                if timedOut.contains(round) { problems.append("line \(line + 1): vote in round \(round) after timing it out") }
                votes[round] = votes[round] ?? block
                lastVoteRound = max(lastVoteRound ?? 0, round)
            case .timeout(let round, _):
                timedOut.insert(round)
            }
        }
        return problems
    }
}
