/// Why a byte string was refused by the canonical decoder. Every decoding path
/// throws one of these; none traps.
public enum CodecError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended `needed` bytes short.
    case unexpectedEnd(needed: Int, remaining: Int)
    /// A complete value was decoded with `count` bytes still unread.
    case trailingBytes(count: Int)
    /// A LEB128 length used more bytes than its value needs.
    case nonMinimalLength
    /// A LEB128 length ran past 10 bytes or 64 bits.
    case lengthOverflow
    /// A length above the field's declared maximum.
    case lengthTooLarge(field: String, length: UInt64, maximum: Int)
    /// An enum tag this version does not know.
    case unknownTag(type: String, tag: UInt8)
    /// A format version this build does not know.
    case unsupportedVersion(type: String, version: UInt8)
    /// A value that is well-formed bytes but not a legal value (a bool other than
    /// 0 or 1, text that is not UTF-8, ...).
    case invalidValue(field: String, reason: String)

    public var description: String {
        switch self {
        case .unexpectedEnd(let needed, let remaining):
            return "input ends early: needed \(needed) bytes, \(remaining) left"
        case .trailingBytes(let count):
            return "\(count) trailing bytes after the value"
        case .nonMinimalLength:
            return "length is not minimally encoded"
        case .lengthOverflow:
            return "length does not fit in 64 bits"
        case .lengthTooLarge(let field, let length, let maximum):
            return "\(field): length \(length) exceeds the maximum \(maximum)"
        case .unknownTag(let type, let tag):
            return "\(type): unknown tag \(tag)"
        case .unsupportedVersion(let type, let version):
            return "\(type): unsupported version \(version)"
        case .invalidValue(let field, let reason):
            return "\(field): \(reason)"
        }
    }
}
