import ArgumentParser
import Cluster
import Dispatch
import Foundation

/// `ballast cluster`: a local multi-validator testnet on loopback.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Run a local multi-validator testnet.",
        subcommands: [Up.self, Status.self, Down.self, Reset.self, Load.self, Keeper.self, Verify.self,
                      Kill.self, Restart.self, Pause.self, Resume.self, Partition.self, Heal.self, Delay.self, Loss.self, RestartAll.self]
    )

    /// The option every cluster command shares.
    struct Location: ParsableArguments {
        @Option(help: "The cluster directory (keys, genesis, node homes and logs).") var dir = "cluster/local"
        var layout: ClusterLayout { ClusterLayout(directory: dir) }
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the cluster on first use, start its nodes and harness and show their status until Ctrl-C.",
            discussion: """
                Running it again resumes the same chain from the existing homes. The harness runs each validator's \
                oracle feeder, a link proxy between every two validators (for partition, delay and loss), the fault \
                commands (`ballast cluster kill` …) and, with --manifest, the manifest's price path, schedule and duration.
                """)
        @OptionGroup var location: Location
        @Option(help: "Number of validators (only when creating the cluster; a manifest's count wins).") var validators = 4
        @Option(help: "Genesis template: its validators and faucet are replaced by fresh keys (default: genesis/testnet.json).")
        var genesis: String?
        @Option(name: .customLong("p2p-port"), help: "Validator I listens for peers on 127.0.0.1:(this + I).") var p2pPort = 26656
        @Option(name: .customLong("rpc-port"), help: "Validator I serves its HTTP API on 127.0.0.1:(this + I).") var rpcPort = 8080
        @Option(name: .customLong("proxy-port"), help: "Link proxies listen on 127.0.0.1:(this + I x N + J) (default: free ports, chosen once).")
        var proxyPort: Int?
        @Option(help: "A scenario (cluster/*.json): price path, load shape, fault schedule, duration.") var manifest: String?
        @Flag(help: "Start the cluster and its harness in the background, wait until the nodes answer, and return; `ballast cluster down` stops it.")
        var detach = false
        @Flag(help: .hidden) var background = false

        func run() async throws {
            // Caught from the start, so a Ctrl-C while the nodes start still stops them all.
            let stop = detach ? nil : StopSignals()
            try await reportingErrors(json: false) {
                let layout = location.layout
                let scenario = try manifest.map { try Manifest.load(path: $0) }
                var (cluster, created) = try ClusterSetup.prepare(layout, validators: scenario?.validators ?? validators,
                                                                  templateGenesis: try templatePath(),
                                                                  p2pBasePort: p2pPort, rpcBasePort: rpcPort)
                if let recorded = ClusterPIDs.load(layout) {
                    let pids = recorded.running.map(\.pid) + [recorded.runningHarness(layout)].compactMap { $0 }
                    if !pids.isEmpty {
                        throw UserError("the cluster at \(layout.directory) is already running (PIDs \(pids.map(String.init).joined(separator: ", "))): "
                            + "see `ballast cluster status --dir \(location.dir)`, or stop it with `ballast cluster down --dir \(location.dir)`")
                    }
                }
                cluster = try ClusterHarness.assignProxyPorts(layout, cluster, base: proxyPort)
                let executable = try BallastExecutable.locate()
                if !background {
                    print("\(created ? "created" : "resumed") cluster \(cluster.chainId) in \(layout.directory): \(cluster.validators) validators, "
                        + "HTTP APIs \(cluster.rpcURL(0))…\(cluster.rpcBasePort + cluster.validators - 1), logs in \(layout.directory)/nodeI/node.log, "
                        + "harness log \(layout.harnessLogPath)")
                    print("faucet \(cluster.faucetAddress); wallet home \(layout.walletHome):")
                    print("  BALLAST_HOME=\(layout.walletHome) ballast tx transfer --to ADDRESS --asset 0 --amount 1000000000 --key faucet --node \(cluster.rpcURL(0))")
                }
                if detach {
                    try await startInBackground(cluster, executable: executable)
                    return
                }
                let harness = try ClusterHarness(layout: layout, manifest: cluster, executable: executable,
                                                 options: .init(detachedNodes: background, scenario: scenario, echo: background))
                do { try await harness.start() } catch {
                    await harness.stop()
                    throw error
                }
                let (ended, ending) = AsyncStream<Void>.makeStream()
                stop?.onStop { ending.yield() }
                let scenarioEnd = Task {
                    await harness.waitForScenarioEnd()
                    ending.yield()
                }
                let view = background ? nil : Task { await liveView(harness) }
                for await _ in ended { break }
                view?.cancel()
                await view?.value
                scenarioEnd.cancel()
                if !background { print("stopping \(cluster.validators) nodes…") }
                await harness.stop()
                if !background { print("stopped; harness log: \(layout.harnessLogPath)") }
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

        /// Runs this command again as the background harness (output in DIR/harness.out), and
        /// waits until it has started every node and they all answer.
        private func startInBackground(_ cluster: ClusterManifest, executable: String) async throws {
            let layout = location.layout
            var arguments = ["cluster", "up", "--dir", layout.directory, "--background", "--validators", "\(cluster.validators)"]
            if let manifest { arguments += ["--manifest", URL(fileURLWithPath: manifest).standardizedFileURL.path] }
            if let genesis { arguments += ["--genesis", URL(fileURLWithPath: genesis).standardizedFileURL.path] }
            let output = layout.directory + "/harness.out"
            let child = try NodeProcesses.spawn(executable: executable, arguments: arguments, log: output, detached: true)
            let client = ClusterStatusClient(manifest: cluster, timeout: 1)
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                guard child.isRunning else {
                    let tail = (try? String(contentsOfFile: output, encoding: .utf8))?.split(separator: "\n").suffix(5).joined(separator: "\n") ?? ""
                    throw UserError("the background harness exited (status \(child.terminationStatus)):\n\(tail)")
                }
                let faults = FaultState.load(layout).flatMap { $0.harnessPID == child.processIdentifier ? $0 : nil }
                if let dead = faults?.processes.firstIndex(of: .exited) {
                    stop(child)
                    let log = layout.logPath(dead)
                    let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(3).joined(separator: "\n") ?? ""
                    throw UserError("validator-\(dead) exited as it started; the end of \(log):\n\(tail)")
                }
                if let faults, await client.snapshot().rows.allSatisfy({ $0.status != nil }) {
                    print(await client.snapshot().table(faults: faults))
                    print("running in the background (harness PID \(child.processIdentifier), log \(layout.harnessLogPath)); "
                        + "stop with: ballast cluster down --dir \(location.dir)")
                    return
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            stop(child)
            throw UserError("the nodes did not all answer within 60 s; see the logs in \(layout.directory)/nodeI/node.log and \(output)")
        }

        /// Stops the background harness (it stops its nodes), and whatever it recorded.
        private func stop(_ harness: Process) {
            NodeProcesses.stop([harness.processIdentifier], timeout: .seconds(25))
            ClusterPIDs.stopRecorded(location.layout)
        }

        /// Redraws the status table every second until cancelled.
        private func liveView(_ harness: ClusterHarness) async {
            let manifest = harness.manifest
            let client = ClusterStatusClient(manifest: manifest, timeout: 1)
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
                let faults = await harness.faults
                let feeders = await harness.feeders
                let events = await harness.recentEvents
                let verdict = snapshot.rows.contains(where: \.diverges) ? "STATE ROOTS DIFFER" : "roots agree"
                let screen = (interactive ? "\u{1B}[H\u{1B}[2J" : "\n")
                    + "cluster \(manifest.chainId): \(manifest.validators) validators, \(String(format: "%.2f", rate)) blocks/s, "
                    + "\(verdict) at height \(snapshot.commonHeight.map(String.init) ?? "-")  (Ctrl-C stops)\n"
                    + snapshot.table(exited: await harness.exitedNodes, faults: faults) + "\n"
                    + "oracle feeds accepted: " + feeders.map { "\($0.accepted)" }.joined(separator: " ")
                    + (interactive ? "\n" + events.joined(separator: "\n") : "")
                print(screen)
                fflush(nil)   // all streams: stdout is not line-buffered when piped to a file
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the status of every node of a running cluster.")
        @OptionGroup var location: Location

        func run() async throws {
            try await reportingErrors(json: false) {
                let manifest = try ClusterManifest.load(location.layout)
                let snapshot = await ClusterStatusClient(manifest: manifest).snapshot()
                let faults = FaultState.load(location.layout)
                print(snapshot.table(faults: faults))
                if faults == nil { print("no harness running: fault commands are not available") }
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

    // MARK: - Faults, applied by the running harness

    /// The validators a fault command names.
    struct Targets: ParsableArguments {
        @OptionGroup var location: Location
        @Argument(help: "Validators: validator-I or I.") var validators: [String] = []
    }

    static func inject(_ fault: Fault, _ location: Location) async throws {
        try await reportingErrors(json: false) {
            print("\(fault): " + (try await ControlRequest.send(fault, to: location.layout)))
        }
    }

    /// A fault command naming validators; `run` sends `op` on them to the harness.
    protocol TargetedFault: AsyncParsableCommand {
        static var op: Fault.Op { get }
        var targets: Targets { get }
    }

    struct Kill: TargetedFault {
        static let configuration = CommandConfiguration(abstract: "Kill validators' processes with SIGKILL (kill -9).")
        static let op = Fault.Op.kill
        @OptionGroup var targets: Targets
    }

    struct Restart: TargetedFault {
        static let configuration = CommandConfiguration(abstract: "Start validators again (a running one is stopped with SIGTERM first).")
        static let op = Fault.Op.restart
        @OptionGroup var targets: Targets
    }

    struct Pause: TargetedFault {
        static let configuration = CommandConfiguration(abstract: "Freeze validators' processes (SIGSTOP).")
        static let op = Fault.Op.pause
        @OptionGroup var targets: Targets
    }

    struct Resume: TargetedFault {
        static let configuration = CommandConfiguration(abstract: "Resume paused validators (SIGCONT).")
        static let op = Fault.Op.resume
        @OptionGroup var targets: Targets
    }

    struct Partition: TargetedFault {
        static let configuration = CommandConfiguration(abstract: "Cut every link between the named validators and the rest.")
        static let op = Fault.Op.partition
        @OptionGroup var targets: Targets
    }

    struct Heal: TargetedFault {
        static let configuration = CommandConfiguration(
            abstract: "Clear link faults (cuts, delay, loss) on the named validators' links; no names: on every link.")
        static let op = Fault.Op.heal
        @OptionGroup var targets: Targets
    }

    struct Delay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delay the bytes on links: one validator's links, or the links among two or more (0 ms clears).")
        @OptionGroup var targets: Targets
        @Option(help: "Milliseconds of delay.") var ms: Int
        func run() async throws { try await inject(Fault(op: .delay, nodes: targets.validators, ms: ms), targets.location) }
    }

    struct Loss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop a share of the messages on links: one validator's links, or the links among two or more (0 clears).")
        @OptionGroup var targets: Targets
        @Option(help: "Percent of messages dropped.") var percent: Int
        func run() async throws { try await inject(Fault(op: .loss, nodes: targets.validators, percent: percent), targets.location) }
    }

    struct RestartAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "restart-all", abstract: "Kill every validator (SIGKILL) and start them all at once.")
        @OptionGroup var location: Location
        func run() async throws { try await inject(Fault(op: .restartAll), location) }
    }
}

extension ClusterCommand.TargetedFault {
    func run() async throws { try await ClusterCommand.inject(Fault(op: Self.op, nodes: targets.validators), targets.location) }
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
