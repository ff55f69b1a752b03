import Foundation

/// Where a local cluster keeps everything, under one directory:
///
///     DIR/cluster.json    what `cluster up` created (validator count, base ports)
///     DIR/genesis.json    the cluster's genesis (fresh validator and faucet keys)
///     DIR/wallet/keys/    validator-0 … validator-(N-1) and faucet, as `ballast keys` stores them
///     DIR/nodeI/          validator I's node home; its log is DIR/nodeI/node.log
///     DIR/pids.json       the running node processes and harness, while `cluster up` has them running
///     DIR/faults.json     the faults the running harness injected (FaultState)
///     DIR/harness.log     what the harness did: faults applied, schedule steps, oracle feeder counts
///     DIR/control/        fault requests to the running harness (`cluster kill` …) and its answers
public struct ClusterLayout: Sendable, Equatable {
    /// The cluster directory, absolute.
    public let directory: String

    public init(directory: String) {
        let url = URL(fileURLWithPath: directory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        self.directory = url.standardizedFileURL.path
    }

    public var manifestPath: String { directory + "/cluster.json" }
    public var genesisPath: String { directory + "/genesis.json" }
    public var walletHome: String { directory + "/wallet" }
    public var pidsPath: String { directory + "/pids.json" }
    public var harnessLogPath: String { directory + "/harness.log" }
    public var controlDirectory: String { directory + "/control" }
    public func home(_ i: Int) -> String { directory + "/node\(i)" }
    public func logPath(_ i: Int) -> String { home(i) + "/node.log" }
    public static func validatorKeyName(_ i: Int) -> String { "validator-\(i)" }
    public static let faucetKeyName = "faucet"

    /// True when DIR holds what `cluster up` writes, so `reset` may delete it.
    public var looksLikeCluster: Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: manifestPath) && fm.fileExists(atPath: genesisPath)
            && fm.fileExists(atPath: walletHome) && fm.fileExists(atPath: home(0) + "/config.json")
    }
}

/// `DIR/cluster.json`: what a cluster was created with, so later commands agree with it.
public struct ClusterManifest: Codable, Sendable, Equatable {
    public var validators: Int
    /// Validator I listens for peers on `p2pBasePort + I` and serves HTTP on `rpcBasePort + I`, on 127.0.0.1.
    public var p2pBasePort: Int
    public var rpcBasePort: Int
    public var chainId: String
    public var faucetAddress: String
    /// Validator I dials validator J through the harness's link proxy on 127.0.0.1:(this + I x validators + J);
    /// chosen by the first `cluster up` that runs the harness (nil in clusters made before).
    public var proxyBasePort: Int?

    public init(validators: Int, p2pBasePort: Int, rpcBasePort: Int, chainId: String, faucetAddress: String, proxyBasePort: Int? = nil) {
        self.validators = validators
        self.p2pBasePort = p2pBasePort
        self.rpcBasePort = rpcBasePort
        self.chainId = chainId
        self.faucetAddress = faucetAddress
        self.proxyBasePort = proxyBasePort
    }

    public func p2pAddress(_ i: Int) -> String { "127.0.0.1:\(p2pBasePort + i)" }
    public func rpcAddress(_ i: Int) -> String { "127.0.0.1:\(rpcBasePort + i)" }
    public func rpcURL(_ i: Int) -> String { "http://" + rpcAddress(i) }
    /// The port of the proxy validator `from` dials to reach validator `to`.
    public func proxyPort(from: Int, to: Int) -> Int? { proxyBasePort.map { $0 + from * validators + to } }

    public static func load(_ layout: ClusterLayout) throws -> ClusterManifest {
        guard let data = FileManager.default.contents(atPath: layout.manifestPath) else {
            throw ClusterError("no cluster at \(layout.directory) (no cluster.json): run `ballast cluster up --dir \(layout.directory)` first")
        }
        do { return try JSONDecoder().decode(ClusterManifest.self, from: data) } catch {
            throw ClusterError("\(layout.manifestPath): \(error)")
        }
    }

    public func write(_ layout: ClusterLayout) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: layout.manifestPath))
    }
}

/// A cluster command's failure, shown to the user as is.
public struct ClusterError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}
