import Codec
import Consensus
import BallastCrypto

/// Deterministic keys and a validator set for tests.
struct Fixture {
    let keys: [SigningKey]
    let validators: ValidatorSet
    let genesis: Block

    init(count: Int) {
        var keys: [SigningKey] = []
        for i in 0..<count {
            // A 32-byte seed always makes a key.
            keys.append(try! SigningKey(seed: [UInt8](repeating: UInt8(i + 1), count: 32)))
        }
        self.keys = keys
        self.validators = try! ValidatorSet(equalStake: keys.map(\.publicKey))
        self.genesis = Block.genesis(chainID: "ballast-test")
    }

    var chain: Hash256 { genesis.id }

    func vote(_ signer: Int, round: Round, blockID: Hash256) -> Vote {
        let sig = keys[signer].sign(SigningMessage.vote(chain: chain, round: round, blockID: blockID))
        return Vote(round: round, blockID: blockID, voter: ValidatorIndex(signer), signature: sig)
    }

    func qc(round: Round, blockID: Hash256, signers: [Int]) -> QuorumCertificate {
        QuorumCertificate(blockID: blockID, round: round, votes: signers.sorted().map {
            ValidatorSignature(signer: ValidatorIndex($0), signature: vote($0, round: round, blockID: blockID).signature)
        })
    }

    func timeout(_ signer: Int, round: Round, highQC: QuorumCertificate) -> Timeout {
        let sig = keys[signer].sign(SigningMessage.timeout(chain: chain, round: round, highQCRound: highQC.round))
        return Timeout(round: round, highQC: highQC, signer: ValidatorIndex(signer), signature: sig)
    }

    /// A block of `round` on `parent`, proposed by the round's leader and signed.
    func proposal(round: Round, parent: Block, justify: QuorumCertificate, tc: TimeoutCertificate? = nil,
                  timestamp: UInt64? = nil, payload: [[UInt8]] = [[1, 2, 3]]) -> Proposal {
        let leader = validators.leader(of: round)
        let block = Block(round: round, height: parent.height + 1, justify: justify,
                          timestamp: timestamp ?? (parent.timestamp + 10), proposer: leader,
                          executedHeight: 0, stateRoot: genesis.stateRoot, payload: payload)
        let sig = keys[Int(leader)].sign(SigningMessage.proposal(chain: chain, blockID: block.id))
        return Proposal(block: block, timeoutCertificate: tc, signature: sig)
    }

    func replica(_ i: Int, recovery: Recovery? = nil) -> Replica {
        try! Replica(validators: validators, genesis: genesis, key: keys[i], recovery: recovery)
    }
}

extension Array where Element == Effect {
    var votes: [(Vote, ValidatorIndex)] {
        compactMap { if case .send(.vote(let v), let to) = $0 { return (v, to) } else { return nil } }
    }
    var proposals: [Proposal] {
        compactMap { if case .broadcast(.proposal(let p)) = $0 { return p } else { return nil } }
    }
    var timeouts: [Timeout] {
        compactMap { if case .broadcast(.timeout(let t)) = $0 { return t } else { return nil } }
    }
    var commits: [[Proposal]] {
        compactMap { if case .commit(let c) = $0 { return c } else { return nil } }
    }
    /// Round timers started, with their deadlines.
    var roundTimers: [TimerDeadline] {
        compactMap {
            if case .startTimer(let id, let after) = $0, id.kind == .round { return TimerDeadline(round: id.round, afterMilliseconds: after) }
            return nil
        }
    }
    var persists: [SafetyState] {
        compactMap { if case .persist(let s, _) = $0 { return s } else { return nil } }
    }
    var evidence: [Evidence] {
        compactMap { if case .evidence(let e) = $0 { return e } else { return nil } }
    }
    /// Index of the first effect matching `match`.
    func firstIndex(_ match: (Effect) -> Bool) -> Int? { firstIndex(where: match) }
}

struct TimerDeadline: Equatable {
    var round: Round
    var afterMilliseconds: UInt64
}
