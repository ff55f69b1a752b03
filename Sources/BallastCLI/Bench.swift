import ArgumentParser
import CSodium
import Codec
import BallastCrypto
import Foundation
import Ledger

/// `ballast bench`: benchmarks that print their numbers (build with `-c release`).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run benchmarks (use a release build: swift build -c release).",
        subcommands: [CryptoBench.self, CodecBench.self, AdmissionBench.self, HTTPAdmissionBench.self, MemoryBench.self, LedgerBench.self, IndexBench.self]
    )
}

/// One measured rate.
struct BenchResult: Encodable {
    var name: String
    var operations: Int
    var seconds: Double
    var perSecond: Double { Double(operations) / seconds }

    enum CodingKeys: String, CodingKey { case name, operations, seconds, perSecond }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(operations, forKey: .operations)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(perSecond.rounded(), forKey: .perSecond)
    }
}

/// Thread CPU time in seconds: unaffected by the other core's load.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` (which performs `batch` operations) repeatedly for about `seconds`
/// of CPU time and returns the operations and CPU seconds spent.
func measure(seconds: Double, batch: Int, _ body: () -> Void) -> (operations: Int, seconds: Double) {
    let start = threadCPUSeconds()
    var operations = 0
    var elapsed = 0.0
    repeat {
        body()
        operations += batch
        elapsed = threadCPUSeconds() - start
    } while elapsed < seconds
    return (operations, elapsed)
}

/// Measures several contenders in interleaved rounds, so that a slow patch of
/// the machine hits them all alike; returns one summed result per contender.
func interleaved(rounds: Int, secondsEach: Double, batch: Int, _ contenders: [(String, () -> Void)]) -> [BenchResult] {
    var results = contenders.map { BenchResult(name: $0.0, operations: 0, seconds: 0) }
    for _ in 0..<rounds {
        for (i, contender) in contenders.enumerated() {
            let m = measure(seconds: secondsEach, batch: batch, contender.1)
            results[i].operations += m.operations
            results[i].seconds += m.seconds
        }
    }
    return results
}

func printResults(_ results: [BenchResult], ratio: (String, Double)?, json: Bool) {
    if json {
        struct Report: Encodable { var results: [BenchResult]; var ratioName: String?; var ratio: Double? }
        printJSON(Report(results: results, ratioName: ratio?.0, ratio: ratio.map { ($0.1 * 10000).rounded() / 10000 }))
        return
    }
    for r in results {
        let rate = Int(r.perSecond.rounded())
        print("\(r.name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(String(rate).leftPadded(12)) /s   (\(r.operations) in \(String(format: "%.2f", r.seconds)) s CPU)")
    }
    if let ratio { print("\(ratio.0): \(String(format: "%.1f%%", ratio.1 * 100))") }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

struct CryptoBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crypto",
        abstract: "Ed25519 verifications per second on one core: the Crypto target next to raw libsodium.")
    @Option(help: "Interleaved rounds.") var rounds = 5
    @Option(help: "CPU seconds per contender per round.") var seconds = 1.0
    @Flag(help: "Print JSON.") var json = false

    /// A typical signed message: an order transaction's signing bytes, its signature and key.
    static func typicalSignedOrder() throws -> (message: [UInt8], signature: Signature, publicKey: PublicKey) {
        let key = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        let message = Transaction(chainID: "ballast-testnet", signer: key.publicKey, nonce: 1_764_000_000_000,
                                  action: .placeOrders([OrderRequest(market: 3, side: .buy, price: 62_000_000_000, size: 1_000_000)]))
            .signingMessage
        return (message, key.sign(message), key.publicKey)
    }

    /// `batch` raw libsodium verifications of `sample`; returns how many failed.
    static func rawVerify(_ sample: (message: [UInt8], signature: Signature, publicKey: PublicKey), batch: Int) -> Int {
        var failures = 0
        let signature = sample.signature.bytes, key = sample.publicKey.bytes, message = sample.message
        for _ in 0..<batch where crypto_sign_verify_detached(signature, message, UInt64(message.count), key) != 0 { failures += 1 }
        return failures
    }

    /// Raw libsodium verifications per CPU second of this thread, over about `seconds` of CPU.
    static func rawVerifyRate(seconds: Double) throws -> Double {
        let sample = try typicalSignedOrder()
        var failures = 0
        let m = measure(seconds: seconds, batch: 100) { failures += rawVerify(sample, batch: 100) }
        guard failures == 0 else { throw UserError("a verification failed: the benchmark is broken") }
        return Double(m.operations) / m.seconds
    }

    func run() throws {
        let sample = try Self.typicalSignedOrder()
        let (message, signature, publicKey) = sample
        var failures = 0
        let batch = 100
        let results = interleaved(rounds: rounds, secondsEach: seconds, batch: batch, [
            ("raw libsodium crypto_sign_verify_detached", { failures += Self.rawVerify(sample, batch: batch) }),
            ("Crypto PublicKey.verify", {
                for _ in 0..<batch where !publicKey.verify(signature, for: message) { failures += 1 }
            }),
        ])
        guard failures == 0 else { throw UserError("a verification failed: the benchmark is broken") }
        printResults(results, ratio: ("Crypto / raw", results[1].perSecond / results[0].perSecond), json: json)
    }
}

struct CodecBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "Encode and decode rate of a typical signed order transaction on one core.")
    @Option(help: "Interleaved rounds.") var rounds = 5
    @Option(help: "CPU seconds per contender per round.") var seconds = 1.0
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let key = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        let tx = Transaction(chainID: "ballast-testnet", signer: key.publicKey, nonce: 1_764_000_000_000,
                             action: .placeOrders([OrderRequest(market: 3, side: .buy, price: 62_000_000_000, size: 1_000_000,
                                                                timeInForce: .gtc, reduceOnly: false,
                                                                clientID: ClientOrderID(bytes: [UInt8](repeating: 9, count: 16)))]))
            .signed(with: key)
        let bytes = tx.canonicalBytes
        var sink = 0
        var failures = 0
        let batch = 1000
        let results = interleaved(rounds: rounds, secondsEach: seconds, batch: batch, [
            ("encode signed order tx (\(bytes.count) bytes)", {
                for _ in 0..<batch { sink &+= tx.canonicalBytes.count }
            }),
            ("decode signed order tx (\(bytes.count) bytes)", {
                for _ in 0..<batch {
                    if let decoded = try? SignedTransaction(canonicalBytes: bytes) {
                        sink &+= Int(decoded.transaction.nonce & 1)
                    } else {
                        failures += 1
                    }
                }
            }),
        ])
        guard failures == 0, sink != 0 else { throw UserError("a decode failed: the benchmark is broken") }
        printResults(results, ratio: nil, json: json)
    }
}
