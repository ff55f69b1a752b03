import BallastCrypto
import Cluster
import Codec
import Foundation
import Ledger
import Node
import Testing
import Wallet
import WalletClient

/// The CI end-to-end scenario (cluster/e2e.json): four validators under load while the harness
/// kills and restarts one, partitions one and heals it, pauses one and resumes it; then fault
/// commands from the command line (loss, heal, pause, resume). Afterwards every replica has
/// the same blocks and roots at every height, every transaction acknowledged as committed is
/// in every node's log, and no two consecutive blocks are more than 5 s apart (only one
/// validator is faulty at any time in this scenario). Last, every node is killed and started
/// again at once, and commits must resume on the same chain.
@Suite(.serialized) struct ClusterEndToEndTests {
    /// Decodes `GET /v1/blocks/{h}`.
    struct BlockAnswer: Decodable, Equatable {
        var hash: String
        var height: UInt64
        var parent: String
        var round: UInt64
        var proposer: Int
        var stateRoot: String
        var timestampMs: UInt64
        var transactions: [String]
    }

    /// A transfer the cluster acknowledged as committed.
    struct Acknowledged: Sendable {
        var id: String
        var height: UInt64
    }

    /// Three non-overlapping ranges of free loopback ports: peers, HTTP, link proxies.
    static func ports(validators n: Int) throws -> (p2p: Int, rpc: Int, proxy: Int) {
        for _ in 0..<50 {
            let p2p = try LoopbackPorts.freeRange(n), rpc = try LoopbackPorts.freeRange(n), proxy = try LoopbackPorts.freeRange(n * n)
            let ranges = [p2p..<(p2p + n), rpc..<(rpc + n), proxy..<(proxy + n * n)]
            if !ranges[0].overlaps(ranges[1]), !ranges[0].overlaps(ranges[2]), !ranges[1].overlaps(ranges[2]) { return (p2p, rpc, proxy) }
        }
        throw ClusterError("no three disjoint port ranges")
    }

    /// Sends signed faucet transfers at `rate` per second for `seconds`, round-robin over the
    /// nodes, each waiting for its commit; returns those acknowledged as committed, and how
    /// many were not (refused, unreachable, still pending).
    static func load(_ cluster: ClusterManifest, faucet: SigningKey, seconds: Int, rate: Int) async -> (acked: [Acknowledged], notAcked: Int) {
        let recipients = (0..<8).map { _ in SigningKey.generate().address }
        let base = UInt64(Date().timeIntervalSince1970 * 1000)
        let start = ContinuousClock.now
        let interval = Duration.milliseconds(1000 / rate)
        return await withTaskGroup(of: Acknowledged?.self) { group in
            for k in 0..<(seconds * rate) {
                try? await Task.sleep(until: start + interval * k, clock: .continuous)
                group.addTask {
                    let tx = Transaction(chainID: cluster.chainId, signer: faucet.publicKey, nonce: base + UInt64(k),
                                         action: .transfer(to: recipients[k % recipients.count], asset: 0, amount: 1_000 + Int64(k)))
                        .signed(with: faucet)
                    guard let client = try? NodeClient(url: cluster.rpcURL(k % cluster.validators), timeout: 45),
                          let answer = try? await client.submit(tx.canonicalBytes, wait: true).answer,
                          answer.status == "committed", let receipt = answer.receipt else { return nil }
                    return Acknowledged(id: answer.txId, height: receipt.height)
                }
            }
            var acked: [Acknowledged] = []
            var missing = 0
            for await result in group {
                if let result { acked.append(result) } else { missing += 1 }
            }
            return (acked, missing)
        }
    }

    static func get<T: Decodable>(_ cluster: ClusterManifest, node: Int, _ path: String, as: T.Type) async -> T? {
        guard let client = try? NodeClient(url: cluster.rpcURL(node), timeout: 10) else { return nil }
        return try? await client.get(path, as: T.self)
    }

    static func ballast(_ args: [String]) async throws -> (status: Int32, output: String) { try await ClusterCommandTests.ballast(args) }

