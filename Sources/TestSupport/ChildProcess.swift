import Foundation

/// A child process run to completion by a test, awaited without holding a thread.
///
/// Swift Testing runs every test on the shared cooperative pool (one thread per core). A test
/// that blocks in `waitUntilExit()` or `readDataToEndOfFile()` holds one of those threads for
/// as long as the child runs, and two such tests on a 2-core machine stall every other test's
/// continuation: in CI a 300 ms deadline was observed to resume after more than 3 s. Here the
/// exit is awaited through `terminationHandler`, and output goes to temporary files (no pipe
/// the child could fill and block on while nobody reads it).
public struct ChildProcess: Sendable {
    /// How a child process ended and what it wrote.
    public struct Finished: Sendable {
        /// The exit status (or the signal number, if a signal ended it).
        public let status: Int32
        /// What it wrote to standard output (and standard error, when merged).
        public let output: String
        /// What it wrote to standard error, when not merged into `output`.
        public let errors: String
    }

    /// Runs `executable` with `arguments` and waits for it to exit.
    /// - Parameters:
    ///   - environment: variables added to (or replacing) this process's; a nil value removes one.
    ///   - directory: the working directory (this process's when nil).
    ///   - input: written to its standard input (empty when nil).
    ///   - mergingErrors: standard error goes into `output`, interleaved as written.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String?] = [:],
                           directory: URL? = nil, input: String? = nil, mergingErrors: Bool = false) async throws -> Finished {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("out"), errPath = scratch.appendingPathComponent("err")
        let inPath = scratch.appendingPathComponent("in")
        for path in [outPath, errPath] { try Data().write(to: path) }
        try Data((input ?? "").utf8).write(to: inPath)
        let out = try FileHandle(forWritingTo: outPath)
        let err = mergingErrors ? out : try FileHandle(forWritingTo: errPath)
        let stdin = try FileHandle(forReadingFrom: inPath)
        defer { for handle in mergingErrors ? [out, stdin] : [out, err, stdin] { try? handle.close() } }

        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = directory }
        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment { variables[name] = value }
        p.environment = variables
        p.standardInput = stdin
        p.standardOutput = out
        p.standardError = err
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            p.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try p.run() } catch {
                p.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        let text = { (path: URL) in String(decoding: (try? Data(contentsOf: path)) ?? Data(), as: UTF8.self) }
        return Finished(status: status, output: text(outPath), errors: mergingErrors ? "" : text(errPath))
    }
}
