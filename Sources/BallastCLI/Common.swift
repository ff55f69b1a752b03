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
    do { try body() } catch { throw report(error, json: json) }
}

/// `reportingErrors` for async work (the commands that talk to a node).
func reportingErrors(json: Bool, _ body: () async throws -> Void) async throws {
    do { try await body() } catch { throw report(error, json: json) }
}

/// Prints `error` (unless it is already an exit code) and returns the exit code to throw.
private func report(_ error: Error, json: Bool) -> ExitCode {
    if let code = error as? ExitCode { return code }
    let message = "\(error)"
    if json {
        printJSON(["error": message])
    } else {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
    return .failure
}

/// Prints a value as pretty, key-sorted JSON.
func printJSON<T: Encodable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    if let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) {
        print(text)
    }
}
