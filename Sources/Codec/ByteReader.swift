/// Reads values in Ballast's canonical encoding, refusing anything that a
/// `ByteWriter` would not have produced: short input, non-minimal or oversize
/// lengths, bools other than 0/1, invalid UTF-8, unknown tags.
public struct ByteReader: ~Copyable {
    @usableFromInline let base: UnsafeRawBufferPointer
    @usableFromInline var offset: Int = 0

    /// Reads from `base`, which must stay valid while the reader is used.
    @inlinable
    public init(_ base: UnsafeRawBufferPointer) { self.base = base }

    /// Bytes not yet read.
    @inlinable public var remaining: Int { base.count - offset }

    /// Fails unless every byte has been read.
    @inlinable
    public func finish() throws(CodecError) {
        if remaining != 0 { throw .trailingBytes(count: remaining) }
    }

    @inlinable
    mutating func take(_ n: Int) throws(CodecError) -> UnsafeRawBufferPointer {
        guard n <= remaining else { throw .unexpectedEnd(needed: n, remaining: remaining) }
        let slice = UnsafeRawBufferPointer(rebasing: base[offset..<(offset + n)])
        offset += n
        return slice
    }

    @inlinable
    mutating func readLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws(CodecError) -> T {
        let raw = try take(MemoryLayout<T>.size)
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    @inlinable public mutating func readUInt8() throws(CodecError) -> UInt8 { try take(1)[0] }
    @inlinable public mutating func readUInt16() throws(CodecError) -> UInt16 { try readLittleEndian(UInt16.self) }
    @inlinable public mutating func readUInt32() throws(CodecError) -> UInt32 { try readLittleEndian(UInt32.self) }
    @inlinable public mutating func readUInt64() throws(CodecError) -> UInt64 { try readLittleEndian(UInt64.self) }
    @inlinable public mutating func readInt64() throws(CodecError) -> Int64 {
        Int64(bitPattern: try readLittleEndian(UInt64.self))
    }

    @inlinable
    public mutating func readBool(field: String) throws(CodecError) -> Bool {
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        case let b: throw .invalidValue(field: field, reason: "bool byte \(b) is not 0 or 1")
        }
    }

    /// An unsigned LEB128 length, minimal, at most `maximum`.
    @inlinable
    public mutating func readLength(field: String, maximum: Int) throws(CodecError) -> Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var count = 0
        while true {
            let byte = try readUInt8()
            count += 1
            let payload = UInt64(byte & 0x7f)
            // The 10th byte may carry only the top bit of a 64-bit value.
            if shift == 63 && payload > 1 { throw .lengthOverflow }
            value |= payload << shift
            if byte & 0x80 == 0 {
                // A final zero byte after the first means a shorter form existed.
                if byte == 0 && count > 1 { throw .nonMinimalLength }
                break
            }
            shift += 7
            if shift > 63 { throw .lengthOverflow }
        }
        guard value <= UInt64(maximum) else {
            throw .lengthTooLarge(field: field, length: value, maximum: maximum)
        }
        return Int(value)
    }

    /// `count` raw bytes (a fixed-size field).
    @inlinable
    public mutating func readRaw(count: Int) throws(CodecError) -> UnsafeRawBufferPointer { try take(count) }

    /// A length-prefixed byte string of at most `maximum` bytes.
    @inlinable
    public mutating func readBytes(field: String, maximum: Int) throws(CodecError) -> [UInt8] {
        let n = try readLength(field: field, maximum: maximum)
        return Array(try take(n))
    }

    /// A length-prefixed UTF-8 string of at most `maximum` bytes.
    @inlinable
    public mutating func readString(field: String, maximum: Int) throws(CodecError) -> String {
        let n = try readLength(field: field, maximum: maximum)
        let raw = try take(n)
        guard let s = String(validating: raw.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw .invalidValue(field: field, reason: "not valid UTF-8")
        }
        return s
    }

    /// Any canonical value.
    @inlinable
    public mutating func read<T: CanonicalDecodable>(_: T.Type = T.self) throws(CodecError) -> T {
        try T(from: &self)
    }

    /// An optional written by `ByteWriter.write(_: T?)`.
    @inlinable
    public mutating func readOptional<T: CanonicalDecodable>(_: T.Type = T.self, field: String) throws(CodecError) -> T? {
        switch try readUInt8() {
        case 0: return nil
        case 1: return try T(from: &self)
        case let tag: throw .unknownTag(type: "\(field) (optional)", tag: tag)
        }
    }

    /// A length-prefixed sequence of at most `maximum` values.
    @inlinable
    public mutating func readArray<T: CanonicalDecodable>(_: T.Type = T.self, field: String, maximum: Int) throws(CodecError) -> [T] {
        let n = try readLength(field: field, maximum: maximum)
        var out = [T]()
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try T(from: &self)) }
        return out
    }
}
