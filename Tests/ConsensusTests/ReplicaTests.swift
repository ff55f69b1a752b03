import Consensus
import BallastCrypto
import Testing

/// The replica driven directly: inputs in, effects checked exactly.
@Suite struct ReplicaTests {
    let f = Fixture(count: 4)
    var genesisQC: QuorumCertificate { .genesis(f.chain) }

    func started(_ i: Int) -> Replica {
        var r = f.replica(i)
        _ = r.handle(.start, now: 1_000)
        return r
    }

    @Test func votesOncePersistingBeforeSending() {
        var r = started(0)
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        let effects = r.handle(.message(.proposal(p1), from: 1), now: 1_000)
        #expect(effects.persists.map(\.lastVotedRound) == [1])
        #expect(effects.votes.count == 1)
        #expect(effects.votes.first?.0.blockID == p1.block.id)
        #expect(effects.votes.first?.1 == 2)  // the leader of round 2
        let persistAt = effects.firstIndex { if case .persist = $0 { return true } else { return false } }
        let sendAt = effects.firstIndex { if case .send(.vote, _) = $0 { return true } else { return false } }
        #expect(persistAt! < sendAt!)
        // The same proposal again: nothing new.
        #expect(r.handle(.message(.proposal(p1), from: 1), now: 1_001).votes.isEmpty)
    }

