import ArgumentParser
import BallastCrypto
import Cluster
import Foundation
import Ledger
import Node
#if canImport(Glibc)
import Glibc
#endif

/// A one-validator chain run as a real `ballast node start` process for the node
/// benchmarks: the testnet genesis cut down to validator-0, with extra funded
/// accounts, in a fresh home under the temporary folder.
struct BenchNode {
    let home: String
    let rpcPort: Int
    let process: Process
    var pid: Int32 { process.processIdentifier }

    /// The testnet validator-0 key (a documented test key, not a secret).
    static let validatorKey: SigningKey = {
        guard let key = try? SigningKey(seed: Blake2b.hash256(Array("ballast-testnet-validator-0".utf8)).bytes) else {
            preconditionFailure("a 32-byte seed is a valid key")
        }
        return key
    }()

    /// Writes the home and starts the node; returns once its API answers.
    /// `fund` adds one USDC balance per address to the genesis.
    static func start(template: String, fund addresses: [Address], configure: (inout NodeConfig) -> Void = { _ in },
                      startupSeconds: Int = 600) async throws -> BenchNode {
        guard let templateBytes = FileManager.default.contents(atPath: template) else {
            throw UserError("cannot read the genesis template \(template) (run from the repository, or pass --genesis)")
        }
        var genesis = try NodeHome.parseGenesis([UInt8](templateBytes), source: template)
        genesis.validators = [Validator(name: "validator-0", publicKey: validatorKey.publicKey, stake: 100)]
        genesis.balances += addresses.map { InitialBalance(address: $0, asset: 0, amount: 1_000_000_000) }
        let genesisBytes = [UInt8](try JSONEncoder().encode(genesis))

        let home = NSTemporaryDirectory() + "ballast-bench-\(UUID().uuidString)"
        let ports = try LoopbackPorts.free(2)
        var config = NodeConfig(moniker: "bench")
        config.p2p.listen = "127.0.0.1:\(ports[0])"
        config.rpc.listen = "127.0.0.1:\(ports[1])"
        config.logLevel = "warning"
        configure(&config)
        try NodeHome(path: home).initialize(genesisBytes: genesisBytes, key: validatorKey, config: config)
        let process = try NodeProcesses.start(executable: try BallastExecutable.locate(), home: home, log: "\(home)/node.log")
        let node = BenchNode(home: home, rpcPort: ports[1], process: process)
        let deadline = ContinuousClock.now + .seconds(startupSeconds)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw UserError("the node exited; see \(home)/node.log") }
            if (try? KeepAliveHTTPConnection(port: node.rpcPort).get("/v1/status")) == 200 { return node }
            try await Task.sleep(for: .milliseconds(200))
        }
        node.stop()
        throw UserError("the node did not answer within \(startupSeconds) s; see \(home)/node.log")
    }

    /// SIGTERM, wait, and remove the home.
    func stop() {
        _ = NodeProcesses.stop([pid])
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: home)
    }

    /// Resident and peak resident memory of the node process, in bytes (from /proc).
    func memory() -> (rss: Int, peak: Int) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func kilobytes(_ field: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return 0 }
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
        }
        return (kilobytes("VmRSS"), kilobytes("VmHWM"))
    }

    /// CPU seconds (user + system) the node process has used.
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the name: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// One HTTP/1.1 keep-alive connection to 127.0.0.1 over a blocking socket: a
/// load generator that costs the machine little next to the node it measures.
/// Used by one thread at a time (hence unchecked).
final class KeepAliveHTTPConnection: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw UserError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw UserError("connect to 127.0.0.1:\(port): \(reason)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// POSTs `body` and returns the status code.
    func post(_ path: String, body: [UInt8]) throws -> Int {
        try request("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: \(body.count)\r\n\r\n", body: body)
    }

    /// GETs `path` and returns the status code.
    func get(_ path: String) throws -> Int {
        try request("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", body: [])
    }

    private func request(_ head: String, body: [UInt8]) throws -> Int {
        let bytes = Array(head.utf8) + body
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw UserError("send: \(String(cString: strerror(errno)))") }
            sent += n
        }
        return try readResponse()
    }

    /// Reads one response (status line, headers, a Content-Length body); returns the status.
    private func readResponse() throws -> Int {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            if let end = find(separator) { headEnd = end; break }
            try fill()
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else { throw UserError("bad response: \(head.prefix(80))") }
        guard let lengthLine = lines.first(where: { $0.lowercased().hasPrefix("content-length:") }),
              let length = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) else {
            throw UserError("response without Content-Length: \(head.prefix(200))")
        }
        let total = headEnd! + 4 + length
        while buffer.count < total { try fill() }
        buffer.removeFirst(total)
        return status
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for i in 0...(buffer.count - pattern.count) where buffer[i] == pattern[0] && Array(buffer[i..<(i + pattern.count)]) == pattern {
            return i
        }
        return nil
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw UserError(n == 0 ? "connection closed by the node" : "recv: \(String(cString: strerror(errno)))") }
        buffer += chunk[..<n]
    }
}

