import ArgumentParser
import Foundation
import Wallet

/// Options every wallet command shares.
struct WalletOptions: ParsableArguments {
    @Option(name: .long, help: "Ballast home folder (default: $BALLAST_HOME or ~/.ballast). Keys live in HOME/keys.")
    var home: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    var keyring: Keyring { Keyring(home: Keyring.resolveHome(explicit: home)) }
}

/// A failure to show the user: printed as `error: message` (or JSON), exit code 1.
struct UserError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Runs `body`, turning any thrown error into a clear message and exit code 1,
/// in JSON when `json` is set.
func reportingErrors(json: Bool, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let message = "\(error)"
        if json {
            printJSON(["error": message])
        } else {
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        }
        throw ExitCode.failure
    }
}

/// Prints a value as pretty, key-sorted JSON.
func printJSON<T: Encodable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    if let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) {
        print(text)
    }
}
