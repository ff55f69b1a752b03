/// Appends values in Ballast's canonical encoding: fixed-width little-endian
/// integers, LEB128 (unsigned, minimal) lengths, one byte per tag or bool.
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8] { storage }
    @usableFromInline var storage: [UInt8]

    public init(capacity: Int = 64) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    /// Forgets the bytes written, keeping the buffer (one writer reused for many values).
    public mutating func removeAll() { storage.removeAll(keepingCapacity: true) }

    /// Number of bytes written so far.
    public var count: Int { storage.count }

    /// Forgets the bytes written after the first `count` (undoes a value half written).
    public mutating func truncate(to count: Int) { storage.removeLast(storage.count - count) }

    @inlinable public mutating func write(_ value: UInt8) { storage.append(value) }
    @inlinable public mutating func write(_ value: Bool) { storage.append(value ? 1 : 0) }
    @inlinable public mutating func write(_ value: UInt16) { writeLittleEndian(value) }
    @inlinable public mutating func write(_ value: UInt32) { writeLittleEndian(value) }
    @inlinable public mutating func write(_ value: UInt64) { writeLittleEndian(value) }
    @inlinable public mutating func write(_ value: Int64) { writeLittleEndian(UInt64(bitPattern: value)) }

    @inlinable
    mutating func writeLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { storage.append(contentsOf: $0) }
    }

    /// An unsigned LEB128 length, minimally encoded.
    @inlinable
    public mutating func writeLength(_ length: Int) {
        var v = UInt64(length)
        while v >= 0x80 {
            storage.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        storage.append(UInt8(v))
    }

    /// Raw bytes with no length (for fixed-size fields).
    @inlinable
    public mutating func writeRaw(_ raw: UnsafeRawBufferPointer) { storage.append(contentsOf: raw) }

    /// Raw bytes with no length (for fixed-size fields and domain tags).
    @inlinable
    public mutating func writeRaw(_ raw: [UInt8]) { storage.append(contentsOf: raw) }

    /// A length-prefixed byte string.
    @inlinable
    public mutating func writeBytes(_ value: [UInt8]) {
        writeLength(value.count)
        storage.append(contentsOf: value)
    }

    /// A length-prefixed UTF-8 string.
    @inlinable
    public mutating func writeString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            writeLength(utf8.count)
            storage.append(contentsOf: utf8)
        }
    }

    /// Any canonical value.
    @inlinable
    public mutating func write<T: CanonicalEncodable>(_ value: T) { value.encode(to: &self) }

    /// An optional: tag 0 for none, tag 1 followed by the value.
    @inlinable
    public mutating func write<T: CanonicalEncodable>(_ value: T?) {
        if let value { storage.append(1); value.encode(to: &self) } else { storage.append(0) }
    }

    /// A length-prefixed sequence of `UInt64` (the same bytes as the generic `write(_:)` of an
    /// array): on a little-endian machine the elements are copied in one go, not one by one.
    @inlinable
    public mutating func write(_ values: [UInt64]) {
        writeLength(values.count)
        #if _endian(little)
        values.withUnsafeBytes { storage.append(contentsOf: $0) }
        #else
        for v in values { writeLittleEndian(v) }
        #endif
    }

    /// A length-prefixed sequence of values.
    @inlinable
    public mutating func write<T: CanonicalEncodable>(_ values: [T]) {
        writeLength(values.count)
        for v in values { v.encode(to: &self) }
    }
}
