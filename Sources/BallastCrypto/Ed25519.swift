import CSodium

/// Why key material was refused.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    case wrongSeedLength(Int)

    public var description: String {
        switch self {
        case .wrongSeedLength(let n): return "an Ed25519 seed is 32 bytes, got \(n)"
        }
    }
}

/// An Ed25519 signing key (libsodium's `crypto_sign_*`, RFC 8032).
///
/// Holds the 32-byte seed and libsodium's 64-byte expanded secret key. The secret
/// is kept in a class so that it is wiped (`sodium_memzero`) when the last
/// reference goes.
public struct SigningKey: Sendable {
    private final class Secret: @unchecked Sendable {
        // Written once in init, then only read: safe to share across threads.
        var bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        deinit { bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) } }
    }

    private let secret: Secret
    /// The public half.
    public let publicKey: PublicKey

    /// The key derived from a 32-byte seed (RFC 8032's private key).
    public init(seed: [UInt8]) throws(CryptoError) {
        guard seed.count == 32 else { throw .wrongSeedLength(seed.count) }
        Sodium.ensureReady()
        var sk = [UInt8](repeating: 0, count: 64)
        let pk = PublicKey(filling: { pkOut in
            _ = crypto_sign_seed_keypair(pkOut.baseAddress!.assumingMemoryBound(to: UInt8.self), &sk, seed)
        })
        self.secret = Secret(sk)
        self.publicKey = pk
    }

    /// A new key from libsodium's system randomness (`randombytes_buf`).
    public static func generate() -> SigningKey {
        Sodium.ensureReady()
        var seed = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&seed, 32)
        defer { seed.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) } }
        // The seed has the right length by construction.
        guard let key = try? SigningKey(seed: seed) else { preconditionFailure("32-byte seed refused") }
        return key
    }

    /// The 32-byte seed this key was made from (the first half of libsodium's secret key).
    public var seed: [UInt8] { Array(secret.bytes[0..<32]) }

    /// The address of the public key.
    public var address: Address { publicKey.address }

    /// A detached signature over `message`.
    public func sign(_ message: [UInt8]) -> Signature {
        message.withUnsafeBytes { sign($0) }
    }

    /// A detached signature over the bytes at `message`.
    public func sign(_ message: UnsafeRawBufferPointer) -> Signature {
        Signature(filling: { out in
            _ = crypto_sign_detached(
                out.baseAddress!.assumingMemoryBound(to: UInt8.self), nil,
                message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                secret.bytes)
        })
    }
}

extension PublicKey {
    /// Whether `signature` is a valid Ed25519 signature by this key over `message`.
    /// libsodium's verification is reentrant: call it from as many threads as you like.
    public func verify(_ signature: Signature, for message: [UInt8]) -> Bool {
        message.withUnsafeBytes { verify(signature, for: $0) }
    }

    /// Whether `signature` is valid over the bytes at `message`.
    public func verify(_ signature: Signature, for message: UnsafeRawBufferPointer) -> Bool {
        Sodium.ensureReady()
        return signature.withUnsafeBytes { sig in
            withUnsafeBytes { pk in
                crypto_sign_verify_detached(
                    sig.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                    pk.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
            }
        }
    }
}
