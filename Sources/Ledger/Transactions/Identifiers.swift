import Codec
import BallastCrypto

/// Index of an asset in genesis (`assets[i]`); 0 is USDC, the numeraire.
public typealias AssetID = UInt32
/// Index of a market in genesis (`markets[i]`).
public typealias MarketID = UInt32
/// Order id, assigned by the ledger from a chain-wide counter.
public typealias OrderID = UInt64

/// A trader's own 16-byte order id (Hyperliquid's `cloid`), written as `0x` + 32 hex digits.
public struct ClientOrderID: FixedBytes, Canonical, Codable {
    public typealias Storage = (UInt64, UInt64)
    public static let byteCount = 16
    public static let zeroStorage: Storage = (0, 0)
    public var storage: Storage
    @inlinable public init(storage: Storage) { self.storage = storage }

    public var description: String { "0x" + hex }
}

extension Address: Codable {}
extension PublicKey: Codable {}
extension Signature: Codable {}
extension Hash256: Codable {}

extension FixedBytes where Self: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(hex: text)
        } catch {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode("0x" + hex)
    }
}

/// A one-byte enum in the canonical encoding, and a lower-case name in JSON.
public protocol ByteEnum: RawRepresentable<UInt8>, CaseIterable, Canonical, Codable, Sendable, Hashable {
    /// The JSON name of each case.
    var name: String { get }
}

extension ByteEnum {
    public func encode(to writer: inout ByteWriter) { writer.write(rawValue) }

    public init(from reader: inout ByteReader) throws(CodecError) {
        let tag = try reader.readUInt8()
        guard let value = Self(rawValue: tag) else { throw .unknownTag(type: "\(Self.self)", tag: tag) }
        self = value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self.allCases.first(where: { $0.name == text.lowercased() }) else {
            let names = Self.allCases.map(\.name).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not one of: \(names)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    /// The case named `name` (case-insensitive), for command lines.
    public init?(name: String) {
        guard let value = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = value
    }
}

/// Buy or sell.
public enum Side: UInt8, ByteEnum {
    case buy = 0
    case sell = 1
    public var name: String { self == .buy ? "buy" : "sell" }
}

/// How long an order may rest: good till cancelled, immediate or cancel, add
/// liquidity only (post-only: rejected if it would cross).
public enum TimeInForce: UInt8, ByteEnum {
    case gtc = 0
    case ioc = 1
    case alo = 2
    public var name: String {
        switch self {
        case .gtc: return "gtc"
        case .ioc: return "ioc"
        case .alo: return "alo"
        }
    }
}

/// Standard (cross margin, no offsets, no borrowing) or portfolio margin.
public enum MarginMode: UInt8, ByteEnum {
    case standard = 0
    case portfolio = 1
    public var name: String { self == .standard ? "standard" : "portfolio" }
}
