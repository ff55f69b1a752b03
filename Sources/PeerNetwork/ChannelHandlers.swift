import Codec
import BallastCrypto
import Logging
import NIOCore

/// Why a connection was dropped after the handshake.
public enum PeerProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A frame whose content does not decode.
    case malformedMessage(CodecError)
    /// A handshake message after the handshake.
    case unexpectedMessage(String)
    /// Nothing arrived for longer than the keep-alive allows.
    case idle

    public var description: String {
        switch self {
        case .malformedMessage(let error): return "malformed message: \(error)"
        case .unexpectedMessage(let what): return "unexpected \(what) after the handshake"
        case .idle: return "peer silent for too long"
        }
    }
}

/// Frame payloads to `WireMessage`s and back.
final class WireMessageCodec: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = WireMessage
    typealias OutboundIn = WireMessage
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        do throws(CodecError) {
            context.fireChannelRead(wrapInboundOut(try WireMessage(frame: frame)))
        } catch {
            context.fireErrorCaught(PeerProtocolError.malformedMessage(error))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let message = unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: message.encodedSize)
        message.write(to: &buffer)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}

/// Fired inbound by `HandshakeHandler` once the peer has proved its key.
struct HandshakeCompleted: Sendable {
    let peer: PublicKey
}

/// Runs `HandshakeStateMachine` on a connection: sends our hello when the
/// connection opens, answers the peer's hello, checks its proof, enforces the
/// timeout. On success it fires `HandshakeCompleted` and removes itself; on
/// failure it fires the `HandshakeError` (the session handler logs and closes).
final class HandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WireMessage
    typealias OutboundOut = WireMessage

    private var machine: HandshakeStateMachine
    private let timeout: TimeAmount
    /// For inbound connections: asked, once the peer's hello checks out and before
    /// our proof goes out, whether this connection may go ahead.
    private let admit: ((PublicKey) -> Bool)?
    /// Raised from the handshake limit to `frameLimitAfterHandshake` on success.
    private let frameLimit: FrameSizeLimit
    private let frameLimitAfterHandshake: Int
    private var timeoutTask: Scheduled<Void>?
    private var started = false
    /// Set once the handshake has failed: messages still in the read buffer are ignored.
    private var failed = false

    init(
        machine: HandshakeStateMachine, timeout: TimeAmount, admit: ((PublicKey) -> Bool)?,
        frameLimit: FrameSizeLimit, frameLimitAfterHandshake: Int
    ) {
        self.machine = machine
        self.timeout = timeout
        self.admit = admit
        self.frameLimit = frameLimit
        self.frameLimitAfterHandshake = frameLimitAfterHandshake
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeoutTask?.cancel()
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        context.writeAndFlush(wrapOutboundOut(.hello(machine.hello)), promise: nil)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeoutTask = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.fail(context: context, .timeout)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        switch machine.receive(unwrapInboundIn(data)) {
        case .send(let reply):
            if let admit, case .awaitingProof(let peer) = machine.state, !admit(peer) {
                fail(context: context, .duplicateConnection)
                return
            }
            context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
        case .established(let peer):
            timeoutTask?.cancel()
            frameLimit.value = frameLimitAfterHandshake
            context.fireUserInboundEventTriggered(HandshakeCompleted(peer: peer))
            // Later messages go straight to the session handler.
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case .fail(let error):
            fail(context: context, error)
        }
    }

    private func fail(context: ChannelHandlerContext, _ error: HandshakeError) {
        guard !failed else { return }
        failed = true
        timeoutTask?.cancel()
        context.fireErrorCaught(error)
    }
}

/// The end of every peer pipeline: registers the authenticated connection with
/// the `PeerManager`, hands it application messages, keeps the connection alive,
/// and logs and closes on any error.
final class PeerSessionHandler: ChannelInboundHandler {
    typealias InboundIn = WireMessage
    typealias OutboundOut = WireMessage

    private let manager: PeerManager
    private let direction: ConnectionDirection
    private var logger: Logger
    private var peer: PublicKey?
    private var closing = false

    init(manager: PeerManager, direction: ConnectionDirection, logger: Logger) {
        self.manager = manager
        self.direction = direction
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress { logger[metadataKey: "address"] = "\(remote)" }
        logger.debug("connection open", metadata: ["direction": "\(direction)"])
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let completed as HandshakeCompleted:
            peer = completed.peer
            logger[metadataKey: "peer"] = "\(completed.peer.shortHex)"
            logger.info("peer authenticated", metadata: ["direction": "\(direction)"])
            manager.sessionEstablished(channel: context.channel, peer: completed.peer, direction: direction)
        case IdleStateHandler.IdleStateEvent.write:
            if peer != nil { context.writeAndFlush(wrapOutboundOut(.ping), promise: nil) }
        case IdleStateHandler.IdleStateEvent.read:
            drop(context: context, reason: PeerProtocolError.idle)
        case ChannelEvent.inputClosed:
            if let peer {
                manager.peerHalfClosed(channel: context.channel, peer: peer)
            } else {
                drop(context: context, reason: HandshakeError.closedByPeer)
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, let peer else { return }
        switch unwrapInboundIn(data) {
        case .payload(let bytes):
            manager.deliver(bytes, from: peer)
        case .ping:
            break
        case .hello:
            drop(context: context, reason: PeerProtocolError.unexpectedMessage("hello"))
        case .proof:
            drop(context: context, reason: PeerProtocolError.unexpectedMessage("proof"))
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let peer { manager.scheduleDrain(peer: peer) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let peer {
            logger.info("peer connection closed")
            manager.sessionEnded(channel: context.channel, peer: peer)
        } else if !closing {
            logger.debug("connection closed before the handshake finished")
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        drop(context: context, reason: error)
    }

    /// Misbehaviour (bad frames, bad handshakes, silence) is a warning. Turning away
    /// a simultaneous dial, being turned away, and socket errors such as a reset
    /// are routine.
    static func logLevel(for reason: any Error) -> Logger.Level {
        switch reason {
        case let error as HandshakeError:
            return error == .duplicateConnection || error == .closedByPeer ? .info : .warning
        case is FrameError, is PeerProtocolError:
            return .warning
        default:
            return .info
        }
    }

    private func drop(context: ChannelHandlerContext, reason: any Error) {
        guard !closing else { return }
        closing = true
        logger.log(level: Self.logLevel(for: reason), "dropping peer connection", metadata: ["reason": "\(reason)"])
        context.close(promise: nil)
    }
}

/// Who opened a connection.
public enum ConnectionDirection: String, Sendable, Equatable, CustomStringConvertible {
    /// We dialled the peer.
    case outbound
    /// The peer dialled us.
    case inbound

    public var description: String { rawValue }
}

extension PublicKey {
    /// The first 8 bytes in hex: enough to tell validators apart in logs.
    public var shortHex: String { String(hex.prefix(16)) }
}
