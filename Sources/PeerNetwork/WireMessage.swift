import Codec
import BallastCrypto
import NIOCore

/// The peer protocol's version. A peer whose hello states a version outside the
/// accepted range is dropped.
public enum ProtocolVersion {
    /// The version this build speaks.
    public static let current: UInt16 = 1
}

/// A fresh 32-byte random value each side sends in its hello; the peer proves
/// its key by signing it, so a proof is good for one connection only.
public struct Challenge: FixedBytes {
    public typealias Storage = (UInt64, UInt64, UInt64, UInt64)
    public static let byteCount = 32
    public static let zeroStorage: Storage = (0, 0, 0, 0)
    public var storage: Storage
    @inlinable public init(storage: Storage) { self.storage = storage }

    /// A challenge from the system's cryptographically secure generator
    /// (`getrandom` on Linux).
    public static func random() -> Challenge {
        var generator = SystemRandomNumberGenerator()
        return Challenge(storage: (generator.next(), generator.next(), generator.next(), generator.next()))
    }
}

extension Challenge: Canonical {}

/// The first message on a connection, sent by both sides at once.
public struct Hello: Canonical, Equatable, Sendable {
    /// The sender's protocol version.
    public var version: UInt16
    /// The genesis hash of the chain the sender validates.
    public var genesis: Hash256
    /// The validator key the sender claims (and proves in its `proof`).
    public var publicKey: PublicKey
    /// A fresh random value the receiver must sign.
    public var challenge: Challenge

    public init(version: UInt16, genesis: Hash256, publicKey: PublicKey, challenge: Challenge) {
        self.version = version
        self.genesis = genesis
        self.publicKey = publicKey
        self.challenge = challenge
    }

    public func encode(to w: inout ByteWriter) {
        w.write(version)
        w.write(genesis)
        w.write(publicKey)
        w.write(challenge)
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        version = try r.readUInt16()
        genesis = try r.read()
        publicKey = try r.read()
        challenge = try r.read()
    }
}

/// What a handshake signature covers. Binding both keys and the genesis hash
/// stops a proof made for one peer or chain from being used with another; the
/// verifier's fresh challenge stops it being replayed on a later connection.
public struct HandshakeTranscript: Sendable {
    /// Domain separation from every other signature in Ballast.
    public static let domainTag = "ballast/handshake/v1"

    public var genesis: Hash256
    /// The challenge the verifier sent.
    public var challenge: Challenge
    /// The key that signs.
    public var signer: PublicKey
    /// The key of the side that checks the signature.
    public var verifier: PublicKey

    public init(genesis: Hash256, challenge: Challenge, signer: PublicKey, verifier: PublicKey) {
        self.genesis = genesis
        self.challenge = challenge
        self.signer = signer
        self.verifier = verifier
    }

    /// The signed bytes: tag, genesis, challenge, signer key, verifier key.
    public var signingMessage: [UInt8] {
        var w = ByteWriter(capacity: 160)
        w.writeString(Self.domainTag)
        w.write(genesis)
        w.write(challenge)
        w.write(signer)
        w.write(verifier)
        return w.bytes
    }
}

/// One frame's content. The tag is the first payload byte; an application
/// message takes the rest of the frame with no length of its own.
///
/// The protocol on every connection, dialled or accepted:
///
/// 1. Both sides send `hello` at once (frames are at most 1 KiB until step 3).
/// 2. Each side checks the other's hello (version in range, same genesis, a
///    validator key other than its own, the key it dialled) and answers with a
///    `proof`: its Ed25519 signature over the `HandshakeTranscript` holding the
///    other side's challenge. An accepting side first turns away a duplicate
///    (see `PeerManager`) by closing instead.
/// 3. A proof that verifies over our own fresh challenge authenticates the peer;
///    frames may now be up to the configured maximum.
/// 4. Then `payload` and `ping` only, in either direction. Anything else, a
///    frame that does not decode, a frame over the limit, a handshake that takes
///    too long or a peer silent for three keep-alive intervals ends the connection,
///    with the reason logged.
///
/// The handshake authenticates the peer but does not encrypt or MAC the stream:
/// everything that matters on it (blocks, votes, transactions) is signed.
public enum WireMessage: Equatable, Sendable {
    /// Handshake, step 1: who I am and what you must sign.
    case hello(Hello)
    /// Handshake, step 2: my signature over your challenge (`HandshakeTranscript`).
    case proof(Signature)
    /// An opaque application message (consensus, mempool, sync...).
    case payload([UInt8])
    /// Keep-alive, sent when a connection has been write-idle; carries nothing.
    case ping

    enum Tag: UInt8 {
        case hello = 1, proof = 2, payload = 3, ping = 4
    }

    /// Writes the tag and content (without the frame header) into `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        switch self {
        case .hello(let hello):
            buffer.writeInteger(Tag.hello.rawValue)
            buffer.writeBytes(hello.canonicalBytes)
        case .proof(let signature):
            buffer.writeInteger(Tag.proof.rawValue)
            signature.withUnsafeBytes { _ = buffer.writeBytes($0) }
        case .payload(let bytes):
            buffer.writeInteger(Tag.payload.rawValue)
            buffer.writeBytes(bytes)
        case .ping:
            buffer.writeInteger(Tag.ping.rawValue)
        }
    }

    /// Bytes the encoding of this message takes (tag included).
    public var encodedSize: Int {
        switch self {
        case .hello: return 1 + 2 + 32 + 32 + 32
        case .proof: return 1 + Signature.byteCount
        case .payload(let bytes): return 1 + bytes.count
        case .ping: return 1
        }
    }

    /// Decodes one frame's payload, refusing unknown tags and trailing bytes.
    public init(frame: ByteBuffer) throws(CodecError) {
        var frame = frame
        guard let tagByte = frame.readInteger(as: UInt8.self) else {
            throw .unexpectedEnd(needed: 1, remaining: 0)
        }
        guard let tag = Tag(rawValue: tagByte) else { throw .unknownTag(type: "WireMessage", tag: tagByte) }
        switch tag {
        case .payload:
            self = .payload(frame.readBytes(length: frame.readableBytes) ?? [])
        case .ping:
            guard frame.readableBytes == 0 else { throw .trailingBytes(count: frame.readableBytes) }
            self = .ping
        case .hello:
            self = .hello(try Self.decodeRest(frame))
        case .proof:
            self = .proof(try Self.decodeRest(frame))
        }
    }

    /// A canonical value that must take up the rest of `frame`.
    private static func decodeRest<T: CanonicalDecodable>(_ frame: ByteBuffer) throws(CodecError) -> T {
        let result = frame.withUnsafeReadableBytes { raw in
            Result { () throws(CodecError) -> T in try T(canonicalRaw: raw) }
        }
        return try result.get()
    }
}
