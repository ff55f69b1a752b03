import BallastCrypto
import Foundation
import Ledger
import Wallet

/// A validator's home folder:
///
/// ```
/// HOME/config.json          NodeConfig
/// HOME/genesis.json         the chain's genesis
/// HOME/keys/validator.json  the validator key (0600; folder 0700)
/// HOME/data/                blocks, receipts, safety state (SQLite) and snapshots
/// ```
public struct NodeHome: Sendable {
    public let path: String

    public init(path: String) {
        self.path = (path as NSString).expandingTildeInPath
    }

    /// Creates a home: copies the genesis, stores the validator key, writes the config.
    /// Refuses to overwrite an existing config, and a key that genesis does not list.
    public func initialize(genesisBytes: [UInt8], key: SigningKey, config: NodeConfig) throws(ConfigError) {
        let configPath = (path as NSString).appendingPathComponent("config.json")
        if FileManager.default.fileExists(atPath: configPath) {
            throw ConfigError("", "\(configPath) exists: this home is already initialised")
        }
        let genesis = try NodeHome.parseGenesis(genesisBytes, source: "--genesis")
        guard genesis.validators.contains(where: { $0.publicKey == key.publicKey }) else {
            throw ConfigError("--key", "public key \(key.publicKey.hex) is not one of the genesis validators")
        }
        try config.validate()
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try Data(genesisBytes).write(to: URL(fileURLWithPath: NodeConfig.resolve(config.genesisFile, home: path)))
            let keyPath = NodeConfig.resolve(config.keyFile, home: path)
            let keyring = Keyring(directory: (keyPath as NSString).deletingLastPathComponent)
            try keyring.importSeed(name: NodeHome.keyName(config.keyFile), seedHex: Hex.encode(key.seed))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(config).write(to: URL(fileURLWithPath: configPath))
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError("", "cannot write \(path): \(error)")
        }
    }

    /// Loads the validator key named by the config (refused if group or others can read it).
    public func loadKey(_ config: NodeConfig) throws(ConfigError) -> SigningKey {
        let keyPath = NodeConfig.resolve(config.keyFile, home: path)
        do {
            return try Keyring(directory: (keyPath as NSString).deletingLastPathComponent).load(name: NodeHome.keyName(config.keyFile))
        } catch {
            throw ConfigError("keyFile", error.description)
        }
    }

    /// Loads and validates the genesis named by the config.
    public func loadGenesis(_ config: NodeConfig) throws(ConfigError) -> (genesis: Genesis, bytes: [UInt8]) {
        let file = NodeConfig.resolve(config.genesisFile, home: path)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError("genesisFile", "cannot read \(file)")
        }
        let bytes = [UInt8](data)
        return (try NodeHome.parseGenesis(bytes, source: file), bytes)
    }

    /// Decodes and validates genesis JSON; errors name the field path.
    public static func parseGenesis(_ bytes: [UInt8], source: String) throws(ConfigError) -> Genesis {
        let genesis: Genesis
        do { genesis = try JSONDecoder().decode(Genesis.self, from: Data(bytes)) } catch {
            throw ConfigError(jsonPath(of: error), "\(source): \(jsonReason(of: error))")
        }
        do { try genesis.validate() } catch {
            throw ConfigError("", "\(source): \(error)")
        }
        return genesis
    }

    private static func keyName(_ keyFile: String) -> String {
        let file = (keyFile as NSString).lastPathComponent
        return file.hasSuffix(".json") ? String(file.dropLast(5)) : file
    }
}
