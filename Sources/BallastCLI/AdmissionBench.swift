import ArgumentParser
import BallastCrypto
import CSodium
import Codec
import Dispatch
import Foundation
import Ledger
import Mempool
import Cluster

/// `ballast bench admission`: how fast one node admits signed transactions, and
/// what each costs in CPU next to a bare libsodium verification, in one run.
struct AdmissionBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admission",
        abstract: "Mempool admission rate (all cores) and CPU per admitted transaction vs raw libsodium verify.")
    @Option(help: "Transactions to admit.") var transactions = 40_000
    @Option(help: "Transactions per admitted batch (as gossip arrives).") var batch = 1_024
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        // Signed ahead of time: signing is the client's cost, not the node's.
        let keys = try (0..<64).map { try SigningKey(seed: Blake2b.hash256(Array("bench-\($0)".utf8)).bytes) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let signed: [[UInt8]] = (0..<transactions).map { i in
            let key = keys[i % keys.count]
            return Transaction(chainID: "bench", signer: key.publicKey, nonce: UInt64(now) + UInt64(i / keys.count),
                               action: .placeOrders([OrderRequest(market: 3, side: i % 2 == 0 ? .buy : .sell,
                                                                  price: 62_000_000_000 + Int64(i % 100) * 1_000_000, size: 1_000_000)]))
                .signed(with: key).canonicalBytes
        }
        let decoded = try signed.map { try SignedTransaction(canonicalBytes: $0) }
        let messages = decoded.map { $0.transaction.signingMessage }

        // Raw libsodium on one core, the same transactions.
        let rawCount = min(transactions, 10_000)
        let rawStart = threadCPUSeconds()
        var failures = 0
        for i in 0..<rawCount {
            let sig = decoded[i].signature.bytes, pk = decoded[i].transaction.signer.bytes
            if crypto_sign_verify_detached(sig, messages[i], UInt64(messages[i].count), pk) != 0 { failures += 1 }
        }
        let rawSeconds = (threadCPUSeconds() - rawStart) / Double(rawCount)

        // Raw libsodium on all cores at once, as admission runs: two vCPUs may share
        // a physical core, so a verification costs more CPU time when both are busy.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let parallelStart = processCPUSeconds()
        let sigs = decoded.map { $0.signature.bytes }, pks = decoded.map { $0.transaction.signer.bytes }
        let verifyFailures = Counter()
        DispatchQueue.concurrentPerform(iterations: cores) { worker in
            var i = worker
            while i < rawCount {
                if crypto_sign_verify_detached(sigs[i], messages[i], UInt64(messages[i].count), pks[i]) != 0 { verifyFailures.add() }
                i += cores
            }
        }
        failures += verifyFailures.value
        let parallelRawSeconds = (processCPUSeconds() - parallelStart) / Double(rawCount)

        // Admission on all cores, in gossip-sized batches.
        var limits = MempoolLimits()
        limits.maxTransactions = transactions
        limits.maxPerAccount = transactions
        limits.maxBytes = Int.max / 2
        let pool = Mempool(chainID: "bench", limits: limits)
        let cpuStart = processCPUSeconds()
        let wallStart = ContinuousClock.now
        var admitted = 0
        for start in stride(from: 0, to: signed.count, by: batch) {
            for result in pool.admitBatch(Array(signed[start..<min(start + batch, signed.count)]), nowMs: now) {
                if case .success = result { admitted += 1 } else { failures += 1 }
            }
        }
        let wall = ContinuousClock.now - wallStart
        let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        let cpuPerTx = (processCPUSeconds() - cpuStart) / Double(max(admitted, 1))
        guard failures == 0, admitted == transactions else { throw UserError("\(failures) transactions failed: the benchmark is broken") }

        struct Report: Encodable {
            var transactions: Int, cores: Int
            var admittedPerSecond: Double, cpuMicrosecondsPerAdmitted: Double
            var rawVerifyMicroseconds: Double, ratioToRawVerify: Double
            var rawVerifyAllCoresMicroseconds: Double, ratioToRawVerifyAllCores: Double
        }
        let report = Report(transactions: admitted, cores: ProcessInfo.processInfo.activeProcessorCount,
                            admittedPerSecond: (Double(admitted) / wallSeconds).rounded(),
                            cpuMicrosecondsPerAdmitted: (cpuPerTx * 1e7).rounded() / 10,
                            rawVerifyMicroseconds: (rawSeconds * 1e7).rounded() / 10,
                            ratioToRawVerify: (cpuPerTx / rawSeconds * 1000).rounded() / 1000,
                            rawVerifyAllCoresMicroseconds: (parallelRawSeconds * 1e7).rounded() / 10,
                            ratioToRawVerifyAllCores: (cpuPerTx / parallelRawSeconds * 1000).rounded() / 1000)
        if json { printJSON(report); return }
        print("admitted \(admitted) signed order transactions on \(report.cores) cores in batches of \(batch)")
        print("admitted per second (wall)        \(Int(report.admittedPerSecond))")
        print("CPU per admitted transaction      \(report.cpuMicrosecondsPerAdmitted) us")
        print("raw libsodium verify, one core    \(report.rawVerifyMicroseconds) us")
        print("ratio to it                       \(report.ratioToRawVerify)")
        print("raw libsodium verify, all cores   \(report.rawVerifyAllCoresMicroseconds) us CPU")
        print("ratio to it (target <= 1.15)      \(report.ratioToRawVerifyAllCores)")
    }
}

/// A thread-safe tally.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
