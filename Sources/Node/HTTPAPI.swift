import BallastCrypto
import Codec
import Foundation
import Hummingbird
import Ledger
import Mempool
import NIOCore
import Synchronization

/// An API error: HTTP status, a stable code and a message, sent as
/// `{"error": {"code": ..., "message": ...}}`.
public struct APIError: HTTPResponseError {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse(ErrorBody(error: .init(code: code, message: message)), status: status)
    }
}

/// `{"error": {"code": ..., "message": ...}}`
struct ErrorBody: Codable {
    var error: Inner
    struct Inner: Codable {
        var code: String
        var message: String
    }
}

/// A market's book as the API shows it: levels best first on each side.
public struct BookView: Codable, Sendable, Equatable {
    public struct Level: Codable, Sendable, Equatable {
        public var price: Int64
        public var size: Int64
        public var orders: Int
    }
    public var market: MarketID
    public var bids: [Level]
    public var asks: [Level]

    init(market: MarketID, depth: OrderBook.Depth) {
        self.market = market
        bids = depth.bids.map { Level(price: $0.price, size: $0.size, orders: $0.orders) }
        asks = depth.asks.map { Level(price: $0.price, size: $0.size, orders: $0.orders) }
    }
}

/// What `POST /v1/tx` and `GET /v1/tx/{id}` answer: the id, `committed` with the
/// receipt, or `pending` (admitted to the mempool, not yet in a committed block).
public struct TransactionAnswer: Codable, Sendable, Equatable {
    public var txId: String
    public var status: String
    public var receipt: ReceiptRecord?

    init(id: Hash256, receipt: ReceiptRecord?) {
        txId = "0x" + id.hex
        status = receipt == nil ? "pending" : "committed"
        self.receipt = receipt
    }
}

/// One item of a JSON `POST /v1/txs` body: a hex string or a transaction's JSON form.
enum BatchItem: Decodable {
    case hex(String)
    case canonical([UInt8])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .hex(text)
        } else {
            self = .canonical(try container.decode(SignedTransaction.self).canonicalBytes)
        }
    }
}

/// What `POST /v1/txs` answers: how many were admitted and, in input order, each
/// transaction's id (admitted, pending) or its admission error.
public struct BatchAnswer: Codable, Sendable, Equatable {
    /// One transaction's outcome.
    public struct Item: Codable, Sendable, Equatable {
        public var txId: String?
        public var error: BatchError?
    }

    /// An admission error: its stable code and a message.
    public struct BatchError: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
    }

    public var accepted: Int
    public var results: [Item]

    init(_ outcomes: [Result<Hash256, AdmissionError>]) {
        results = outcomes.map { outcome in
            switch outcome {
            case .success(let id): return Item(txId: "0x" + id.hex, error: nil)
            case .failure(let e): return Item(txId: nil, error: BatchError(code: e.code, message: e.description))
            }
        }
        accepted = results.filter { $0.error == nil }.count
    }
}

/// The chain's fixed parameters (`GET /v1/params`): the genesis without its opening
/// balances, so clients know each asset's decimals and each market's base, tick and lot.
/// Asset and market ids are indices into `assets` and `markets`.
public struct ChainParameters: Codable, Sendable, Equatable {
    public var chainId: String
    public var genesisTimeMs: Int64
    public var validators: [Validator]
    public var assets: [AssetConfig]
    public var markets: [MarketConfig]
    public var risk: RiskParameters

    public init(_ genesis: Genesis) {
        chainId = genesis.chainID
        genesisTimeMs = genesis.genesisTimeMs
        validators = genesis.validators
        assets = genesis.assets
        markets = genesis.markets
        risk = genesis.risk
    }
}

/// A request context that knows the client's address, for rate limiting.
public struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