/// `ballast bench http`: transactions admitted per second through `POST /v1/tx`
/// of one validator process, from many concurrent keep-alive clients sending
/// pre-signed transfers; the node commits them as it admits them.
struct HTTPAdmissionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "Transactions admitted per second through POST /v1/tx of one node process (pre-signed, concurrent clients).")
    @Option(help: "Transactions to submit.") var transactions = 60_000
    @Option(help: "Concurrent client connections.") var clients = 64
    @Option(help: "Sending accounts (funded in the bench genesis).") var accounts = 1_000
    @Option(help: "Genesis template (validators are replaced by testnet validator-0).") var genesis = "genesis/testnet.json"
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let keys = try (0..<accounts).map { try SigningKey(seed: Blake2b.hash256(Array("bench-http-\($0)".utf8)).bytes) }
        let base = UInt64(Date().timeIntervalSince1970 * 1000)
        let node = try await BenchNode.start(template: genesis, fund: keys.map(\.address)) { config in
            config.rpc.rateLimitPerSecond = 100_000_000
            config.mempool.maxTransactions = transactions
            config.mempool.maxPerAccount = transactions / accounts + 1
            config.consensus.idleIntervalMs = 200
            config.consensus.roundTimeoutMs = 2_000
        }
        defer { node.stop() }
        let chainID = try NodeHome.parseGenesis([UInt8](FileManager.default.contents(atPath: "\(node.home)/genesis.json") ?? Data()),
                                                source: "bench genesis").chainID
        // Signed ahead of time: signing is the client's cost, not the node's.
        let bodies: [[UInt8]] = (0..<transactions).map { i in
            let key = keys[i % accounts]
            let tx = Transaction(chainID: chainID, signer: key.publicKey, nonce: base + UInt64(i / accounts),
                                 action: .transfer(to: keys[(i + 1) % accounts].address, asset: 0, amount: 1))
            return Array(Hex.encode(tx.signed(with: key).canonicalBytes).utf8)
        }
        let connections = try (0..<clients).map { _ in try KeepAliveHTTPConnection(port: node.rpcPort) }

        let cpuBefore = node.cpuSeconds()
        let clientCPUBefore = processCPUSeconds()
        let start = ContinuousClock.now
        let statuses = runClients(connections, bodies: bodies)
        let wall = ContinuousClock.now - start
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        let nodeCPU = node.cpuSeconds() - cpuBefore
        let clientCPU = processCPUSeconds() - clientCPUBefore
        let accepted = statuses[202] ?? 0
        guard accepted == transactions else {
            throw UserError("only \(accepted) of \(transactions) answered 202 (statuses \(statuses.sorted { $0.key < $1.key })): the benchmark is broken")
        }
        struct Report: Encodable {
            var transactions: Int, clients: Int, seconds: Double
            var admittedPerSecond: Double, nodeCPUMicrosecondsPerTransaction: Double, clientCPUMicrosecondsPerTransaction: Double
        }
        let report = Report(transactions: accepted, clients: clients, seconds: (seconds * 1000).rounded() / 1000,
                            admittedPerSecond: (Double(accepted) / seconds).rounded(),
                            nodeCPUMicrosecondsPerTransaction: (nodeCPU / Double(accepted) * 1e7).rounded() / 10,
                            clientCPUMicrosecondsPerTransaction: (clientCPU / Double(accepted) * 1e7).rounded() / 10)
        if json { printJSON(report); return }
        print("\(accepted) pre-signed transfers from \(accounts) accounts, \(clients) keep-alive clients, one node process")
        print("admitted per second (202 answers, wall)   \(Int(report.admittedPerSecond))")
        print("node CPU per transaction                  \(report.nodeCPUMicrosecondsPerTransaction) us (admission, gossip, blocks, commits)")
        print("client CPU per transaction                \(report.clientCPUMicrosecondsPerTransaction) us (this process, same machine)")
    }

    /// Each client sends its share in turn on its own connection; returns the count per status.
    private func runClients(_ connections: [KeepAliveHTTPConnection], bodies: [[UInt8]]) -> [Int: Int] {
        let tally = StatusTally()
        let group = DispatchGroup()
        for (c, connection) in connections.enumerated() {
            group.enter()
            let clients = connections.count
            let thread = Thread {
                var mine: [Int: Int] = [:]
                for i in stride(from: c, to: bodies.count, by: clients) {
                    let status = (try? connection.post("/v1/tx", body: bodies[i])) ?? -1
                    mine[status, default: 0] += 1
                }
                tally.add(mine)
                group.leave()
            }
            thread.start()
        }
        group.wait()
        return tally.counts
    }
}

