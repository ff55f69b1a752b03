import BallastCrypto
import Foundation
import Hummingbird
import Logging
import PeerNetwork
import NIOCore
import ServiceLifecycle
import Storage

extension PeerManager: PeerTransport {
    public func send(_ bytes: [UInt8], to peer: PublicKey) {
        _ = send(bytes, to: peer) as SendOutcome
    }

    public func broadcast(_ bytes: [UInt8]) {
        _ = broadcast(bytes) as [(peer: PublicKey, outcome: SendOutcome)]
    }

    public func connectedPeers() -> [PublicKey] {
        connectedPeers().map(\.key)
    }
}

/// A running validator: its home, its runtime, its peer network.
public struct ValidatorNode: Sendable {
    public let home: NodeHome
    public let config: NodeConfig
    public let runtime: ValidatorRuntime
    public let network: PeerManager
    let logger: Logger

    /// Loads the home and wires the parts; nothing runs until `run()`.
    public init(home: NodeHome, logger: Logger) throws {
        self.home = home
        let config = try NodeConfig.load(home: home.path)
        self.config = config
        var logger = logger
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
        logger[metadataKey: "node"] = "\(config.moniker)"
        self.logger = logger
        let (genesis, _) = try home.loadGenesis(config)
        let key = try home.loadKey(config)

        var net = NetworkConfiguration(identity: key, genesis: try ValidatorRuntime.chainTag(of: genesis),
                                       validators: Set(genesis.validators.map(\.publicKey)))
        guard let listen = NodeConfig.splitHostPort(config.p2p.listen) else { throw ConfigError("p2p.listen", "expected HOST:PORT") }
        net.listenHost = listen.host
        net.listenPort = listen.port
        net.maximumFrameSize = config.p2p.maxFrameBytes
        for (i, peer) in config.p2p.peers.enumerated() {
            let peerKey: PublicKey
            let address: PeerAddress
            do { peerKey = try PublicKey(hex: peer.publicKey) } catch { throw ConfigError("p2p.peers[\(i)].publicKey", "\(error)") }
            do { address = try PeerAddress(parsing: peer.address) } catch { throw ConfigError("p2p.peers[\(i)].address", "\(error)") }
            guard genesis.validators.contains(where: { $0.publicKey == peerKey }) else {
                throw ConfigError("p2p.peers[\(i)].publicKey", "not a genesis validator")
            }
            net.peerAddresses[peerKey] = address
        }
        var netLogger = logger
        netLogger[metadataKey: "component"] = "network"
        network = PeerManager(configuration: net, logger: netLogger)
        let store = try NodeStore(directory: NodeConfig.resolve(config.dataDirectory, home: home.path))
        let crash = ProcessInfo.processInfo.environment["BALLAST_CRASH_AFTER"]
        let crashPoint = try crash.map { text throws(ConfigError) -> CrashPoint in
            guard let point = CrashPoint(text) else { throw ConfigError("BALLAST_CRASH_AFTER", "expected block:H, snapshot:H or safety:N, got '\(text)'") }
            return point
        }
        if let crashPoint { logger.warning("crash test: this node exits at \(crashPoint)") }
        let signedMessageLog = try ProcessInfo.processInfo.environment["BALLAST_VOTE_LOG"].map { try SignedMessageLog(path: $0) }
        if signedMessageLog != nil { logger.notice("recording every signed vote, timeout and proposal sent (BALLAST_VOTE_LOG)") }
        runtime = try ValidatorRuntime(config: config, genesis: genesis, key: key, store: store, transport: network, logger: logger,
                                       crashPoint: crashPoint, signedMessageLog: signedMessageLog)
    }

    /// Runs until cancelled (or the node halts): peer network, consensus loop, HTTP API.
    public func run() async throws {
        let address = try await network.start()
        let status = await runtime.status()
        logger.info("validator started", metadata: [
            "p2p": "\(address)", "height": "\(status.height)", "root": "\(status.stateRoot.prefix(16))",
            "chain": "\(status.chainId)", "index": "\(status.validatorIndex)",
        ])
        let runtime = self.runtime
        let network = self.network
        guard let rpc = NodeConfig.splitHostPort(config.rpc.listen) else { throw ConfigError("rpc.listen", "expected HOST:PORT") }
        var httpLogger = logger
        httpLogger[metadataKey: "component"] = "http"
        httpLogger.logLevel = max(logger.logLevel, .notice)
        let app = Application(
            router: HTTPAPI.router(runtime: runtime, config: config),
            configuration: .init(address: .hostname(rpc.host, port: rpc.port), serverName: "ballast"),
            logger: httpLogger)
        let logger = self.logger
        // The HTTP API runs outside the task tree, so a stop does not cancel it mid-accept (Hummingbird
        // logs that as an error): it is shut down gracefully once consensus and the network have stopped.
        let services = ServiceGroup(configuration: .init(services: [app], logger: httpLogger))
        logger.info("HTTP API listening", metadata: ["rpc": "\(rpc.host):\(rpc.port)"])
        let (httpEnded, httpEndedSink) = AsyncStream.makeStream(of: Result<Void, any Error>.self)
        let http = Task {
            do { try await services.run(); httpEndedSink.yield(.success(())) } catch { httpEndedSink.yield(.failure(error)) }
            httpEndedSink.finish()
        }
        let outcome: Result<Void, any Error>
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // A failing API (its port taken) stops the node. (Waiting on the stream, unlike on
                // `http.value`, ends when the group is cancelled.)
                group.addTask { for await ended in httpEnded { try ended.get() } }
                group.addTask {
                    for await message in network.messages {
                        await runtime.receive(message.bytes, from: message.from)
                    }
                }
                group.addTask { try await runtime.run() }
                // The first to finish (a halt, or cancellation) stops the rest.
                defer { group.cancelAll() }
                try await group.next()
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await ValidatorNode.shutDown(services, running: http, grace: .seconds(5))
        await runtime.stop()
        await network.shutdown()
        try outcome.get()
    }

    /// Stops the HTTP API gracefully: it stops accepting, open requests finish, and
    /// nothing is logged as an error. A request still open after `grace` (a
    /// client waiting for a commit) is cut off by cancelling the server.
    private static func shutDown(_ services: ServiceGroup, running http: Task<Void, Never>, grace: Duration) async {
        // Unstructured: the caller is usually cancelled already (a stop), and this wait must still run.
        await Task {
            await services.triggerGracefulShutdown()
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await http.value }
                group.addTask { try? await Task.sleep(for: grace) }
                await group.next()
                group.cancelAll()
            }
            http.cancel()
            await http.value
        }.value
    }
}
