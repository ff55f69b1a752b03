import BallastCrypto
import Codec
import Foundation
import Ledger
import NIOCore
import NIOPosix
import Node
import Wallet
import WalletClient
#if canImport(Glibc)
import Glibc
#endif

/// What runs a local cluster while `cluster up` runs (in the foreground, or in the background
/// after `cluster up --detach`): the node processes, a link proxy for every ordered pair of
/// validators (their peer addresses point there), each validator's oracle feeder, the faults
/// `ballast cluster kill|…` asks for (through `DIR/control/`), and a manifest's schedule.
///
/// Every fault and schedule step is logged to `DIR/harness.log`; the fault state is written
/// to `DIR/faults.json` on every change.
public actor ClusterHarness {
    public struct Options: Sendable {
        /// Nodes ignore SIGHUP (the harness runs in the background).
        public var detachedNodes: Bool
        /// The scenario: prices, schedule and duration. Without one: calm prices, no schedule, no end.
        public var scenario: Manifest?
        /// Print each event on standard output too.
        public var echo: Bool
        /// Run the validators' oracle feeders (off: the oracle keeps the genesis prices, for checks
        /// that compute numbers from them).
        public var oracleFeeders: Bool

        public init(detachedNodes: Bool = false, scenario: Manifest? = nil, echo: Bool = false, oracleFeeders: Bool = true) {
            self.detachedNodes = detachedNodes
            self.scenario = scenario
            self.echo = echo
            self.oracleFeeders = oracleFeeders
        }
    }

    /// Counts of one oracle feeder's submissions.
    public struct FeederCounts: Sendable, Equatable {
        public var accepted = 0
        public var refused = 0
        public var unreachable = 0
    }

    public nonisolated let layout: ClusterLayout
    public nonisolated let manifest: ClusterManifest
    let executable: String
    let options: Options
    let genesis: Genesis
    let startedAt = ContinuousClock.now
    private var processes: [Process?]
    private(set) public var faults: FaultState
    private var proxies: [Int: LinkProxy] = [:]   // key: from * validators + to
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var tasks: [Task<Void, Never>] = []
    private(set) public var recentEvents: [String] = []
    private(set) public var feeders: [FeederCounts]
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var scenarioEnded = false
    private var endWaiters: [CheckedContinuation<Void, Never>] = []
    private var stopped = false

    /// Gives the cluster link-proxy ports if it has none yet (saved in `cluster.json`).
    public static func assignProxyPorts(_ layout: ClusterLayout, _ manifest: ClusterManifest, base: Int? = nil) throws -> ClusterManifest {
        if manifest.proxyBasePort != nil, base == nil { return manifest }
        var updated = manifest
        let n = manifest.validators
        var chosen = try base ?? LoopbackPorts.freeRange(n * n)
        // The nodes' own ports are not bound yet, so a free range could still overlap them.
        func overlaps(_ start: Int) -> Bool {
            let proxies = start..<(start + n * n)
            return proxies.overlaps(manifest.p2pBasePort..<(manifest.p2pBasePort + n)) || proxies.overlaps(manifest.rpcBasePort..<(manifest.rpcBasePort + n))
        }
        while base == nil, overlaps(chosen) { chosen = try LoopbackPorts.freeRange(n * n) }
        updated.proxyBasePort = chosen
        try updated.write(layout)
        return updated
    }

    public init(layout: ClusterLayout, manifest: ClusterManifest, executable: String, options: Options) throws {
        guard manifest.proxyBasePort != nil else { throw ClusterError("the cluster has no link-proxy ports (assignProxyPorts first)") }
        self.layout = layout
        self.manifest = manifest
        self.executable = executable
        self.options = options
        guard let bytes = FileManager.default.contents(atPath: layout.genesisPath) else {
            throw ClusterError("cannot read \(layout.genesisPath)")
        }
        genesis = try NodeHome.parseGenesis([UInt8](bytes), source: layout.genesisPath)
        processes = Array(repeating: nil, count: manifest.validators)
        faults = FaultState(validators: manifest.validators, harnessPID: getpid())
        feeders = Array(repeating: FeederCounts(), count: manifest.validators)
    }

    /// Seconds since the harness started: the clock of the schedule and the price path.
    public var elapsedSeconds: Double {
        let d = ContinuousClock.now - startedAt
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    // MARK: - Start and stop

    /// Starts proxies, nodes, feeders, the control loop and the schedule.
    public func start() async throws {
        let n = manifest.validators
        try FileManager.default.createDirectory(atPath: layout.controlDirectory, withIntermediateDirectories: true)
        // Requests left by a `cluster kill` while no harness ran are stale.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layout.controlDirectory)) ?? [] {
            try? FileManager.default.removeItem(atPath: layout.controlDirectory + "/" + name)
        }
        let scenario = options.scenario.map { "scenario \($0.name), " } ?? ""
        let prices = options.oracleFeeders ? "prices \(priceOptions.path.rawValue)" : "no oracle feeders"
        log("harness started (pid \(getpid())): \(scenario)\(n) validators, \(prices)")
        try pointPeers(throughProxies: true)
        for from in 0..<n {
            for to in 0..<n where to != from {
                guard let port = manifest.proxyPort(from: from, to: to) else { continue }
                let proxy = LinkProxy(listenPort: port, targetPort: manifest.p2pBasePort + to, group: group)
                do { try await proxy.start() } catch {
                    throw ClusterError("cannot listen on the link proxy port 127.0.0.1:\(port) (validator-\(from) to validator-\(to)): \(error)")
                }
                proxies[from * n + to] = proxy
            }
        }
        for i in 0..<n { try startNode(i) }
        try writeState()
        tasks.append(Task { await self.watchControlDirectory() })
        tasks.append(Task { await self.watchProcesses() })
        if options.oracleFeeders {
            for i in 0..<n { tasks.append(Task { await self.feed(validator: i) }) }
        }
        if let scenario = options.scenario { tasks.append(Task { await self.run(scenario) }) }
    }

    /// Stops everything the harness started; nodes get SIGTERM, then SIGKILL after 10 s.
    public func stop() async {
        guard !stopped else { return }
        stopped = true
        tasks.forEach { $0.cancel() }
        let running = processes.compactMap { $0 }.filter(\.isRunning)
        log("stopping \(running.count) nodes")
        let killed = await Self.stop(running, timeout: .seconds(10))
        if !killed.isEmpty { log("killed \(killed.count) nodes that did not stop within 10 s") }
        for proxy in proxies.values { await proxy.stop() }
        try? await group.shutdownGracefully()
        // A node started by hand afterwards dials its peers directly again.
        try? pointPeers(throughProxies: false)
        try? FileManager.default.removeItem(atPath: layout.pidsPath)
        try? FileManager.default.removeItem(atPath: FaultState.path(layout))
        log("stopped")
        endScenario()
    }

    /// Returns when the scenario's duration has passed, or the harness stopped; never without a duration.
    public func waitForScenarioEnd() async {
        if scenarioEnded { return }
        await withCheckedContinuation { endWaiters.append($0) }
    }

    private func endScenario() {
        scenarioEnded = true
        endWaiters.forEach { $0.resume() }
        endWaiters = []
    }

    /// Nodes whose process exited without the harness stopping them, with their exit status.
    public var exitedNodes: [Int: Int32] {
        var exited: [Int: Int32] = [:]
        for (i, p) in processes.enumerated() where faults.processes[i] == .exited {
            if let p, !p.isRunning { exited[i] = p.terminationStatus }
        }
        return exited
    }

    // MARK: - Faults

    /// Applies one fault, after any other being applied finishes; returns what was done.
    @discardableResult
    public func apply(_ fault: Fault) async throws -> String {
        let nodes = try fault.resolve(validators: manifest.validators)
        while busy { await withCheckedContinuation { waiting.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        guard !stopped else { throw ClusterError("the harness is stopping") }
        let result: String
        do { result = try await perform(fault, nodes: nodes) } catch {
            log("\(fault): failed: \(error)")
            throw error
        }
        log("\(fault): \(result)")
        try? writeState()
        return result
    }

    private func perform(_ fault: Fault, nodes: [Int]) async throws -> String {
        func names(_ list: [Int]) -> String { list.map { "validator-\($0)" }.joined(separator: ", ") }
        switch fault.op {
        case .kill:
            var pids: [String] = []
            for i in nodes {
                guard let p = processes[i], p.isRunning else { continue }
                kill(p.processIdentifier, SIGKILL)
                _ = await Self.waitForExit(p, timeout: .seconds(5))
                pids.append("\(p.processIdentifier)")
            }
            faults.apply(fault, nodes: nodes)
            return pids.isEmpty ? "none was running" : "killed with SIGKILL (PIDs \(pids.joined(separator: ", ")))"
        case .restart:
            for i in nodes {
                if let p = processes[i], p.isRunning { _ = await Self.stop([p], timeout: .seconds(10)) }
                try startNode(i)
            }
            faults.apply(fault, nodes: nodes)
            try writePIDs()
            return "started " + nodes.map { "validator-\($0) (PID \(processes[$0]?.processIdentifier ?? 0))" }.joined(separator: ", ")
        case .restartAll:
            for p in processes.compactMap({ $0 }) where p.isRunning { kill(p.processIdentifier, SIGKILL) }
            for p in processes.compactMap({ $0 }) { _ = await Self.waitForExit(p, timeout: .seconds(5)) }
            for i in 0..<manifest.validators { try startNode(i) }
            faults.apply(fault, nodes: nodes)
            try writePIDs()
            return "killed every node with SIGKILL and started them again"
        case .pause, .resume:
            var done: [Int] = []
            for i in nodes {
                guard let p = processes[i], p.isRunning else { continue }
                kill(p.processIdentifier, fault.op == .pause ? SIGSTOP : SIGCONT)
                done.append(i)
            }
            faults.apply(fault, nodes: done)
            return done.isEmpty ? "none was running" : (fault.op == .pause ? "SIGSTOP to " : "SIGCONT to ") + names(done)
        case .prices:
            guard options.oracleFeeders, let kind = fault.path else { return "no oracle feeders run: nothing to change" }
            let now = elapsedMilliseconds
            let current = currentPricePath.path.prices(atMs: now - currentPricePath.sinceMs).map(\.price)
            currentPricePath = (PricePath(kind: kind, seed: priceOptions.seed, startPrices: current,
                                          stepMs: Int64(priceOptions.intervalMs), eventAtMs: 0), now)
            return "oracle feeders follow the \(kind.rawValue) path from now on, from " + current.map(String.init).joined(separator: ", ")
        case .partition, .heal, .delay, .loss:
            faults.apply(fault, nodes: nodes)
            let changed = FaultState.links(for: fault.op, nodes: nodes, validators: manifest.validators)
            for link in changed { configure(link) }
            return "\(changed.count) links: " + changed.map { "\($0.a)-\($0.b)" }.joined(separator: " ")
        }
    }

    /// Gives both proxies of a link (one per dialling side) the link's current faults.
    private func configure(_ link: Link) {
        let n = manifest.validators
        let fault = faults.link(link)
        proxies[link.a * n + link.b]?.set(fault)
        proxies[link.b * n + link.a]?.set(fault)
    }

    /// Frames forwarded and dropped by the proxies of `link` (both directions).
    public func frameCounts(_ link: Link) -> (forwarded: Int, dropped: Int) {
        let n = manifest.validators
        let counts = [proxies[link.a * n + link.b], proxies[link.b * n + link.a]].compactMap { $0?.frameCounts }
        return (counts.reduce(0) { $0 + $1.forwarded }, counts.reduce(0) { $0 + $1.dropped })
    }

    // MARK: - Processes

    private func startNode(_ i: Int) throws {
        processes[i] = try NodeProcesses.start(executable: executable, home: layout.home(i), log: layout.logPath(i),
                                               detached: options.detachedNodes)
        try writePIDs()
    }

    private func writePIDs() throws {
        let entries = processes.enumerated().compactMap { i, p in p.map { ClusterPIDs.Entry(node: i, pid: $0.processIdentifier, home: layout.home(i)) } }
        try ClusterPIDs(nodes: entries, harness: getpid()).write(layout)
    }

    private func writeState() throws { try faults.write(layout) }

    private func watchProcesses() async {
        while !Task.isCancelled {
            for (i, p) in processes.enumerated() {
                guard let p, !p.isRunning, !busy, faults.processes[i] == .running || faults.processes[i] == .paused else { continue }
                faults.processes[i] = .exited
                try? writeState()
                log("validator-\(i) exited by itself (status \(p.terminationStatus)); see \(layout.logPath(i))")
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    static func waitForExit(_ p: Process, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while p.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return !p.isRunning
    }

    /// SIGTERM (and SIGCONT, for a paused one), then SIGKILL for those still running after `timeout`.
    /// Returns the ones that had to be killed.
    static func stop(_ list: [Process], timeout: Duration) async -> [Process] {
        for p in list where p.isRunning {
            kill(p.processIdentifier, SIGTERM)
            kill(p.processIdentifier, SIGCONT)
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, list.contains(where: \.isRunning) { try? await Task.sleep(for: .milliseconds(50)) }
        let stubborn = list.filter(\.isRunning)
        for p in stubborn { kill(p.processIdentifier, SIGKILL) }
        for p in stubborn { _ = await waitForExit(p, timeout: .seconds(5)) }
        return stubborn
    }

    /// Points every node's peer addresses at the link proxies (or back at the peers themselves).
    private func pointPeers(throughProxies: Bool) throws {
        let n = manifest.validators
        let keys = genesis.validators.map { $0.publicKey.hex.lowercased() }
        for i in 0..<n {
            let home = layout.home(i)
            var config: NodeConfig
            do { config = try NodeConfig.load(home: home) } catch { throw ClusterError("\(error)") }
            config.p2p.peers = config.p2p.peers.map { peer in
                var key = peer.publicKey.lowercased()
                if key.hasPrefix("0x") { key.removeFirst(2) }
                guard let j = keys.firstIndex(of: key) else { return peer }
                let port = throughProxies ? (manifest.proxyPort(from: i, to: j) ?? manifest.p2pBasePort + j) : manifest.p2pBasePort + j
                return NodeConfig.Peer(publicKey: peer.publicKey, address: "127.0.0.1:\(port)")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(config).write(to: URL(fileURLWithPath: home + "/config.json"), options: .atomic)
        }
    }

    // MARK: - Control requests from `ballast cluster kill|…`

    private func watchControlDirectory() async {
        while !Task.isCancelled {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: layout.controlDirectory)) ?? [])
                .filter { $0.hasSuffix(ControlRequest.requestSuffix) }.sorted()
            for name in names {
                let path = layout.controlDirectory + "/" + name
                let data = FileManager.default.contents(atPath: path)
                try? FileManager.default.removeItem(atPath: path)
                var answer: ControlRequest.Answer
                if let data, let fault = try? JSONDecoder().decode(Fault.self, from: data) {
                    do { answer = .init(ok: true, message: try await apply(fault)) } catch {
                        answer = .init(ok: false, message: "\(error)")
                    }
                } else {
                    answer = .init(ok: false, message: "unreadable request \(name)")
                }
                let answerPath = path.dropLast(ControlRequest.requestSuffix.count) + ControlRequest.answerSuffix
                try? JSONEncoder().encode(answer).write(to: URL(fileURLWithPath: String(answerPath)), options: .atomic)
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    // MARK: - Schedule

    private func run(_ scenario: Manifest) async {
        for (k, step) in scenario.schedule.enumerated() {
            guard await sleep(untilSeconds: step.at) else { return }
            log("schedule step \(k + 1)/\(scenario.schedule.count) at \(step.at) s")
            _ = try? await apply(step.fault)
        }
        faults.scheduleFinished = true
        try? writeState()
        if !scenario.schedule.isEmpty { log("schedule done") }
        guard let duration = scenario.durationSeconds, await sleep(untilSeconds: Double(duration)) else { return }
        log("scenario \(scenario.name) complete after \(duration) s")
        endScenario()
    }

    /// Sleeps until `seconds` after the start; false when cancelled.
    private func sleep(untilSeconds seconds: Double) async -> Bool {
        let target = startedAt + .milliseconds(Int64(seconds * 1000))
        do { try await Task.sleep(until: target, clock: .continuous) } catch { return false }
        return !Task.isCancelled
    }

    // MARK: - Oracle feeders

    var priceOptions: Manifest.Prices { options.scenario?.prices ?? Manifest.Prices() }

    /// The path every feeder follows and the harness time (ms) it started at: the manifest's
    /// from the start, until `cluster prices` switches it.
    private lazy var currentPricePath: (path: PricePath, sinceMs: Int64) = (
        PricePath(kind: priceOptions.path, seed: priceOptions.seed, genesis: genesis, stepMs: Int64(priceOptions.intervalMs),
                  eventAtMs: Int64(priceOptions.eventAtSeconds) * 1000), 0)

    /// Milliseconds since the harness started.
    private var elapsedMilliseconds: Int64 {
        let elapsed = ContinuousClock.now - startedAt
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }

    /// Validator `i`'s oracle feeder: every interval, the price path's prices at the harness
    /// clock, signed with the validator's key, sent to the validator's own node.
    private func feed(validator i: Int) async {
        let prices = priceOptions
        let key: SigningKey
        let client: NodeClient
        do {
            key = try Keyring(home: layout.walletHome).load(name: ClusterLayout.validatorKeyName(i))
            client = try NodeClient(url: manifest.rpcURL(i), timeout: 2)
        } catch {
            log("oracle feeder of validator-\(i) cannot start: \(error)")
            return
        }
        var lastNonce: UInt64 = 0
        let interval = Duration.milliseconds(prices.intervalMs)
        var next = startedAt
        while !Task.isCancelled {
            next += interval
            do { try await Task.sleep(until: next, clock: .continuous) } catch { return }
            guard faults.processes[i] == .running, processes[i]?.isRunning == true else { continue }
            let (path, sinceMs) = currentPricePath
            let ms = elapsedMilliseconds - sinceMs
            // Nonces are wall-clock milliseconds (the ledger's window), strictly increasing per feeder.
            lastNonce = max(UInt64(Date().timeIntervalSince1970 * 1000), lastNonce + 1)
            let tx = Transaction(chainID: manifest.chainId, signer: key.publicKey, nonce: lastNonce,
                                 action: .oraclePrices(path.prices(atMs: ms))).signed(with: key)
            do {
                _ = try await client.submit(tx.canonicalBytes, wait: false)
                feeders[i].accepted += 1
            } catch {
                if case .unreachable = error { feeders[i].unreachable += 1 } else {
                    feeders[i].refused += 1
                    if feeders[i].refused == 1 || feeders[i].refused % 100 == 0 {
                        log("oracle feeder of validator-\(i): refused (\(feeders[i].refused) so far): \(error)")
                    }
                }
            }
        }
    }

    // MARK: - Log

    private func log(_ message: String) {
        let line = String(format: "[%8.1fs] ", elapsedSeconds) + message
        recentEvents.append(line)
        if recentEvents.count > 8 { recentEvents.removeFirst() }
        if options.echo {
            print(line)
            fflush(nil)
        }
        if let handle = FileHandle(forWritingAtPath: layout.harnessLogPath) ?? {
            _ = FileManager.default.createFile(atPath: layout.harnessLogPath, contents: nil)
            return FileHandle(forWritingAtPath: layout.harnessLogPath)
        }() {
            handle.seekToEndOfFile()
            handle.write(Data((line + "\n").utf8))
            try? handle.close()
        }
    }
}

/// A fault request to a running harness: `ballast cluster kill …` writes `DIR/control/NAME.request`
/// (a `Fault` as JSON), the harness applies it and writes `DIR/control/NAME.answer`.
public enum ControlRequest {
    static let requestSuffix = ".request"
    static let answerSuffix = ".answer"

    public struct Answer: Codable, Sendable {
        public var ok: Bool
        public var message: String
    }

    /// Sends `fault` to the harness running `layout`'s cluster and waits for its answer.
    public static func send(_ fault: Fault, to layout: ClusterLayout, timeout: Duration = .seconds(60)) async throws -> String {
        let manifest = try ClusterManifest.load(layout)
        _ = try fault.resolve(validators: manifest.validators)
        guard ClusterPIDs.load(layout)?.runningHarness(layout) != nil else {
            throw ClusterError("no harness runs the cluster at \(layout.directory): start it with `ballast cluster up --dir \(layout.directory)` (or --detach)")
        }
        let name = String(format: "%016llx-", UInt64(Date().timeIntervalSince1970 * 1_000_000)) + UUID().uuidString
        let base = layout.controlDirectory + "/" + name
        let temporary = base + ".tmp"
        try JSONEncoder().encode(fault).write(to: URL(fileURLWithPath: temporary))
        try FileManager.default.moveItem(atPath: temporary, toPath: base + requestSuffix)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let data = FileManager.default.contents(atPath: base + answerSuffix),
               let answer = try? JSONDecoder().decode(Answer.self, from: data) {
                try? FileManager.default.removeItem(atPath: base + answerSuffix)
                guard answer.ok else { throw ClusterError(answer.message) }
                return answer.message
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        try? FileManager.default.removeItem(atPath: base + requestSuffix)
        throw ClusterError("the harness did not answer within \(timeout)")
    }
}