    @Test func conflictingProposalIsEvidenceAndGetsNoVote() {
        var r = started(0)
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC, payload: [[1]])
        let p1b = f.proposal(round: 1, parent: f.genesis, justify: genesisQC, payload: [[2]])
        _ = r.handle(.message(.proposal(p1), from: 1), now: 1_000)
        let effects = r.handle(.message(.proposal(p1b), from: 1), now: 1_000)
        #expect(effects.votes.isEmpty)
        #expect(effects.evidence == [.conflictingProposals(p1, p1b)])
    }

    @Test func timingOutRaisesTheLastVotedRound() {
        var r = started(0)
        let effects = r.handle(.timerFired(TimerID(kind: .round, round: 1)), now: 3_000)
        #expect(effects.persists.map(\.lastVotedRound) == [1])
        #expect(effects.timeouts.map(\.round) == [1])
        // Timed out round 1: the proposal for it no longer gets a vote.
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        #expect(r.handle(.message(.proposal(p1), from: 1), now: 3_001).votes.isEmpty)
        // A stale timer does nothing.
        #expect(r.handle(.timerFired(TimerID(kind: .round, round: 0)), now: 3_002).isEmpty)
    }

    @Test func refusesBadSignatureWrongLeaderAndFutureTimestamp() {
        var r = started(0)
        var forged = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        forged.signature = f.keys[2].sign([0])
        #expect(r.handle(.message(.proposal(forged), from: 1), now: 1_000).isEmpty)
        let future = f.proposal(round: 1, parent: f.genesis, justify: genesisQC, timestamp: 1_000 + 501)
        #expect(r.handle(.message(.proposal(future), from: 1), now: 1_000).votes.isEmpty)
        let near = f.proposal(round: 1, parent: f.genesis, justify: genesisQC, timestamp: 1_000 + 500, payload: [[9]])
        #expect(r.handle(.message(.proposal(near), from: 1), now: 1_000).votes.count == 1)
    }

    /// A block after a TC must extend a QC at least as high as the TC's.
    @Test func voteRuleAfterATimeoutCertificate() {
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        let qc1 = f.qc(round: 1, blockID: p1.block.id, signers: [0, 1, 2])
        let tc2 = TimeoutCertificate(round: 2, highQC: qc1, signatures: [0, 1, 3].map {
            TimeoutSignature(signer: ValidatorIndex($0), highQCRound: 1, signature: f.timeout($0, round: 2, highQC: qc1).signature)
        })
        // Extends QC(1) >= TC's high QC round 1: vote.
        var r = started(0)
        _ = r.handle(.message(.proposal(p1), from: 1), now: 1_000)
        let good = f.proposal(round: 3, parent: p1.block, justify: qc1, tc: tc2)
        #expect(r.handle(.message(.proposal(good), from: 3), now: 1_000).votes.map(\.0.round) == [3])
        // Extends only genesis while the TC saw QC(1): no vote.
        var s = started(0)
        _ = s.handle(.message(.proposal(p1), from: 1), now: 1_000)
        let stale = f.proposal(round: 3, parent: f.genesis, justify: genesisQC, tc: tc2)
        #expect(s.handle(.message(.proposal(stale), from: 3), now: 1_000).votes.isEmpty)
        #expect(SafetyRules.mayVote(for: stale.block, timeoutCertificate: tc2, state: SafetyState(lastVotedRound: 0, highQC: genesisQC)) == false)
        #expect(SafetyRules.mayVote(for: good.block, timeoutCertificate: tc2, state: SafetyState(lastVotedRound: 3, highQC: qc1)) == false)
    }

    /// Two certified blocks in consecutive rounds commit the first, and its
    /// ancestors, exactly once and in order.
    @Test func twoChainCommitRule() {
        var r = started(0)
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        let qc1 = f.qc(round: 1, blockID: p1.block.id, signers: [1, 2, 3])
        let p2 = f.proposal(round: 2, parent: p1.block, justify: qc1)
        let qc2 = f.qc(round: 2, blockID: p2.block.id, signers: [1, 2, 3])
        // Round 3 fails; round 4 follows a TC and extends QC(2).
        let p3 = f.proposal(round: 3, parent: p2.block, justify: qc2)
        let qc3 = f.qc(round: 3, blockID: p3.block.id, signers: [0, 1, 2])
        let p5 = f.proposal(round: 5, parent: p3.block, justify: qc3, tc: TimeoutCertificate(round: 4, highQC: qc3, signatures: [0, 1, 2].map {
            TimeoutSignature(signer: ValidatorIndex($0), highQCRound: 3, signature: f.timeout($0, round: 4, highQC: qc3).signature)
        }))
        let qc5 = f.qc(round: 5, blockID: p5.block.id, signers: [1, 2, 3])
        let p6 = f.proposal(round: 6, parent: p5.block, justify: qc5)
        let qc6 = f.qc(round: 6, blockID: p6.block.id, signers: [1, 2, 3])
        let p7 = f.proposal(round: 7, parent: p6.block, justify: qc6)

        #expect(r.handle(.message(.proposal(p1), from: 1), now: 1_000).commits.isEmpty)
        #expect(r.handle(.message(.proposal(p2), from: 2), now: 1_000).commits.isEmpty)
        // QC(2) certifies block 2 whose parent is from round 1: block 1 commits.
        #expect(r.handle(.message(.proposal(p3), from: 3), now: 1_000).commits.map { $0.map(\.block.id) } == [[p1.block.id]])
        // QC(3) on block 3 (parent round 2): block 2 commits.
        #expect(r.handle(.message(.proposal(p5), from: 1), now: 1_000).commits.map { $0.map(\.block.id) } == [[p2.block.id]])
        // QC(5) on block 5, whose parent is from round 3, not 4: nothing commits.
        #expect(r.handle(.message(.proposal(p6), from: 2), now: 1_000).commits.isEmpty)
        // QC(6) on block 6 (parent round 5): blocks 3 and 5 commit, in order.
        #expect(r.handle(.message(.proposal(p7), from: 3), now: 1_000).commits.map { $0.map(\.block.id) } == [[p3.block.id, p5.block.id]])
        #expect(r.committedBlock.id == p5.block.id)
    }

    /// The next leader forms a QC from a quorum of votes, reports a double
    /// vote, and proposes on top of the new QC as soon as it has transactions.
    @Test func leaderAggregatesVotesAndProposes() {
        var leader = started(2)  // leads round 2
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        var effects = leader.handle(.message(.proposal(p1), from: 1), now: 1_000)
        #expect(effects.votes.map(\.1) == [2])
        effects = leader.handle(.message(.vote(f.vote(0, round: 1, blockID: p1.block.id)), from: 0), now: 1_000)
        #expect(effects.isEmpty)
        let double = f.vote(0, round: 1, blockID: Blake2b.hash256([0xDD]))
        #expect(leader.handle(.message(.vote(double), from: 0), now: 1_000).evidence
                == [.conflictingVotes(f.vote(0, round: 1, blockID: p1.block.id), double)])
        _ = leader.handle(.message(.vote(f.vote(1, round: 1, blockID: p1.block.id)), from: 1), now: 1_000)
        // Its own vote makes three of four: the QC forms, round 2 begins.
        effects = leader.handle(.message(.vote(f.vote(2, round: 1, blockID: p1.block.id)), from: 2), now: 1_000)
        #expect(leader.round == 2)
        #expect(effects.contains { if case .requestPayload(round: 2) = $0 { return true } else { return false } })
        // p1 carries transactions and is uncommitted: no idle wait even for an empty payload.
        effects = leader.handle(.payloadReady(round: 2, payload: []), now: 1_100)
        #expect(effects.persists.map(\.lastProposedRound) == [2])
        #expect(effects.proposals.map(\.block.round) == [2])
        #expect(effects.proposals.first?.block.justify.round == 1)
        #expect(effects.proposals.first?.block.justify.votes.map(\.signer) == [0, 1, 2])
    }

    /// A leader that forms a QC sends it to every other validator at once, and a
    /// replica commits on the announced QC without waiting for the next proposal,
    /// whose copy of the QC it then accepts as already verified.
    @Test func formedQCIsAnnouncedAndCommitsBeforeTheNextProposal() {
        var leader = started(3)  // leads round 3
        var r = started(0)
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        let qc1 = f.qc(round: 1, blockID: p1.block.id, signers: [1, 2, 3])
        let p2 = f.proposal(round: 2, parent: p1.block, justify: qc1)
        for p in [p1, p2] {
            _ = leader.handle(.message(.proposal(p), from: p.block.proposer), now: 1_000)
            _ = r.handle(.message(.proposal(p), from: p.block.proposer), now: 1_000)
        }
        var announced: [(SyncInfo, ValidatorIndex)] = []
        for voter: ValidatorIndex in [0, 1, 3] {
            let effects = leader.handle(.message(.vote(f.vote(Int(voter), round: 2, blockID: p2.block.id)), from: voter), now: 1_000)
            announced += effects.compactMap { if case .send(.syncInfo(let s), let to) = $0 { return (s, to) } else { return nil } }
        }
        #expect(announced.map(\.1) == [0, 1, 2])
        #expect(announced.allSatisfy { $0.0.highQC.round == 2 && $0.0.highQC.blockID == p2.block.id && $0.0.highTC == nil })
        #expect(leader.round == 3)
        guard let qc2 = announced.first?.0.highQC else { return }
        // The replica takes the announced QC: block 1 commits, round 3 begins.
        let effects = r.handle(.message(.syncInfo(SyncInfo(highQC: qc2, highTC: nil)), from: 3), now: 1_001)
        #expect(effects.commits.map { $0.map(\.block.id) } == [[p1.block.id]])
        #expect(r.round == 3)
        // The proposal that carries the same QC is still voted for, and commits nothing twice.
        let p3 = f.proposal(round: 3, parent: p2.block, justify: qc2)
        let after = r.handle(.message(.proposal(p3), from: 3), now: 1_010)
        #expect(after.commits.isEmpty)
        #expect(after.votes.map(\.0.blockID) == [p3.block.id])
    }

    /// An idle leader (nothing pending, no transactions) waits for the idle timer.
    @Test func idleLeaderWaitsForTheIdleInterval() {
        var r = started(1)  // leads round 1; genesis holds no transactions
        var effects = r.handle(.payloadReady(round: 1, payload: []), now: 1_000)
        #expect(effects.proposals.isEmpty)
        effects = r.handle(.timerFired(TimerID(kind: .idle, round: 1)), now: 2_000)
        #expect(effects.proposals.map(\.block.payload) == [[]])
        #expect(effects.proposals.first?.block.timestamp == 2_000)
        // Its own wait does not count against its deadline: the round timer restarts from the proposal.
        #expect(effects.contains { if case .startTimer(TimerID(kind: .round, round: 1), afterMilliseconds: 2_000) = $0 { return true } else { return false } })
        // And with transactions it proposes at once.
        var s = started(1)
        #expect(s.handle(.payloadReady(round: 1, payload: [[7]]), now: 1_000).proposals.count == 1)
    }

    /// More than 1/3 of the stake timing out makes a validator join; a quorum forms a TC and the next round starts.
    @Test func timeoutsJoinAndFormATimeoutCertificate() {
        var r = started(0)
        #expect(r.handle(.message(.timeout(f.timeout(1, round: 1, highQC: genesisQC)), from: 1), now: 1_000).timeouts.isEmpty)
        let joined = r.handle(.message(.timeout(f.timeout(2, round: 1, highQC: genesisQC)), from: 2), now: 1_000)
        #expect(joined.timeouts.map(\.signer) == [0])
        #expect(joined.persists.map(\.lastVotedRound) == [1])
        let own = joined.timeouts[0]
        _ = r.handle(.message(.timeout(own), from: 0), now: 1_000)
        #expect(r.round == 2)
        #expect(r.highTC?.round == 1)
        #expect(r.highTC?.signatures.map(\.signer) == [0, 1, 2])
    }

    /// Rounds ending in a TC: the deadline doubles only from the second round without a QC
    /// (one crashed validator costs two such rounds), up to 2^maxBackoffExponent times.
    @Test func roundDeadlineDoublesFromTheSecondRoundWithoutAQC() {
        var r = started(0)
        var deadlines: [UInt64] = []
        for round in UInt64(1)...6 {
            var effects: [Effect] = []
            for signer in 1...3 {
                effects += r.handle(.message(.timeout(f.timeout(signer, round: round, highQC: genesisQC)), from: ValidatorIndex(signer)), now: 1_000)
            }
            #expect(r.round == round + 1)
            deadlines += effects.compactMap {
                if case .startTimer(TimerID(kind: .round, round: round + 1), let ms) = $0 { return ms } else { return nil }
            }
        }
        // Rounds 2…7, with the high QC still genesis (round 0): round 1 is the one free round.
        #expect(deadlines == [2_000, 4_000, 8_000, 16_000, 16_000, 16_000])
    }

    /// A replica that receives a QC for a block it does not have asks for the
    /// chain, checks it, and commits what the chain's QCs complete.
    @Test func syncFetchesMissingBlocksAndCommits() {
        var ahead = started(1)
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        let qc1 = f.qc(round: 1, blockID: p1.block.id, signers: [1, 2, 3])
        let p2 = f.proposal(round: 2, parent: p1.block, justify: qc1)
        let qc2 = f.qc(round: 2, blockID: p2.block.id, signers: [1, 2, 3])
        let p3 = f.proposal(round: 3, parent: p2.block, justify: qc2)
        for p in [p1, p2, p3] { _ = ahead.handle(.message(.proposal(p), from: p.block.proposer), now: 1_000) }

        var behind = started(0)
        var effects = behind.handle(.message(.proposal(p3), from: 3), now: 1_000)
        let requests = effects.compactMap { e -> (BlockRequest, ValidatorIndex)? in
            if case .send(.blockRequest(let req), let to) = e { return (req, to) } else { return nil }
        }
        #expect(requests.map(\.0) == [BlockRequest(targetID: p2.block.id, knownHeight: 0, maxBlocks: 64)])
        #expect(requests.map(\.1) == [3])
        effects = ahead.handle(.message(.blockRequest(requests[0].0), from: 0), now: 1_000)
        guard case .send(.blockResponse(let response), to: 0)? = effects.first else {
            Issue.record("no response: \(effects)")
            return
        }
        #expect(response.proposals == [p1, p2])
        // A tampered response is refused at the first bad block.
        var tampered = response
        tampered.proposals[0].signature = f.keys[0].sign([1])
        var copy = behind
        #expect(copy.handle(.message(.blockResponse(tampered), from: 1), now: 1_000).commits.isEmpty)
        effects = behind.handle(.message(.blockResponse(response), from: 1), now: 1_000)
        #expect(effects.commits.map { $0.map(\.block.id) } == [[p1.block.id]])
        // With the parent in place, the waiting proposal got its vote.
        #expect(effects.votes.map(\.0.blockID) == [p3.block.id])
    }
}

