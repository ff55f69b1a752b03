import BallastCrypto
import Foundation
import Node
import PeerNetwork
import PeerTestSupport
import Testing

/// A running four-process cluster keeps committing while an attacker connects
/// to one validator's peer port again and again with garbage and oversize
/// frames, wrong handshakes and a replayed handshake signature, before and after
/// authenticating: each connection is dropped with its reason logged.
@Suite(.serialized) struct BadPeerTests {
    struct Attack {
        let name: String
        /// What the node's log must give as the reason for the drop.
        let reason: String
        /// Whether it completes the handshake with a real validator's key.
        var authenticates = false
        /// Connects and misbehaves; returns the connection to watch.
        let run: @Sendable () async throws -> RawPeer
    }

    @Test func validatorUnderAttackDropsEveryBadPeerAndTheClusterKeepsCommitting() async throws {
        let cluster = try await ProcessCluster()
        defer { cluster.stopAll() }
        try cluster.startAll()
        for i in 0..<4 { try await cluster.waitUntilUp(i) }

        let keys = Testnet.validatorKeys
        // The attacked node keeps an inbound connection from a lower key over its own dial, so an
        // impostor claiming a lower key gets as far as the signature check: attack the highest key.
        let target = try #require((0..<4).max { keys[$0].publicKey < keys[$1].publicKey })
        let node = keys[target].publicKey
        let impersonated = keys[(target + 1) % 4]  // a real validator key: as if it had leaked
        let outsider = Testnet.key("an outsider")
        let chain = try ValidatorRuntime.chainTag(of: NodeHome.parseGenesis(Testnet.genesisBytes, source: "testnet"))
        let otherChain = Blake2b.hash256(Array("another chain".utf8))
        let address = PeerAddress(host: "127.0.0.1", port: cluster.p2pPort(target))
        let maxFrame = NodeConfig.P2P().maxFrameBytes

        let attacks: [Attack] = [
            Attack(name: "garbage frame", reason: "unknown tag 119") {
                let peer = try await RawPeer.connect(to: address)
                try? await peer.send(raw: [3, 0, 0, 0, 0x77, 0x01, 0x02])
                return peer
            },
            // Before the handshake only small frames are accepted.
            Attack(name: "oversize frame", reason: "frame of 1025 bytes exceeds the maximum of 1024") {
                let peer = try await RawPeer.connect(to: address)
                try? await peer.send(raw: [0x01, 0x04, 0x00, 0x00])
                return peer
            },
            Attack(name: "unknown key", reason: "unknown validator key \(outsider.publicKey.hex)") {
                let peer = try await RawPeer.connect(to: address)
                try? await peer.send(RawPeer.hello(outsider.publicKey, genesis: chain))
                return peer
            },
            Attack(name: "wrong genesis", reason: "peer is on another chain") {
                let peer = try await RawPeer.connect(to: address)
                try? await peer.send(RawPeer.hello(impersonated.publicKey, genesis: otherChain))
                return peer
            },
            Attack(name: "bad signature", reason: "does not verify") {
                let peer = try await RawPeer.connect(to: address)
                try await peer.send(RawPeer.hello(impersonated.publicKey, genesis: chain))
                let challenge = try await peer.readHelloChallenge()
                // This connection's transcript, signed by a key other than the one claimed.
                try? await peer.send(.proof(outsider.sign(HandshakeTranscript(
                    genesis: chain, challenge: challenge, signer: impersonated.publicKey, verifier: node).signingMessage)))
                return peer
            },
            Attack(name: "replayed signature", reason: "does not verify") {
                // A genuine proof for an earlier connection's challenge, replayed on a new one.
                let earlier = try await RawPeer.connect(to: address)
                let stale = RawPeer.proof(by: impersonated, for: node, challenge: try await earlier.readHelloChallenge(), genesis: chain)
                await earlier.close()
                let peer = try await RawPeer.connect(to: address)
                try await peer.send(RawPeer.hello(impersonated.publicKey, genesis: chain))
                try? await peer.send(stale)
                return peer
            },
            // With the validator's real key: an authenticated peer gets no more latitude.
            Attack(name: "garbage after the handshake", reason: "malformed message: WireMessage: unknown tag 9", authenticates: true) {
                let peer = try await RawPeer.authenticated(to: address, node: node, genesis: chain, as: impersonated)
                try? await peer.send(raw: [2, 0, 0, 0, 0x09, 0x09])
                return peer
            },
            Attack(name: "oversize after the handshake", reason: "frame of \(maxFrame + 1) bytes exceeds the maximum of \(maxFrame)",
                   authenticates: true) {
                let peer = try await RawPeer.authenticated(to: address, node: node, genesis: chain, as: impersonated)
                let size = UInt32(maxFrame + 1)
                try? await peer.send(raw: (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) })
                return peer
            },
        ]

