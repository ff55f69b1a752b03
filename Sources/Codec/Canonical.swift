/// A value with one canonical binary form.
public protocol CanonicalEncodable {
    func encode(to writer: inout ByteWriter)
}

/// A value that can be read back from its canonical binary form.
public protocol CanonicalDecodable {
    init(from reader: inout ByteReader) throws(CodecError)
}

public typealias Canonical = CanonicalEncodable & CanonicalDecodable

extension CanonicalEncodable {
    /// The canonical bytes of this value.
    @inlinable
    public var canonicalBytes: [UInt8] {
        var w = ByteWriter()
        encode(to: &w)
        return w.bytes
    }
}

extension CanonicalDecodable {
    /// Decodes a value that must take up all of `bytes`.
    @inlinable
    public init(canonicalBytes bytes: [UInt8]) throws(CodecError) {
        var result: Result<Self, CodecError>!
        bytes.withUnsafeBytes { raw in
            result = Result { () throws(CodecError) -> Self in try Self(canonicalRaw: raw) }
        }
        self = try result.get()
    }

    /// Decodes a value that must take up all of `raw`.
    @inlinable
    public init(canonicalRaw raw: UnsafeRawBufferPointer) throws(CodecError) {
        var reader = ByteReader(raw)
        let value = try Self(from: &reader)
        try reader.finish()
        self = value
    }
}

extension UInt8: Canonical {
    @inlinable public func encode(to w: inout ByteWriter) { w.write(self) }
    @inlinable public init(from r: inout ByteReader) throws(CodecError) { self = try r.readUInt8() }
}
extension UInt32: Canonical {
    @inlinable public func encode(to w: inout ByteWriter) { w.write(self) }
    @inlinable public init(from r: inout ByteReader) throws(CodecError) { self = try r.readUInt32() }
}
extension UInt64: Canonical {
    @inlinable public func encode(to w: inout ByteWriter) { w.write(self) }
    @inlinable public init(from r: inout ByteReader) throws(CodecError) { self = try r.readUInt64() }
}
extension Int64: Canonical {
    @inlinable public func encode(to w: inout ByteWriter) { w.write(self) }
    @inlinable public init(from r: inout ByteReader) throws(CodecError) { self = try r.readInt64() }
}