@Suite struct RestartTests {
    let f = Fixture(count: 4)

    /// The persisted state is what prevents a double vote: a replica restarted
    /// from it refuses the conflicting block; one restarted without it signs it.
    @Test func restartFromPersistedStateRefusesAConflictingVote() {
        let genesisQC = QuorumCertificate.genesis(f.chain)
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC, payload: [[1]])
        let p1b = f.proposal(round: 1, parent: f.genesis, justify: genesisQC, payload: [[2]])
        var before = f.replica(0)
        _ = before.handle(.start, now: 1_000)
        let effects = before.handle(.message(.proposal(p1), from: 1), now: 1_000)
        guard let persisted = effects.persists.last else {
            Issue.record("no persist before the vote")
            return
        }
        var recovered = f.replica(0, recovery: Recovery(safety: persisted, committed: [], executedHeight: 0, stateRoot: .zero))
        #expect(recovered.handle(.start, now: 1_100).timeouts.isEmpty)
        #expect(recovered.round == 1)
        #expect(recovered.handle(.message(.proposal(p1b), from: 1), now: 1_100).votes.isEmpty)
        var amnesiac = f.replica(0)
        _ = amnesiac.handle(.start, now: 1_100)
        #expect(amnesiac.handle(.message(.proposal(p1b), from: 1), now: 1_100).votes.map(\.0.blockID) == [p1b.block.id])
    }

    /// The blocks a replica voted for come back with it: after every validator restarts, the
    /// block of the highest QC (certified, never committed) is known again instead of being
    /// asked of peers that lost it too. A stored block that does not check out is dropped.
    @Test func votedBlocksComeBackAfterARestart() {
        let genesisQC = QuorumCertificate.genesis(f.chain)
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        let p2 = f.proposal(round: 2, parent: p1.block, justify: f.qc(round: 1, blockID: p1.block.id, signers: [0, 1, 2]))
        var before = f.replica(0)
        _ = before.handle(.start, now: 1_000)
        _ = before.handle(.message(.proposal(p1), from: 1), now: 1_000)
        let effects = before.handle(.message(.proposal(p2), from: 2), now: 1_000)
        guard let persisted = effects.persists.last else {
            Issue.record("no persist before the vote")
            return
        }
        #expect(persisted.highQC.blockID == p1.block.id)
        let votedBlocks = effects.compactMap { if case .persist(_, let b) = $0 { return b } else { return nil } }
        #expect(votedBlocks == [p2])  // the persist before the vote carries the block voted for
        func blockRequests(_ effects: [Effect]) -> Int {
            effects.filter { if case .send(.blockRequest, _) = $0 { return true } else { return false } }.count
        }

        let forged = Proposal(block: p2.block, timeoutCertificate: nil, signature: p1.signature)
        var recovered = f.replica(0, recovery: Recovery(safety: persisted, committed: [], executedHeight: 0, stateRoot: .zero,
                                                        uncommitted: [p2, forged, p1]))
        #expect(blockRequests(recovered.handle(.start, now: 1_100)) == 0)
        #expect(recovered.proposal(p1.block.id) == p1)
        #expect(recovered.proposal(p2.block.id) == p2)

        let orphan = f.proposal(round: 3, parent: p2.block, justify: f.qc(round: 2, blockID: p2.block.id, signers: [0, 1, 2]))
        var forgetful = f.replica(0, recovery: Recovery(safety: persisted, committed: [], executedHeight: 0, stateRoot: .zero,
                                                        uncommitted: [orphan, forged]))
        #expect(blockRequests(forgetful.handle(.start, now: 1_100)) == 1)
        #expect(forgetful.proposal(orphan.block.id) == nil && forgetful.proposal(p2.block.id) == nil)
    }

    /// A restarted replica keeps the TC of the round it voted in (from the voted block that
    /// carried it), so it can move a validator still timing out in the round before.
    @Test func theTimeoutCertificateOfAVotedBlockComesBack() {
        let genesisQC = QuorumCertificate.genesis(f.chain)
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        let qc1 = f.qc(round: 1, blockID: p1.block.id, signers: [0, 1, 2])
        let tc2 = TimeoutCertificate(round: 2, highQC: qc1, signatures: [1, 2, 3].map {
            TimeoutSignature(signer: ValidatorIndex($0), highQCRound: 1, signature: f.timeout($0, round: 2, highQC: qc1).signature)
        })
        let p3 = f.proposal(round: 3, parent: p1.block, justify: qc1, tc: tc2)
        let voted = SafetyState(lastVotedRound: 3, highQC: qc1)
        let lagging = f.timeout(1, round: 2, highQC: qc1)
        func syncTCs(_ effects: [Effect]) -> [Round?] {
            effects.compactMap { if case .send(.syncInfo(let s), 1) = $0 { return s.highTC?.round } else { return nil } }
        }
        var recovered = f.replica(0, recovery: Recovery(safety: voted, committed: [], executedHeight: 0, stateRoot: .zero,
                                                        uncommitted: [p1, p3]))
        _ = recovered.handle(.start, now: 1_100)
        #expect(recovered.round == 3)
        #expect(syncTCs(recovered.handle(.message(.timeout(lagging), from: 1), now: 1_100)) == [2])
        var amnesiac = f.replica(0, recovery: Recovery(safety: voted, committed: [], executedHeight: 0, stateRoot: .zero))
        _ = amnesiac.handle(.start, now: 1_100)
        #expect(!syncTCs(amnesiac.handle(.message(.timeout(lagging), from: 1), now: 1_100)).contains(2))
    }

    /// Rounds that failed before a restart do not stretch the first deadline after it;
    /// failures after it double the deadline again.
    @Test func backOffStartsAfreshAfterARestart() {
        let config = ConsensusConfig()
        let stuck = SafetyState(lastVotedRound: 12, highQC: .genesis(f.chain))
        var recovered = f.replica(0, recovery: Recovery(safety: stuck, committed: [], executedHeight: 0, stateRoot: .zero))
        let start = recovered.handle(.start, now: 1_000)
        #expect(recovered.round == 12)
        #expect(start.roundTimers == [TimerDeadline(round: 12, afterMilliseconds: config.roundTimeout)])
        // Timeouts of 3 validators for round 12 form a TC: round 13 follows the first failed one,
        // which is free (see roundDeadlineDoublesFromTheSecondRoundWithoutAQC); round 14 doubles.
        for (failed, expected) in [(Round(12), config.roundTimeout), (13, config.roundTimeout << 1)] {
            var entered: [TimerDeadline] = []
            for signer in 1...3 {
                let timeout = f.timeout(signer, round: failed, highQC: .genesis(f.chain))
                entered += recovered.handle(.message(.timeout(timeout), from: ValidatorIndex(signer)), now: 1_100).roundTimers
            }
            #expect(recovered.round == failed + 1)
            #expect(entered.last == TimerDeadline(round: failed + 1, afterMilliseconds: expected))
        }
    }

    @Test func recoveryRefusesABrokenChain() {
        let genesisQC = QuorumCertificate.genesis(f.chain)
        let p1 = f.proposal(round: 1, parent: f.genesis, justify: genesisQC)
        let p1b = f.proposal(round: 1, parent: f.genesis, justify: genesisQC, payload: [[5]])
        #expect(throws: ReplicaError.brokenCommittedChain) {
            try Replica(validators: f.validators, genesis: f.genesis, key: f.keys[0],
                        recovery: Recovery(safety: SafetyState(lastVotedRound: 1, highQC: genesisQC),
                                           committed: [p1, p1b], executedHeight: 0, stateRoot: .zero))
        }
        #expect(throws: ReplicaError.notAValidator) {
            try Replica(validators: f.validators, genesis: f.genesis, key: try! SigningKey(seed: [UInt8](repeating: 99, count: 32)))
        }
    }
}

