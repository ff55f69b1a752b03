import BallastCrypto
import Cluster
import Foundation
import Ledger
import Node
import Testing
import TestSupport

/// The genesis a cluster writes: fresh validators and faucet, every other field kept.
@Suite struct ClusterGenesisTests {
    static var templatePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("genesis/testnet.json").path
    }

    @Test func replacesValidatorsAndMovesTheFaucetBalances() throws {
        let bytes = try #require(FileManager.default.contents(atPath: Self.templatePath))
        let template = try NodeHome.parseGenesis([UInt8](bytes), source: "template")
        let keys = (0..<3).map { _ in SigningKey.generate() }
        let faucet = SigningKey.generate().address
        let (_, genesis) = try ClusterSetup.genesis(template: [UInt8](bytes), validators: keys.map(\.publicKey), faucet: faucet)

        #expect(genesis.validators == keys.enumerated().map { Validator(name: "validator-\($0)", publicKey: $1.publicKey, stake: 100) })
        #expect(genesis.faucet == faucet)
        let oldFaucet = try #require(template.faucet)
        // The faucet's balances moved, amounts unchanged; the others stayed where they were.
        #expect(genesis.balances.count == template.balances.count)
        for (old, new) in zip(template.balances, genesis.balances) {
            #expect(new.amount == old.amount && new.asset == old.asset)
            #expect(new.address == (old.address == oldFaucet ? faucet : old.address))
        }
        #expect(!genesis.balances.contains { $0.address == oldFaucet })
        // Everything else as in the template.
        var expected = template
        expected.validators = genesis.validators
        expected.faucet = genesis.faucet
        expected.balances = genesis.balances
        #expect(genesis == expected)
    }

    @Test func refusesATemplateThatIsNotJSON() {
        #expect(throws: ClusterError.self) {
            try ClusterSetup.genesis(template: Array("validators".utf8), validators: [SigningKey.generate().publicKey], faucet: SigningKey.generate().address)
        }
    }
}

@Suite struct ClusterSnapshotTests {
    @Test func marksTheRootsThatDifferFromTheMajority() {
        #expect(ClusterSnapshot.divergent(["a", "a", "b", "a"]) == [false, false, true, false])
        #expect(ClusterSnapshot.divergent(["a", nil, "a", "a"]) == [false, false, false, false])
        // A 2-2 split: the smaller root counts as the majority, the same one every refresh.
        #expect(ClusterSnapshot.divergent(["b", "a", "b", "a"]) == [true, false, true, false])
        #expect(ClusterSnapshot.divergent([nil, nil]) == [false, false])
    }
}

/// `ballast cluster up --detach` / `status` / `down` through the built executable.
@Suite(.serialized) struct ClusterCommandTests {
    static var repo: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var binary: String {
        get throws { try BallastExecutable.locate(fallback: repo.appendingPathComponent(".build/debug/ballast").path) }
    }

    /// Runs `ballast ARGS` to completion; returns its exit status and output.
    static func ballast(_ args: [String]) async throws -> (status: Int32, output: String) {
        try await run(binary, args)
    }

    /// Runs `executable ARGS` in the repository to completion (with `environment` added to this
    /// process's); returns its exit status and output (standard error merged in).
    static func run(_ executable: String, _ args: [String], environment: [String: String?] = [:]) async throws -> (status: Int32, output: String) {
        let finished = try await ChildProcess.run(executable, args, environment: environment, directory: repo, mergingErrors: true)
        return (finished.status, finished.output)
    }

    @Test func upDetachedCommitsAgreesAndGoesDown() async throws {
        let scratch = try ScratchCluster("cluster")
        defer { scratch.remove() }
        let (dir, layout, rpc) = (scratch.dir, scratch.layout, scratch.rpcPort)

        let up = try await scratch.up()
        #expect(up.status == 0, "\(up.output)")
        #expect(up.output.contains("faucet 0x"))
        let manifest = try ClusterManifest.load(layout)
        #expect(manifest.validators == 4 && manifest.rpcBasePort == rpc)
        let pids = try #require(ClusterPIDs.load(layout))
        #expect(pids.running.count == 4)

        // Every node commits a few blocks, and the roots at the common height agree.
        let client = ClusterStatusClient(manifest: manifest)
        let deadline = ContinuousClock.now + .seconds(40)
        var snapshot = await client.snapshot()
        while !(snapshot.agrees && (snapshot.commonHeight ?? 0) >= 3), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            snapshot = await client.snapshot()
        }
        #expect(snapshot.agrees, "\(snapshot.table())")
        #expect((snapshot.commonHeight ?? 0) >= 3, "\(snapshot.table())")
        #expect(Set(snapshot.rows.compactMap { $0.status?.chainId }) == [manifest.chainId])

        let status = try await Self.ballast(["cluster", "status", "--dir", dir])
        #expect(status.status == 0, "\(status.output)")
        #expect(status.output.split(separator: "\n").count == 5)

        // A second `up` while it runs is refused and starts nothing.
        let again = try await Self.ballast(["cluster", "up", "--detach", "--validators", "4", "--dir", dir])
        #expect(again.status != 0 && again.output.contains("already running"))

        let down = try await Self.ballast(["cluster", "down", "--dir", dir])
        #expect(down.status == 0, "\(down.output)")
        #expect(down.output.contains("stopped 4 nodes"))
        #expect(pids.nodes.allSatisfy { !NodeProcesses.isAlive($0.pid) })
        #expect(!FileManager.default.fileExists(atPath: layout.pidsPath))

        // Reset refuses a directory that is not a cluster, and deletes this one.
        let notCluster = NSTemporaryDirectory() + "ballast-not-cluster-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: notCluster, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: notCluster) }
        let refused = try await Self.ballast(["cluster", "reset", "--dir", notCluster])
        #expect(refused.status != 0 && FileManager.default.fileExists(atPath: notCluster))
        let reset = try await Self.ballast(["cluster", "reset", "--dir", dir])
        #expect(reset.status == 0 && !FileManager.default.fileExists(atPath: dir), "\(reset.output)")
    }
}

/// A temporary cluster directory with free loopback port ranges, for `cluster up --detach` from tests.
struct ScratchCluster {
    let dir: String
    let validators: Int
    let p2pPort: Int
    let rpcPort: Int
    var layout: ClusterLayout { ClusterLayout(directory: dir) }

    init(_ name: String, validators: Int = 4) throws {
        dir = NSTemporaryDirectory() + "ballast-\(name)-\(UUID().uuidString)"
        self.validators = validators
        p2pPort = try LoopbackPorts.freeRange(validators)
        var rpc = try LoopbackPorts.freeRange(validators)
        while abs(rpc - p2pPort) < validators { rpc = try LoopbackPorts.freeRange(validators) }
        rpcPort = rpc
    }

    /// `ballast cluster up --detach` on this directory and these ports, plus `extra` arguments.
    func up(_ extra: [String] = []) async throws -> (status: Int32, output: String) {
        try await ClusterCommandTests.ballast(["cluster", "up", "--detach", "--validators", "\(validators)", "--dir", dir,
                                         "--p2p-port", "\(p2pPort)", "--rpc-port", "\(rpcPort)"] + extra)
    }

    /// Stops whatever the cluster still runs and deletes its directory.
    func remove() {
        ClusterPIDs.stopRecorded(layout, timeout: .seconds(2))
        try? FileManager.default.removeItem(atPath: dir)
    }
}
