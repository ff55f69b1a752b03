import NIOCore

/// Why the frame layer refused a peer's bytes. Each case disconnects the peer.
public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A frame header announced more bytes than the configured maximum. Raised as
    /// soon as the 4-byte header is in, before any of the payload is buffered.
    case oversize(length: UInt32, maximum: Int)
    /// The connection ended in the middle of a frame.
    case truncated(bufferedBytes: Int)

    public var description: String {
        switch self {
        case .oversize(let length, let maximum):
            return "frame of \(length) bytes exceeds the maximum of \(maximum)"
        case .truncated(let buffered):
            return "connection ended inside a frame (\(buffered) bytes buffered)"
        }
    }
}

/// The framing every peer connection uses: a `UInt32` little-endian payload
/// length, then the payload.
public enum Frame {
    /// Bytes in a frame header.
    public static let headerSize = 4
    /// The default maximum payload size: 4 MiB.
    public static let defaultMaximumSize = 4 << 20

    /// Takes one complete frame's payload off the front of `buffer`, or returns nil
    /// (consuming nothing) when the frame is not complete yet.
    ///
    /// A pure function of the buffered bytes: the decoder handler, tests and fuzzers
    /// all go through it.
    public static func parse(_ buffer: inout ByteBuffer, maximumSize: Int) throws(FrameError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self) else {
            return nil
        }
        guard UInt64(length) <= UInt64(maximumSize) else {
            throw .oversize(length: length, maximum: maximumSize)
        }
        guard buffer.readableBytes - headerSize >= Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: headerSize)
        return buffer.readSlice(length: Int(length))
    }

    /// Appends `payload` to `buffer` as one frame.
    public static func write(payload: ByteBuffer, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(payload.readableBytes), endianness: .little)
        buffer.writeImmutableBuffer(payload)
    }
}

/// The largest frame a connection accepts right now. A peer that has not yet
/// proved its key gets a small limit (handshake messages are about 100 bytes), so
/// an unauthenticated connection cannot make us buffer megabytes; the handshake
/// raises it. Lives on the connection's event loop.
public final class FrameSizeLimit {
    /// The limit for handshake frames.
    public static let handshake = 1024
    public var value: Int

    public init(_ value: Int) { self.value = value }
}

/// Splits a byte stream into frame payloads (`Frame.parse`), for
/// `ByteToMessageHandler`. Throws `FrameError` on an oversize header or a stream
/// that ends inside a frame.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    private let limit: FrameSizeLimit

    /// The largest payload accepted.
    public var maximumSize: Int { limit.value }

    /// A decoder with a fixed limit.
    public init(maximumSize: Int = Frame.defaultMaximumSize) {
        self.limit = FrameSizeLimit(maximumSize)
    }

    /// A decoder whose limit someone else may change (see `FrameSizeLimit`).
    public init(limit: FrameSizeLimit) {
        self.limit = limit
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        try Frame.parse(&buffer, maximumSize: limit.value)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let frame = try Frame.parse(&buffer, maximumSize: limit.value) { return frame }
        if buffer.readableBytes > 0 { throw FrameError.truncated(bufferedBytes: buffer.readableBytes) }
        return nil
    }
}

/// Prefixes each outbound payload with its length. Refuses (fails the write of)
/// a payload above the maximum, which the receiving peer would reject anyway.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer

    /// The largest payload written.
    public let maximumSize: Int

    public init(maximumSize: Int = Frame.defaultMaximumSize) {
        self.maximumSize = maximumSize
    }

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        guard data.readableBytes <= maximumSize else {
            throw FrameError.oversize(length: UInt32(clamping: data.readableBytes), maximum: maximumSize)
        }
        Frame.write(payload: data, to: &out)
    }
}
