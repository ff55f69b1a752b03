import ArgumentParser
import Cluster
import Dispatch
import Foundation

/// `ballast cluster`: a local multi-validator testnet on loopback.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Run a local multi-validator testnet.",
        subcommands: [Up.self, Status.self, Down.self, Reset.self, Load.self, Keeper.self, Verify.self]
    )

    /// The option every cluster command shares.
    struct Location: ParsableArguments {
        @Option(help: "The cluster directory (keys, genesis, node homes and logs).") var dir = "cluster/local"
        var layout: ClusterLayout { ClusterLayout(directory: dir) }
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the cluster on first use, start its nodes and show their status until Ctrl-C.",
            discussion: "Running it again resumes the same chain from the existing homes.")
        @OptionGroup var location: Location
        @Option(help: "Number of validators (only when creating the cluster).") var validators = 4
        @Option(help: "Genesis template: its validators and faucet are replaced by fresh keys (default: genesis/testnet.json).")
        var genesis: String?
        @Option(name: .customLong("p2p-port"), help: "Validator I listens for peers on 127.0.0.1:(this + I).") var p2pPort = 26656
        @Option(name: .customLong("rpc-port"), help: "Validator I serves its HTTP API on 127.0.0.1:(this + I).") var rpcPort = 8080
        @Flag(help: "Start the nodes, wait until they answer, and return; `ballast cluster down` stops them.") var detach = false

        func run() async throws {
            // Caught from the start, so a Ctrl-C while the nodes start still stops them all.
            let stop = detach ? nil : StopSignals()
            try await reportingErrors(json: false) {
                let layout = location.layout
                let (manifest, created) = try ClusterSetup.prepare(layout, validators: validators, templateGenesis: try templatePath(),
                                                                   p2pBasePort: p2pPort, rpcBasePort: rpcPort)
                if let running = ClusterPIDs.load(layout)?.running, !running.isEmpty {
                    throw UserError("the cluster at \(layout.directory) is already running (PIDs \(running.map { String($0.pid) }.joined(separator: ", "))): "
                        + "see `ballast cluster status --dir \(location.dir)`, or stop it with `ballast cluster down --dir \(location.dir)`")
                }
                let executable = try BallastExecutable.locate()
                var processes: [Process] = []
                do {
                    for i in 0..<manifest.validators {
                        processes.append(try NodeProcesses.start(executable: executable, home: layout.home(i), log: layout.logPath(i), detached: detach))
                    }
                    try ClusterPIDs(nodes: processes.enumerated().map { .init(node: $0, pid: $1.processIdentifier, home: layout.home($0)) }).write(layout)
                } catch {
                    NodeProcesses.stop(processes.map(\.processIdentifier))
                    throw error
                }
                print("\(created ? "created" : "resumed") cluster \(manifest.chainId) in \(layout.directory): \(manifest.validators) validators, "
                    + "HTTP APIs \(manifest.rpcURL(0))…\(manifest.rpcBasePort + manifest.validators - 1), logs in \(layout.directory)/nodeI/node.log")
                print("faucet \(manifest.faucetAddress); wallet home \(layout.walletHome):")
                print("  BALLAST_HOME=\(layout.walletHome) ballast tx transfer --to ADDRESS --asset 0 --amount 1000000000 --key faucet --node \(manifest.rpcURL(0))")
                if detach {
                    try await waitUntilAnswering(manifest, processes: processes)
                    print(await ClusterStatusClient(manifest: manifest).snapshot().table())
                    print("running in the background; stop with: ballast cluster down --dir \(location.dir)")
                    return
                }
                if let stop { await liveView(manifest, processes: processes, stop: stop) }
                print("stopping \(processes.count) nodes…")
                let killed = NodeProcesses.stop(processes.map(\.processIdentifier))
                try? FileManager.default.removeItem(atPath: layout.pidsPath)
                print(killed.isEmpty ? "stopped" : "stopped (killed \(killed.count) that did not stop in time)")
            }
        }

        private func templatePath() throws -> String {
            if let genesis { return genesis }
            let local = "genesis/testnet.json"
            if FileManager.default.fileExists(atPath: local) { return local }
            // Run from elsewhere: the repository the executable was built in (.build/<config>/ballast).
            let beside = URL(fileURLWithPath: try BallastExecutable.locate()).resolvingSymlinksInPath()
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(local).path
            guard FileManager.default.fileExists(atPath: beside) else {
                throw UserError("no genesis/testnet.json here or at \(beside): pass --genesis FILE")
            }
            return beside
        }

        private func waitUntilAnswering(_ manifest: ClusterManifest, processes: [Process]) async throws {
            let client = ClusterStatusClient(manifest: manifest, timeout: 1)
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if let dead = processes.firstIndex(where: { !$0.isRunning }) {
                    throw UserError("node \(dead) exited (status \(processes[dead].terminationStatus)); see \(location.layout.logPath(dead))")
                }
                if await client.snapshot().rows.allSatisfy({ $0.status != nil }) { return }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw UserError("the nodes did not all answer within 60 s; see the logs in \(location.layout.directory)/nodeI/node.log")
        }

        /// Redraws the status table every second until SIGINT or SIGTERM.
        private func liveView(_ manifest: ClusterManifest, processes: [Process], stop: StopSignals) async {
            let client = ClusterStatusClient(manifest: manifest, timeout: 1)
            let view = Task {
                let interactive = isatty(STDOUT_FILENO) == 1
                var history: [(at: ContinuousClock.Instant, height: UInt64)] = []
                while !Task.isCancelled {
                    let snapshot = await client.snapshot()
                    // The rate over the last 10 s in which every node answered: a node coming
                    // up reports its stored height at once, which is no commit rate.
                    if snapshot.rows.allSatisfy({ $0.status != nil }) {
                        history.append((snapshot.takenAt, snapshot.maxHeight))
                        if history.count > 11 { history.removeFirst() }
                    } else {
                        history.removeAll()
                    }
                    var rate = 0.0
                    if let first = history.first, let last = history.last, last.at > first.at {
                        let seconds = Double((last.at - first.at).components.seconds) + Double((last.at - first.at).components.attoseconds) / 1e18
                        rate = Double(last.height - min(first.height, last.height)) / seconds
                    }
                    var exited: [Int: Int32] = [:]
                    for (i, p) in processes.enumerated() where !p.isRunning { exited[i] = p.terminationStatus }
                    let verdict = snapshot.rows.contains(where: \.diverges) ? "STATE ROOTS DIFFER" : "roots agree"
                    let screen = (interactive ? "\u{1B}[H\u{1B}[2J" : "\n")
                        + "cluster \(manifest.chainId): \(manifest.validators) validators, \(String(format: "%.2f", rate)) blocks/s, "
                        + "\(verdict) at height \(snapshot.commonHeight.map(String.init) ?? "-")  (Ctrl-C stops)\n"
                        + snapshot.table(exited: exited)
                    print(screen)
                    fflush(nil)   // all streams: stdout is not line-buffered when piped to a file
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            stop.onStop { view.cancel() }
            await view.value
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the status of every node of a running cluster.")
        @OptionGroup var location: Location

        func run() async throws {
            try await reportingErrors(json: false) {
                let manifest = try ClusterManifest.load(location.layout)
                let snapshot = await ClusterStatusClient(manifest: manifest).snapshot()
                print(snapshot.table())
                if snapshot.rows.contains(where: \.diverges) {
                    throw UserError("state roots differ at height \(snapshot.commonHeight ?? 0)")
                }
            }
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the nodes a `cluster up` started (SIGTERM, then SIGKILL after a timeout).")
        @OptionGroup var location: Location
        @Option(help: "Seconds to wait after SIGTERM before SIGKILL.") var timeout = 10

        func run() throws {
            let stopped = ClusterPIDs.stopRecorded(location.layout, timeout: .seconds(timeout))
            print(stopped.isEmpty ? "no cluster nodes running in \(location.layout.directory)"
                                  : "stopped \(stopped.count) nodes (PIDs \(stopped.map { String($0.pid) }.joined(separator: ", ")))")
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the cluster's nodes and delete its directory: keys, chain and logs.")
        @OptionGroup var location: Location

        func run() throws {
            try reportingErrors(json: false) {
                let layout = location.layout
                guard FileManager.default.fileExists(atPath: layout.directory) else {
                    print("nothing to reset: \(layout.directory) does not exist")
                    return
                }
                guard layout.looksLikeCluster else {
                    throw UserError("\(layout.directory) does not look like a cluster directory (cluster.json, genesis.json, wallet/, node0/): not deleting it")
                }
                ClusterPIDs.stopRecorded(layout)
                try FileManager.default.removeItem(atPath: layout.directory)
                print("deleted \(layout.directory)")
            }
        }
    }
}

/// SIGINT and SIGTERM, caught from creation on: runs the action given to `onStop`
/// once, at once if a signal came before it was given.
final class StopSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false
    private var action: (@Sendable () -> Void)?
    private var sources: [DispatchSourceSignal] = []

    init() {
        sources = [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig)
            source.setEventHandler { [weak self] in self?.fire() }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }

    private func fire() {
        lock.lock()
        requested = true
        let action = self.action
        lock.unlock()
        action?()
    }

    func onStop(_ action: @escaping @Sendable () -> Void) {
        lock.lock()
        self.action = action
        let already = requested
        lock.unlock()
        if already { action() }
    }
}
