import Cluster
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// The link proxy between two validators: forwarding, loss of application frames only,
/// delay, and cuts.
@Suite struct LinkProxyTests {
    /// Collects every byte a connection receives.
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = NIOLockedValueBox<[UInt8]>([])
        let firstAt = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            let read = buffer.readBytes(length: buffer.readableBytes) ?? []
            bytes.withLockedValue { $0 += read }
            firstAt.withLockedValue { if $0 == nil { $0 = .now } }
        }
    }

    /// A peer-protocol frame: u32 little-endian length, then tag and body.
    static func frame(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] {
        let length = UInt32(1 + body.count)
        return [UInt8(length & 0xff), UInt8(length >> 8 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 24)] + [tag] + body
    }

    static let hello = frame(1, Array(repeating: 7, count: 98))
    static let payloadA = frame(3, [1, 2, 3])
    static let ping = frame(4, [])
    static let payloadB = frame(3, Array(repeating: 9, count: 300))

    /// A target server that collects what it gets, and a proxy in front of it.
    struct Rig {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let collector = Collector()
        let server: Channel
        let proxy: LinkProxy

        init() async throws {
            let collector = self.collector
            server = try await ServerBootstrap(group: group)
                .childChannelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(server.localAddress?.port)
            proxy = LinkProxy(listenPort: try LoopbackPorts.free(1)[0], targetPort: port, group: group)
            try await proxy.start()
        }

        func connect() async throws -> Channel {
            try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: proxy.listenPort).get()
        }

        func send(_ channel: Channel, _ bytes: [UInt8]) async throws {
            try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
        }

        /// Waits up to 5 s for the target to have received `count` bytes.
        func received(atLeast count: Int) async throws -> [UInt8] {
            let deadline = ContinuousClock.now + .seconds(5)
            while collector.bytes.withLockedValue({ $0.count }) < count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            return collector.bytes.withLockedValue { $0 }
        }

        func shutdown() async {
            await proxy.stop()
            try? await server.close()
            try? await group.shutdownGracefully()
        }
    }

    @Test func lossDropsOnlyApplicationFramesEvenWhenSplitAcrossReads() async throws {
        let rig = try await Rig()
        rig.proxy.set(FaultState.LinkFault(link: Link(0, 1), lossPercent: 100))
        let client = try await rig.connect()
        let stream = Self.hello + Self.payloadA + Self.ping + Self.payloadB
        // Split inside the second frame's header and inside the last frame.
        for (from, to) in [(0, 100), (100, stream.count - 50), (stream.count - 50, stream.count)] {
            try await rig.send(client, Array(stream[from..<to]))
            try await Task.sleep(for: .milliseconds(30))
        }
        let got = try await rig.received(atLeast: Self.hello.count + Self.ping.count)
        try await Task.sleep(for: .milliseconds(200))   // nothing else arrives
        #expect(rig.collector.bytes.withLockedValue { $0 } == Self.hello + Self.ping)
        #expect(got == Self.hello + Self.ping)
        #expect(rig.proxy.frameCounts == (forwarded: 2, dropped: 2))
        try await client.close()
        await rig.shutdown()
    }

    @Test func forwardsEverythingInOrderAfterTheDelay() async throws {
        let rig = try await Rig()
        rig.proxy.set(FaultState.LinkFault(link: Link(0, 1), delayMs: 300))
        let client = try await rig.connect()
        let stream = Self.hello + Self.payloadA + Self.ping + Self.payloadB
        let sent = ContinuousClock.now
        try await rig.send(client, stream)
        #expect(try await rig.received(atLeast: stream.count) == stream)
        let arrived = try #require(rig.collector.firstAt.withLockedValue { $0 })
        #expect(arrived - sent >= .milliseconds(300))
        #expect(rig.proxy.frameCounts == (forwarded: 4, dropped: 0))
        try await client.close()
        await rig.shutdown()
    }

    @Test func aCutClosesConnectionsUntilHealed() async throws {
        let rig = try await Rig()
        let client = try await rig.connect()
        try await rig.send(client, Self.hello)
        #expect(try await rig.received(atLeast: Self.hello.count) == Self.hello)

        rig.proxy.set(FaultState.LinkFault(link: Link(0, 1), cut: true))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.closeFuture.get() }
            group.addTask {
                try await Task.sleep(for: .seconds(5))
                throw ClusterError("the open connection was not closed by the cut")
            }
            try await group.next()
            group.cancelAll()
        }
        // A new connection is accepted and closed at once; nothing reaches the target.
        let refused = try await rig.connect()
        try? await rig.send(refused, Self.ping)
        try await refused.closeFuture.get()
        #expect(rig.collector.bytes.withLockedValue { $0 } == Self.hello)

        rig.proxy.set(FaultState.LinkFault(link: Link(0, 1)))
        let healed = try await rig.connect()
        try await rig.send(healed, Self.ping)
        #expect(try await rig.received(atLeast: Self.hello.count + Self.ping.count) == Self.hello + Self.ping)
        try await healed.close()
        await rig.shutdown()
    }
}
