@testable import Cluster
import Foundation
import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// The load generator's view of each node: a node that keeps its socket open but answers
/// nothing (as a paused process does) is marked stalled after the request deadline, its
/// traffic goes to the others, and it is healthy again once a probe gets an answer.
@Suite(.serialized) struct NodeHealthTests {
    /// Answers every `GET` with `{"node": N}`, or, while `silent`, accepts the request and never
    /// answers it (requests without bodies only: the probe and `ClusterConnection.get`).
    final class TinyServer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let node: Int
        let silent: NIOLockedValueBox<Bool>
        /// The path of every request received, in order.
        let paths = NIOLockedValueBox<[String]>([])
        private let pending = NIOLockedValueBox<[ObjectIdentifier: [UInt8]]>([:])

        init(node: Int, silent: Bool) {
            self.node = node
            self.silent = NIOLockedValueBox(silent)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            let key = ObjectIdentifier(context.channel)
            var bytes = pending.withLockedValue { $0[key, default: []] } + (buffer.readBytes(length: buffer.readableBytes) ?? [])
            let end = Array("\r\n\r\n".utf8)
            while let i = (0...max(0, bytes.count - 4)).first(where: { bytes.count >= 4 && Array(bytes[$0..<$0 + 4]) == end }) {
                let requestLine = String(decoding: bytes[..<i].prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
                bytes.removeFirst(i + 4)
                paths.withLockedValue { $0.append(String(requestLine.split(separator: " ").dropFirst().first ?? "")) }
                guard !silent.withLockedValue({ $0 }) else { continue }
                let body = "{\"node\": \(node)}"
                let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: answer)), promise: nil)
            }
            pending.withLockedValue { $0[key] = bytes }
        }
    }

    struct Answer: Decodable, Equatable { var node: Int }

    /// The path the test reads; the probes ask for `/v1/status`, so the two can be told apart.
    static let read = "/v1/health-test"

    /// Two nodes on consecutive ports: node 0 silent (its server accepts and answers nothing),
    /// node 1 answering; a cluster directory naming them.
    struct Rig {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let servers: [TinyServer]
        let channels: [Channel]
        let connection: ClusterConnection
        let directory: String

        init(deadline: Duration) async throws {
            let base = try LoopbackPorts.freeRange(2)
            servers = [TinyServer(node: 0, silent: true), TinyServer(node: 1, silent: false)]
            var channels: [Channel] = []
            for (i, server) in servers.enumerated() {
                channels.append(try await ServerBootstrap(group: group)
                    .childChannelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(server) } }
                    .bind(host: "127.0.0.1", port: base + i).get())
            }
            self.channels = channels
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("node-health-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let layout = ClusterLayout(directory: directory)
            let manifest = ClusterManifest(validators: 2, p2pBasePort: 1, rpcBasePort: base, chainId: "ballast-testnet-1", faucetAddress: "0x00")
            try JSONEncoder().encode(manifest).write(to: URL(fileURLWithPath: layout.manifestPath))
            connection = try ClusterConnection(layout: layout, connectionsPerNode: 1, requestDeadline: deadline,
                                               probeInterval: .milliseconds(50))
        }

        /// How many times node `node` was sent the test's read.
        func reads(_ node: Int) -> Int { servers[node].paths.withLockedValue { $0.filter { $0 == NodeHealthTests.read }.count } }

        func shutdown() async {
            for channel in channels { try? await channel.close() }
            try? FileManager.default.removeItem(atPath: directory)
            try? await group.shutdownGracefully()
        }
    }

    @Test func aSilentNodeIsMarkedStalledItsTrafficGoesElsewhereAndAProbeBringsItBack() async throws {
        let rig = try await Rig(deadline: .milliseconds(300))
        let connection = rig.connection
        #expect(connection.nodeHealth == [.healthy, .healthy])

        // The request to node 0 waits out the deadline, marks it stalled, and node 1 answers.
        // Node 0 never answers, so node 1's answer and the `stalled` mark show the deadline was
        // kept. No wall-clock upper bound: beside CI's CPU-bound tests the task resumes late
        // (over 3 s once for this 300 ms deadline).
        let start = ContinuousClock.now
        #expect(try await connection.get(Self.read, as: Answer.self, preferred: 0) == Answer(node: 1))
        #expect(ContinuousClock.now - start >= .milliseconds(300))
        #expect(connection.nodeHealth == [.stalled, .healthy])
        #expect(rig.reads(0) == 1 && rig.reads(1) == 1)

        // While node 0 is stalled, traffic goes to node 1 and a read asks node 1 first:
        // node 0 is not asked again (only probed).
        #expect((0..<4).map { _ in connection.pickNode() } == [1, 1, 1, 1])
        #expect(try await connection.get(Self.read, as: Answer.self, preferred: 0) == Answer(node: 1))
        #expect(rig.reads(0) == 1 && rig.reads(1) == 2)

        // A request sent to it directly fails after the deadline, not when the node wakes up.
        await #expect(throws: NoAnswerInTime.self) {
            _ = try await connection.clients[0].request(.GET, "/v1/status", deadline: .milliseconds(200)).get()
        }

        // Probes keep asking (every 50 ms, each waiting up to 300 ms); once node 0 answers, it is
        // healthy again (usually within 100 ms; the 60 s limit only ends a failing test).
        rig.servers[0].silent.withLockedValue { $0 = false }
        let deadline = ContinuousClock.now + .seconds(60)
        while connection.nodeHealth != [.healthy, .healthy], ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(connection.nodeHealth == [.healthy, .healthy])
        #expect(Set((0..<4).map { _ in connection.pickNode() }) == [0, 1])
        #expect(try await connection.get(Self.read, as: Answer.self, preferred: 0) == Answer(node: 0))
        #expect(rig.reads(0) == 2)
        await rig.shutdown()
    }

    @Test func aRefusedConnectionMarksTheNodeUnreachable() async throws {
        let rig = try await Rig(deadline: .seconds(2))
        try await rig.channels[0].close()   // nothing listens on node 0's port any more
        // `unreachable`, not `stalled`: the refusal failed the request, not its deadline.
        #expect(try await rig.connection.get(Self.read, as: Answer.self, preferred: 0) == Answer(node: 1))
        #expect(rig.connection.nodeHealth == [.unreachable, .healthy])
        #expect(rig.connection.pickNode() == 1)
        await rig.shutdown()
    }

    @Test func theProgressLineNamesNodesThatAreNotHealthy() {
        var progress = LoadProgress(phase: "load", elapsed: 3, duration: 30, counts: .init(), committedPerSecond: 0,
                                    latency: LatencySummary(.init(highestTrackableValue: 1_000)))
        #expect(!progress.line.contains("node"))
        progress.nodes = [.healthy, .stalled, .healthy, .unreachable]
        #expect(progress.line.hasSuffix("  node 1 stalled, node 3 unreachable"))
    }
}
