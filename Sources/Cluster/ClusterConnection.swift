import BallastCrypto
import Foundation
import Ledger
import NIOCore
import NIOPosix
import Node
import Synchronization
import Wallet

/// How a node answers the load generator and the keeper.
public enum NodeHealth: String, Sendable, Equatable {
    case healthy
    /// A request got no answer within the connection's deadline: a paused process keeps its
    /// sockets open and answers nothing.
    case stalled
    /// A connection failed: the process is gone or not listening.
    case unreachable
}

/// Pipelined HTTP clients of every node of a cluster, with the submit and query
/// calls the load generator and the keeper share.
///
/// Each node has a health state: a request that fails, or gets no answer within
/// `requestDeadline`, marks its node stalled or unreachable; traffic goes to the other nodes
/// until a probe (`GET /v1/status`, every `probeInterval`) answers again.
public final class ClusterConnection: Sendable {
    public let manifest: ClusterManifest
    public let layout: ClusterLayout
    public let clients: [PipelinedHTTPClient]
    /// How long a request waits for its answer before its node counts as stalled.
    public let requestDeadline: Duration
    /// How often a node that is not healthy is probed.
    public let probeInterval: Duration
    let group: MultiThreadedEventLoopGroup
    private let health: Mutex<[NodeHealth]>
    /// Called with a node's index when it stops being healthy.
    private let failureHandler = Mutex<(@Sendable (Int) -> Void)?>(nil)
    private let nextNode = Mutex(0)

    /// Connections to every node of the cluster at `layout`, on one event loop thread.
    public init(layout: ClusterLayout, connectionsPerNode: Int = 4, requestDeadline: Duration = .seconds(2),
                probeInterval: Duration = .milliseconds(250)) throws {
        self.layout = layout
        let manifest = try ClusterManifest.load(layout)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.manifest = manifest
        self.group = group
        self.requestDeadline = requestDeadline
        self.probeInterval = probeInterval
        clients = (0..<manifest.validators).map {
            PipelinedHTTPClient(host: "127.0.0.1", port: manifest.rpcBasePort + $0, connections: connectionsPerNode, group: group)
        }
        health = Mutex(Array(repeating: .healthy, count: manifest.validators))
    }

    deinit {
        for c in clients { c.close() }
        // Not the blocking shutdown: the last reference may go away on the event loop itself
        // (in an answer's callback), where waiting for the loop would deadlock.
        group.shutdownGracefully { _ in }
    }

    /// Each node's health, by index.
    public var nodeHealth: [NodeHealth] { health.withLock { $0 } }

    /// Whether `node` is healthy.
    public func isHealthy(_ node: Int) -> Bool { health.withLock { $0[node] == .healthy } }

    /// The next healthy node in turn (the next node in turn when none is).
    public func pickNode() -> Int {
        let healthy = health.withLock { $0.map { $0 == .healthy } }
        return nextNode.withLock { n in
            n = ClusterConnection.node(after: n, healthy: healthy)
            return n
        }
    }

    /// The first healthy node after `node`, in turn (the one right after it when none is).
    public func healthyNode(after node: Int) -> Int {
        ClusterConnection.node(after: node, healthy: health.withLock { $0.map { $0 == .healthy } })
    }

    static func node(after node: Int, healthy: [Bool]) -> Int {
        for k in 1...healthy.count where healthy[(node + k) % healthy.count] { return (node + k) % healthy.count }
        return (node + 1) % healthy.count
    }

    /// Calls `handler` with a node's index each time a healthy node is marked failed (replacing
    /// any handler set before; nil removes it).
    public func onNodeFailure(_ handler: (@Sendable (Int) -> Void)?) {
        failureHandler.withLock { $0 = handler }
    }

    /// Notes that a request to `node` failed with `error` (not an HTTP error answer): the node
    /// is stalled (`NoAnswerInTime`) or unreachable until a probe answers. A stalled node's
    /// connections are closed at once, so the requests still waiting on them fail now and can
    /// go to another node instead of each waiting out its own deadline. Returns whether the node
    /// was healthy until now.
    @discardableResult
    public func markFailed(_ node: Int, error: Error) -> Bool {
        let state: NodeHealth = error is NoAnswerInTime ? .stalled : .unreachable
        let changed = health.withLock { h in
            guard h[node] == .healthy else { return false }
            h[node] = state
            return true
        }
        guard changed else { return false }
        if state == .stalled { clients[node].close() }
        Task { [weak self] in await self?.probe(node) }
        failureHandler.withLock { $0 }?(node)
        return true
    }

