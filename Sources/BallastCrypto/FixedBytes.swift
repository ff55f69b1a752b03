#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codec

/// A value of a fixed number of bytes held inline (no heap allocation), compared,
/// ordered and hashed by its content. Keys, signatures, addresses and digests are
/// all of this shape; they are map keys on the ledger's hot path, so they must not
/// allocate or hash slowly.
///
/// `Storage` is a tuple of integers whose memory holds the bytes in order.
public protocol FixedBytes: Hashable, Comparable, Sendable, CustomStringConvertible {
    associatedtype Storage: Sendable
    /// Number of bytes in a value.
    static var byteCount: Int { get }
    /// All-zero storage.
    static var zeroStorage: Storage { get }
    /// The bytes, in memory order.
    var storage: Storage { get set }
    init(storage: Storage)
}

extension FixedBytes {
    /// The value whose bytes are all zero.
    @inlinable public static var zero: Self { Self(storage: zeroStorage) }

    /// The value holding `bytes`, or nil when `bytes` has the wrong length.
    @inlinable
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == Self.byteCount else { return nil }
        var storage = Self.zeroStorage
        Swift.withUnsafeMutableBytes(of: &storage) { raw in
            var i = 0
            for b in bytes { raw[i] = b; i += 1 }
        }
        self.init(storage: storage)
    }

    /// The value whose bytes `fill` writes into a zeroed buffer of `byteCount` bytes.
    @inlinable
    public init(filling fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        var storage = Self.zeroStorage
        try Swift.withUnsafeMutableBytes(of: &storage, fill)
        self.init(storage: storage)
    }

    /// The value parsed from hex (optional `0x`), or a typed error.
    public init(hex: String) throws(HexError) {
        let bytes = try Hex.decode(hex, count: Self.byteCount)
        self.init(filling: { raw in raw.copyBytes(from: bytes) })
    }

    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: storage, body)
    }

    /// The bytes as an array.
    @inlinable public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Lower-case hex, without prefix.
    public var hex: String { withUnsafeBytes { Hex.encode($0) } }

    public var description: String { hex }

    @inlinable
    public static func == (a: Self, b: Self) -> Bool {
        // One memcmp over the inline words: these are the ledger's map keys.
        a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in memcmp(pa.baseAddress!, pb.baseAddress!, Self.byteCount) == 0 } }
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        // Whole words: Hasher's integer path is much faster than its byte-buffer one.
        withUnsafeBytes { raw in
            var i = 0
            while i + 8 <= Self.byteCount {
                hasher.combine(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                i += 8
            }
            if i + 4 <= Self.byteCount {
                hasher.combine(raw.loadUnaligned(fromByteOffset: i, as: UInt32.self))
                i += 4
            }
            while i < Self.byteCount {
                hasher.combine(raw[i])
                i += 1
            }
        }
    }

    /// The hash tables' hash of the value (what `Dictionary` and `Set` call): the words of the
    /// bytes folded through a keyed 64-bit mixer instead of SipHash. These values are the
    /// ledger's map keys (about fifteen lookups per order), and SipHash's setup and
    /// finalization cost more than the lookup itself. Keyed by the table's seed and Swift's
    /// per-process hashing seed (`WordHash.processKey`), so users cannot choose colliding keys.
    @inlinable
    public func _rawHashValue(seed: Int) -> Int {
        withUnsafeBytes { raw in
            var h = WordHash.processKey ^ UInt64(bitPattern: Int64(seed))
            var i = 0
            while i + 8 <= Self.byteCount {
                h = WordHash.mix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                i += 8
            }
            if i + 4 <= Self.byteCount {
                h = WordHash.mix(h ^ UInt64(raw.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
                i += 4
            }
            while i < Self.byteCount {
                h = WordHash.mix(h ^ UInt64(raw[i]))
                i += 1
            }
            return Int(truncatingIfNeeded: h)
        }
    }

    /// Lexicographic order of the bytes (the order of their hex strings).
    @inlinable
    public static func < (a: Self, b: Self) -> Bool {
        // A word at a time, read big-endian so that word order is byte order (addresses are
        // sorted on every block; almost every pair differs in the first word).
        a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                var i = 0
                while i + 8 <= Self.byteCount {
                    let x = UInt64(bigEndian: pa.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    let y = UInt64(bigEndian: pb.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    if x != y { return x < y }
                    i += 8
                }
                while i < Self.byteCount {
                    if pa[i] != pb[i] { return pa[i] < pb[i] }
                    i += 1
                }
                return false
            }
        }
    }
}

/// The keyed word mixing behind `FixedBytes`' table hash (and the ledger's other hot keys).
public enum WordHash {
    /// Swift's per-process hashing seed, read once through `Hasher`: random per process (fixed
    /// under SWIFT_DETERMINISTIC_HASHING=1), like every `Dictionary`'s layout. Tables keyed by
    /// it are for lookup only, never iterated, so it cannot reach any result.
    public static let processKey: UInt64 = {
        var hasher = Hasher()
        hasher.combine(0x6261_6C6C_6173_7421 as UInt64)
        return UInt64(truncatingIfNeeded: hasher.finalize())
    }()

    /// The splitmix64 finalizer: a bijective mix in which every input bit reaches every output bit.
    @inlinable @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }
}

