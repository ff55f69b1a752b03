#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BallastCrypto
import Foundation

/// Why a keyring operation failed. Each case names the file and what to do.
public enum KeyringError: Error, Equatable, CustomStringConvertible {
    case invalidName(String)
    case alreadyExists(name: String, path: String)
    case notFound(name: String, path: String)
    case insecurePermissions(path: String, mode: UInt32)
    case corrupt(path: String, reason: String)
    case badSeed(String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "invalid key name '\(name)': use 1-64 letters, digits, '.', '_' or '-', not starting with '.'"
        case .alreadyExists(let name, let path):
            return "a key named '\(name)' already exists at \(path)"
        case .notFound(let name, let path):
            return "no key named '\(name)' (looked for \(path)); see `ballast keys list`"
        case .insecurePermissions(let path, let mode):
            return "permissions \(String(format: "%04o", mode)) for '\(path)' are too open: a key file must not be readable by group or others. Run: chmod 600 '\(path)'"
        case .corrupt(let path, let reason):
            return "key file \(path) is not valid: \(reason)"
        case .badSeed(let reason):
            return "bad seed: \(reason)"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        }
    }
}

/// The public part of a stored key, safe to print.
public struct KeyInfo: Codable, Equatable, Sendable {
    public var name: String
    public var address: String
    public var publicKey: String
}

/// A folder of Ed25519 key files, one JSON file per key (`NAME.json`, mode 0600,
/// folder mode 0700). The seed is stored in hex; a file readable by group or
/// others is refused, as ssh refuses such private keys.
public struct Keyring: Sendable {
    /// The folder holding the key files.
    public let directory: String

    /// The keyring under a Ballast home folder: `HOME/keys`.
    public init(home: String) {
        directory = (home as NSString).appendingPathComponent("keys")
    }

    /// A keyring in `directory` itself (a node keeps its validator key this way).
    public init(directory: String) {
        self.directory = directory
    }

    /// The Ballast home: `--home` if given, else `BALLAST_HOME`, else `~/.ballast`.
    public static func resolveHome(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return (explicit as NSString).expandingTildeInPath }
        if let env = environment["BALLAST_HOME"], !env.isEmpty { return (env as NSString).expandingTildeInPath }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".ballast")
    }

    /// Whether `name` may name a key file.
    public static func isValidName(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count), !name.hasPrefix(".") else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 46 || c == 95 || c == 45
        }
    }

    /// Path of the file for `name`.
    public func path(for name: String) -> String {
        (directory as NSString).appendingPathComponent(name + ".json")
    }

    /// Creates a new random key named `name`.
    @discardableResult
    public func create(name: String) throws(KeyringError) -> KeyInfo {
        try store(name: name, key: SigningKey.generate())
    }

    /// Stores a key made from a 32-byte seed given in hex.
    @discardableResult
    public func importSeed(name: String, seedHex: String) throws(KeyringError) -> KeyInfo {
        let seed: [UInt8]
        do { seed = try Hex.decode(seedHex, count: 32) } catch { throw .badSeed(error.description) }
        do { return try store(name: name, key: SigningKey(seed: seed)) } catch let error as KeyringError { throw error } catch {
            throw .badSeed("\(error)")
        }
    }

    /// Every key's public part, sorted by name.
    public func list() throws(KeyringError) -> [KeyInfo] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            if !FileManager.default.fileExists(atPath: directory) { return [] }
            throw .io(path: directory, reason: "cannot list: \(error.localizedDescription)")
        }
        var out: [KeyInfo] = []
        for file in names.sorted() where file.hasSuffix(".json") {
            let name = String(file.dropLast(5))
            guard Keyring.isValidName(name) else { continue }
            out.append(try info(name: name))
        }
        return out
    }

    /// The public part of the key `name`.
    public func info(name: String) throws(KeyringError) -> KeyInfo {
        let key = try load(name: name)
        return KeyInfo(name: name, address: key.address.description, publicKey: key.publicKey.hex)
    }

    /// Loads the signing key `name`, refusing a file that group or others can read.
    public func load(name: String) throws(KeyringError) -> SigningKey {
        guard Keyring.isValidName(name) else { throw .invalidName(name) }
        let path = path(for: name)
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { throw .notFound(name: name, path: path) }
            throw .io(path: path, reason: String(cString: strerror(errno)))
        }
        let mode = UInt32(st.st_mode) & 0o777
        guard mode & 0o077 == 0 else { throw .insecurePermissions(path: path, mode: mode) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io(path: path, reason: "cannot read")
        }
        let file: KeyFile
        do { file = try JSONDecoder().decode(KeyFile.self, from: data) } catch {
            throw .corrupt(path: path, reason: "not a key file (\(error))")
        }
        let key: SigningKey
        do { key = try SigningKey(seed: try Hex.decode(file.seed, count: 32)) } catch {
            throw .corrupt(path: path, reason: "seed: \(error)")
        }
        guard key.publicKey.hex == file.publicKey.lowercased() else {
            throw .corrupt(path: path, reason: "the public key does not match the seed")
        }
        return key
    }

    private struct KeyFile: Codable {
        var name: String
        var address: String
        var publicKey: String
        var seed: String
    }

    private func store(name: String, key: SigningKey) throws(KeyringError) -> KeyInfo {
        guard Keyring.isValidName(name) else { throw .invalidName(name) }
        try makeDirectory()
        let path = path(for: name)
        let info = KeyInfo(name: name, address: key.address.description, publicKey: key.publicKey.hex)
        let file = KeyFile(name: name, address: info.address, publicKey: info.publicKey, seed: Hex.encode(key.seed))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(file) else { throw .io(path: path, reason: "cannot encode key file") }
        // O_EXCL: never overwrite an existing key; 0600 from the first byte written.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .alreadyExists(name: name, path: path) }
            throw .io(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw .io(path: path, reason: "write failed: \(reason)")
        }
        return info
    }

    private func makeDirectory() throws(KeyringError) {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) {
            guard isDir.boolValue else { throw .io(path: directory, reason: "exists and is not a folder") }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .io(path: directory, reason: "cannot create: \(error.localizedDescription)")
        }
    }
}
