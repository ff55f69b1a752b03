import BallastCrypto
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An application message from an authenticated validator.
public struct InboundMessage: Sendable, Equatable {
    /// The validator that sent it (proved in the handshake of the connection it came on).
    public var from: PublicKey
    /// The opaque message bytes.
    public var bytes: [UInt8]

    public init(from: PublicKey, bytes: [UInt8]) {
        self.from = from
        self.bytes = bytes
    }
}

/// A change in which validators we are connected to.
public enum PeerEvent: Sendable, Equatable {
    /// The first authenticated connection to this validator is up.
    case connected(PublicKey)
    /// The last connection to this validator is gone (a reconnect is scheduled if it has an address).
    case disconnected(PublicKey)
}

/// What `send` did with a message.
public enum SendOutcome: Sendable, Equatable {
    /// Queued for the peer (sent as soon as its connection is writable).
    case queued
    /// Queued, and this many older messages were dropped to make room.
    case queuedDroppingOldest(Int)
    /// The key is not another validator's.
    case unknownPeer
    /// Bigger than a frame may be; not sent.
    case tooLarge
    /// The manager has been shut down.
    case shutDown
}

/// One connected validator, for status pages and metrics.
public struct PeerStatus: Sendable, Equatable {
    public var key: PublicKey
    /// Who dialled the connection in use.
    public var direction: ConnectionDirection
    /// The remote socket address, as text.
    public var remoteAddress: String
    /// Messages waiting in its outbound queue.
    public var queuedMessages: Int
    /// Messages dropped from its outbound queue so far.
    public var droppedMessages: UInt64
}

/// Counters over the manager's lifetime.
public struct NetworkStatistics: Sendable, Equatable {
    /// Validators with a connection.
    public var connectedPeers: Int
    /// Outbound messages dropped because a peer's queue was full (all peers).
    public var droppedOutbound: UInt64
    /// Inbound messages dropped because the consumer of `messages` fell behind.
    public var droppedInbound: UInt64
    /// Messages received from peers.
    public var receivedMessages: UInt64
    /// Connections that completed the handshake (including ones later replaced).
    public var authenticatedConnections: UInt64
    /// Inbound connections closed at once because too many were still unauthenticated.
    public var refusedConnections: UInt64
}

/// The validator peer network: one authenticated TCP connection per validator.
///
/// Usage: create it with a `NetworkConfiguration`, `start()` it (binds the listen
/// address and dials the configured peers), read `messages` and `events`, and
/// `send` / `broadcast` opaque bytes. `shutdown()` closes everything.
///
/// - Connections: both sides may dial each other. When a validator ends up with
///   two authenticated connections, both sides keep the one dialled by the lower
///   public key (the newer one if both were dialled by the same side). The losing
///   connection is half-closed (our writes to it are flushed first) and read
///   until the peer half-closes it too, so a switch loses no message.
/// - Reconnect: a validator with an address is redialled after a disconnect or a
///   failed dial, with exponential back-off from `reconnectBaseDelay` up to
///   `reconnectMaximumDelay`, reset by a successful handshake.
/// - Outbound: each validator has a bounded `OutboundQueue` (drop oldest) that
///   exists whether or not it is connected, drained while the connection is
///   writable (the channel's write-buffer water marks give back-pressure).
///   Order is kept per connection.
/// - Inbound: `messages` is buffered up to `inboundBufferCapacity`; beyond that
///   the oldest are dropped and counted (`statistics().droppedInbound`).
public final class PeerManager: Sendable {
    /// The settings this manager runs with.
    public let configuration: NetworkConfiguration
    /// Application messages from validators, in arrival order per connection.
    public let messages: AsyncStream<InboundMessage>
    /// Connects and disconnects.
    public let events: AsyncStream<PeerEvent>

