import CSodium

/// BLAKE2b (RFC 7693) through libsodium's `crypto_generichash`. Every hash in
/// Ballast is BLAKE2b-256.
public enum Blake2b {
    /// BLAKE2b-256 of `bytes`.
    public static func hash256(_ bytes: [UInt8]) -> Hash256 {
        bytes.withUnsafeBytes { hash256($0) }
    }

    /// BLAKE2b-256 of the bytes at `input`.
    public static func hash256(_ input: UnsafeRawBufferPointer) -> Hash256 {
        if input.count <= 128 { return hash256SingleBlock(input) }
        return hash256Sodium(input)
    }

    /// BLAKE2b-256 of the bytes at `input`, by libsodium (any length).
    static func hash256Sodium(_ input: UnsafeRawBufferPointer) -> Hash256 {
        Sodium.ensureReady()
        return Hash256(filling: { out in
            do {
                _ = crypto_generichash(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), 32,
                    input.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(input.count),
                    nil, 0)
            }
        })
    }

    /// BLAKE2b with an output of `outputLength` bytes (1...64), unkeyed.
    public static func hash(_ bytes: [UInt8], outputLength: Int) -> [UInt8] {
        precondition((1...64).contains(outputLength), "BLAKE2b output length must be 1...64")
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: outputLength)
        bytes.withUnsafeBytes { input in
            _ = crypto_generichash(
                &out, outputLength,
                input.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(input.count),
                nil, 0)
        }
        return out
    }
}

/// Incremental BLAKE2b-256, for hashing a value from several parts without
/// concatenating them first. libsodium's state is 64-byte aligned and opaque
/// to Swift, so it lives in its own allocation.
public struct Blake2bHasher: ~Copyable {
    private let state: OpaquePointer

    public init() {
        Sodium.ensureReady()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        state = OpaquePointer(raw)
        _ = crypto_generichash_init(state, nil, 0, 32)
    }

    deinit { UnsafeMutableRawPointer(state).deallocate() }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update<F: FixedBytes>(_ value: F) {
        value.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ input: UnsafeRawBufferPointer) {
        _ = crypto_generichash_update(
            state, input.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(input.count))
    }

    /// The digest; consumes the hasher.
    public consuming func finalize() -> Hash256 {
        Hash256(filling: { out in
            _ = crypto_generichash_final(state, out.baseAddress!.assumingMemoryBound(to: UInt8.self), 32)
        })
    }
}
