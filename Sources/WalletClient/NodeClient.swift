import Foundation
import Node
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Why a request to a node failed, worded for the person at the terminal.
public enum NodeClientError: Error, Equatable, CustomStringConvertible {
    /// `--node` is not an http(s) URL.
    case badURL(String)
    /// No HTTP answer at all: refused, timed out, name not found.
    case unreachable(url: String, reason: String)
    /// The node answered with its JSON error (`{"error":{"code","message"}}`).
    case rejected(status: Int, code: String, message: String)
    /// An answer that is not what the API documents (a proxy's HTML page, a truncated body).
    case badResponse(status: Int, reason: String)

    public var description: String {
        switch self {
        case .badURL(let url):
            return "bad node URL '\(url)': expected http://HOST:PORT"
        case .unreachable(let url, let reason):
            return "node \(url) is unreachable: \(reason) (is `ballast node start` running, and is --node its rpc address?)"
        case .rejected(let status, let code, let message):
            return "node refused (HTTP \(status), \(code)): \(message)"
        case .badResponse(let status, let reason):
            return "unexpected answer from the node (HTTP \(status)): \(reason)"
        }
    }

    /// Maps a non-2xx answer to an error: the node's own code and message when the body
    /// is its JSON error, otherwise the status and the start of the body.
    public static func from(status: Int, body: Data) -> NodeClientError {
        struct Envelope: Decodable { struct Inner: Decodable { var code: String; var message: String }; var error: Inner }
        if let envelope = try? JSONDecoder().decode(Envelope.self, from: body) {
            return .rejected(status: status, code: envelope.error.code, message: envelope.error.message)
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return .badResponse(status: status, reason: text.isEmpty ? "empty body" : text)
    }
}

/// An HTTP answer: status and body.
public struct NodeResponse: Sendable {
    public var status: Int
    public var body: Data
}

/// A client of one node's HTTP API (docs/api.md).
public struct NodeClient: Sendable {
    /// The node's base URL, without a trailing slash, e.g. `http://127.0.0.1:8080`.
    public let baseURL: String
    /// Seconds to wait for an answer; a submit with `wait` can take the node's 30 s commit wait.
    public var timeout: TimeInterval

    /// A client of the node at `url` (`http://HOST:PORT`; a bare `HOST:PORT` means http).
    public init(url: String, timeout: TimeInterval = 60) throws(NodeClientError) {
        var text = url.trimmingCharacters(in: .whitespaces)
        if !text.contains("://") { text = "http://" + text }
        while text.hasSuffix("/") { text.removeLast() }
        guard let parsed = URL(string: text), let scheme = parsed.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty,
              parsed.path.isEmpty, parsed.query == nil
        else { throw .badURL(url) }
        baseURL = text
        self.timeout = timeout
    }

    /// GET `path` (e.g. `/v1/status`) and decode the JSON answer.
    public func get<T: Decodable>(_ path: String, as type: T.Type = T.self) async throws(NodeClientError) -> T {
        try decode(try await send("GET", path, body: nil), as: type)
    }

    /// GET `path` and return the raw JSON body of a 2xx answer.
    public func getJSON(_ path: String) async throws(NodeClientError) -> Data {
        try await send("GET", path, body: nil).body
    }

    /// The node's status.
    public func status() async throws(NodeClientError) -> NodeStatus { try await get("/v1/status") }

    /// The path of a page of `address`'s history: at most `limit` events (the node's default
    /// when nil), older than the cursor `before` (a previous page's `next`).
    public static func historyPath(_ address: String, limit: Int? = nil, before: String? = nil) -> String {
        let escape = { (s: String) in s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }
        var query: [String] = []
        if let limit { query.append("limit=\(limit)") }
        if let before { query.append("before=\(escape(before))") }
        return "/v1/accounts/\(escape(address))/history" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// A page of `address`'s history, newest first.
    public func history(_ address: String, limit: Int? = nil, before: String? = nil) async throws(NodeClientError) -> HistoryPage {
        try await get(NodeClient.historyPath(address, limit: limit, before: before))
    }

    /// Submits a signed transaction's canonical bytes (as hex); with `wait`, the node
    /// holds the answer until the transaction commits (or its wait ends: status "pending").
    public func submit(_ transaction: [UInt8], wait: Bool) async throws(NodeClientError) -> (answer: TransactionAnswer, json: Data) {
        let hex = transaction.map { String(format: "%02x", $0) }.joined()
        let response = try await send("POST", wait ? "/v1/tx?wait=commit" : "/v1/tx", body: Data(hex.utf8))
        return (try decode(response, as: TransactionAnswer.self), response.body)
    }

    /// Sends one request; a 2xx answer is returned, anything else thrown as a `NodeClientError`.
    public func send(_ method: String, _ path: String, body: Data?) async throws(NodeClientError) -> NodeResponse {
        guard let url = URL(string: baseURL + path) else { throw .badURL(baseURL + path) }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        if let body {
            request.httpBody = body
            request.setValue("text/plain", forHTTPHeaderField: "Content-Type")
        }
        let base = baseURL
        let result: Result<NodeResponse, NodeClientError> = await withCheckedContinuation { continuation in
            let task = URLSession.shared.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(returning: .failure(.unreachable(url: base, reason: Self.reason(error))))
                } else if let http = response as? HTTPURLResponse {
                    continuation.resume(returning: .success(NodeResponse(status: http.statusCode, body: data ?? Data())))
                } else {
                    continuation.resume(returning: .failure(.badResponse(status: 0, reason: "not an HTTP answer")))
                }
            }
            task.resume()
        }
        let response = try result.get()
        guard (200..<300).contains(response.status) else { throw NodeClientError.from(status: response.status, body: response.body) }
        return response
    }

    private func decode<T: Decodable>(_ response: NodeResponse, as type: T.Type) throws(NodeClientError) -> T {
        do { return try JSONDecoder().decode(T.self, from: response.body) } catch {
            throw .badResponse(status: response.status, reason: "cannot read \(T.self): \(error)")
        }
    }

    /// The short reason of a transport error ("Connection refused", "timed out").
    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if ns.domain == NSURLErrorDomain {
            switch ns.code {
            case NSURLErrorTimedOut: return "timed out"
            case NSURLErrorCannotConnectToHost: return "connection refused"
            case NSURLErrorCannotFindHost: return "host not found"
            case NSURLErrorNetworkConnectionLost: return "connection lost"
            default: break
            }
        }
        return ns.localizedDescription
    }
}
