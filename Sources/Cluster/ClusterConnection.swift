import BallastCrypto
import Foundation
import Ledger
import NIOCore
import NIOPosix
import Node
import Synchronization
import Wallet

/// Pipelined HTTP clients of every node of a cluster, with the submit and query
/// calls the load generator and the keeper share.
public final class ClusterConnection: Sendable {
    public let manifest: ClusterManifest
    public let layout: ClusterLayout
    public let clients: [PipelinedHTTPClient]
    let group: MultiThreadedEventLoopGroup
    /// Until when (uptime nanoseconds) a node that did not answer is skipped.
    private let downUntil: Mutex<[UInt64]>
    private let nextNode = Mutex(0)

    /// Connections to every node of the cluster at `layout`, on one event loop thread.
    public init(layout: ClusterLayout, connectionsPerNode: Int = 4) throws {
        self.layout = layout
        let manifest = try ClusterManifest.load(layout)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.manifest = manifest
        self.group = group
        clients = (0..<manifest.validators).map {
            PipelinedHTTPClient(host: "127.0.0.1", port: manifest.rpcBasePort + $0, connections: connectionsPerNode, group: group)
        }
        downUntil = Mutex(Array(repeating: 0, count: manifest.validators))
    }

    deinit {
        for c in clients { c.close() }
        // Not the blocking shutdown: the last reference may go away on the event loop itself
        // (in an answer's callback), where waiting for the loop would deadlock.
        group.shutdownGracefully { _ in }
    }

    /// The next node in turn that has not failed in the last second.
    public func pickNode() -> Int {
        let now = DispatchTime.now().uptimeNanoseconds
        let down = downUntil.withLock { $0 }
        return nextNode.withLock { n in
            for _ in 0..<clients.count {
                n = (n + 1) % clients.count
                if down[n] <= now { return n }
            }
            n = (n + 1) % clients.count
            return n
        }
    }

    /// Marks `node` as not answering for a second.
    public func markDown(_ node: Int) {
        let until = DispatchTime.now().uptimeNanoseconds + 1_000_000_000
        downUntil.withLock { $0[node] = until }
    }

    /// Posts a signed transaction to `node` (`/v1/tx`, or `/v1/tx?wait=commit`).
    public func post(_ transaction: [UInt8], node: Int, waitForCommit: Bool = false) -> EventLoopFuture<HTTPAnswer> {
        clients[node].request(.POST, waitForCommit ? "/v1/tx?wait=commit" : "/v1/tx", body: transaction,
                              contentType: "application/octet-stream")
    }

    /// Submits `transactions` to node `node` in one `POST /v1/txs` (binary); the answer is a
    /// `BatchAnswer` with one result per transaction, in order.
    public func post(batch transactions: [[UInt8]], node: Int) -> EventLoopFuture<HTTPAnswer> {
        clients[node].request(.POST, "/v1/txs", body: TransactionBatch(transactions).canonicalBytes,
                              contentType: "application/octet-stream")
    }

    /// GET `path` from the first node that answers, starting with `preferred`.
    public func get<T: Decodable>(_ path: String, as type: T.Type, preferred: Int = 0) async throws -> T {
        var last: Error = ClusterError("no node answered GET \(path)")
        for k in 0..<clients.count {
            let node = (preferred + k) % clients.count
            do { return try await clients[node].get(path, as: T.self) } catch { last = error }
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
                markDown(node)
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
        while try await clients[node].get("/v1/status", as: NodeStatus.self).height < height {
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
