#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import BallastCrypto
import Cluster
import Codec
import Foundation
import Ledger
import Node
import TestSupport
import Testing

/// Real `ballast node` processes on loopback, driven over HTTP: what a user runs.
final class ProcessCluster: @unchecked Sendable {
    let root: String
    let binary: String
    let count: Int
    let ports: [Int]
    var processes: [Process?]

    /// The `ballast` executable that `swift test` built beside the tests.
    static func locateBinary() throws -> String {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try BallastExecutable.locate(fallback: repo.appendingPathComponent(".build/debug/ballast").path)
    }

    init(count: Int = 4) async throws {
        root = NSTemporaryDirectory() + "ballast-procs-\(UUID().uuidString)"
        binary = try ProcessCluster.locateBinary()
        self.count = count
        ports = try LoopbackPorts.free(2 * count)
        processes = Array(repeating: nil, count: count)
        let keys = Testnet.validatorKeys
        let genesis = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("genesis/testnet.json").path
        for i in 0..<count {
            try await run(["keys", "import", "v\(i)", "--home", "\(root)/wallet"], stdin: Hex.encode(keys[i].seed) + "\n")
            var args = ["node", "init", "--home", home(i), "--genesis", genesis, "--key", "v\(i)", "--keys-home", "\(root)/wallet",
                        "--p2p-listen", "127.0.0.1:\(p2pPort(i))", "--rpc-listen", "127.0.0.1:\(rpcPort(i))"]
            for j in 0..<count where j != i { args += ["--peer", "\(keys[j].publicKey.hex)@127.0.0.1:\(p2pPort(j))"] }
            try await run(args)
            // Short pacemaker settings keep the test quick.
            let configPath = "\(home(i))/config.json"
            var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any] ?? [:]
            config["consensus"] = ["roundTimeoutMs": 1000, "idleIntervalMs": 100, "maxBlockTransactions": 5000, "maxBlockBytes": 2 << 20]
            config["snapshotInterval"] = 10
            config["mempool"] = ["maxTransactions": 100_000, "maxPerAccount": 5_000]
            // The test drives thousands of requests at one node from one address.
            config["rpc"] = ["listen": "127.0.0.1:\(rpcPort(i))", "rateLimitPerSecond": 1_000_000, "maxBodyBytes": 262_144]
            config["logLevel"] = ProcessInfo.processInfo.environment["BALLAST_TEST_LOG"] ?? "info"
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        }
    }

    func home(_ i: Int) -> String { "\(root)/node\(i)" }
    func p2pPort(_ i: Int) -> Int { ports[i] }
    func rpcPort(_ i: Int) -> Int { ports[count + i] }

    func url(_ i: Int, _ path: String) -> URL { URL(string: "http://127.0.0.1:\(rpcPort(i))\(path)")! }

    private func run(_ args: [String], stdin: String? = nil) async throws {
        let finished = try await ChildProcess.run(binary, args, input: stdin)
        guard finished.status == 0 else {
            throw NodeHalt("ballast \(args.joined(separator: " ")) failed: \(finished.errors)")
        }
    }

    /// Node `i`'s log lines at `levels` (the second field of each line).
    func logLines(_ i: Int, levels: Set<String>) -> [String] {
        let log = (try? String(contentsOfFile: "\(root)/node\(i).log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ", maxSplits: 2)
            return fields.count > 1 && levels.contains(String(fields[1]))
        }.map(String.init)
    }

    /// The reasons node `i` logged for dropping a misbehaving peer connection (warnings), in order.
    func dropReasons(_ i: Int) -> [String] {
        logLines(i, levels: ["warning"]).filter { $0.contains("dropping peer connection") }.map { line in
            guard let r = line.range(of: "reason=") else { return String(line) }
            return String(line[r.upperBound...])
        }
    }

    /// Every node records each vote, timeout and proposal it sends here (`BALLAST_VOTE_LOG`).
    func signedMessageLog(_ i: Int) -> String { "\(root)/node\(i).signed" }

    func start(_ i: Int, environment: [String: String] = [:]) throws {
        let environment = environment.merging(["BALLAST_VOTE_LOG": signedMessageLog(i)]) { mine, _ in mine }
        processes[i] = try NodeProcesses.start(executable: binary, home: home(i), log: "\(root)/node\(i).log", environment: environment)
    }

    /// The records of node `i`'s signed-message log, one process start after another.
    func signedMessages(_ i: Int) throws -> [SignedMessageLog.Entry?] {
        SignedMessageLog.entries(try String(contentsOfFile: signedMessageLog(i), encoding: .utf8))
    }

    /// Checks, from what each node sent, that none signed two conflicting messages.
    func expectNoConflictingSignatures(sourceLocation: SourceLocation = #_sourceLocation) throws {
        for i in 0..<count {
            let problems = SignedMessageLog.violations(try signedMessages(i))
            #expect(problems.isEmpty, "node \(i): \(problems.prefix(5))", sourceLocation: sourceLocation)
        }
    }

    /// Waits for node `i` to exit by itself and returns its exit code.
    func waitForExit(_ i: Int, seconds: Int = 120) async throws -> Int32 {
        guard let p = processes[i] else { throw NodeHalt("node \(i) is not running") }
        let deadline = ContinuousClock.now + .seconds(seconds)
        while p.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        guard !p.isRunning else { throw NodeHalt("node \(i) did not exit") }
        processes[i] = nil
        return p.terminationStatus
    }

    func startAll() throws { for i in 0..<count { try start(i) } }

    /// SIGKILL: no chance to flush or clean up, as in a crash.
    func kill(_ i: Int) {
        guard let p = processes[i] else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        processes[i] = nil
    }

    /// SIGTERM to node `i` alone, and wait for it to exit (a clean stop).
    func stop(_ i: Int) {
        guard let p = processes[i] else { return }
        NodeProcesses.stop([p.processIdentifier])
        p.waitUntilExit()
        processes[i] = nil
    }

    func stopAll() {
        NodeProcesses.stop(processes.compactMap { $0?.processIdentifier })
        for case let p? in processes { p.waitUntilExit() }
        processes = Array(repeating: nil, count: count)
    }

    deinit {
        for case let p? in processes where p.isRunning { Foundation.kill(p.processIdentifier, SIGKILL) }
    }

    // MARK: HTTP

    func get<T: Decodable>(_ i: Int, _ path: String, as: T.Type) async throws -> T {
        var request = URLRequest(url: url(i, path))
        request.timeoutInterval = 10
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONDecoder().decode(T.self, from: data)
    }

    func post(_ i: Int, _ path: String, body: String) async throws -> (Int, Data) {
        var request = URLRequest(url: url(i, path))
        request.httpMethod = "POST"
        request.timeoutInterval = 60
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    struct Status: Decodable { var height: UInt64; var stateRoot: String }
    /// `status` is absent from an error answer (a node that has not seen the transaction yet).
    struct TxAnswer: Decodable { var status: String?; var receipt: Receipt? }
    struct Receipt: Decodable, Equatable { var txId: String; var height: UInt64; var index: Int; var ok: Bool; var code: String? }
    struct BlockAnswer: Decodable { var height: UInt64; var hash: String; var stateRoot: String }

    /// Waits until node `i` answers /v1/status.
    func waitUntilUp(_ i: Int, seconds: Int = 120) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if (try? await get(i, "/v1/status", as: Status.self)) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw NodeHalt("node \(i) did not come up; log: \(root)/node\(i).log")
    }

    func waitForHeight(_ height: UInt64, nodes: [Int], seconds: Int = 60) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            var lowest = UInt64.max
            for i in nodes { lowest = min(lowest, (try? await get(i, "/v1/status", as: Status.self))?.height ?? 0) }
            if lowest >= height { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw NodeHalt("nodes \(nodes) did not reach height \(height) in \(seconds) s")
    }
}

