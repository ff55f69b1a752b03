#if canImport(Glibc)
import Glibc
#endif
import BallastCrypto
import Foundation
import Testing
import Wallet

@Suite struct KeyringTests {
    private func freshHome() -> String {
        let dir = NSTemporaryDirectory() + "ballast-keyring-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func createListShowAndLoad() throws {
        let keyring = Keyring(home: freshHome())
        #expect(try keyring.list().isEmpty)
        let bob = try keyring.create(name: "bob")
        let alice = try keyring.create(name: "alice")
        #expect(try keyring.list().map(\.name) == ["alice", "bob"])
        #expect(try keyring.info(name: "bob") == bob)
        let key = try keyring.load(name: "alice")
        #expect(key.address.description == alice.address)
        #expect(key.publicKey.hex == alice.publicKey)
    }

    @Test func filesAreOwnerOnly() throws {
        let keyring = Keyring(home: freshHome())
        try keyring.create(name: "k")
        var st = stat()
        #expect(stat(keyring.path(for: "k"), &st) == 0)
        #expect(UInt32(st.st_mode) & 0o777 == 0o600)
        #expect(stat(keyring.directory, &st) == 0)
        #expect(UInt32(st.st_mode) & 0o777 == 0o700)
    }

    @Test func groupOrWorldReadableFileIsRefused() throws {
        let keyring = Keyring(home: freshHome())
        try keyring.create(name: "k")
        let path = keyring.path(for: "k")
        chmod(path, 0o640)
        #expect(throws: KeyringError.insecurePermissions(path: path, mode: 0o640)) { try keyring.load(name: "k") }
        chmod(path, 0o604)
        #expect(throws: KeyringError.insecurePermissions(path: path, mode: 0o604)) { try keyring.load(name: "k") }
        chmod(path, 0o600)
        _ = try keyring.load(name: "k")
    }

    /// RFC 8032 TEST 1's seed gives its public key.
    @Test func importFromSeed() throws {
        let keyring = Keyring(home: freshHome())
        let info = try keyring.importSeed(name: "rfc", seedHex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n")
        #expect(info.publicKey == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        #expect(info.address == "0x7849ac3049680be1ef762efe0d36e01733c3464e")
        #expect(throws: KeyringError.badSeed("expected 32 bytes of hex, got 2")) {
            try keyring.importSeed(name: "short", seedHex: "0102")
        }
    }

    @Test func errorsNameTheProblem() throws {
        let keyring = Keyring(home: freshHome())
        try keyring.create(name: "dup")
        #expect(throws: KeyringError.alreadyExists(name: "dup", path: keyring.path(for: "dup"))) { try keyring.create(name: "dup") }
        #expect(throws: KeyringError.notFound(name: "nope", path: keyring.path(for: "nope"))) { try keyring.load(name: "nope") }
        for bad in ["", ".hidden", "a/b", "x y", String(repeating: "a", count: 65)] {
            #expect(throws: KeyringError.invalidName(bad)) { try keyring.create(name: bad) }
        }
        FileManager.default.createFile(atPath: keyring.path(for: "junk"), contents: Data("{}".utf8), attributes: [.posixPermissions: 0o600])
        #expect(throws: KeyringError.self) { try keyring.load(name: "junk") }
    }

    @Test func homeResolution() {
        #expect(Keyring.resolveHome(explicit: "/x", environment: ["BALLAST_HOME": "/y"]) == "/x")
        #expect(Keyring.resolveHome(explicit: nil, environment: ["BALLAST_HOME": "/y"]) == "/y")
        #expect(Keyring.resolveHome(explicit: nil, environment: [:]).hasSuffix("/.ballast"))
        #expect(Keyring(home: "/h").directory == "/h/keys")
    }
}
