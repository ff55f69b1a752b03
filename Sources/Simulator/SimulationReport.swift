import Consensus

/// What one simulated run did and whether it stayed safe and live.
public struct SimulationReport: Sendable {
    public var seed: UInt64
    public var validators: Int
    /// Highest round an honest validator reached.
    public var rounds: UInt64
    /// Blocks on the longest honest commit log (and the shortest one).
    public var committedBlocks: Int
    public var minCommittedBlocks: Int
    /// Rounds honest validators timed out (one per validator and round).
    public var timeouts: Int
    /// Consensus messages put on the network (self-deliveries excluded) and their bytes.
    public var messages: Int
    public var bytes: Int
    public var faults: [FaultKind: Int]
    /// Evidence reports raised by honest validators.
    public var evidenceReports: Int
    /// Anything that breaks safety: forks, honest double votes or proposals, commits out of order.
    public var safetyViolations: [String]
    /// After the heal round: how many rounds the cluster advanced before the
    /// slowest honest validator committed a new block (nil: no heal or someone never did).
    public var roundsToCommitAfterHeal: UInt64?
    public var healed: Bool
    /// True when the run reached its target round (false: it stalled).
    public var finished: Bool
    public var simulatedMilliseconds: UInt64
    /// Signatures made and checked (the CPU cost of consensus).
    public var signaturesMade: Int
    public var signaturesVerified: Int

    public var messagesPerCommittedBlock: Double {
        committedBlocks == 0 ? .infinity : Double(messages) / Double(committedBlocks)
    }
    public var bytesPerCommittedBlock: Double {
        committedBlocks == 0 ? .infinity : Double(bytes) / Double(committedBlocks)
    }

    public func count(_ kind: FaultKind) -> Int { faults[kind] ?? 0 }

    /// One line per run, for `ballast sim` and failing tests.
    public var summary: String {
        let faultText = FaultKind.allCases.compactMap { k in count(k) > 0 ? "\(k.rawValue)=\(count(k))" : nil }
            .joined(separator: " ")
        let liveness = healed ? (roundsToCommitAfterHeal.map { "live+\($0)" } ?? "NOT-LIVE") : "-"
        return "seed=\(seed) n=\(validators) rounds=\(rounds) commits=\(committedBlocks)/\(minCommittedBlocks) "
            + "timeouts=\(timeouts) msgs/block=\(fmt(messagesPerCommittedBlock)) bytes/block=\(fmt(bytesPerCommittedBlock)) "
            + "evidence=\(evidenceReports) \(liveness) \(finished ? "" : "STALLED ")"
            + (safetyViolations.isEmpty ? "safe" : "UNSAFE: \(safetyViolations.prefix(3))") + " [\(faultText)]"
    }

    private func fmt(_ x: Double) -> String {
        guard x.isFinite else { return "inf" }
        let scaled = Int((x * 10).rounded())
        return "\(scaled / 10).\(scaled % 10)"
    }
}
