import Foundation

/// The field path of a JSON decoding error, e.g. `p2p.peers[1].address`.
public func jsonPath(of error: Error) -> String {
    let path: [CodingKey]
    switch error as? DecodingError {
    case .dataCorrupted(let c)?: path = c.codingPath
    case .keyNotFound(let key, let c)?: path = c.codingPath + [key]
    case .typeMismatch(_, let c)?: path = c.codingPath
    case .valueNotFound(_, let c)?: path = c.codingPath
    default: return ""
    }
    var text = ""
    for key in path {
        if let i = key.intValue { text += "[\(i)]" } else { text += text.isEmpty ? key.stringValue : "." + key.stringValue }
    }
    return text
}

/// A short reason for a JSON decoding error.
public func jsonReason(of error: Error) -> String {
    switch error as? DecodingError {
    case .dataCorrupted(let c)?: return c.underlyingError.map { "not valid JSON (\($0.localizedDescription))" } ?? c.debugDescription
    case .keyNotFound?: return "missing"
    case .typeMismatch(let type, _)?: return "expected \(type)"
    case .valueNotFound(let type, _)?: return "expected \(type), found null"
    default: return "\(error)"
    }
}

/// `path: reason` for a JSON decoding error (just the reason when the error is at the top).
public func describeJSONError(_ error: Error) -> String {
    let path = jsonPath(of: error)
    return path.isEmpty ? jsonReason(of: error) : "\(path): \(jsonReason(of: error))"
}
