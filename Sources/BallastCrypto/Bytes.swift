import CSodium

/// Hex encoding and decoding, lower-case, with or without a `0x` prefix.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lower-case hex of `bytes`, without prefix.
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex (either case, optional `0x` prefix, surrounding white space ignored).
    public static func decode(_ text: String) throws(HexError) -> [UInt8] {
        var utf8 = Substring(text).utf8.drop(while: { $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 })
        while let last = utf8.last, last == 32 || last == 10 || last == 13 || last == 9 { utf8 = utf8.dropLast() }
        if utf8.starts(with: [48, 120]) || utf8.starts(with: [48, 88]) { utf8 = utf8.dropFirst(2) }
        guard utf8.count % 2 == 0 else { throw .oddLength }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var high: UInt8? = nil
        var offset = 0
        for c in utf8 {
            guard let v = nibble(c) else { throw .invalidCharacter(offset: offset) }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
            offset += 1
        }
        return out
    }

    /// Decodes hex that must be exactly `count` bytes long.
    public static func decode(_ text: String, count: Int) throws(HexError) -> [UInt8] {
        let bytes = try decode(text)
        guard bytes.count == count else { throw .wrongLength(expected: count, actual: bytes.count) }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
}

/// Why a hex string was refused.
public enum HexError: Error, Equatable, Sendable, CustomStringConvertible {
    case oddLength
    case invalidCharacter(offset: Int)
    case wrongLength(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .oddLength: return "hex has an odd number of digits"
        case .invalidCharacter(let offset): return "invalid hex character at offset \(offset)"
        case .wrongLength(let expected, let actual): return "expected \(expected) bytes of hex, got \(actual)"
        }
    }
}

/// Compares two byte strings in time that depends only on their lengths
/// (libsodium's `sodium_memcmp`), for secrets and MACs.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    Sodium.ensureReady()
    return a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            sodium_memcmp(pa.baseAddress!, pb.baseAddress!, a.count) == 0
        }
    }
}
