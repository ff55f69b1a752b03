import Codec
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP answer: status and body.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var body: ByteBuffer

    /// The body as `T`, decoded from JSON.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    }

    /// The body as `T`, decoded from its canonical binary form (all of the body, nothing after it).
    public func decodeCanonical<T: CanonicalDecodable>(_ type: T.Type) throws -> T {
        try body.withUnsafeReadableBytes { raw in try T(canonicalRaw: raw) }
    }

    /// The node's error code (`{"error":{"code",...}}`), or `http_<status>` when the body has none.
    public var errorCode: String {
        struct Envelope: Decodable { struct Inner: Decodable { var code: String }; var error: Inner }
        return (try? decode(Envelope.self).error.code) ?? "http_\(status)"
    }
}

/// A request that got no answer before its deadline. The connection it waited on is closed
/// (its other requests fail with it): a paused process keeps its sockets open, and answers
/// that come later could no longer be matched to their requests.
public struct NoAnswerInTime: Error, Equatable, CustomStringConvertible {
    public var description: String { "no answer before the request's deadline" }
}

/// A small HTTP/1.1 client for the load generator: a few keep-alive connections per
/// node, requests pipelined on each (the node's server answers them in order).
///
/// `URLSession` on Linux costs far more CPU per request than the nodes spend on a
/// transaction, and the load generator shares the machine with them: every cycle it
/// burns is one the cluster does not get.
public final class PipelinedHTTPClient: Sendable {
    let group: MultiThreadedEventLoopGroup
    let host: String
    let port: Int
    private let connections: NIOLockedValueBox<[Slot?]>
    private let next = NIOLockedValueBox(0)

    /// A client of `host:port` with `connections` connections, opened on first use.
    public init(host: String, port: Int, connections: Int = 4, group: MultiThreadedEventLoopGroup) {
        self.group = group
        self.host = host
        self.port = port
        self.connections = NIOLockedValueBox(Array(repeating: nil, count: max(1, connections)))
    }

    /// A client of `url` (`http://HOST:PORT`).
    public convenience init(url: String, connections: Int = 4, group: MultiThreadedEventLoopGroup) throws {
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else {
            throw ClusterError("bad node URL \(url): expected http://HOST:PORT")
        }
        self.init(host: host, port: port, connections: connections, group: group)
    }

    /// Sends one request; the future fails only when there is no HTTP answer at all, or none
    /// within `deadline` (with `NoAnswerInTime`). `accept` is the `Accept` header, when given.
    public func request(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil,
                        contentType: String = "text/plain", accept: String? = nil,
                        deadline: Duration? = nil) -> EventLoopFuture<HTTPAnswer> {
        let expiry = deadline.map { NIODeadline.now() + TimeAmount($0) }
        let slot = next.withLockedValue { n -> Int in
            n &+= 1
            return n
        } % connections.withLockedValue { $0.count }
        return channel(slot).flatMap { channel in
            let promise = channel.eventLoop.makePromise(of: HTTPAnswer.self)
            var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
            head.headers.add(name: "Host", value: "\(self.host):\(self.port)")
            head.headers.add(name: "Content-Length", value: "\(body?.count ?? 0)")
            if body != nil { head.headers.add(name: "Content-Type", value: contentType) }
            if let accept { head.headers.add(name: "Accept", value: accept) }
            let request = PipelineHandler.Request(head: head, body: body.map { channel.allocator.buffer(bytes: $0) },
                                                  promise: promise, deadline: expiry)
            channel.writeAndFlush(request, promise: nil)
            return promise.futureResult
        }
    }

    /// `request` for async code.
    public func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, deadline: Duration? = nil) async throws -> HTTPAnswer {
        try await request(method, path, body: body, deadline: deadline).get()
    }

    /// GET `path` and decode its 200 answer.
    public func get<T: Decodable>(_ path: String, as type: T.Type, deadline: Duration? = nil) async throws -> T {
        let answer = try await send(.GET, path, deadline: deadline)
        guard answer.status == 200 else { throw ClusterError("GET \(path) on \(host):\(port): \(answer.errorCode)") }
        return try answer.decode(T.self)
    }

    /// Closes every connection.
    public func close() {
        let slots = connections.withLockedValue { list -> [Slot] in
            defer { list = list.map { _ in nil } }
            return list.compactMap { $0 }
        }
        for slot in slots {
            switch slot {
            case .open(let channel): channel.close(promise: nil)
            case .connecting(let future): future.whenSuccess { $0.close(promise: nil) }
            }
        }
    }

    /// A connection slot: connecting, or connected.
    enum Slot {
        case connecting(EventLoopFuture<Channel>)
        case open(Channel)
    }

    /// The connection in `slot`, opened (again) when it is missing or closed. Requests that
    /// arrive while it connects wait for the same connection.
    private func channel(_ slot: Int) -> EventLoopFuture<Channel> {
        let (future, isNew) = connections.withLockedValue { list -> (EventLoopFuture<Channel>, Bool) in
            switch list[slot] {
            case .open(let channel)? where channel.isActive:
                return (channel.eventLoop.makeSucceededFuture(channel), false)
            case .connecting(let future)?:
                return (future, false)
            default:
                let future = ClientBootstrap(group: group)
                    .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                    .connectTimeout(.seconds(2))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHTTPClientHandlers()
                            try channel.pipeline.syncOperations.addHandler(PipelineHandler())
                        }
                    }
                    .connect(host: host, port: port)
                list[slot] = .connecting(future)
                return (future, true)
            }
        }
        if isNew {
            // Outside the lock: the callback may run at once.
            future.whenComplete { result in
                self.connections.withLockedValue { list in
                    if case .success(let channel) = result { list[slot] = .open(channel) } else { list[slot] = nil }
                }
            }
        }
        return future
    }
}

/// Matches pipelined answers to requests, first in first out, and closes the connection when
/// a request's deadline passes without its answer.
final class PipelineHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Request
    typealias OutboundOut = HTTPClientRequestPart

    struct Request {
        var head: HTTPRequestHead
        var body: ByteBuffer?
        var promise: EventLoopPromise<HTTPAnswer>
        /// When to give up waiting for the answer.
        var deadline: NIODeadline?
    }

    private var waiting = CircularBuffer<(promise: EventLoopPromise<HTTPAnswer>, deadline: NIODeadline?)>()
    private var status = 0
    private var body: ByteBuffer?
    /// The one deadline check scheduled (whichever deadline of `waiting` comes first).
    private var timer: (at: NIODeadline, task: Scheduled<Void>)?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append((request.promise, request.deadline))
        if let deadline = request.deadline, timer.map({ deadline < $0.at }) ?? true { arm(context, at: deadline) }
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            body = nil
        case .body(var part):
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            let answer = HTTPAnswer(status: status, body: body ?? ByteBuffer())
            body = nil
            waiting.popFirst()?.promise.succeed(answer)
        }
    }

    /// Schedules the deadline check at `deadline` (instead of a later one).
    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer?.task.cancel()
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.timer = nil
            self.checkDeadlines(context)
        }
        timer = (deadline, task)
    }

    /// Closes the connection when an answer is overdue; otherwise waits for the next deadline.
    private func checkDeadlines(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        var next: NIODeadline?
        for (_, deadline) in waiting {
            guard let deadline else { continue }
            if deadline <= now {
                failAll(NoAnswerInTime())
                context.close(promise: nil)
                return
            }
            next = min(next ?? deadline, deadline)
        }
        if let next { arm(context, at: next) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
        failAll(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    private func failAll(_ error: Error) {
        while let entry = waiting.popFirst() { entry.promise.fail(error) }
    }
}
