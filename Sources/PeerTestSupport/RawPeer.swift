import BallastCrypto
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PeerNetwork

/// A plain TCP connection to a validator's peer port that writes whatever a
/// test wants: the misbehaving peer of the network and node tests.
public struct RawPeer: Sendable {
    public let channel: any Channel
    /// Everything the node writes back.
    public let received: AsyncStream<ByteBuffer>

    /// Passes every inbound buffer to a stream.
    private final class Reader: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let sink: AsyncStream<ByteBuffer>.Continuation
        init(sink: AsyncStream<ByteBuffer>.Continuation) { self.sink = sink }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { sink.yield(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { sink.finish() }
    }

    /// Opens a connection and sends nothing.
    public static func connect(to address: PeerAddress) async throws -> RawPeer {
        let (stream, sink) = AsyncStream.makeStream(of: ByteBuffer.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Reader(sink: sink)) }
            }
            .connect(host: address.host, port: address.port).get()
        return RawPeer(channel: channel, received: stream)
    }

    /// A hello claiming `key`, with a fresh challenge.
    public static func hello(_ key: PublicKey, genesis: Hash256, version: UInt16 = ProtocolVersion.current) -> WireMessage {
        .hello(Hello(version: version, genesis: genesis, publicKey: key, challenge: .random()))
    }

    /// The handshake proof `key` gives to the validator `node` for its `challenge`.
    public static func proof(by key: SigningKey, for node: PublicKey, challenge: Challenge, genesis: Hash256) -> WireMessage {
        .proof(key.sign(HandshakeTranscript(genesis: genesis, challenge: challenge, signer: key.publicKey, verifier: node).signingMessage))
    }

    /// A raw connection to the validator `node` at `address` that has passed the handshake as validator `key`.
    public static func authenticated(to address: PeerAddress, node: PublicKey, genesis: Hash256, as key: SigningKey) async throws -> RawPeer {
        let peer = try await connect(to: address)
        try await peer.send(hello(key.publicKey, genesis: genesis))
        let challenge = try await peer.readHelloChallenge()
        try await peer.send(proof(by: key, for: node, challenge: challenge, genesis: genesis))
        return peer
    }

    /// Reads the peer's first frame, which must be its hello, and returns its challenge.
    public func readHelloChallenge() async throws -> Challenge {
        var buffer = ByteBuffer()
        for await chunk in received {
            buffer.writeImmutableBuffer(chunk)
            if let frame = try Frame.parse(&buffer, maximumSize: FrameSizeLimit.handshake) {
                guard case .hello(let hello) = try WireMessage(frame: frame) else { break }
                return hello.challenge
            }
        }
        throw ChannelError.eof
    }

    /// Writes `bytes` as they are, with no framing.
    public func send(raw bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Writes `message` in a frame.
    public func send(_ message: WireMessage) async throws {
        var payload = ByteBuffer()
        message.write(to: &payload)
        var frame = ByteBuffer()
        Frame.write(payload: payload, to: &frame)
        try await channel.writeAndFlush(frame)
    }

    /// Closes our end.
    public func close() async {
        try? await channel.close()
    }

    /// Whether the other side closed the connection within `timeout`.
    public func closedByPeer(within timeout: TimeAmount) async -> Bool {
        let promise = channel.eventLoop.makePromise(of: Bool.self)
        let done = NIOLockedValueBox(false)
        let finish: @Sendable (Bool) -> Void = { value in
            if done.withLockedValue({ d in defer { d = true }; return !d }) { promise.succeed(value) }
        }
        channel.closeFuture.whenComplete { _ in finish(true) }
        channel.eventLoop.scheduleTask(in: timeout) { finish(false) }
        return (try? await promise.futureResult.get()) ?? false
    }
}