/// Answers per HTTP status, summed over client threads.
final class StatusTally: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int: Int] = [:]
    func add(_ counts: [Int: Int]) {
        lock.lock()
        for (status, n) in counts { storage[status, default: 0] += n }
        lock.unlock()
    }
    var counts: [Int: Int] { lock.lock(); defer { lock.unlock() }; return storage }
}

/// `ballast bench memory`: the resident memory of a validator process whose
/// genesis funds `--accounts` accounts, next to one with the plain testnet genesis.
struct MemoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Resident memory (RSS, from /proc) of a node holding N funded accounts, vs the plain testnet genesis.")
    @Option(help: "Funded accounts in the genesis.") var accounts = 1_000_000
    @Option(help: "Genesis template (validators are replaced by testnet validator-0).") var genesis = "genesis/testnet.json"
    @Option(help: "Seconds to let the node run (committing empty blocks) before reading its memory.") var settle = 10
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let baseline = try await measure(accounts: 0)
        let loaded = try await measure(accounts: accounts)
        struct Report: Encodable {
            var accounts: Int, startupSeconds: Double
            var baselineRSSMiB: Double, rssMiB: Double, peakRSSMiB: Double, bytesPerAccount: Double
        }
        let mib = { (bytes: Int) in (Double(bytes) / 1_048_576 * 10).rounded() / 10 }
        let report = Report(accounts: accounts, startupSeconds: (loaded.startup * 10).rounded() / 10,
                            baselineRSSMiB: mib(baseline.rss), rssMiB: mib(loaded.rss), peakRSSMiB: mib(loaded.peak),
                            bytesPerAccount: (Double(loaded.rss - baseline.rss) / Double(max(accounts, 1))).rounded())
        if json { printJSON(report); return }
        print("node with the testnet genesis                  RSS \(report.baselineRSSMiB) MiB")
        print("node with \(accounts) more funded accounts   RSS \(report.rssMiB) MiB (peak \(report.peakRSSMiB) MiB), started in \(report.startupSeconds) s")
        print("per account                                    \(Int(report.bytesPerAccount)) bytes")
    }

    private func measure(accounts: Int) async throws -> (rss: Int, peak: Int, startup: Double) {
        let addresses = (0..<accounts).map { i in
            Address(filling: { raw in raw.copyBytes(from: Blake2b.hash256(Array("bench-account-\(i)".utf8)).bytes.prefix(Address.byteCount)) })
        }
        let start = ContinuousClock.now
        let node = try await BenchNode.start(template: genesis, fund: addresses) { config in
            config.consensus.idleIntervalMs = 200
            config.consensus.roundTimeoutMs = 2_000
        }
        defer { node.stop() }
        let startup = ContinuousClock.now - start
        try await Task.sleep(for: .seconds(settle))
        let memory = node.memory()
        return (memory.rss, memory.peak, Double(startup.components.seconds) + Double(startup.components.attoseconds) / 1e18)
    }
}
