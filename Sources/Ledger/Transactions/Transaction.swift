import Codec
import BallastCrypto

/// The signed part of a transaction: who, which chain, which nonce, what.
public struct Transaction: Hashable, Sendable {
    /// Longest chain id, in UTF-8 bytes.
    public static let maxChainIDLength = 64
    /// Domain tag that starts every signed transaction message, so that a
    /// transaction signature can never be replayed as a vote or a handshake.
    public static let signingDomain: [UInt8] = Array("ballast/tx/v1".utf8)

    public var chainID: String
    public var signer: PublicKey
    /// Milliseconds, unique per signer (Hyperliquid's nonce rule; see docs/margin.md).
    public var nonce: UInt64
    public var action: Action

    public init(chainID: String, signer: PublicKey, nonce: UInt64, action: Action) {
        self.chainID = chainID
        self.signer = signer
        self.nonce = nonce
        self.action = action
    }

    /// The account that sends this transaction.
    public var sender: Address { signer.address }

    /// The exact bytes the signer signs: domain tag, length-prefixed chain id,
    /// signer, nonce, action.
    public var signingMessage: [UInt8] {
        var w = ByteWriter(capacity: 160)
        w.writeRaw(Transaction.signingDomain)
        w.writeString(chainID)
        w.write(signer)
        w.write(nonce)
        w.write(action)
        return w.bytes
    }

    /// Signs with `key`, which must be the signer's key.
    public func signed(with key: SigningKey) -> SignedTransaction {
        precondition(key.publicKey == signer, "signing key does not match the transaction's signer")
        return SignedTransaction(transaction: self, signature: key.sign(signingMessage))
    }
}

/// Why a transaction's envelope was refused before it reached the ledger.
public enum TransactionError: Error, Equatable, Sendable, CustomStringConvertible {
    case wrongChain(expected: String, actual: String)
    case badSignature

    public var code: String {
        switch self {
        case .wrongChain: return "wrong_chain"
        case .badSignature: return "bad_signature"
        }
    }

    public var description: String {
        switch self {
        case .wrongChain(let expected, let actual): return "transaction is for chain '\(actual)', this is '\(expected)'"
        case .badSignature: return "signature does not verify for the signer's key"
        }
    }
}

/// A transaction with its Ed25519 signature: what travels, is stored and is hashed.
///
/// Canonical layout: version byte (1), chain id (LEB128 length + UTF-8), signer
/// (32), nonce (u64 LE), action (tag + fields), signature (64).
public struct SignedTransaction: Hashable, Sendable {
    public static let version: UInt8 = 1

    public var transaction: Transaction
    public var signature: Signature

    public init(transaction: Transaction, signature: Signature) {
        self.transaction = transaction
        self.signature = signature
    }

    /// Transaction id: BLAKE2b-256 of the canonical encoding.
    public var id: Hash256 { Blake2b.hash256(canonicalBytes) }

    /// Whether the signature verifies over the signing message (any chain).
    public var hasValidSignature: Bool {
        transaction.signer.verify(signature, for: transaction.signingMessage)
    }

    /// `hasValidSignature` for a transaction decoded from `canonicalBytes`: the signing message is
    /// the domain tag followed by those bytes without their version byte and signature, so it is
    /// copied from them instead of encoding the transaction again (a node checks the signature of
    /// every transaction it admits, from the bytes it received).
    public func hasValidSignature(canonicalBytes bytes: [UInt8]) -> Bool {
        guard bytes.count > 1 + Signature.byteCount, bytes[0] == SignedTransaction.version else { return false }
        var message = Transaction.signingDomain
        message.append(contentsOf: bytes[1..<(bytes.count - Signature.byteCount)])
        return transaction.signer.verify(signature, for: message)
    }

    /// Checks the chain id, then the signature.
    public func verify(chainID: String) throws(TransactionError) {
        guard transaction.chainID == chainID else {
            throw .wrongChain(expected: chainID, actual: transaction.chainID)
        }
        guard hasValidSignature else { throw .badSignature }
    }
}

extension SignedTransaction: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(SignedTransaction.version)
        w.writeString(transaction.chainID)
        w.write(transaction.signer)
        w.write(transaction.nonce)
        w.write(transaction.action)
        w.write(signature)
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        let version = try r.readUInt8()
        guard version == SignedTransaction.version else {
            throw .unsupportedVersion(type: "SignedTransaction", version: version)
        }
        let chainID = try r.readString(field: "chainId", maximum: Transaction.maxChainIDLength)
        let signer: PublicKey = try r.read()
        let nonce = try r.readUInt64()
        let action: Action = try r.read()
        let signature: Signature = try r.read()
        self.init(transaction: Transaction(chainID: chainID, signer: signer, nonce: nonce, action: action),
                  signature: signature)
    }
}

/// JSON form: `{"chainId", "signer", "nonce", "action", "signature"}`.
extension SignedTransaction: Codable {
    enum CodingKeys: String, CodingKey { case chainId, signer, nonce, action, signature }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let chainID = try c.decode(String.self, forKey: .chainId)
        guard chainID.utf8.count <= Transaction.maxChainIDLength else {
            throw DecodingError.dataCorruptedError(forKey: .chainId, in: c, debugDescription: "longer than \(Transaction.maxChainIDLength) bytes")
        }
        self.init(
            transaction: Transaction(
                chainID: chainID,
                signer: try c.decode(PublicKey.self, forKey: .signer),
                nonce: try c.decode(UInt64.self, forKey: .nonce),
                action: try c.decode(Action.self, forKey: .action)),
            signature: try c.decode(Signature.self, forKey: .signature))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(transaction.chainID, forKey: .chainId)
        try c.encode(transaction.signer, forKey: .signer)
        try c.encode(transaction.nonce, forKey: .nonce)
        try c.encode(transaction.action, forKey: .action)
        try c.encode(signature, forKey: .signature)
    }
}