    private let messageSink: AsyncStream<InboundMessage>.Continuation
    private let eventSink: AsyncStream<PeerEvent>.Continuation
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    /// A manager that will run its connections on `group`.
    public init(
        configuration: NetworkConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "ballast.network")
    ) {
        self.configuration = configuration
        self.group = group
        var logger = logger
        logger[metadataKey: "self"] = "\(configuration.identity.publicKey.shortHex)"
        self.logger = logger
        (messages, messageSink) = AsyncStream.makeStream(
            of: InboundMessage.self, bufferingPolicy: .bufferingNewest(max(1, configuration.inboundBufferCapacity)))
        (events, eventSink) = AsyncStream.makeStream(of: PeerEvent.self)
        var peers: [PublicKey: PeerSlot] = [:]
        for key in configuration.validators where key != configuration.identity.publicKey {
            peers[key] = PeerSlot(
                address: configuration.peerAddresses[key],
                queue: OutboundQueue(
                    capacity: configuration.outboundQueueCapacity, byteLimit: configuration.outboundQueueByteLimit))
        }
        state = NIOLockedValueBox(State(peers: peers))
    }

    // MARK: - Public API

    /// Binds the listen address and starts dialling every peer with an address.
    /// Returns the bound address (useful with port 0). Call once.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: Self.waterMark)
            .childChannelInitializer { [self] channel in
                configurePipeline(channel, direction: .inbound, expectedPeer: nil)
            }
        let server = try await bootstrap.bind(host: configuration.listenHost, port: configuration.listenPort).get()
        let peersToDial = state.withLockedValue { state -> [PublicKey] in
            state.server = server
            return state.peers.keys.filter { state.peers[$0]?.address != nil }.sorted()
        }
        let bound = server.localAddress
        logger.info("listening", metadata: ["address": "\(bound.map { "\($0)" } ?? "?")"])
        for peer in peersToDial { dial(peer) }
        guard let bound else { throw ChannelError.unknownLocalAddress }
        return bound
    }

    /// The address the listener is bound to, once started.
    public var localAddress: SocketAddress? {
        state.withLockedValue { $0.server?.localAddress }
    }

    /// Sets (or changes) where `peer` is dialled, and dials it now if not connected.
    /// Returns false if `peer` is not another validator.
    @discardableResult
    public func setAddress(_ address: PeerAddress, for peer: PublicKey) -> Bool {
        let (known, started) = state.withLockedValue { state -> (Bool, Bool) in
            let known = state.withSlot(peer) { slot -> Bool in
                slot.address = address
                slot.failedDials = 0
                return true
            } ?? false
            return (known, state.server != nil)
        }
        if known && started { dial(peer) }
        return known
    }

    /// Queues `bytes` for `peer`. Never blocks; see `OutboundQueue` for the drop policy.
    @discardableResult
    public func send(_ bytes: [UInt8], to peer: PublicKey) -> SendOutcome {
        guard bytes.count + 1 <= configuration.maximumFrameSize else { return .tooLarge }
        let outcome = state.withLockedValue { state -> SendOutcome in
            guard !state.stopped else { return .shutDown }
            guard let dropped = state.withSlot(peer, { $0.queue.append(bytes) }) else { return .unknownPeer }
            return dropped == 0 ? .queued : .queuedDroppingOldest(dropped)
        }
        switch outcome {
        case .queued, .queuedDroppingOldest: scheduleDrain(peer: peer)
        case .unknownPeer, .tooLarge, .shutDown: break
        }
        return outcome
    }

    /// Queues `bytes` for every other validator, connected or not. Returns each
    /// peer's outcome, in key order. The peers' drains are scheduled once per event loop
    /// (one wake-up of each loop thread, not one per peer).
    @discardableResult
    public func broadcast(_ bytes: [UInt8]) -> [(peer: PublicKey, outcome: SendOutcome)] {
        let tooLarge = bytes.count + 1 > configuration.maximumFrameSize
        let (outcomes, drains) = state.withLockedValue { state -> ([(peer: PublicKey, outcome: SendOutcome)], [(PublicKey, any Channel)]) in
            let peers = state.peers.keys.sorted()
            if tooLarge { return (peers.map { (peer: $0, outcome: .tooLarge) }, []) }
            if state.stopped { return (peers.map { (peer: $0, outcome: .shutDown) }, []) }
            var outcomes: [(peer: PublicKey, outcome: SendOutcome)] = []
            var drains: [(PublicKey, any Channel)] = []
            for peer in peers {
                state.withSlot(peer) { slot in
                    let dropped = slot.queue.append(bytes)
                    outcomes.append((peer: peer, outcome: dropped == 0 ? .queued : .queuedDroppingOldest(dropped)))
                    if let active = slot.active, !slot.drainScheduled {
                        slot.drainScheduled = true
                        drains.append((peer, active.channel))
                    }
                }
            }
            return (outcomes, drains)
        }
        var byLoop: [(loop: any EventLoop, drains: [(PublicKey, any Channel)])] = []
        for drain in drains {
            if let i = byLoop.firstIndex(where: { $0.loop === drain.1.eventLoop }) {
                byLoop[i].drains.append(drain)
            } else {
                byLoop.append((drain.1.eventLoop, [drain]))
            }
        }
        for (loop, drains) in byLoop {
            loop.execute { [self] in
                for (peer, channel) in drains { drain(peer: peer, channel: channel) }
            }
        }
        return outcomes
    }

    /// The validators we are connected to, in key order.
    public func connectedPeers() -> [PeerStatus] {
        state.withLockedValue { state in
            state.peers.keys.sorted().compactMap { key -> PeerStatus? in
                guard let slot = state.peers[key], let active = slot.active else { return nil }
                return PeerStatus(
                    key: key, direction: active.direction, remoteAddress: active.remoteAddress,
                    queuedMessages: slot.queue.count, droppedMessages: slot.queue.droppedCount)
            }
        }
    }

    /// Lifetime counters.
    public func statistics() -> NetworkStatistics {
        state.withLockedValue { state in
            var dropped: UInt64 = 0
            var connected = 0
            for key in state.peers.keys.sorted() {
                guard let slot = state.peers[key] else { continue }
                dropped += slot.queue.droppedCount
                if slot.active != nil { connected += 1 }
            }
            return NetworkStatistics(
                connectedPeers: connected, droppedOutbound: dropped,
                droppedInbound: state.droppedInbound, receivedMessages: state.receivedMessages,
                authenticatedConnections: state.authenticatedConnections,
                refusedConnections: state.refusedConnections)
        }
    }

    /// Stops listening and dialling, closes every connection and ends the streams.
    public func shutdown() async {
        let (server, channels) = state.withLockedValue { state -> ((any Channel)?, [any Channel]) in
            state.stopped = true
            var channels: [any Channel] = []
            for key in state.peers.keys.sorted() {
                guard var slot = state.peers[key] else { continue }
                slot.redial?.cancel()
                slot.redial = nil
                if let active = slot.active { channels.append(active.channel) }
                if let draining = slot.draining { channels.append(draining.channel) }
                if case .connected(let channel) = slot.dialling { channels.append(channel) }
                state.peers[key] = slot
            }
            channels.append(contentsOf: state.handshaking.values)
            let server = state.server
            state.server = nil
            return (server, channels)
        }
        try? await server?.close()
        for channel in channels {
            channel.close(promise: nil)
            try? await channel.closeFuture.get()
        }
        messageSink.finish()
        eventSink.finish()
        logger.info("network stopped")
    }

    // MARK: - State

    private static let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 256 << 10, high: 1 << 20)

    private struct Connection: Sendable {
        let channel: any Channel
        let direction: ConnectionDirection
        let remoteAddress: String
        /// The peer has half-closed it: it will write nothing more here.
        var inputClosed = false
    }

    private enum Dial: Sendable {
        case connecting
        case connected(any Channel)

        func isChannel(_ channel: any Channel) -> Bool {
            if case .connected(let own) = self { return own === channel }
            return false
        }
    }

    private struct PeerSlot: Sendable {
        var address: PeerAddress?
        var queue: OutboundQueue
        /// The connection messages are written to.
        var active: Connection?
        /// A replaced connection, half-closed by us, read until the peer half-closes it.
        var draining: Connection?
        /// Our dial in progress, until it is authenticated or closes.
        var dialling: Dial?
        var redial: Scheduled<Void>?
        var failedDials = 0
        var drainScheduled = false
        /// Inbound connections from this validator past its hello, not yet authenticated.
        var inboundHandshakes = 0
    }

    private struct State: Sendable {
        var peers: [PublicKey: PeerSlot]
        var server: (any Channel)?
        var stopped = false
        /// Inbound connections not yet authenticated, so that shutdown closes them too.
        var handshaking: [ObjectIdentifier: any Channel] = [:]
        /// Which validator each admitted, not yet authenticated, inbound connection claims.
        var handshakePeers: [ObjectIdentifier: PublicKey] = [:]
        var droppedInbound: UInt64 = 0
        var receivedMessages: UInt64 = 0
        var authenticatedConnections: UInt64 = 0
        var refusedConnections: UInt64 = 0

        /// Runs `body` on `peer`'s slot in place. (Copying a slot out and back would
        /// copy its queue's storage on every message.)
        mutating func withSlot<R>(_ peer: PublicKey, _ body: (inout PeerSlot) -> R) -> R? {
            guard var slot = peers.removeValue(forKey: peer) else { return nil }
            defer { peers[peer] = slot }
            return body(&slot)
        }
    }

    // MARK: - Pipeline

    private func configurePipeline(
        _ channel: any Channel, direction: ConnectionDirection, expectedPeer: PublicKey?
    ) -> EventLoopFuture<Void> {
        if direction == .inbound {
            let maximum = configuration.maximumPendingHandshakes
            let open = state.withLockedValue { state -> Bool in
                guard !state.stopped else { return false }
                guard state.handshaking.count < maximum else {
                    state.refusedConnections += 1
                    return false
                }
                state.handshaking[ObjectIdentifier(channel)] = channel
                return true
            }
            guard open else {
                logger.warning(
                    "refusing connection: too many unauthenticated connections",
                    metadata: ["address": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
                return channel.close()
            }
            channel.closeFuture.whenComplete { [self] _ in inboundHandshakeEnded(channel) }
        }
        let configuration = self.configuration
        var logger = self.logger
        if let expectedPeer { logger[metadataKey: "peer"] = "\(expectedPeer.shortHex)" }
        let machine = HandshakeStateMachine(
            policy: configuration.handshakePolicy, challenge: .random(), expectedPeer: expectedPeer)
        return channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            let frameLimit = FrameSizeLimit(min(FrameSizeLimit.handshake, configuration.maximumFrameSize))
            try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(limit: frameLimit)))
            try pipeline.addHandler(MessageToByteHandler(FrameEncoder(maximumSize: configuration.maximumFrameSize)))
            try pipeline.addHandler(WireMessageCodec())
            try pipeline.addHandler(
                IdleStateHandler(
                    readTimeout: configuration.keepaliveInterval * 3, writeTimeout: configuration.keepaliveInterval))
            let admit: ((PublicKey) -> Bool)? =
                direction == .inbound ? { [self] peer in admitInbound(channel: channel, peer: peer) } : nil
            try pipeline.addHandler(
                HandshakeHandler(
                    machine: machine, timeout: configuration.handshakeTimeout, admit: admit,
                    frameLimit: frameLimit, frameLimitAfterHandshake: configuration.maximumFrameSize))
            try pipeline.addHandler(PeerSessionHandler(manager: self, direction: direction, logger: logger))
        }
    }

    // MARK: - Dialling

    private func dial(_ peer: PublicKey) {
        let address = state.withLockedValue { state -> PeerAddress? in
            // Not while the peer's own dial is being authenticated: one connection is enough.
            guard !state.stopped, var slot = state.peers[peer], let address = slot.address,
                slot.active == nil, slot.dialling == nil, slot.inboundHandshakes == 0
            else { return nil }
            slot.redial?.cancel()
            slot.redial = nil
            slot.dialling = .connecting
            state.peers[peer] = slot
            return address
        }
        guard let address else { return }
        logger.debug("dialling", metadata: ["peer": "\(peer.shortHex)", "address": "\(address)"])
        ClientBootstrap(group: group)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: Self.waterMark)
            .channelInitializer { [self] channel in
                configurePipeline(channel, direction: .outbound, expectedPeer: peer)
            }
            .connect(host: address.host, port: address.port)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    let keep = state.withLockedValue { state -> Bool in
                        guard !state.stopped else { return false }
                        // Unless the handshake already finished and cleared the dial.
                        if case .connecting = state.peers[peer]?.dialling { state.peers[peer]?.dialling = .connected(channel) }
                        return true
                    }
                    if !keep { channel.close(promise: nil); return }
                    channel.closeFuture.whenComplete { [self] _ in dialEnded(peer: peer, channel: channel) }
                case .failure(let error):
                    logger.debug(
                        "dial failed",
                        metadata: ["peer": "\(peer.shortHex)", "address": "\(address)", "error": "\(error)"])
                    dialEnded(peer: peer, channel: nil)
                }
            }
    }

    /// A dial failed, or its connection closed. If it never authenticated, back off and retry.
    private func dialEnded(peer: PublicKey, channel: (any Channel)?) {
        let failed = state.withLockedValue { state -> Bool in
            guard var slot = state.peers[peer], let dialling = slot.dialling else { return false }
            if let channel, !dialling.isChannel(channel) { return false }
            slot.dialling = nil
            slot.failedDials += 1
            state.peers[peer] = slot
            return true
        }
        if failed { scheduleRedial(peer) }
    }

    private func scheduleRedial(_ peer: PublicKey) {
        state.withLockedValue { state in
            guard !state.stopped, var slot = state.peers[peer], slot.address != nil, slot.active == nil,
                slot.dialling == nil, slot.redial == nil
            else { return }
            let delay = Self.backoff(
                attempt: slot.failedDials, base: configuration.reconnectBaseDelay,
                maximum: configuration.reconnectMaximumDelay)
            slot.redial = group.next().scheduleTask(in: delay) { [self] in
                self.state.withLockedValue { $0.peers[peer]?.redial = nil }
                dial(peer)
            }
            state.peers[peer] = slot
        }
    }

    /// `base * 2^attempt`, capped at `maximum`.
    static func backoff(attempt: Int, base: TimeAmount, maximum: TimeAmount) -> TimeAmount {
        let shift = min(attempt, 30)
        let (scaled, overflow) = base.nanoseconds.multipliedReportingOverflow(by: Int64(1) << shift)
        return overflow ? maximum : min(.nanoseconds(scaled), maximum)
    }

    // MARK: - Called by PeerSessionHandler (on the channel's event loop)

    func sessionEstablished(channel: any Channel, peer: PublicKey, direction: ConnectionDirection) {
        let remote = channel.remoteAddress.map { "\($0)" } ?? "?"
        let ours = configuration.identity.publicKey
        var halfClose: (any Channel)?
        var close: [any Channel] = []
        let connected = state.withLockedValue { state -> Bool in
            guard !state.stopped, var slot = state.peers[peer] else {
                close.append(channel)
                return false
            }
            state.handshaking.removeValue(forKey: ObjectIdentifier(channel))
            if state.handshakePeers.removeValue(forKey: ObjectIdentifier(channel)) != nil { slot.inboundHandshakes -= 1 }
            state.authenticatedConnections += 1
            if direction == .outbound, slot.dialling != nil {
                slot.dialling = nil
                slot.failedDials = 0
            }
            let new = Connection(channel: channel, direction: direction, remoteAddress: remote)
            var connected = false
            if let current = slot.active {
                let loser: Connection
                if Self.prefers(new, over: current, ours: ours, peer: peer) {
                    slot.active = new
                    loser = current
                } else {
                    loser = new
                }
                if let older = slot.draining { close.append(older.channel) }
                if loser.inputClosed {
                    close.append(loser.channel)
                    slot.draining = nil
                } else {
                    slot.draining = loser
                    halfClose = loser.channel
                }
            } else {
                slot.active = new
                connected = true
            }
            slot.redial?.cancel()
            slot.redial = nil
            state.peers[peer] = slot
            return connected
        }
        for channel in close { channel.close(promise: nil) }
        // Our writes already handed to the replaced connection are flushed before the FIN.
        halfClose?.close(mode: .output, promise: nil)
        if connected { eventSink.yield(.connected(peer)) }
        scheduleDrain(peer: peer)
    }

    /// Which of two authenticated connections to the same validator both sides keep.
    static func prefersDialler(_ a: ConnectionDirection, over b: ConnectionDirection, ours: PublicKey, peer: PublicKey) -> Bool? {
        // Dialled by the lower key wins; nil when both were dialled by the same side.
        guard a != b else { return nil }
        let lowerDialled: ConnectionDirection = ours < peer ? .outbound : .inbound
        return a == lowerDialled
    }

    private static func prefers(_ new: Connection, over current: Connection, ours: PublicKey, peer: PublicKey) -> Bool {
        if current.inputClosed { return true }
        return prefersDialler(new.direction, over: current.direction, ours: ours, peer: peer) ?? true
    }

    /// Whether an inbound connection claiming `peer` may finish its handshake: not
    /// while our own dial to `peer` is under way, or our own dialled connection is
    /// up and healthy, when ours is the one the tie-break keeps. Both sides apply
    /// the rule (and neither dials while the other's dial is being authenticated),
    /// so of two simultaneous dials only one completes and no message is sent on a
    /// connection about to be replaced.
    ///
    /// A peer dials only when it has no connection of its own, so a new inbound
    /// connection beside an older inbound one is admitted and replaces it (the
    /// peer restarted). Beside our own healthy dialled connection it is refused
    /// until that one is seen to end: at once when the peer's host closes it, after
    /// the keep-alive's read timeout when the host vanished.
    func admitInbound(channel: any Channel, peer: PublicKey) -> Bool {
        let ours = configuration.identity.publicKey
        return state.withLockedValue { state -> Bool in
            guard !state.stopped, var slot = state.peers[peer] else { return false }
            if Self.prefersDialler(.outbound, over: .inbound, ours: ours, peer: peer) == true {
                if slot.dialling != nil { return false }
                if let active = slot.active, active.direction == .outbound, !active.inputClosed { return false }
            }
            slot.inboundHandshakes += 1
            state.handshakePeers[ObjectIdentifier(channel)] = peer
            state.peers[peer] = slot
            return true
        }
    }

    /// An inbound connection closed; if it never authenticated, a dial it held back may go ahead.
    private func inboundHandshakeEnded(_ channel: any Channel) {
        let heldBack = state.withLockedValue { state -> PublicKey? in
            state.handshaking.removeValue(forKey: ObjectIdentifier(channel))
            guard let peer = state.handshakePeers.removeValue(forKey: ObjectIdentifier(channel)) else { return nil }
            state.peers[peer]?.inboundHandshakes -= 1
            return peer
        }
        if let heldBack { scheduleRedial(heldBack) }
    }

    /// The peer will write nothing more on `channel`.
    func peerHalfClosed(channel: any Channel, peer: PublicKey) {
        let wait = state.withLockedValue { state -> Bool in
            state.withSlot(peer) { slot -> Bool in
                guard slot.active?.channel === channel else { return false }
                slot.active?.inputClosed = true
                // With a replacement being authenticated, the peer has switched to it
                // and still reads this one: keep writing here until the replacement
                // takes over (or the timer ends it). Otherwise the peer is going away.
                return slot.dialling != nil || slot.inboundHandshakes > 0
            } ?? false
        }
        if wait {
            channel.eventLoop.scheduleTask(in: configuration.handshakeTimeout) {
                channel.close(promise: nil)
            }
        } else {
            channel.close(promise: nil)
        }
    }

    func sessionEnded(channel: any Channel, peer: PublicKey) {
        var closeDraining: (any Channel)?
        let disconnected = state.withLockedValue { state -> Bool in
            guard var slot = state.peers[peer] else { return false }
            var disconnected = false
            if slot.draining?.channel === channel { slot.draining = nil }
            if slot.active?.channel === channel {
                slot.active = nil
                // A half-closed connection cannot take our writes: let the peer redial.
                closeDraining = slot.draining?.channel
                slot.draining = nil
                disconnected = true
            }
            state.peers[peer] = slot
            return disconnected && !state.stopped
        }
        closeDraining?.close(promise: nil)
        if disconnected {
            eventSink.yield(.disconnected(peer))
            scheduleRedial(peer)
        }
    }

    func deliver(_ bytes: [UInt8], from peer: PublicKey) {
        let result = messageSink.yield(InboundMessage(from: peer, bytes: bytes))
        state.withLockedValue { state in
            state.receivedMessages += 1
            if case .dropped = result { state.droppedInbound += 1 }
        }
    }

    /// Makes sure a drain of `peer`'s queue is pending on its connection's event loop.
    func scheduleDrain(peer: PublicKey) {
        let channel = state.withLockedValue { state -> (any Channel)? in
            state.withSlot(peer) { slot -> (any Channel)? in
                guard let active = slot.active, !slot.drainScheduled, !slot.queue.isEmpty else { return nil }
                slot.drainScheduled = true
                return active.channel
            } ?? nil
        }
        guard let channel else { return }
        channel.eventLoop.execute { [self] in drain(peer: peer, channel: channel) }
    }

    /// Writes queued messages while the connection takes them.
    private func drain(peer: PublicKey, channel: any Channel) {
        enum Step { case write([UInt8]), stop, switched }
        var wrote = false
        loop: while true {
            let writable = channel.isWritable
            let step = state.withLockedValue { state -> Step in
                state.withSlot(peer) { slot -> Step in
                    let step: Step
                    if slot.active?.channel !== channel {
                        step = .switched
                    } else if writable, let message = slot.queue.popFirst() {
                        step = .write(message)
                    } else {
                        // Empty: the next send schedules a drain. Not writable: the writability change does.
                        step = .stop
                    }
                    if case .write = step {} else { slot.drainScheduled = false }
                    return step
                } ?? .stop
            }
            switch step {
            case .write(let message):
                channel.write(WireMessage.payload(message), promise: nil)
                wrote = true
            case .stop:
                break loop
            case .switched:
                scheduleDrain(peer: peer)
                break loop
            }
        }
        if wrote { channel.flush() }
    }
}