/// An Ed25519 public key (32 bytes).
public struct PublicKey: FixedBytes {
    public typealias Storage = (UInt64, UInt64, UInt64, UInt64)
    public static let byteCount = 32
    public static let zeroStorage: Storage = (0, 0, 0, 0)
    public var storage: Storage
    @inlinable public init(storage: Storage) { self.storage = storage }
}

/// A detached Ed25519 signature (64 bytes).
public struct Signature: FixedBytes {
    public typealias Storage = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    public static let byteCount = 64
    public static let zeroStorage: Storage = (0, 0, 0, 0, 0, 0, 0, 0)
    public var storage: Storage
    @inlinable public init(storage: Storage) { self.storage = storage }
}

/// A BLAKE2b-256 digest (32 bytes): transaction ids, block hashes, state roots.
public struct Hash256: FixedBytes {
    public typealias Storage = (UInt64, UInt64, UInt64, UInt64)
    public static let byteCount = 32
    public static let zeroStorage: Storage = (0, 0, 0, 0)
    public var storage: Storage
    @inlinable public init(storage: Storage) { self.storage = storage }
}

/// An account address: the first 20 bytes of BLAKE2b-256(public key),
/// written `0x` + 40 hex digits (Ethereum-shaped, so exchange tooling can hold it).
public struct Address: FixedBytes {
    public typealias Storage = (UInt64, UInt64, UInt32)
    public static let byteCount = 20
    public static let zeroStorage: Storage = (0, 0, 0)
    public var storage: Storage
    @inlinable public init(storage: Storage) { self.storage = storage }

    /// The address of `publicKey`.
    public init(publicKey: PublicKey) {
        let digest = Blake2b.hash256(publicKey.bytes)
        self.init(filling: { raw in
            digest.withUnsafeBytes { d in raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: d[0..<20])) }
        })
    }

    /// `0x` + 40 lower-case hex digits.
    public var description: String { "0x" + hex }
}

extension PublicKey {
    /// The account address of this key.
    public var address: Address { Address(publicKey: self) }
}

// Fixed-size values are written as their raw bytes, with no length.
extension PublicKey: Canonical {}
extension Signature: Canonical {}
extension Hash256: Canonical {}
extension Address: Canonical {}

extension FixedBytes where Self: Canonical {
    @inlinable
    public func encode(to writer: inout ByteWriter) {
        withUnsafeBytes { writer.writeRaw($0) }
    }

    @inlinable
    public init(from reader: inout ByteReader) throws(CodecError) {
        let raw = try reader.readRaw(count: Self.byteCount)
        self.init(filling: { $0.copyMemory(from: raw) })
    }
}
