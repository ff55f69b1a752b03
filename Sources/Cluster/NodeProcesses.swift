import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finds the `ballast` executable: `$BALLAST_BIN`, else beside the running executable
/// (a test bundle lives in the same build folder as `ballast`), else `fallback`.
public enum BallastExecutable {
    public static func locate(fallback: String? = nil) throws -> String {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["BALLAST_BIN"] { candidates.append(explicit) }
        let running = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
        var folder = running.deletingLastPathComponent()
        // macOS test bundles run from inside X.xctest/Contents/MacOS.
        while folder.pathComponents.count > 1, folder.path.contains(".xctest") { folder = folder.deletingLastPathComponent() }
        candidates.append(folder.appendingPathComponent("ballast").path)
        if let fallback { candidates.append(fallback) }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ClusterError("no ballast executable (looked at \(candidates.joined(separator: ", "))): build it first (swift build)")
        }
        return found
    }
}

/// Starting, watching and stopping `ballast node start` processes.
public enum NodeProcesses {
    /// Starts `ballast node start --home HOME`, its output appended to `log`.
    /// `detached`: the node ignores SIGHUP, so it outlives the terminal that started it.
    /// `environment` adds to (or overrides) this process's environment.
    public static func start(executable: String, home: String, log: String, detached: Bool = false,
                             environment: [String: String] = [:]) throws -> Process {
        try spawn(executable: executable, arguments: ["node", "start", "--home", home], log: log, detached: detached, environment: environment)
    }

    /// Starts `executable ARGUMENTS`, its output appended to `log`; `detached` and `environment` as for `start`.
    public static func spawn(executable: String, arguments: [String], log: String, detached: Bool = false,
                             environment: [String: String] = [:]) throws -> Process {
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: log) else { throw ClusterError("cannot write \(log)") }
        handle.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        // An ignored signal stays ignored across exec: the child inherits it.
        let previous = detached ? signal(SIGHUP, SIG_IGN) : nil
        defer { if let previous { signal(SIGHUP, previous) } }
        do { try process.run() } catch { throw ClusterError("cannot start \(executable): \(error)") }
        try? handle.close()
        return process
    }

    /// True while `pid` is a live process (a zombie waiting to be reaped counts as gone).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            return state != "Z" && state != "X"
        }
        return true
    }

    /// True when `pid` runs `ballast node start --home home` (so a recycled PID is never signalled).
    /// Without /proc (macOS) this cannot be told and any live PID counts.
    public static func isNode(_ pid: Int32, home: String) -> Bool {
        guard isAlive(pid) else { return false }
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else {
            return !FileManager.default.fileExists(atPath: "/proc/self/cmdline")
        }
        let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard let h = args.firstIndex(of: "--home"), h + 1 < args.count else { return false }
        return args.contains("node") && args.contains("start") && args[h + 1] == home
    }

    /// True when `pid` runs `ballast cluster up … --dir directory` (a harness). Without /proc, any live PID counts.
    public static func isHarness(_ pid: Int32, directory: String) -> Bool {
        guard isAlive(pid) else { return false }
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else {
            return !FileManager.default.fileExists(atPath: "/proc/self/cmdline")
        }
        let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard args.contains("cluster"), args.contains("up") else { return false }
        // `--dir X`, `--dir=X`, or the default.
        var dir = "cluster/local"
        if let d = args.firstIndex(of: "--dir"), d + 1 < args.count { dir = args[d + 1] }
        if let given = args.first(where: { $0.hasPrefix("--dir=") }) { dir = String(given.dropFirst("--dir=".count)) }
        if !dir.hasPrefix("/"), let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd") {
            dir = cwd + "/" + dir
        }
        return ClusterLayout(directory: dir).directory == directory
    }

    /// SIGTERM to each, then waits up to `timeout` for all to exit; any still alive then get SIGKILL.
    /// Returns the PIDs that had to be killed.
    @discardableResult
    public static func stop(_ pids: [Int32], timeout: Duration = .seconds(10)) -> [Int32] {
        // SIGCONT after SIGTERM: a paused (SIGSTOPped) node handles the SIGTERM once it runs again.
        for pid in pids where isAlive(pid) {
            kill(pid, SIGTERM)
            kill(pid, SIGCONT)
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, pids.contains(where: isAlive) { usleep(50_000) }
        let stubborn = pids.filter(isAlive)
        for pid in stubborn { kill(pid, SIGKILL) }
        let killDeadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < killDeadline, stubborn.contains(where: isAlive) { usleep(50_000) }
        return stubborn
    }
}

/// `DIR/pids.json`: the node processes a `cluster up` started, so `cluster down`
/// (from another shell, or after `up --detach`) can stop them.
public struct ClusterPIDs: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var node: Int
        public var pid: Int32
        public var home: String
        public init(node: Int, pid: Int32, home: String) {
            self.node = node
            self.pid = pid
            self.home = home
        }
    }
    public var nodes: [Entry]
    /// The `cluster up` process that runs the harness (fault injection, oracle feeders, schedule).
    public var harness: Int32?
    public init(nodes: [Entry], harness: Int32? = nil) {
        self.nodes = nodes
        self.harness = harness
    }

    public static func load(_ layout: ClusterLayout) -> ClusterPIDs? {
        guard let data = FileManager.default.contents(atPath: layout.pidsPath) else { return nil }
        return try? JSONDecoder().decode(ClusterPIDs.self, from: data)
    }

    public func write(_ layout: ClusterLayout) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: layout.pidsPath))
    }

    /// The recorded processes that are still running as the nodes they were started as.
    public var running: [Entry] { nodes.filter { NodeProcesses.isNode($0.pid, home: $0.home) } }

    /// The recorded harness, if it still runs as `cluster up` for `layout`.
    public func runningHarness(_ layout: ClusterLayout) -> Int32? {
        guard let harness, NodeProcesses.isHarness(harness, directory: layout.directory) else { return nil }
        return harness
    }

    /// Stops the recorded harness (which stops its nodes) and every recorded node still
    /// running, and removes the file. Returns the node entries that were running.
    @discardableResult
    public static func stopRecorded(_ layout: ClusterLayout, timeout: Duration = .seconds(10)) -> [Entry] {
        guard let recorded = load(layout) else { return [] }
        let running = recorded.running
        if let harness = recorded.runningHarness(layout) {
            // The harness stops its nodes with the same SIGTERM-then-SIGKILL wait; give it that and a margin.
            NodeProcesses.stop([harness], timeout: timeout + .seconds(15))
        }
        // Nodes the harness did not stop (or started by a harness that is gone); their PIDs may have changed.
        let left = (load(layout) ?? recorded).running + running
        NodeProcesses.stop(left.map(\.pid), timeout: timeout)
        try? FileManager.default.removeItem(atPath: layout.pidsPath)
        return running
    }
}