        let start = try await cluster.get(target, "/v1/status", as: ProcessCluster.Status.self).height
        var heights = [start]
        var submitted: [String] = []
        let transfers = signedTransfers(attacks.count)
        var impersonatedStopped = false
        for (attack, tx) in zip(attacks, transfers) {
            if attack.authenticates && !impersonatedStopped {
                // An authenticated impostor replaces the real validator's connection; the real
                // one then redials and replaces the impostor's in turn, and when that wins the
                // race with the impostor's bad frame the frame is never read (no drop to log).
                // So the real validator is stopped for these attacks (three nodes still commit).
                cluster.stop((target + 1) % 4)
                impersonatedStopped = true
            }
            let before = cluster.dropReasons(target).count
            let peer = try await attack.run()
            #expect(await peer.closedByPeer(within: .seconds(10)), "\(attack.name): not disconnected")
            // Exactly one more drop, for this attack's reason. The node logs it as it closes the
            // connection; under the full suite's load (this test then takes about 40 s instead of
            // 1) the line once took more than 5 s to appear, so the wait matches the 10 s above.
            var reasons = cluster.dropReasons(target)
            let deadline = ContinuousClock.now + .seconds(10)
            while reasons.count == before, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                reasons = cluster.dropReasons(target)
            }
            #expect(reasons.count == before + 1, "\(attack.name): \(reasons.dropFirst(before))")
            #expect(reasons.last?.contains(attack.reason) == true, "\(attack.name): logged \(reasons.last ?? "nothing")")
            // The attacked node takes transactions and commits all along.
            let (status, body) = try await cluster.post(target, "/v1/tx", body: tx.hex)
            #expect(status == 202, "\(String(decoding: body, as: UTF8.self))")
            submitted.append(tx.id)
            heights.append(try await cluster.get(target, "/v1/status", as: ProcessCluster.Status.self).height)
        }
        #expect(heights.last! > start, "no block committed during the attacks: \(heights)")
        if impersonatedStopped {
            try cluster.start((target + 1) % 4)
            try await cluster.waitUntilUp((target + 1) % 4)
        }
        for id in submitted {
            var answer = try await cluster.get(target, "/v1/tx/\(id)", as: ProcessCluster.TxAnswer.self)
            let deadline = ContinuousClock.now + .seconds(30)
            while answer.status != "committed", ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                answer = try await cluster.get(target, "/v1/tx/\(id)", as: ProcessCluster.TxAnswer.self)
            }
            #expect(answer.receipt?.ok == true, "\(id) not committed")
        }
        // After the attacks: the real validators are all connected again and the chain goes on.
        try await cluster.waitForHeight(heights.last! + 5, nodes: [0, 1, 2, 3])
        var peers = 0
        let deadline = ContinuousClock.now + .seconds(20)
        while peers != 3, ContinuousClock.now < deadline {
            peers = try await cluster.get(target, "/v1/status", as: PeerCount.self).peers.count
            if peers != 3 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(peers == 3)
        #expect(cluster.dropReasons(target).count == attacks.count)

        // A clean stop (SIGTERM) is quiet: no node logs an error on the way out.
        cluster.stopAll()
        for i in 0..<4 {
            #expect(cluster.logLines(i, levels: ["error", "critical"]) == [], "node \(i)")
            #expect(cluster.logLines(i, levels: ["notice"]).last?.hasSuffix("stopped") == true, "node \(i) did not stop cleanly")
        }
    }

    struct PeerCount: Decodable { var peers: [String] }
}
