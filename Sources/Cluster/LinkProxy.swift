import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Simulator

/// A TCP proxy on 127.0.0.1 that one validator dials to reach another: the harness points
/// each node's peer addresses at these proxies, one per ordered pair (dialler, target), and
/// injects link faults here, so nodes run unchanged.
///
/// - cut: open connections are closed and new ones closed as soon as they are accepted;
/// - delay: every chunk of bytes is forwarded `delayMs` after it arrived (order kept);
/// - loss: whole frames of the peer protocol (4-byte little-endian length, then the
///   payload) whose first byte is the application-payload tag are dropped with the given
///   probability; handshake and keepalive frames always pass, so a lossy link stays connected.
public final class LinkProxy: Sendable {
    /// The peer-protocol frame tag of an application message (`WireMessage.payload`).
    static let payloadTag: UInt8 = 3

    public let listenPort: Int
    public let targetPort: Int
    private let group: EventLoopGroup
    private let state: NIOLockedValueBox<State>

    private struct State {
        var fault = FaultState.LinkFault(link: Link(0, 1))
        var server: Channel?
        var connections: [ObjectIdentifier: Channel] = [:]
        var forwardedFrames = 0
        var droppedFrames = 0
    }

    public init(listenPort: Int, targetPort: Int, group: EventLoopGroup) {
        self.listenPort = listenPort
        self.targetPort = targetPort
        self.group = group
        state = NIOLockedValueBox(State())
    }

    /// Frames forwarded and dropped so far (loss only counts payload frames).
    public var frameCounts: (forwarded: Int, dropped: Int) { state.withLockedValue { ($0.forwardedFrames, $0.droppedFrames) } }

    public func start() async throws {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { [self] inbound in inbound.eventLoop.makeSucceededVoidFuture().map { self.accepted(inbound) } }
            .bind(host: "127.0.0.1", port: listenPort).get()
        state.withLockedValue { $0.server = server }
    }

    public func stop() async {
        let (server, connections) = state.withLockedValue { s -> (Channel?, [Channel]) in
            let all = (s.server, Array(s.connections.values))
            s.server = nil
            s.connections = [:]
            return all
        }
        for c in connections { try? await c.close() }
        try? await server?.close()
    }

    /// Sets this link's faults; cutting closes the open connections.
    public func set(_ fault: FaultState.LinkFault) {
        let toClose = state.withLockedValue { s -> [Channel] in
            s.fault = fault
            guard fault.cut else { return [] }
            let open = Array(s.connections.values)
            s.connections = [:]
            return open
        }
        for c in toClose { c.close(promise: nil) }
    }

    var fault: FaultState.LinkFault { state.withLockedValue { $0.fault } }

    private func accepted(_ inbound: Channel) {
        guard !fault.cut else {
            inbound.close(promise: nil)
            return
        }
        let seed = UInt64(listenPort) << 32 | UInt64(UInt32(truncatingIfNeeded: ObjectIdentifier(inbound).hashValue))
        ClientBootstrap(group: inbound.eventLoop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            // Installed before the first read, so no byte from the target is missed.
            .channelInitializer { [self] outbound in
                outbound.eventLoop.makeCompletedFuture {
                    try outbound.pipeline.syncOperations.addHandler(Forwarder(proxy: self, to: inbound, rng: SplitMix64(seed: ~seed)))
                }
            }
            .connectTimeout(.seconds(2))
            .connect(host: "127.0.0.1", port: targetPort)
            .whenComplete { [self] result in
                switch result {
                case .failure:
                    inbound.close(promise: nil)
                case .success(let outbound):
                    do {
                        try inbound.pipeline.syncOperations.addHandler(Forwarder(proxy: self, to: outbound, rng: SplitMix64(seed: seed)))
                    } catch {
                        inbound.close(promise: nil)
                        outbound.close(promise: nil)
                        return
                    }
                    let tracked = state.withLockedValue { s -> Bool in
                        guard !s.fault.cut else { return false }
                        s.connections[ObjectIdentifier(inbound)] = inbound
                        return true
                    }
                    guard tracked else {
                        inbound.close(promise: nil)
                        return
                    }
                    inbound.closeFuture.whenComplete { [self] _ in
                        _ = state.withLockedValue { $0.connections.removeValue(forKey: ObjectIdentifier(inbound)) }
                        outbound.close(promise: nil)
                    }
                    outbound.closeFuture.whenComplete { _ in inbound.close(promise: nil) }
                    inbound.read()
                    _ = inbound.setOption(ChannelOptions.autoRead, value: true)
                }
            }
    }

    fileprivate func count(forwarded: Int, dropped: Int) {
        state.withLockedValue {
            $0.forwardedFrames += forwarded
            $0.droppedFrames += dropped
        }
    }

    /// Forwards what one side sends to the other, framed, delayed and thinned as the link's
    /// fault says. Lives on the connection pair's event loop.
    private final class Forwarder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer

        let proxy: LinkProxy
        let partner: Channel
        var rng: SplitMix64
        var pending: ByteBuffer?
        var lastRelease = NIODeadline.uptimeNanoseconds(0)

        init(proxy: LinkProxy, to partner: Channel, rng: SplitMix64) {
            self.proxy = proxy
            self.partner = partner
            self.rng = rng
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            if pending == nil { pending = incoming } else { pending!.writeBuffer(&incoming) }
            let fault = proxy.fault
            var out = context.channel.allocator.buffer(capacity: pending!.readableBytes)
            var forwarded = 0, dropped = 0
            while let length = pending!.getInteger(at: pending!.readerIndex, endianness: .little, as: UInt32.self),
                  pending!.readableBytes >= 4 + Int(length) {
                let frame = pending!.readSlice(length: 4 + Int(length))!
                let tag = length > 0 ? frame.getInteger(at: frame.readerIndex + 4, as: UInt8.self) : nil
                if tag == LinkProxy.payloadTag, fault.lossPercent > 0, rng.below(100) < UInt64(fault.lossPercent) {
                    dropped += 1
                    continue
                }
                forwarded += 1
                out.writeImmutableBuffer(frame)
            }
            if pending!.readableBytes == 0 { pending = nil } else { pending!.discardReadBytes() }
            proxy.count(forwarded: forwarded, dropped: dropped)
            guard out.readableBytes > 0 else { return }
            send(out, delayMs: fault.delayMs, on: context.eventLoop)
        }

        private func send(_ bytes: ByteBuffer, delayMs: Int, on loop: EventLoop) {
            let partner = self.partner
            guard delayMs > 0 || lastRelease > .now() else {
                partner.writeAndFlush(bytes, promise: nil)
                return
            }
            // Never before an earlier chunk: a shorter delay set later keeps the order.
            let release = max(.now() + .milliseconds(Int64(delayMs)), lastRelease)
            lastRelease = release
            loop.scheduleTask(deadline: release) { partner.writeAndFlush(bytes, promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            let partner = self.partner
            if lastRelease > .now() {
                context.eventLoop.scheduleTask(deadline: lastRelease) { partner.close(promise: nil) }
            } else {
                partner.close(promise: nil)
            }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