    @Test func faultsUnderLoadKeepEveryReplicaInAgreement() async throws {
        let dir = NSTemporaryDirectory() + "ballast-e2e-\(UUID().uuidString)"
        let layout = ClusterLayout(directory: dir)
        defer {
            ClusterPIDs.stopRecorded(layout, timeout: .seconds(2))
            try? FileManager.default.removeItem(atPath: dir)
        }
        let ports = try Self.ports(validators: 4)
        let scenario = ClusterCommandTests.repo.appendingPathComponent("cluster/e2e.json").path
        let up = try await Self.ballast(["cluster", "up", "--detach", "--dir", dir, "--manifest", scenario,
                                   "--p2p-port", "\(ports.p2p)", "--rpc-port", "\(ports.rpc)", "--proxy-port", "\(ports.proxy)"])
        try #require(up.status == 0, "\(up.output)")
        let started = ContinuousClock.now
        let cluster = try ClusterManifest.load(layout)
        #expect(cluster.proxyBasePort == ports.proxy)
        let manifest = try Manifest.load(path: scenario)
        let shape = try #require(manifest.load)

        // Load, while the harness runs the schedule.
        try await Task.sleep(until: started + .seconds(shape.startAtSeconds), clock: .continuous)
        let faucet = try Keyring(home: layout.walletHome).load(name: ClusterLayout.faucetKeyName)
        let (acked, notAcked) = await Self.load(cluster, faucet: faucet, seconds: shape.durationSeconds, rate: shape.ratePerSecond ?? 20)
        let sent = shape.durationSeconds * (shape.ratePerSecond ?? 20)
        #expect(acked.count + notAcked == sent)
        // Only transfers sent to a node while it was down or cut off may go unacknowledged.
        #expect(acked.count >= sent / 2, "\(acked.count) of \(sent) acknowledged")

        // The schedule ends; every step was applied.
        let scheduleDeadline = started + .seconds(Int(manifest.schedule.last?.at ?? 0) + 30)
        while FaultState.load(layout)?.scheduleFinished != true, ContinuousClock.now < scheduleDeadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(FaultState.load(layout)?.scheduleFinished == true)
        let harnessLog = try String(contentsOfFile: layout.harnessLogPath, encoding: .utf8)
        for step in ["kill validator-1: killed with SIGKILL", "restart validator-1: started validator-1", "partition validator-2: 3 links",
                     "heal: 6 links", "pause validator-3: SIGSTOP", "resume validator-3: SIGCONT", "schedule done"] {
            #expect(harnessLog.contains(step), "harness log lacks '\(step)':\n\(harnessLog)")
        }

        // Fault commands from the command line, seen in `cluster status`.
        var command = try await Self.ballast(["cluster", "loss", "validator-0", "--percent", "30", "--dir", dir])
        #expect(command.status == 0 && command.output.contains("3 links"), "\(command.output)")
        command = try await Self.ballast(["cluster", "status", "--dir", dir])
        #expect(command.output.contains("30% loss to 1; 30% loss to 2; 30% loss to 3"), "\(command.output)")
        try await Task.sleep(for: .seconds(3))
        command = try await Self.ballast(["cluster", "heal", "--dir", dir])
        #expect(command.status == 0, "\(command.output)")
        command = try await Self.ballast(["cluster", "pause", "validator-0", "--dir", dir])
        #expect(command.status == 0 && command.output.contains("SIGSTOP to validator-0"), "\(command.output)")
        command = try await Self.ballast(["cluster", "status", "--dir", dir])
        #expect(command.output.split(separator: "\n").contains { $0.hasPrefix("validator-0") && $0.hasSuffix("paused") }, "\(command.output)")
        try await Task.sleep(for: .seconds(3))
        command = try await Self.ballast(["cluster", "resume", "validator-0", "--dir", dir])
        #expect(command.status == 0, "\(command.output)")
        command = try await Self.ballast(["cluster", "kill", "validator-9", "--dir", dir])
        #expect(command.status != 0 && command.output.contains("no validator 'validator-9'"), "\(command.output)")

        // Every node catches up past the last acknowledged height.
        let target = (acked.map(\.height).max() ?? 0) + 2
        let client = ClusterStatusClient(manifest: cluster)
        var snapshot = await client.snapshot()
        let catchUp = ContinuousClock.now + .seconds(60)
        while !(snapshot.agrees && (snapshot.commonHeight ?? 0) >= target), ContinuousClock.now < catchUp {
            try await Task.sleep(for: .milliseconds(500))
            snapshot = await client.snapshot()
        }
        try #require(snapshot.agrees && (snapshot.commonHeight ?? 0) >= target, "\(snapshot.table())")
        let height = try #require(snapshot.commonHeight)

        // Every height: the same block (hash, parent, root, transactions) on every node.
        var chain: [BlockAnswer] = []
        for h in 1...height {
            let blocks = await withTaskGroup(of: (Int, BlockAnswer?).self) { group in
                for i in 0..<cluster.validators { group.addTask { (i, await Self.get(cluster, node: i, "/v1/blocks/\(h)", as: BlockAnswer.self)) } }
                return await group.reduce(into: [BlockAnswer?](repeating: nil, count: cluster.validators)) { $0[$1.0] = $1.1 }
            }
            let first = try #require(blocks[0], "node 0 has no block \(h)")
            #expect(blocks.allSatisfy { $0 == first }, "height \(h) differs: \(blocks)")
            if let previous = chain.last { #expect(first.parent == previous.hash, "height \(h)") }
            chain.append(first)
        }

        // Every acknowledged transfer is in the block its receipt names, and every node says it committed there.
        for ack in acked {
            #expect(chain[Int(ack.height) - 1].transactions.contains(ack.id), "\(ack.id) not in block \(ack.height)")
        }
        for batch in stride(from: 0, to: acked.count, by: 32).map({ Array(acked[$0..<min($0 + 32, acked.count)]) }) {
            let wrong = await withTaskGroup(of: String?.self) { group in
                for ack in batch {
                    for node in 0..<cluster.validators {
                        group.addTask {
                            let answer = await Self.get(cluster, node: node, "/v1/tx/\(ack.id)", as: TransactionAnswer.self)
                            return answer?.status == "committed" && answer?.receipt?.height == ack.height ? nil : "\(ack.id) on node \(node): \(String(describing: answer))"
                        }
                    }
                }
                return await group.compactMap { $0 }.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(wrong.isEmpty, "\(wrong.prefix(5))")
        }

        // No gap of more than 5 s between consecutive blocks, from the first block on.
        let gaps = zip(chain, chain.dropFirst()).map { (height: $1.height, ms: Int64($1.timestampMs) - Int64($0.timestampMs),
                                                       rounds: "\($0.round)-\($1.round) by \($0.proposer),\($1.proposer)") }
        let worst = try #require(gaps.max { $0.ms < $1.ms })
        print("e2e: \(acked.count) of \(sent) transfers acknowledged, \(height) blocks, longest gap \(worst.ms) ms before height \(worst.height); "
            + "gaps over 2.5 s: \(gaps.filter { $0.ms > 2_500 })")
        #expect(worst.ms <= 5_000, "\(worst.ms) ms before height \(worst.height); gaps over 2 s: \(gaps.filter { $0.ms > 2_000 })")

        // Every node killed at once and started again: commits resume within seconds (the
        // pacemaker's back-off starts afresh), on the same chain.
        let before = await client.snapshot().maxHeight
        command = try await Self.ballast(["cluster", "restart-all", "--dir", dir])
        #expect(command.status == 0, "\(command.output)")
        let restarted = ContinuousClock.now
        snapshot = await client.snapshot()
        while !(snapshot.agrees && (snapshot.commonHeight ?? 0) >= before + 3), ContinuousClock.now < restarted + .seconds(40) {
            try await Task.sleep(for: .milliseconds(250))
            snapshot = await client.snapshot()
        }
        let resumed = ContinuousClock.now - restarted
        print("e2e: after restart-all every node passed height \(before + 2) in \(resumed)")
        #expect(snapshot.agrees && (snapshot.commonHeight ?? 0) >= before + 3, "\(snapshot.table())")
        // Typically 5-7 s here (debug nodes replaying their blocks since the last snapshot, then
        // reconnecting on the peer back-off); 14 s once on a busy machine. The capped pacemaker
        // back-off this used to hit is covered by ReplicaTests.
        #expect(resumed < .seconds(30))

        // `cluster verify`: the same agreement, plus a replay of a node's block log from genesis in a fresh process.
        let verify = try await Self.ballast(["cluster", "verify", "--dir", dir])
        print("e2e: " + verify.output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(verify.status == 0 && verify.output.contains("verify OK: 4 replicas agree"), "\(verify.output)")

        let down = try await Self.ballast(["cluster", "down", "--dir", dir])
        #expect(down.status == 0 && down.output.contains("stopped 4 nodes"), "\(down.output)")
        #expect(ClusterPIDs.load(layout) == nil && FaultState.load(layout) == nil)
        let refused = try await Self.ballast(["cluster", "kill", "validator-1", "--dir", dir])
        #expect(refused.status != 0 && refused.output.contains("no harness runs the cluster"), "\(refused.output)")
    }
}
