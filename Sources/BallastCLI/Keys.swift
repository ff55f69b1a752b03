import ArgumentParser
import Foundation
import Wallet

/// `ballast keys`: make, import, list and show Ed25519 keys.
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage wallet keys (Ed25519), stored under HOME/keys with mode 0600.",
        subcommands: [New.self, Import.self, List.self, Show.self]
    )

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a new random key.")
        @OptionGroup var options: WalletOptions
        @Argument(help: "Name of the key (letters, digits, '.', '_', '-').") var name: String

        func run() throws {
            try reportingErrors(json: options.json) {
                let info = try options.keyring.create(name: name)
                show(info, options: options, created: "created key '\(info.name)' in \(options.keyring.path(for: info.name))")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a key from a 32-byte hex seed read from standard input.",
            discussion: "The seed is never taken from the command line, where other users could read it in the process list: `ballast keys import alice < seed.hex`.")
        @OptionGroup var options: WalletOptions
        @Argument(help: "Name of the key.") var name: String

        func run() throws {
            try reportingErrors(json: options.json) {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw UserError("expected a 32-byte hex seed on standard input")
                }
                let info = try options.keyring.importSeed(name: name, seedHex: line)
                show(info, options: options, created: "imported key '\(info.name)' into \(options.keyring.path(for: info.name))")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys in the keyring.")
        @OptionGroup var options: WalletOptions

        func run() throws {
            try reportingErrors(json: options.json) {
                let keys = try options.keyring.list()
                if options.json {
                    printJSON(keys)
                } else if keys.isEmpty {
                    print("no keys in \(options.keyring.directory); make one with `ballast keys new NAME`")
                } else {
                    let width = keys.map(\.name.count).max() ?? 0
                    for key in keys {
                        print(key.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + key.address)
                    }
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a key's address and public key.")
        @OptionGroup var options: WalletOptions
        @Argument(help: "Name of the key.") var name: String

        func run() throws {
            try reportingErrors(json: options.json) {
                show(try options.keyring.info(name: name), options: options, created: nil)
            }
        }
    }
}

private func show(_ info: KeyInfo, options: WalletOptions, created: String?) {
    if options.json {
        printJSON(info)
        return
    }
    if let created { print(created) }
    print("name:       \(info.name)")
    print("address:    \(info.address)")
    print("public key: \(info.publicKey)")
}
