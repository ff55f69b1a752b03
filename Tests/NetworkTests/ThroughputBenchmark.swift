import BallastCrypto
import Foundation
import Testing

@testable import PeerNetwork

/// One-way message throughput between two managers over loopback. Off by default;
/// `BALLAST_NETWORK_BENCH=N swift test --filter ThroughputBenchmark` sends N messages
/// (and `BALLAST_NETWORK_BENCH_SIZE` bytes each, default 256).
@Suite struct ThroughputBenchmark {
    static let count = ProcessInfo.processInfo.environment["BALLAST_NETWORK_BENCH"].flatMap { Int($0) }
    static let size = ProcessInfo.processInfo.environment["BALLAST_NETWORK_BENCH_SIZE"].flatMap { Int($0) } ?? 256

    @Test(.enabled(if: count != nil)) func oneWayThroughput() async throws {
        let n = Self.count ?? 0
        let keys = [Fixture.key(201), Fixture.key(202)]
        func manager(_ key: SigningKey) -> PeerManager {
            var configuration = NetworkConfiguration(identity: key, genesis: Fixture.genesis, validators: Set(keys.map(\.publicKey)))
            configuration.listenHost = "127.0.0.1"
            configuration.outboundQueueCapacity = n
            configuration.outboundQueueByteLimit = Int.max
            configuration.inboundBufferCapacity = n
            return PeerManager(configuration: configuration)
        }
        let a = manager(keys[0])
        let b = manager(keys[1])
        try await a.start()
        let bAddress = try await b.start()
        a.setAddress(PeerAddress(host: "127.0.0.1", port: bAddress.port ?? 0), for: keys[1].publicKey)
        for await event in a.events where event == .connected(keys[1].publicKey) { break }

        let message = [UInt8](repeating: 0x42, count: Self.size)
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<n { a.send(message, to: keys[1].publicKey) }
        let queued = clock.now - start
        var received = 0
        for await _ in b.messages {
            received += 1
            if received == n { break }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        #expect(received == n)
        print(
            "network throughput: \(n) messages of \(Self.size) bytes in \(elapsed): "
                + "\(Int(Double(n) / seconds)) messages/s, \(Int(Double(n * Self.size) / seconds / 1e6)) MB/s "
                + "(queueing took \(queued))")
        await a.shutdown()
        await b.shutdown()
    }
}