func jsonResponse<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// Turns every error into a JSON 4xx/5xx answer: API errors as they are, the
/// router's own (unknown route, wrong method) with a code, anything else as 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let code: String
            switch error.status {
            case .notFound: code = "not_found"
            case .methodNotAllowed: code = "method_not_allowed"
            case .contentTooLarge: code = "body_too_large"
            default: code = "bad_request"
            }
            let message = error.body ?? (error.status == .notFound ? "no route \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            throw APIError(error.status, code, message)
        } catch {
            throw APIError(.internalServerError, "internal", "\(error)")
        }
    }
}

/// Per-client token bucket: `rate` requests a second, bursts up to `rate`.
final class RateLimiter: Sendable {
    private struct Bucket { var tokens: Double; var last: ContinuousClock.Instant }
    private let buckets = Mutex<[String: Bucket]>([:])
    let rate: Double

    init(perSecond: Int) { rate = Double(perSecond) }

    func allow(_ client: String) -> Bool {
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            if buckets.count > 10_000 { buckets.removeAll() }  // bounded memory under address churn
            var b = buckets[client] ?? Bucket(tokens: rate, last: now)
            let elapsed = now - b.last
            b.tokens = min(rate, b.tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            b.last = now
            let allowed = b.tokens >= 1
            if allowed { b.tokens -= 1 }
            buckets[client] = b
            return allowed
        }
    }
}

struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        guard limiter.allow(client) else {
            throw APIError(.tooManyRequests, "rate_limited", "more than \(Int(limiter.rate)) requests a second from \(client)")
        }
        return try await next(request, context)
    }
}

/// The node's HTTP API (docs/api.md).
public enum HTTPAPI {
    /// Most history events in one page.
    public static let maxHistoryLimit = 1_000
    /// The longest `GET /v1/blocks/{height}/receipts?wait=` (ms).
    public static let maxBlockWaitMs: UInt64 = 10_000

