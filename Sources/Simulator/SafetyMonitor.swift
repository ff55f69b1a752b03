import Consensus
import BallastCrypto

/// Watches every honest commit and every signature made, and records anything
/// that breaks safety: two honest validators committing different blocks at a
/// height (so one log is not a prefix of the other), an honest key signing two
/// votes or two proposals for one round, or voting in a round it timed out.
struct SafetyMonitor {
    private(set) var violations: [String] = []
    /// The first honest commit at each height (index = height - 1).
    private var canonical: [Hash256] = []
    private var votes: [ValidatorIndex: [Round: Hash256]] = [:]
    private var proposals: [ValidatorIndex: [Round: Hash256]] = [:]
    private var timedOut: [ValidatorIndex: Set<Round>] = [:]
    private(set) var honestTimeouts = 0

    mutating func violation(_ text: String) {
        // Keep the report small: the first violations are the interesting ones.
        if violations.count < 20 { violations.append(text) }
    }

    mutating func recordCommit(_ block: Block, by process: Int) {
        let h = Int(block.height)
        guard h >= 1 else { return violation("process \(process) committed genesis") }
        if h <= canonical.count {
            if canonical[h - 1] != block.id {
                violation("fork at height \(h): process \(process) committed \(block.id.hex.prefix(12)), another honest validator \(canonical[h - 1].hex.prefix(12))")
            }
        } else if h == canonical.count + 1 {
            canonical.append(block.id)
        } else {
            violation("process \(process) committed height \(h) with the canonical log at \(canonical.count)")
        }
    }

    /// Records a vote; returns true if the key had voted for another block in that round.
    mutating func recordVote(_ vote: Vote, honest: Bool) -> Bool {
        if honest, timedOut[vote.voter]?.contains(vote.round) == true {
            violation("honest validator \(vote.voter) voted in round \(vote.round) after timing it out")
        }
        if let first = votes[vote.voter]?[vote.round] {
            guard first != vote.blockID else { return false }
            if honest { violation("honest validator \(vote.voter) voted twice in round \(vote.round)") }
            return true
        }
        votes[vote.voter, default: [:]][vote.round] = vote.blockID
        return false
    }

    mutating func recordProposal(_ block: Block, honest: Bool) -> Bool {
        if let first = proposals[block.proposer]?[block.round] {
            guard first != block.id else { return false }
            if honest { violation("honest validator \(block.proposer) proposed twice in round \(block.round)") }
            return true
        }
        proposals[block.proposer, default: [:]][block.round] = block.id
        return false
    }

    /// Records a timeout; returns true the first time this key times out the round.
    mutating func recordTimeout(_ timeout: Timeout, honest: Bool) -> Bool {
        guard timedOut[timeout.signer, default: []].insert(timeout.round).inserted else { return false }
        if honest { honestTimeouts += 1 }
        return true
    }
}
