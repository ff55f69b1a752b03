import BallastCrypto
import Foundation
import Ledger
import Logging
import Node
import Storage
import Synchronization
import Testing

/// Validators in one process, connected by an in-memory hub instead of TCP:
/// the whole node runtime (consensus, mempool, ledger, storage) without sockets.
final class LocalHub: Sendable {
    private let runtimes = Mutex<[PublicKey: ValidatorRuntime]>([:])
    private let down = Mutex<Set<PublicKey>>([])

    func register(_ runtime: ValidatorRuntime, key: PublicKey) { runtimes.withLock { $0[key] = runtime } }
    func setDown(_ key: PublicKey, _ isDown: Bool) { down.withLock { if isDown { $0.insert(key) } else { $0.remove(key) } } }

    func deliver(_ bytes: [UInt8], from: PublicKey, to: PublicKey) {
        guard !down.withLock({ $0.contains(from) || $0.contains(to) }),
              let target = runtimes.withLock({ $0[to] }) else { return }
        Task { await target.receive(bytes, from: from) }
    }

    func keys() -> [PublicKey] { runtimes.withLock { Array($0.keys) } }
}

struct LocalTransport: PeerTransport {
    let hub: LocalHub
    let me: PublicKey
    let peers: [PublicKey]

    func send(_ bytes: [UInt8], to peer: PublicKey) { hub.deliver(bytes, from: me, to: peer) }
    func broadcast(_ bytes: [UInt8]) { for p in peers where p != me { hub.deliver(bytes, from: me, to: p) } }
    func connectedPeers() -> [PublicKey] { peers.filter { $0 != me } }
}

/// The testnet genesis and its documented deterministic keys.
enum Testnet {
    static let genesisBytes: [UInt8] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("genesis/testnet.json")
        return (try? [UInt8](Data(contentsOf: url))) ?? []
    }()

    static func key(_ label: String) -> SigningKey {
        guard let key = try? SigningKey(seed: Blake2b.hash256(Array(label.utf8)).bytes) else { preconditionFailure("seed") }
        return key
    }

    static var validatorKeys: [SigningKey] { (0..<4).map { key("ballast-testnet-validator-\($0)") } }
    static var faucet: SigningKey { key("ballast-testnet-faucet") }
}

struct LocalCluster {
    let runtimes: [ValidatorRuntime]
    let tasks: [Task<Void, Error>]
    let hub: LocalHub
    let directories: [String]

    static func start(count: Int = 4, directories: [String]? = nil, committedBlocksInMemory: Int = 10_000,
                      roundTimeoutMs: Int = 1_000) throws -> LocalCluster {
        let genesis = try NodeHome.parseGenesis(Testnet.genesisBytes, source: "genesis/testnet.json")
        let keys = Testnet.validatorKeys
        let hub = LocalHub()
        var runtimes: [ValidatorRuntime] = []
        let dirs = directories ?? (0..<count).map { _ in NSTemporaryDirectory() + "ballast-node-\(UUID().uuidString)" }
        for i in 0..<count {
            var config = NodeConfig(moniker: "validator-\(i)")
            config.consensus.roundTimeoutMs = roundTimeoutMs
            config.consensus.idleIntervalMs = 50
            config.snapshotInterval = 20
            config.consensus.committedBlocksInMemory = committedBlocksInMemory
            var logger = Logger(label: "validator-\(i)")
            logger.logLevel = .warning
            let runtime = try ValidatorRuntime(
                config: config, genesis: genesis, key: keys[i], store: try NodeStore(directory: dirs[i]),
                transport: LocalTransport(hub: hub, me: keys[i].publicKey, peers: keys.map(\.publicKey)), logger: logger)
            hub.register(runtime, key: keys[i].publicKey)
            runtimes.append(runtime)
        }
        let tasks = runtimes.map { r in Task { try await r.run() } }
        return LocalCluster(runtimes: runtimes, tasks: tasks, hub: hub, directories: dirs)
    }

    func stop() async {
        for r in runtimes { await r.stop() }
        for t in tasks { _ = try? await t.value }
    }

    /// Waits until every runtime's height reaches `height` (or fails after `seconds`).
    func waitForHeight(_ height: UInt64, seconds: Double = 30) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            var lowest = UInt64.max
            for r in runtimes { lowest = min(lowest, await r.status().height) }
            if lowest >= height { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("cluster did not reach height \(height) in \(seconds) s")
    }
}

