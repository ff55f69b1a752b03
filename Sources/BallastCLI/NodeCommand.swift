import ArgumentParser
import BallastCrypto
import Dispatch
import Foundation
import Logging
import Node
import Wallet

/// `ballast node`: make a validator's home and run it.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Initialise and run a validator.",
        subcommands: [Init.self, Start.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a validator home: config.json, genesis.json and the validator key.")
        @Option(help: "The home folder to create.") var home: String
        @Option(help: "The genesis file (e.g. genesis/testnet.json).") var genesis: String
        @Option(help: "The wallet key that validates (see `ballast keys`); it must be a genesis validator.") var key: String
        @Option(name: .customLong("keys-home"), help: "Wallet home holding --key (default: $BALLAST_HOME or ~/.ballast).") var keysHome: String?
        @Option(help: "Name for logs and status (default: the key's name).") var moniker: String?
        @Option(name: .customLong("p2p-listen"), help: "HOST:PORT for validator connections.") var p2pListen = "0.0.0.0:26656"
        @Option(name: .customLong("rpc-listen"), help: "HOST:PORT for the HTTP API.") var rpcListen = "127.0.0.1:8080"
        @Option(name: .customLong("peer"), help: "Another validator: PUBLICKEY@HOST:PORT (repeatable).") var peers: [String] = []

        func run() throws {
            try reportingErrors(json: false) {
                guard let data = FileManager.default.contents(atPath: genesis) else { throw UserError("cannot read \(genesis)") }
                let signingKey = try Keyring(home: Keyring.resolveHome(explicit: keysHome)).load(name: key)
                var config = NodeConfig(moniker: moniker ?? key)
                config.p2p.listen = p2pListen
                config.rpc.listen = rpcListen
                config.p2p.peers = try peers.map { spec in
                    let parts = spec.split(separator: "@", maxSplits: 1)
                    guard parts.count == 2 else { throw UserError("--peer \(spec): expected PUBLICKEY@HOST:PORT") }
                    return NodeConfig.Peer(publicKey: String(parts[0]), address: String(parts[1]))
                }
                let nodeHome = NodeHome(path: home)
                try nodeHome.initialize(genesisBytes: [UInt8](data), key: signingKey, config: config)
                print("initialised \(nodeHome.path) for validator \(signingKey.publicKey.hex) (\(signingKey.address))")
                print("start it with: ballast node start --home \(home)")
            }
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a validator in the foreground; Ctrl-C (SIGINT) or SIGTERM stops it cleanly.")
        @Option(help: "The validator's home folder.") var home: String

        func run() async throws {
            LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
            let logger = Logger(label: "ballast")
            let node: ValidatorNode
            do { node = try ValidatorNode(home: NodeHome(path: home), logger: logger) } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            }
            let task = Task { try await node.run() }
            let signals = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig)
                source.setEventHandler {
                    logger.notice("signal \(sig): stopping")
                    task.cancel()
                }
                source.resume()
                return source
            }
            defer { signals.forEach { $0.cancel() } }
            do {
                try await task.value
                logger.notice("stopped")
            } catch is CancellationError {
                logger.notice("stopped")
            } catch {
                logger.critical("halted: \(error)")
                throw ExitCode.failure
            }
        }
    }
}