    /// Asks `node` for its status every `probeInterval` until it answers, then marks it healthy.
    private func probe(_ node: Int) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: probeInterval)
            let answer = try? await clients[node].request(.GET, "/v1/status", deadline: requestDeadline).get()
            if answer?.status == 200 {
                health.withLock { $0[node] = .healthy }
                return
            }
        }
    }

    /// Posts a signed transaction to `node` (`/v1/tx`, or `/v1/tx?wait=commit`).
    /// The node waits up to 30 s for the commit, so such a request has 30 s more than the deadline.
    public func post(_ transaction: [UInt8], node: Int, waitForCommit: Bool = false) -> EventLoopFuture<HTTPAnswer> {
        clients[node].request(.POST, waitForCommit ? "/v1/tx?wait=commit" : "/v1/tx", body: transaction,
                              contentType: "application/octet-stream",
                              deadline: waitForCommit ? requestDeadline + .seconds(30) : requestDeadline)
    }

    /// Submits `transactions` to node `node` in one `POST /v1/txs` (binary); the answer is a
    /// `BatchAnswer` with one result per transaction, in order.
    public func post(batch transactions: [[UInt8]], node: Int) -> EventLoopFuture<HTTPAnswer> {
        clients[node].request(.POST, "/v1/txs", body: TransactionBatch(transactions).canonicalBytes,
                              contentType: "application/octet-stream", deadline: requestDeadline)
    }

    /// GET `path` from the first node that answers, starting with `preferred`; healthy nodes first.
    public func get<T: Decodable>(_ path: String, as type: T.Type, preferred: Int = 0) async throws -> T {
        var last: Error = ClusterError("no node answered GET \(path)")
        let order = (0..<clients.count).map { (preferred + $0) % clients.count }
        let healthy = health.withLock { $0 }
        for node in order.filter({ healthy[$0] == .healthy }) + order.filter({ healthy[$0] != .healthy }) {
            let answer: HTTPAnswer
            do { answer = try await clients[node].request(.GET, path, deadline: requestDeadline).get() } catch {
                markFailed(node, error: error)
                last = error
                continue
            }
            guard answer.status == 200 else {
                last = ClusterError("GET \(path) on node \(node): \(answer.errorCode)")
                continue
            }
            return try answer.decode(T.self)
        }
        throw last
    }

    /// Submits `transaction` and waits until it commits; throws unless it commits without error.
    @discardableResult
    public func submitAndWait(_ transaction: SignedTransaction) async throws -> ReceiptRecord {
        var lastError = "no node answered"
        for _ in 0..<clients.count {
            let node = pickNode()
            let answer: HTTPAnswer
            do { answer = try await post(transaction.canonicalBytes, node: node, waitForCommit: true).get() } catch {
                markFailed(node, error: error)
                lastError = "\(error)"
                continue
            }
            let kind = transaction.transaction.action.kind.name
            guard answer.status == 200 else {
                throw SubmitFailure(code: answer.errorCode, description: "\(kind) refused by node \(node): \(answer.errorCode)")
            }
            let result = try answer.decode(TransactionAnswer.self)
            guard let receipt = result.receipt else {
                throw SubmitFailure(code: "not_committed", description: "\(kind) \(result.txId) did not commit within the node's wait")
            }
            guard receipt.ok else {
                throw SubmitFailure(code: receipt.code ?? "unknown", description: "\(kind) \(result.txId) failed: \(receipt.code ?? "?") \(receipt.message ?? "")")
            }
            return receipt
        }
        throw SubmitFailure(code: "unreachable", description: "cannot submit: \(lastError)")
    }

    /// Waits until `node` has executed `height` (a read after a commit seen on another node).
    public func waitUntil(height: UInt64, node: Int = 0, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await clients[node].get("/v1/status", as: NodeStatus.self, deadline: requestDeadline).height < height {
            guard ContinuousClock.now < deadline else { throw ClusterError("node \(node) did not reach height \(height) within \(timeout)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The cluster's parameters (assets, markets, risk).
    public func parameters() async throws -> ChainParameters { try await get("/v1/params", as: ChainParameters.self) }

    /// Every market's current mark (its oracle while no mark is set).
    public func marks() async throws -> [Int64] {
        try await get("/v1/markets", as: [MarketView].self).map { $0.mark > 0 ? $0.mark : $0.oracle }
    }

    /// A key of the cluster's wallet (`DIR/wallet`), created when `create` and missing.
    public func walletKey(_ name: String, create: Bool = false) throws -> SigningKey {
        let keyring = Keyring(home: layout.walletHome)
        if create, (try? keyring.info(name: name)) == nil { _ = try keyring.create(name: name) }
        return try keyring.load(name: name)
    }
}

/// Nonces for one signer: milliseconds, strictly increasing (the ledger keeps each account's
/// 100 highest nonces and refuses repeats).
public struct NonceClock: Sendable {
    var last: UInt64 = 0
    public init() {}
    public mutating func next() -> UInt64 {
        last = max(UInt64(Date().timeIntervalSince1970 * 1000), last + 1)
        return last
    }
}

/// A transaction that was refused, failed in its block, or could not be delivered.
public struct SubmitFailure: Error, CustomStringConvertible, Equatable {
    /// The node's code (`target_healthy`, `nonce_rejected`, …), or `unreachable` / `not_committed`.
    public var code: String
    public var description: String
}
