import BallastCrypto
import Foundation

/// Why a node's configuration was refused: the field path and the reason,
/// e.g. `p2p.peers[2].address: expected HOST:PORT`.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(_ field: String, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }
}

/// A validator's configuration, stored as `HOME/config.json`.
///
/// Paths are relative to the home folder unless absolute. Every field has a
/// default but the peers, so a hand-written file can stay short.
public struct NodeConfig: Codable, Equatable, Sendable {
    /// A human name for logs and status pages.
    public var moniker: String
    /// The genesis file.
    public var genesisFile: String = "genesis.json"
    /// The validator's key file (the same format as the wallet's, mode 0600).
    public var keyFile: String = "keys/validator.json"
    /// Where blocks, receipts, the safety state and snapshots live.
    public var dataDirectory: String = "data"
    public var p2p: P2P = P2P()
    public var rpc: RPC = RPC()
    public var consensus: Consensus = Consensus()
    public var mempool: Mempool = Mempool()
    /// A snapshot of the ledger state every this many blocks.
    public var snapshotInterval: Int = 1_000
    /// Log level: trace, debug, info, notice, warning, error or critical.
    public var logLevel: String = "info"

    public struct P2P: Codable, Equatable, Sendable {
        /// HOST:PORT to accept validator connections on.
        public var listen: String = "0.0.0.0:26656"
        /// The other validators: their public key (hex) and where to dial them.
        public var peers: [Peer] = []
        /// Largest frame a peer may send, in bytes.
        public var maxFrameBytes: Int = 4 << 20
        public init() {}
    }

    public struct Peer: Codable, Equatable, Sendable {
        public var publicKey: String
        public var address: String
        public init(publicKey: String, address: String) {
            self.publicKey = publicKey
            self.address = address
        }
    }

    public struct RPC: Codable, Equatable, Sendable {
        /// HOST:PORT of the HTTP API; loopback by default, so only this machine can submit.
        public var listen: String = "127.0.0.1:8080"
        /// Largest request body, in bytes.
        public var maxBodyBytes: Int = 256 * 1024
        /// Requests per second allowed from one client address (a token bucket of this size).
        public var rateLimitPerSecond: Int = 200
        public init() {}
    }

    public struct Consensus: Codable, Equatable, Sendable {
        /// First round deadline, milliseconds.
        public var roundTimeoutMs: Int = 2_000
        /// An idle leader proposes an empty block at most this often, milliseconds.
        public var idleIntervalMs: Int = 1_000
        /// Most transactions in one block.
        public var maxBlockTransactions: Int = 5_000
        /// Most payload bytes in one block.
        public var maxBlockBytes: Int = 2 << 20
        /// Committed blocks kept in memory to serve peers that are catching up;
        /// older ones are read from storage.
        public var committedBlocksInMemory: Int = 10_000
        /// Round deadline, milliseconds, when the round's leader is another validator this node
        /// has no connection to (killed, or not started): waiting the full round timeout for a
        /// proposal that cannot arrive only delays the next leader.
        public var disconnectedLeaderTimeoutMs: Int = 300
        /// A leader proposes at least this long after the previous proposal arrived, milliseconds
        /// (0: as soon as it has the QC and transactions). Fewer, larger blocks under load, and
        /// a bound on the empty blocks that carry a lone transaction to its commit.
        public var minBlockIntervalMs: Int = 10
        public init() {}