@Suite struct HostileInputTests {
    let f = Fixture(count: 4)

    /// Rounds at the top of the range, unknown senders and garbage certificates
    /// are refused without a trap and without changing the replica.
    @Test func extremeRoundsAndForgeriesAreRefused() {
        var r = f.replica(0)
        _ = r.handle(.start, now: 1_000)
        let genesisQC = QuorumCertificate.genesis(f.chain)
        let vote = f.vote(1, round: .max, blockID: f.chain)
        #expect(r.handle(.message(.vote(vote), from: 1), now: 1_000).isEmpty)
        let timeout = f.timeout(1, round: .max, highQC: genesisQC)
        #expect(r.handle(.message(.timeout(timeout), from: 1), now: 1_000).isEmpty)
        let fakeQC = QuorumCertificate(blockID: f.chain, round: .max - 1, votes: [])
        let block = Block(round: .max, height: 1, justify: fakeQC, timestamp: .max, proposer: f.validators.leader(of: .max),
                          executedHeight: 0, stateRoot: .zero, payload: [])
        let sig = f.keys[Int(block.proposer)].sign(SigningMessage.proposal(chain: f.chain, blockID: block.id))
        let tc = TimeoutCertificate(round: .max - 1, highQC: genesisQC, signatures: [])
        #expect(r.handle(.message(.proposal(Proposal(block: block, timeoutCertificate: tc, signature: sig)), from: 1), now: 1_000).isEmpty)
        #expect(r.handle(.message(.syncInfo(SyncInfo(highQC: fakeQC, highTC: tc)), from: 2), now: 1_000).isEmpty)
        #expect(r.handle(.message(.vote(f.vote(1, round: 1, blockID: f.chain)), from: 9), now: 1_000).isEmpty)
        #expect(r.round == 1)
        #expect(r.safety == SafetyState(lastVotedRound: 0, highQC: genesisQC))
        #expect(r.handle(.message(.blockResponse(BlockResponse(targetID: f.chain, proposals: [])), from: 1), now: 1_000).isEmpty)
    }
}
