import Codec
import Consensus
import BallastCrypto

extension Simulation {
    /// A message leaves process `p` for validators `to`: Byzantine rewriting,
    /// the signature ledger, then the network.
    func outgoing(_ message: ConsensusMessage, from p: Int, to recipients: [ValidatorIndex], followUps: inout [Input]) {
        for (m, targets) in byzantineRewrite(message, from: p, to: recipients) {
            record(m, from: p)
            transmit(m, from: p, to: targets, followUps: &followUps)
        }
    }

    /// Tells the safety monitor what this process's key signed.
    func record(_ message: ConsensusMessage, from p: Int) {
        let v = processes[p].validator
        let behaviour = processes[p].behaviour
        switch message {
        case .vote(let vote) where vote.voter == v:
            signaturesMade += 1
            if monitor.recordVote(vote, honest: behaviour == nil), behaviour == .twin { count(.twinConflict) }
        case .proposal(let proposal) where proposal.block.proposer == v:
            signaturesMade += 1
            if monitor.recordProposal(proposal.block, honest: behaviour == nil), behaviour == .twin { count(.twinConflict) }
        case .timeout(let timeout) where timeout.signer == v:
            if monitor.recordTimeout(timeout, honest: behaviour == nil) { signaturesMade += 1 }
        default:
            break
        }
    }

    /// Puts a message on the wire to every process of each recipient; a copy
    /// for the sender itself loops back without touching the network.
    func transmit(_ message: ConsensusMessage, from p: Int, to recipients: [ValidatorIndex], followUps: inout [Input]) {
        let v = processes[p].validator
        var encoded: [UInt8]? = nil
        for w in recipients {
            for q in processesOf[Int(w)] {
                if q == p {
                    followUps.append(.message(message, from: v))
                    continue
                }
                let wire = encoded ?? message.canonicalBytes
                encoded = wire
                messages += 1
                bytes += wire.count
                guard processes[q].group == processes[p].group else { continue }
                if config.network.dropPPM > 0, rng.chance(ppm: config.network.dropPPM) {
                    count(.drop)
                    continue
                }
                send(wire, from: p, to: q)
                if config.network.duplicatePPM > 0, rng.chance(ppm: config.network.duplicatePPM) {
                    count(.duplicate)
                    send(wire, from: p, to: q)
                }
            }
        }
    }

    private func send(_ wire: [UInt8], from p: Int, to q: Int) {
        linkSent[p][q] += 1
        let jitter = config.network.jitter > 0 ? rng.below(config.network.jitter + 1) : 0
        let at = time + linkLatency[p][q] + jitter
        queue.push(.deliver(to: q, from: processes[p].validator, fromProcess: p, bytes: wire, sequence: linkSent[p][q]), at: at)
    }

    /// A message reaches a process: decode it (as a real node would) and hand it over.
    func receive(_ wire: [UInt8], to q: Int, from v: ValidatorIndex, fromProcess p: Int, sequence: UInt64) {
        if sequence < linkDelivered[p][q] { count(.reorder) }
        linkDelivered[p][q] = max(linkDelivered[p][q], sequence)
        guard processes[q].replica != nil else { return }
        guard let message = try? ConsensusMessage(canonicalBytes: wire) else {
            monitor.violation("a message failed to decode")
            return
        }
        deliver(.message(message, from: v), to: q)
    }
}