        // Missing fields take their defaults, as in the whole file.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Consensus()
            roundTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .roundTimeoutMs) ?? d.roundTimeoutMs
            idleIntervalMs = try c.decodeIfPresent(Int.self, forKey: .idleIntervalMs) ?? d.idleIntervalMs
            maxBlockTransactions = try c.decodeIfPresent(Int.self, forKey: .maxBlockTransactions) ?? d.maxBlockTransactions
            maxBlockBytes = try c.decodeIfPresent(Int.self, forKey: .maxBlockBytes) ?? d.maxBlockBytes
            committedBlocksInMemory = try c.decodeIfPresent(Int.self, forKey: .committedBlocksInMemory) ?? d.committedBlocksInMemory
            disconnectedLeaderTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .disconnectedLeaderTimeoutMs) ?? d.disconnectedLeaderTimeoutMs
            minBlockIntervalMs = try c.decodeIfPresent(Int.self, forKey: .minBlockIntervalMs) ?? d.minBlockIntervalMs
        }
    }

    public struct Mempool: Codable, Equatable, Sendable {
        public var maxTransactions: Int = 100_000
        public var maxPerAccount: Int = 256
        public init() {}
    }

    public init(moniker: String) {
        self.moniker = moniker
    }

    // Missing fields take their defaults, so the file need only say what differs.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = NodeConfig(moniker: "")
        moniker = try c.decode(String.self, forKey: .moniker)
        genesisFile = try c.decodeIfPresent(String.self, forKey: .genesisFile) ?? d.genesisFile
        keyFile = try c.decodeIfPresent(String.self, forKey: .keyFile) ?? d.keyFile
        dataDirectory = try c.decodeIfPresent(String.self, forKey: .dataDirectory) ?? d.dataDirectory
        p2p = try c.decodeIfPresent(P2P.self, forKey: .p2p) ?? d.p2p
        rpc = try c.decodeIfPresent(RPC.self, forKey: .rpc) ?? d.rpc
        consensus = try c.decodeIfPresent(Consensus.self, forKey: .consensus) ?? d.consensus
        mempool = try c.decodeIfPresent(Mempool.self, forKey: .mempool) ?? d.mempool
        snapshotInterval = try c.decodeIfPresent(Int.self, forKey: .snapshotInterval) ?? d.snapshotInterval
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? d.logLevel
    }

    /// Checks every field; the first problem is thrown with its path.
    public func validate() throws(ConfigError) {
        if moniker.isEmpty { throw ConfigError("moniker", "must not be empty") }
        if !keyFile.hasSuffix(".json") { throw ConfigError("keyFile", "must name a .json key file") }
        try NodeConfig.checkHostPort(p2p.listen, field: "p2p.listen")
        try NodeConfig.checkHostPort(rpc.listen, field: "rpc.listen")
        var seen: Set<String> = []
        for (i, peer) in p2p.peers.enumerated() {
            do { _ = try PublicKey(hex: peer.publicKey) } catch {
                throw ConfigError("p2p.peers[\(i)].publicKey", "expected 32 bytes of hex: \(error)")
            }
            guard seen.insert(peer.publicKey.lowercased()).inserted else {
                throw ConfigError("p2p.peers[\(i)].publicKey", "repeats an earlier peer")
            }
            try NodeConfig.checkHostPort(peer.address, field: "p2p.peers[\(i)].address")
        }
        if p2p.maxFrameBytes < 64 * 1024 { throw ConfigError("p2p.maxFrameBytes", "must be at least 65536") }
        if rpc.maxBodyBytes < 1024 { throw ConfigError("rpc.maxBodyBytes", "must be at least 1024") }
        if rpc.rateLimitPerSecond < 1 { throw ConfigError("rpc.rateLimitPerSecond", "must be > 0") }
        if consensus.roundTimeoutMs <= consensus.idleIntervalMs {
            throw ConfigError("consensus.roundTimeoutMs", "must exceed consensus.idleIntervalMs (\(consensus.idleIntervalMs)), or an idle cluster would time out")
        }
        if consensus.idleIntervalMs < 10 { throw ConfigError("consensus.idleIntervalMs", "must be at least 10") }
        if consensus.maxBlockTransactions < 1 { throw ConfigError("consensus.maxBlockTransactions", "must be > 0") }
        if consensus.maxBlockBytes < 16 * 1024 { throw ConfigError("consensus.maxBlockBytes", "must be at least 16384") }
        if consensus.maxBlockBytes > p2p.maxFrameBytes / 2 {
            throw ConfigError("consensus.maxBlockBytes", "must be at most half of p2p.maxFrameBytes (\(p2p.maxFrameBytes)) so a block fits a frame")
        }
        if consensus.disconnectedLeaderTimeoutMs < 10 || consensus.disconnectedLeaderTimeoutMs > consensus.roundTimeoutMs {
            throw ConfigError("consensus.disconnectedLeaderTimeoutMs", "must be at least 10 and at most consensus.roundTimeoutMs (\(consensus.roundTimeoutMs))")
        }
        if consensus.minBlockIntervalMs < 0 || consensus.minBlockIntervalMs >= consensus.idleIntervalMs {
            throw ConfigError("consensus.minBlockIntervalMs", "must be at least 0 and below consensus.idleIntervalMs (\(consensus.idleIntervalMs))")
        }
        if consensus.committedBlocksInMemory < 2 { throw ConfigError("consensus.committedBlocksInMemory", "must be at least 2") }
        if mempool.maxTransactions < 1 { throw ConfigError("mempool.maxTransactions", "must be > 0") }
        if mempool.maxPerAccount < 1 { throw ConfigError("mempool.maxPerAccount", "must be > 0") }
        if snapshotInterval < 1 { throw ConfigError("snapshotInterval", "must be > 0") }
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        if !levels.contains(logLevel) { throw ConfigError("logLevel", "must be one of \(levels.joined(separator: ", "))") }
    }

    /// Splits `HOST:PORT` (IPv6 as `[::1]:PORT`).
    public static func splitHostPort(_ text: String) -> (host: String, port: Int)? {
        let host: Substring, portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (String(host), port)
    }

    private static func checkHostPort(_ text: String, field: String) throws(ConfigError) {
        guard splitHostPort(text) != nil else { throw ConfigError(field, "expected HOST:PORT with a port 0-65535, got '\(text)'") }
    }

    /// Reads and validates `HOME/config.json`.
    public static func load(home: String) throws(ConfigError) -> NodeConfig {
        let path = (home as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("", "cannot read \(path): run `ballast node init --home \(home) ...` first")
        }
        let config: NodeConfig
        do { config = try JSONDecoder().decode(NodeConfig.self, from: data) } catch {
            throw ConfigError(jsonPath(of: error), "\(path): \(jsonReason(of: error))")
        }
        try config.validate()
        return config
    }

    /// `path` resolved against `home` unless absolute.
    public static func resolve(_ path: String, home: String) -> String {
        path.hasPrefix("/") ? path : (home as NSString).appendingPathComponent(path)
    }
}
