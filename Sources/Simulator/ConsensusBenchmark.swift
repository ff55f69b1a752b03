#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Consensus
import BallastCrypto

/// How fast the consensus core runs when signatures are the real cost.
public struct ConsensusBenchmarkReport: Sendable {
    public var validators: Int
    public var rounds: UInt64
    public var committedBlocks: Int
    /// CPU seconds of the calling thread for the whole simulated run.
    public var cpuSeconds: Double
    public var signaturesMade: Int
    public var signaturesVerified: Int
    /// libsodium Ed25519 verifications and signatures per CPU second, measured in the same process.
    public var rawVerifiesPerSecond: Double
    public var rawSignsPerSecond: Double

    /// Rounds of the whole cluster per CPU second (all validators on one thread).
    public var roundsPerCPUSecond: Double { Double(rounds) / cpuSeconds }
    public var verifiesPerRound: Double { Double(signaturesVerified) / Double(max(rounds, 1)) }
    public var signsPerRound: Double { Double(signaturesMade) / Double(max(rounds, 1)) }
    /// The share of the CPU time the signatures alone would take at the raw rates.
    public var cryptoShare: Double {
        (Double(signaturesVerified) / rawVerifiesPerSecond + Double(signaturesMade) / rawSignsPerSecond) / cpuSeconds
    }
    /// Rounds per second the signatures alone would allow (the ceiling for this message pattern).
    public var cryptoBoundRoundsPerSecond: Double {
        1 / (verifiesPerRound / rawVerifiesPerSecond + signsPerRound / rawSignsPerSecond)
    }

    public var summary: String {
        "consensus n=\(validators): \(rounds) rounds, \(committedBlocks) blocks in \(fixed(cpuSeconds, 3)) s CPU = "
            + "\(Int(roundsPerCPUSecond)) rounds/s; per round \(fixed(verifiesPerRound, 1)) verifies + \(fixed(signsPerRound, 1)) signs; "
            + "raw libsodium \(Int(rawVerifiesPerSecond)) verifies/s, \(Int(rawSignsPerSecond)) signs/s; "
            + "signatures are \(Int(cryptoShare * 100))% of CPU (crypto-bound ceiling \(Int(cryptoBoundRoundsPerSecond)) rounds/s)"
    }

    private func fixed(_ x: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let v = (x * scale).rounded() / scale
        return "\(v)"
    }
}

/// `ballast bench consensus`: a fault-free simulated cluster, every validator
/// on the calling thread, real Ed25519; reports rounds per CPU second next to
/// the raw libsodium rates measured in the same run.
public enum ConsensusBenchmark {
    public static func run(validators: Int = 4, rounds: UInt64 = 1_000, seed: UInt64 = 1) -> ConsensusBenchmarkReport {
        var config = SimulationConfig.noFaults(seed: seed, validators: validators, rounds: rounds)
        config.emptyPayloadPPM = 0  // measure consensus, not idle waits (simulated time is free anyway)
        let verifier = CountingVerifier()
        let simulation = Simulation(config: config, verifier: verifier)
        let start = threadCPUSeconds()
        let report = simulation.run()
        let cpu = threadCPUSeconds() - start
        let (verifyRate, signRate) = rawRates()
        return ConsensusBenchmarkReport(
            validators: validators, rounds: report.rounds, committedBlocks: report.committedBlocks, cpuSeconds: cpu,
            signaturesMade: report.signaturesMade, signaturesVerified: report.signaturesVerified,
            rawVerifiesPerSecond: verifyRate, rawSignsPerSecond: signRate)
    }

    /// Verifies and signs a vote-sized message for about 0.2 s each.
    static func rawRates() -> (verifies: Double, signs: Double) {
        guard let key = try? SigningKey(seed: [UInt8](repeating: 7, count: 32)) else { return (1, 1) }
        let message = SigningMessage.vote(chain: .zero, round: 1, blockID: .zero)
        let signature = key.sign(message)
        var ok = true
        let verifies = rate { ok = ok && key.publicKey.verify(signature, for: message) }
        let signs = rate { _ = key.sign(message) }
        precondition(ok, "a valid signature failed to verify")
        return (verifies, signs)
    }

    private static func rate(_ body: () -> Void) -> Double {
        let start = threadCPUSeconds()
        var count = 0
        while threadCPUSeconds() - start < 0.2 {
            for _ in 0..<100 { body() }
            count += 100
        }
        return Double(count) / (threadCPUSeconds() - start)
    }

    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