@Suite(.serialized) struct LocalClusterTests {
    @Test func fourValidatorsCommitTheSameTransactionsAndRoots() async throws {
        let cluster = try LocalCluster.start()
        let faucet = Testnet.faucet
        let genesis = try NodeHome.parseGenesis(Testnet.genesisBytes, source: "testnet")
        let recipients = (0..<20).map { Testnet.key("recipient-\($0)").address }
        let base = UInt64(Date().timeIntervalSince1970 * 1000)
        var ids: [Hash256] = []
        for (i, to) in recipients.enumerated() {
            let tx = Transaction(chainID: genesis.chainID, signer: faucet.publicKey, nonce: base + UInt64(i),
                                 action: .transfer(to: to, asset: 0, amount: 1_000_000 * Int64(i + 1))).signed(with: faucet)
            // Spread submissions over the validators, as clients would.
            ids.append(try await cluster.runtimes[i % 4].submit(tx.canonicalBytes))
        }
        var receipts: [ReceiptRecord] = []
        for id in ids {
            let receipt = try #require(await cluster.runtimes[0].waitForCommit(id, timeout: .seconds(30)))
            #expect(receipt.ok, "\(receipt)")
            receipts.append(receipt)
        }
        let target = receipts.map(\.height).max() ?? 0
        try await cluster.waitForHeight(target)
        // Every validator has the same receipts and, at the same height, the same root.
        for r in cluster.runtimes {
            for (id, expected) in zip(ids, receipts) { #expect(try await r.receipt(id) == expected) }
            let block = try #require(try await r.block(at: target))
            let reference = try #require(try await cluster.runtimes[0].block(at: target))
            #expect(block == reference)
        }
        // Every node counted the same committed transactions in its metrics.
        for r in cluster.runtimes {
            await r.refreshMetrics()
            let text = String(decoding: r.metrics.render(), as: UTF8.self)
            #expect(text.contains("ballast_committed_transactions_total 20\n"), "\(text)")
            #expect(text.contains("ballast_peers 3.0\n"))
        }
        for (i, to) in recipients.enumerated() {
            for r in cluster.runtimes {
                let usdc = await r.withLedger { $0.account(to) }
                #expect(usdc.holdings.first { $0.asset == 0 }?.wallet == 1_000_000 * Int64(i + 1))
            }
        }
        await cluster.stop()
    }

    /// Every validator restarts from its own disk (snapshot + blocks + safety
    /// state), reaches the same height and root as before, and goes on committing.
    @Test func restartFromDiskResumesTheSameChain() async throws {
        let first = try LocalCluster.start()
        let genesis = try NodeHome.parseGenesis(Testnet.genesisBytes, source: "testnet")
        let faucet = Testnet.faucet
        let base = UInt64(Date().timeIntervalSince1970 * 1000)
        func transfer(_ i: Int) -> [UInt8] {
            Transaction(chainID: genesis.chainID, signer: faucet.publicKey, nonce: base + UInt64(i),
                        action: .transfer(to: Testnet.key("r\(i)").address, asset: 0, amount: 5_000_000)).signed(with: faucet).canonicalBytes
        }
        let firstID = try await first.runtimes[1].submit(transfer(0))
        let committed = try #require(await first.runtimes[1].waitForCommit(firstID, timeout: .seconds(30)))
        try await first.waitForHeight(committed.height + 25)  // past a snapshot (every 20 blocks)
        await first.stop()
        var before: [NodeStatus] = []
        for r in first.runtimes { before.append(await r.status()) }

        // Validator 1 lost its whole index (as if a crash had come before its writer stored a batch):
        // it starts from genesis, executes its blocks again and indexes them.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: first.directories[1] + "/ballast-index.sqlite" + suffix) }
        let second = try LocalCluster.start(directories: first.directories)
        for (r, old) in zip(second.runtimes, before) {
            let now = await r.status()
            #expect(now.height == old.height)
            #expect(now.stateRoot == old.stateRoot)
            #expect(try await r.receipt(firstID) == committed)
        }
        let nextID = try await second.runtimes[2].submit(transfer(1))
        let next = try #require(await second.runtimes[2].waitForCommit(nextID, timeout: .seconds(30)))
        #expect(next.ok && next.height > committed.height)
        await second.stop()
    }

    /// One validator is cut off while the others commit; when it comes back it
    /// catches up through sync and agrees with them.
    @Test func laggingValidatorCatchesUp() async throws {
        let cluster = try LocalCluster.start()
        let genesis = try NodeHome.parseGenesis(Testnet.genesisBytes, source: "testnet")
        let faucet = Testnet.faucet
        let isolated = Testnet.validatorKeys[3].publicKey
        cluster.hub.setDown(isolated, true)
        let base = UInt64(Date().timeIntervalSince1970 * 1000)
        var last: ReceiptRecord?
        for i in 0..<5 {
            let tx = Transaction(chainID: genesis.chainID, signer: faucet.publicKey, nonce: base + UInt64(i),
                                 action: .transfer(to: Testnet.key("lag\(i)").address, asset: 0, amount: 1_000_000)).signed(with: faucet)
            let id = try await cluster.runtimes[i % 3].submit(tx.canonicalBytes)
            last = await cluster.runtimes[0].waitForCommit(id, timeout: .seconds(30))
            #expect(last?.ok == true)
        }
        let lagging = await cluster.runtimes[3].status().height
        let target = try #require(last).height + 5
        try await Task.sleep(for: .milliseconds(200))
        cluster.hub.setDown(isolated, false)
        try await cluster.waitForHeight(target, seconds: 60)
        #expect(lagging < target)
        let reference = try #require(try await cluster.runtimes[0].block(at: target))
        #expect(try await cluster.runtimes[3].block(at: target) == reference)
        await cluster.stop()
    }

    /// The others keep only 4 committed blocks in memory; a validator cut off for
    /// far longer catches up from their storage and agrees with them.
    @Test func validatorFarBehindCatchesUpFromPeersStorage() async throws {
        let window = 4
        // Short rounds: the absent validator's rounds time out quickly.
        let cluster = try LocalCluster.start(committedBlocksInMemory: window, roundTimeoutMs: 300)
        let genesis = try NodeHome.parseGenesis(Testnet.genesisBytes, source: "testnet")
        let faucet = Testnet.faucet
        let isolated = Testnet.validatorKeys[3].publicKey
        cluster.hub.setDown(isolated, true)
        let lagging = await cluster.runtimes[3].status().height
        // Transactions keep the others committing, far past what they keep in memory.
        let behind = lagging + UInt64(4 * window)
        let base = UInt64(Date().timeIntervalSince1970 * 1000)
        var ids: [Hash256] = []
        var height: UInt64 = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while height < behind, ContinuousClock.now < deadline {
            let i = ids.count
            let tx = Transaction(chainID: genesis.chainID, signer: faucet.publicKey, nonce: base + UInt64(i),
                                 action: .transfer(to: Testnet.key("far\(i % 10)").address, asset: 0, amount: 2_000_000)).signed(with: faucet)
            ids.append(try await cluster.runtimes[i % 3].submit(tx.canonicalBytes))
            try await Task.sleep(for: .milliseconds(50))
            height = await cluster.runtimes[0].status().height
        }
        var receipts: [(Hash256, ReceiptRecord)] = []
        for id in ids { receipts.append((id, try #require(await cluster.runtimes[0].waitForCommit(id, timeout: .seconds(30))))) }
        height = await cluster.runtimes[0].status().height
        #expect(height >= behind)
        #expect(try await cluster.runtimes[3].block(at: lagging + 1) == nil)
        cluster.hub.setDown(isolated, false)
        let last = Transaction(chainID: genesis.chainID, signer: faucet.publicKey, nonce: base + UInt64(ids.count),
                               action: .transfer(to: Testnet.key("far-last").address, asset: 0, amount: 2_000_000)).signed(with: faucet)
        let lastID = try await cluster.runtimes[0].submit(last.canonicalBytes)
        let lastReceipt = try #require(await cluster.runtimes[0].waitForCommit(lastID, timeout: .seconds(30)))
        receipts.append((lastID, lastReceipt))
        try await cluster.waitForHeight(lastReceipt.height, seconds: 60)
        for h in [lagging + 1, behind, lastReceipt.height] {
            let reference = try #require(try await cluster.runtimes[0].block(at: h))
            #expect(try await cluster.runtimes[3].block(at: h) == reference, "height \(h)")
        }
        for (id, receipt) in receipts { #expect(try await cluster.runtimes[3].receipt(id) == receipt) }
        await cluster.stop()
    }
}
