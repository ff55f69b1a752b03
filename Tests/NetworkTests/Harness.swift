import BallastCrypto
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PeerTestSupport
import Testing

@testable import PeerNetwork

/// Collects what a stream yields and lets a test await a condition over it;
/// the timeout is only an upper bound, the wait ends as soon as the condition holds.
actor Recorder<Element: Sendable> {
    private(set) var items: [Element] = []
    private var waiters: [Int: (predicate: @Sendable ([Element]) -> Bool, continuation: CheckedContinuation<Bool, Never>)] = [:]
    private var nextWaiter = 0

    static func recording(_ stream: AsyncStream<Element>) -> Recorder {
        let recorder = Recorder()
        Task { for await item in stream { await recorder.append(item) } }
        return recorder
    }

    /// Whether `predicate` came to hold within `timeout`.
    func wait(for timeout: Duration = .seconds(10), until predicate: @escaping @Sendable ([Element]) -> Bool) async -> Bool {
        if predicate(items) { return true }
        let id = nextWaiter
        nextWaiter += 1
        return await withCheckedContinuation { continuation in
            waiters[id] = (predicate, continuation)
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    private func append(_ item: Element) {
        items.append(item)
        for id in waiters.keys.sorted() where waiters[id]?.predicate(items) == true {
            waiters.removeValue(forKey: id)?.continuation.resume(returning: true)
        }
    }

    private func expire(_ id: Int) {
        waiters.removeValue(forKey: id)?.continuation.resume(returning: false)
    }
}

/// The validators a node is connected to, from its event history.
func connectedSet(_ events: [PeerEvent]) -> Set<PublicKey> {
    var connected = Set<PublicKey>()
    for event in events {
        switch event {
        case .connected(let key): connected.insert(key)
        case .disconnected(let key): connected.remove(key)
        }
    }
    return connected
}

/// Log lines kept in memory, to check that a peer was dropped for the right reason.
final class LogRecorder: Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let lines = NIOLockedValueBox<[Line]>([])

    var all: [Line] { lines.withLockedValue { $0 } }

    func logger(label: String) -> Logger {
        Logger(label: label) { _ in Handler(recorder: self) }
    }

    /// Reasons given for connections dropped as misbehaving (logged as warnings).
    var dropReasons: [String] {
        all.filter { $0.message == "dropping peer connection" && $0.level == .warning }.compactMap { $0.metadata["reason"] }
    }

    fileprivate func append(_ line: Line) { lines.withLockedValue { $0.append(line) } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            for (key, value) in event.metadata ?? [:] { merged[key] = value }
            recorder.append(
                Line(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}

/// One running `PeerManager` with everything it yields recorded.
struct TestNode {
    let key: SigningKey
    let manager: PeerManager
    let inbox: Recorder<InboundMessage>
    let events: Recorder<PeerEvent>
    let log: LogRecorder
    let address: PeerAddress

    var publicKey: PublicKey { key.publicKey }

    /// Starts a node on 127.0.0.1 with short timers.
    static func start(
        key: SigningKey, validators: Set<PublicKey>, port: Int = 0,
        configure: (inout NetworkConfiguration) -> Void = { _ in }
    ) async throws -> TestNode {
        var configuration = NetworkConfiguration(identity: key, genesis: Fixture.genesis, validators: validators)
        configuration.listenHost = "127.0.0.1"
        configuration.listenPort = port
        configuration.handshakeTimeout = .milliseconds(800)
        configuration.keepaliveInterval = .seconds(2)
        configuration.reconnectBaseDelay = .milliseconds(20)
        configuration.reconnectMaximumDelay = .milliseconds(300)
        configure(&configuration)
        let log = LogRecorder()
        let manager = PeerManager(configuration: configuration, logger: log.logger(label: "test.network"))
        let bound = try await manager.start()
        return TestNode(
            key: key, manager: manager, inbox: .recording(manager.messages), events: .recording(manager.events),
            log: log, address: PeerAddress(host: "127.0.0.1", port: bound.port ?? 0))
    }

    /// Waits until this node is connected to exactly `peers`.
    func awaitConnected(to peers: [TestNode], timeout: Duration = .seconds(10)) async -> Bool {
        let expected = Set(peers.map(\.publicKey))
        return await events.wait(for: timeout) { connectedSet($0) == expected }
    }

    /// Waits until `count` messages from `sender` have arrived; returns them.
    func awaitMessages(from sender: TestNode, count: Int, timeout: Duration = .seconds(10)) async -> [[UInt8]] {
        let key = sender.publicKey
        _ = await inbox.wait(for: timeout) { $0.filter { $0.from == key }.count >= count }
        return await inbox.items.filter { $0.from == key }.map(\.bytes)
    }
}

/// Tells every node the address of every other.
func introduce(_ nodes: [TestNode]) {
    for node in nodes {
        for other in nodes where other.publicKey != node.publicKey {
            node.manager.setAddress(other.address, for: other.publicKey)
        }
    }
}

extension RawPeer {
    /// A raw connection to `node` that has passed the handshake as validator `key`.
    static func authenticated(to node: TestNode, as key: SigningKey) async throws -> RawPeer {
        try await authenticated(to: node.address, node: node.publicKey, genesis: Fixture.genesis, as: key)
    }
}

/// Whether `condition` came to hold within `timeout`, checking every few
/// milliseconds: for state that no event announces.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}

func shutdown(_ nodes: [TestNode]) async {
    for node in nodes { await node.manager.shutdown() }
}