func signedTransfers(_ count: Int, from offset: Int = 0) -> [(id: String, hex: String)] {
    let faucet = Testnet.faucet
    let base = UInt64(Date().timeIntervalSince1970 * 1000)
    return (offset..<(offset + count)).map { i in
        let tx = Transaction(chainID: "ballast-testnet-1", signer: faucet.publicKey, nonce: base + UInt64(i),
                             action: .transfer(to: Testnet.key("process-recipient-\(i % 50)").address, asset: 0, amount: 1_000 + Int64(i)))
            .signed(with: faucet)
        return ("0x" + tx.id.hex, Hex.encode(tx.canonicalBytes))
    }
}

@Suite(.serialized) struct ProcessClusterTests {
    /// Four validator processes; transactions through the HTTP API of different
    /// nodes; every node ends with the same receipts, heights and roots.
    @Test func fourProcessesAgreeOnEveryReceipt() async throws {
        let cluster = try await ProcessCluster()
        defer { cluster.stopAll() }
        try cluster.startAll()
        for i in 0..<4 { try await cluster.waitUntilUp(i) }

        let count = testSize("BALLAST_E2E_TXS", default: 1_000)
        let txs = signedTransfers(count)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (k, tx) in txs.enumerated() {
                group.addTask {
                    let (status, body) = try await cluster.post(k % 4, "/v1/tx", body: tx.hex)
                    #expect(status == 202, "\(String(decoding: body, as: UTF8.self))")
                }
                if k % 64 == 63 { try await group.waitForAll() }
            }
            try await group.waitForAll()
        }
        // Every transaction commits; all nodes hold the same receipt for it.
        var highest: UInt64 = 0
        for tx in txs {
            var answer = try await cluster.get(0, "/v1/tx/\(tx.id)", as: ProcessCluster.TxAnswer.self)
            let deadline = ContinuousClock.now + .seconds(60)
            while answer.status != "committed", ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                answer = try await cluster.get(0, "/v1/tx/\(tx.id)", as: ProcessCluster.TxAnswer.self)
            }
            let receipt = try #require(answer.receipt, "\(tx.id) not committed")
            #expect(receipt.ok)
            highest = max(highest, receipt.height)
        }
        try await cluster.waitForHeight(highest, nodes: [0, 1, 2, 3])
        for i in 1..<4 {
            for tx in txs {
                let mine = try await cluster.get(i, "/v1/tx/\(tx.id)", as: ProcessCluster.TxAnswer.self).receipt
                let reference = try await cluster.get(0, "/v1/tx/\(tx.id)", as: ProcessCluster.TxAnswer.self).receipt
                #expect(mine == reference)
            }
        }
        for h in 1...highest {
            let reference = try await cluster.get(0, "/v1/blocks/\(h)", as: ProcessCluster.BlockAnswer.self)
            for i in 1..<4 {
                let block = try await cluster.get(i, "/v1/blocks/\(h)", as: ProcessCluster.BlockAnswer.self)
                #expect(block.hash == reference.hash && block.stateRoot == reference.stateRoot, "height \(h) node \(i)")
            }
        }
    }

    /// kill -9 one validator under load, restart it: it replays from its snapshot
    /// and blocks, syncs the rest, agrees with the others, and nothing committed is lost.
    @Test func killedValidatorRecovers() async throws {
        let cluster = try await ProcessCluster()
        defer { cluster.stopAll() }
        try cluster.startAll()
        for i in 0..<4 { try await cluster.waitUntilUp(i) }
        let txs = signedTransfers(240)
        var committed: [String: ProcessCluster.Receipt] = [:]
        // Batches of 24 in parallel, each waiting for its commit; node 3 dies after
        // the first third and comes back after the second.
        for start in stride(from: 0, to: txs.count, by: 24) {
            if start == 72 { cluster.kill(3) }
            if start == 168 { try cluster.start(3) }
            let batch = Array(txs[start..<min(start + 24, txs.count)])
            let answers = try await withThrowingTaskGroup(of: (String, Int, Data).self) { group in
                for (k, tx) in batch.enumerated() {
                    group.addTask {
                        let (status, body) = try await cluster.post(k % 3, "/v1/tx?wait=commit", body: tx.hex)
                        return (tx.id, status, body)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (id, status, body) in answers {
                if status != 200 {
                    var where_: [String] = []
                    for i in 0..<4 { where_.append("node\(i): \((try? await cluster.get(i, "/v1/tx/\(id)", as: ProcessCluster.TxAnswer.self)).map { "\($0)" } ?? "?")") }
                    Issue.record("batch at \(start): \(id) answered \(status) \(String(decoding: body, as: UTF8.self)); \(where_)")
                }
                if let r = try? JSONDecoder().decode(ProcessCluster.TxAnswer.self, from: body).receipt { committed[id] = r }
            }
        }
        #expect(committed.count == txs.count)
        try await cluster.waitUntilUp(3)
        let highest = committed.values.map(\.height).max() ?? 0
        try await cluster.waitForHeight(highest, nodes: [0, 1, 2, 3])
        for (id, receipt) in committed {
            let answer = try await cluster.get(3, "/v1/tx/\(id)", as: ProcessCluster.TxAnswer.self)
            #expect(answer.receipt == receipt, "restarted node lost or changed \(id)")
        }
        let reference = try await cluster.get(0, "/v1/blocks/\(highest)", as: ProcessCluster.BlockAnswer.self)
        let restarted = try await cluster.get(3, "/v1/blocks/\(highest)", as: ProcessCluster.BlockAnswer.self)
        #expect(restarted.stateRoot == reference.stateRoot && restarted.hash == reference.hash)

        // No double vote, from the votes actually sent: the killed node voted both
        // before the kill and after the restart, and never for two blocks in a round.
        try await cluster.waitForHeight(highest + 3, nodes: [0, 1, 2, 3])
        let sent = try cluster.signedMessages(3)
        let sessions = sent.split { if case .start? = $0 { return true } else { return false } }
        #expect(sessions.count == 2)
        for session in sessions {
            #expect(session.contains { if case .vote? = $0 { return true } else { return false } }, "a session of node 3 sent no vote")
        }
        try cluster.expectNoConflictingSignatures()
    }
}

/// A crash at each persistence step (right after the block write, after the
/// snapshot write, after a safety-state write, before anything that depends on
/// it leaves) and a restart: the node comes back, catches up and agrees.
@Suite(.serialized) struct CrashRecoveryTests {
    @Test(arguments: ["block:7", "snapshot:20", "safety:25"])
    func crashAtPersistenceStepThenRestart(point: String) async throws {
        let cluster = try await ProcessCluster()
        defer { cluster.stopAll() }
        try cluster.start(0)
        try cluster.start(1)
        try cluster.start(2)
        try cluster.start(3, environment: ["BALLAST_CRASH_AFTER": point])
        #expect(try await cluster.waitForExit(3) == CrashPoint.exitCode)
        try cluster.start(3)
        try await cluster.waitUntilUp(3)
        var committed: [(String, ProcessCluster.Receipt)] = []
        for (k, tx) in signedTransfers(12).enumerated() {
            let (status, body) = try await cluster.post(k % 4, "/v1/tx?wait=commit", body: tx.hex)
            #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
            if let r = try? JSONDecoder().decode(ProcessCluster.TxAnswer.self, from: body).receipt { committed.append((tx.id, r)) }
        }
        let highest = try #require(committed.map(\.1.height).max())
        try await cluster.waitForHeight(highest, nodes: [0, 1, 2, 3])
        let reference = try await cluster.get(0, "/v1/blocks/\(highest)", as: ProcessCluster.BlockAnswer.self)
        let restarted = try await cluster.get(3, "/v1/blocks/\(highest)", as: ProcessCluster.BlockAnswer.self)
        #expect(restarted.hash == reference.hash && restarted.stateRoot == reference.stateRoot)
        for (id, receipt) in committed {
            #expect(try await cluster.get(3, "/v1/tx/\(id)", as: ProcessCluster.TxAnswer.self).receipt == receipt)
        }
        try cluster.expectNoConflictingSignatures()
    }
}
