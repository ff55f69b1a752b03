import BallastCrypto
import Foundation
import Hummingbird
import Ledger
import Logging
import NIOCore
import Node
import Storage
import Synchronization

/// A transport for a chain of one validator: there is nobody to talk to.
public struct NoPeers: PeerTransport {
    public init() {}
    public func send(_ bytes: [UInt8], to peer: PublicKey) {}
    public func broadcast(_ bytes: [UInt8]) {}
    public func connectedPeers() -> [PublicKey] { [] }
}

/// One validator (the testnet genesis cut down to validator-0, so it commits alone)
/// serving the real HTTP API on an ephemeral loopback port.
public struct SingleNode: Sendable {
    public let runtime: ValidatorRuntime
    /// The loopback port the HTTP API listens on.
    public let port: Int
    let tasks: [Task<Void, Error>]
    let directory: String

    public static func key(_ label: String) throws -> SigningKey { try SigningKey(seed: Blake2b.hash256(Array(label.utf8)).bytes) }

    /// The repository's genesis/testnet.json.
    public static func testnetGenesis() throws -> Genesis {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("genesis/testnet.json")
        return try NodeHome.parseGenesis([UInt8](try Data(contentsOf: url)), source: "genesis/testnet.json")
    }

    /// Starts the node; `configure` may adjust its config (e.g. the rate limit), `adjustGenesis`
    /// the testnet genesis (after it is cut down to validator-0).
    public static func start(configure: (inout NodeConfig) -> Void = { _ in },
                             adjustGenesis: (inout Genesis) -> Void = { _ in }) async throws -> SingleNode {
        var genesis = try testnetGenesis()
        genesis.validators = [genesis.validators[0]]
        adjustGenesis(&genesis)
        var config = NodeConfig(moniker: "wallet-test")
        config.consensus.roundTimeoutMs = 1_000
        config.consensus.idleIntervalMs = 50
        configure(&config)
        let directory = NSTemporaryDirectory() + "ballast-wallet-\(UUID().uuidString)"
        var logger = Logger(label: "wallet-test")
        logger.logLevel = .warning
        let runtime = try ValidatorRuntime(
            config: config, genesis: genesis, key: try key("ballast-testnet-validator-0"),
            store: try NodeStore(directory: directory), transport: NoPeers(), logger: logger)
        let port = Mutex<Int?>(nil)
        let app = Application(
            router: HTTPAPI.router(runtime: runtime, config: config),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } },
            logger: Logger(label: "wallet-test-http", factory: { _ in SwiftLogNoOpLogHandler() }))
        let tasks = [Task { try await runtime.run() }, Task { try await app.runService(gracefulShutdownSignals: []) }]
        for _ in 0..<500 where port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        guard let bound = port.withLock({ $0 }) else { throw NodeHalt("the HTTP API did not start") }
        return SingleNode(runtime: runtime, port: bound, tasks: tasks, directory: directory)
    }

    public func stop() async {
        await runtime.stop()
        for t in tasks { t.cancel(); _ = try? await t.value }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

