import Codec
import Consensus
import BallastCrypto

extension Simulation {
    /// What a Byzantine process actually sends in place of `message`.
    func byzantineRewrite(_ message: ConsensusMessage, from p: Int,
                          to recipients: [ValidatorIndex]) -> [(ConsensusMessage, [ValidatorIndex])] {
        let process = processes[p]
        switch (process.behaviour, message) {
        case (.equivocatingLeader?, .proposal(let proposal)) where proposal.block.proposer == process.validator
            && recipients.count > 2:
            // A second block for the same round, sent to a random half; itself keeps the first.
            let b = proposal.block
            let other = Block(round: b.round, height: b.height, justify: b.justify, timestamp: b.timestamp,
                              proposer: b.proposer, executedHeight: b.executedHeight, stateRoot: b.stateRoot,
                              payload: b.payload + [[0xEE, UInt8(truncatingIfNeeded: b.round)]])
            let signature = process.key.sign(SigningMessage.proposal(chain: genesis.id, blockID: other.id))
            let twin = Proposal(block: other, timeoutCertificate: proposal.timeoutCertificate, signature: signature)
            var first: [ValidatorIndex] = [], second: [ValidatorIndex] = []
            for r in recipients {
                if r != process.validator && rng.chance(ppm: 500_000) { second.append(r) } else { first.append(r) }
            }
            guard !second.isEmpty else { return [(message, recipients)] }
            count(.equivocatingProposal)
            // Some validators also get the other block, later: they hold both and can prove it.
            let both = first.filter { $0 != process.validator && rng.chance(ppm: 500_000) }
            return [(message, first), (.proposal(twin), second + both)]
        case (.doubleVoter?, .vote(let vote)) where vote.voter == process.validator:
            var w = ByteWriter()
            w.write(vote.blockID)
            w.write(UInt8(0xDD))
            let fake = Blake2b.hash256(w.bytes)
            let signature = process.key.sign(SigningMessage.vote(chain: genesis.id, round: vote.round, blockID: fake))
            count(.doubleVote)
            return [(message, recipients),
                    (.vote(Vote(round: vote.round, blockID: fake, voter: vote.voter, signature: signature)), recipients)]
        case (.voteWithholder?, .vote(let vote)) where vote.voter == process.validator:
            count(.withheldVote)
            return []
        default:
            return [(message, recipients)]
        }
    }

    /// A conflicting voter votes for a proposal its replica refused (late, a
    /// second block of an equivocation, a round it timed out): the vote rule is
    /// the only thing it ignores.
    func voteRegardless(_ proposal: Proposal, from p: Int, alreadyVoted effects: [Effect], followUps: inout [Input]) {
        let b = proposal.block
        let voted = effects.contains { effect in
            if case .send(.vote(let v), _) = effect { return v.blockID == b.id }
            return false
        }
        guard !voted, b.proposer == validatorSet.leader(of: b.round),
              processes[p].extraVotes.insert(b.id).inserted else { return }
        let signature = processes[p].key.sign(SigningMessage.vote(chain: genesis.id, round: b.round, blockID: b.id))
        let vote = Vote(round: b.round, blockID: b.id, voter: processes[p].validator, signature: signature)
        count(.conflictingVote)
        outgoing(.vote(vote), from: p, to: [validatorSet.leader(of: b.round + 1)], followUps: &followUps)
    }
}