    /// The router for `runtime`.
    public static func router(runtime: ValidatorRuntime, config: NodeConfig) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(perSecond: config.rpc.rateLimitPerSecond)))
        let maxBody = config.rpc.maxBodyBytes

        router.post("/v1/tx") { request, context -> Response in
            let body = try await readBody(request, limit: maxBody)
            let bytes = try parseTransaction(body, binary: isBinary(request))
            let id: Hash256
            do { id = try await runtime.submit(bytes) } catch let error as AdmissionError {
                throw APIError(.badRequest, error.code, error.description)
            }
            if request.uri.queryParameters["wait"] == "commit" {
                if let receipt = await runtime.waitForCommit(id, timeout: .seconds(30)) {
                    return jsonResponse(TransactionAnswer(id: id, receipt: receipt))
                }
            }
            return jsonResponse(TransactionAnswer(id: id, receipt: nil), status: .accepted)
        }

        router.post("/v1/txs") { request, context -> Response in
            let body = try await readBody(request, limit: maxBody)
            let batch = try parseBatch(body, binary: isBinary(request))
            return jsonResponse(BatchAnswer(await runtime.submit(batch: batch)))
        }

        router.get("/v1/tx/:id") { request, context -> Response in
            let id: Hash256
            do { id = try Hash256(hex: try context.parameters.require("id")) } catch let e as HexError {
                throw APIError(.badRequest, "bad_tx_id", "transaction id: \(e)")
            }
            if let receipt = try await runtime.receipt(id) {
                return jsonResponse(TransactionAnswer(id: id, receipt: receipt))
            }
            if runtime.mempool.contains(id) {
                return jsonResponse(TransactionAnswer(id: id, receipt: nil))
            }
            throw APIError(.notFound, "unknown_tx", "no committed or pending transaction 0x\(id.hex)")
        }

        router.get("/metrics") { _, _ -> Response in
            await runtime.refreshMetrics()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(bytes: runtime.metrics.render())))
        }

        router.get("/v1/status") { _, _ -> Response in
            jsonResponse(await runtime.status())
        }

        router.get("/v1/accounts/:address") { request, context -> Response in
            let address = try parseAddress(try context.parameters.require("address"))
            do {
                let summary = try await runtime.withLedger { ledger throws(LedgerError) in try ledger.accountSummary(address) }
                return jsonResponse(summary)
            } catch let error as LedgerError {
                throw APIError(.unprocessableContent, error.code, error.description)
            }
        }

        router.get("/v1/accounts/:address/history") { request, context -> Response in
            let address = try parseAddress(try context.parameters.require("address"))
            let query = request.uri.queryParameters
            var limit = 100
            if let text = query["limit"] {
                guard let n = Int(String(text)), (1...HTTPAPI.maxHistoryLimit).contains(n) else {
                    throw APIError(.badRequest, "bad_limit", "limit must be 1 to \(HTTPAPI.maxHistoryLimit)")
                }
                limit = n
            }
            var cursor: HistoryCursor?
            if let text = query["before"] {
                guard let parsed = HistoryCursor(String(text)) else {
                    throw APIError(.badRequest, "bad_cursor", "before must be a cursor HEIGHT-SEQUENCE from a previous page's next, e.g. 57-3")
                }
                cursor = parsed
            }
            return jsonResponse(try await runtime.history(of: address, before: cursor, limit: limit))
        }

        router.get("/v1/params") { _, _ -> Response in
            jsonResponse(ChainParameters(runtime.genesis))
        }

        router.get("/v1/markets") { _, _ -> Response in
            jsonResponse(await runtime.withLedger { $0.marketViews() })
        }

        router.get("/v1/markets/:id/book") { request, context -> Response in
            guard let market = MarketID(try context.parameters.require("id")) else {
                throw APIError(.badRequest, "bad_market", "market id must be a non-negative integer")
            }
            let levels = Int(request.uri.queryParameters["levels"].map(String.init) ?? "20") ?? -1
            guard (1...500).contains(levels) else { throw APIError(.badRequest, "bad_levels", "levels must be 1 to 500") }
            guard let depth = await runtime.withLedger({ $0.depth(market, levels: levels) }) else {
                throw APIError(.notFound, "unknown_market", "no market \(market)")
            }
            return jsonResponse(BookView(market: market, depth: depth))
        }

        router.get("/v1/pools") { _, _ -> Response in
            jsonResponse(await runtime.withLedger { $0.poolViews() })
        }

        router.get("/v1/blocks/:height") { _, context -> Response in
            guard let height = UInt64(try context.parameters.require("height")) else {
                throw APIError(.badRequest, "bad_height", "height must be a non-negative integer")
            }
            guard let view = try await runtime.blockView(at: height) else {
                throw APIError(.notFound, "unknown_block", "no committed block at height \(height)")
            }
            return jsonResponse(view)
        }

        router.get("/v1/blocks/:height/receipts") { request, context -> Response in
            guard let height = UInt64(try context.parameters.require("height")) else {
                throw APIError(.badRequest, "bad_height", "height must be a non-negative integer")
            }
            let unknown = APIError(.notFound, "unknown_block", "no committed block at height \(height)")
            // `?wait=MS`: a block not executed yet is waited for, up to MS (a follower's long poll).
            if let text = request.uri.queryParameters["wait"] {
                guard let ms = UInt64(String(text)), ms <= HTTPAPI.maxBlockWaitMs else {
                    throw APIError(.badRequest, "bad_wait", "wait must be 0 to \(HTTPAPI.maxBlockWaitMs) milliseconds")
                }
                if ms > 0 { await runtime.waitForBlock(height, timeoutMs: ms) }
            }
            // `Accept: application/octet-stream`: the binary form (`BlockReceipts`), copied from the index.
            if request.headers[.accept]?.contains("application/octet-stream") == true {
                guard let bytes = try runtime.blockReceiptBytes(at: height) else { throw unknown }
                return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
            guard let receipts = try await runtime.blockReceipts(at: height) else { throw unknown }
            return jsonResponse(receipts)
        }

        InfoAPI.register(on: router, runtime: runtime, maxBody: maxBody)   // Hyperliquid's POST /info
        return router
    }

    /// Reads a request body of at most `limit` bytes.
    static func readBody(_ request: Request, limit: Int) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "request body exceeds \(limit) bytes")
        }
    }

    /// Most transactions in one `POST /v1/txs`.
    public static let maxBatchTransactions = TransactionBatch.maxCount

    /// Whether the request's body is raw canonical bytes (`Content-Type: application/octet-stream`).
    static func isBinary(_ request: Request) -> Bool {
        request.headers[.contentType]?.hasPrefix("application/octet-stream") == true
    }

    /// A transaction given as its canonical bytes (a binary body), or as hex (optionally `0x`,
    /// optionally a JSON string) or its JSON form.
    static func parseTransaction(_ body: [UInt8], binary: Bool = false) throws -> [UInt8] {
        if binary {
            if body.isEmpty { throw APIError(.badRequest, "empty_body", "send a signed transaction's canonical bytes") }
            return body
        }
        let text = trimmed(body)
        guard let first = text.first else { throw APIError(.badRequest, "empty_body", "send a signed transaction as hex or JSON") }
        if first == UInt8(ascii: "{") {
            do {
                return try JSONDecoder().decode(SignedTransaction.self, from: Data(text)).canonicalBytes
            } catch {
                throw APIError(.badRequest, "bad_json", "transaction JSON: \(describeJSONError(error))")
            }
        }
        let quoted = first == UInt8(ascii: "\"") && text.count >= 2 && text.last == UInt8(ascii: "\"")
        let hex = quoted ? text.dropFirst().dropLast() : text[...]
        do { return try Hex.decode(String(decoding: hex, as: UTF8.self)) } catch {
            throw APIError(.badRequest, "bad_hex", "transaction hex: \(error)")
        }
    }

    /// The transactions of a `POST /v1/txs` body: binary, the canonical list (a LEB128 count, then
    /// each transaction as LEB128 length and bytes, the form validators gossip); otherwise a JSON
    /// array whose items are each a hex string or a transaction's JSON form.
    static func parseBatch(_ body: [UInt8], binary: Bool) throws -> [[UInt8]] {
        let batch: [[UInt8]]
        if binary {
            do { batch = try TransactionBatch(canonicalBytes: body).transactions } catch {
                throw APIError(.badRequest, "bad_batch", "binary batch: \(error)")
            }
        } else {
            let items: [BatchItem]
            do { items = try JSONDecoder().decode([BatchItem].self, from: Data(trimmed(body))) } catch {
                throw APIError(.badRequest, "bad_json", "batch: \(describeJSONError(error))")
            }
            guard items.count <= maxBatchTransactions else {
                throw APIError(.badRequest, "batch_too_large", "a batch holds at most \(maxBatchTransactions) transactions; this one has \(items.count)")
            }
            batch = try items.enumerated().map { i, item in
                switch item {
                case .canonical(let bytes): return bytes
                case .hex(let text):
                    do { return try Hex.decode(text) } catch { throw APIError(.badRequest, "bad_hex", "transaction [\(i)] hex: \(error)") }
                }
            }
        }
        if batch.isEmpty { throw APIError(.badRequest, "empty_batch", "send at least one transaction") }
        return batch
    }

    /// `body` without leading and trailing ASCII white space.
    private static func trimmed(_ body: [UInt8]) -> ArraySlice<UInt8> {
        func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }
        guard let start = body.firstIndex(where: { !isSpace($0) }), let end = body.lastIndex(where: { !isSpace($0) }) else { return [] }
        return body[start...end]
    }

    static func parseAddress(_ text: String) throws -> Address {
        do { return try Address(hex: text) } catch {
            throw APIError(.badRequest, "bad_address", "address must be 0x + 40 hex digits: \(error)")
        }
    }
}
