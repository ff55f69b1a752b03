import BallastCrypto
import NIOCore

/// A peer's network address: a host name or IP literal and a TCP port.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `1.2.3.4:port` or `[::1]:port`.
    public init(parsing text: String) throws(PeerAddressError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalid(text, reason: "missing ']'") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .invalid(text, reason: "missing ':port'") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .invalid(text, reason: "missing ':port'") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw .invalid(text, reason: "an IPv6 host must be written in brackets") }
        }
        guard !host.isEmpty else { throw .invalid(text, reason: "empty host") }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw .invalid(text, reason: "port must be 1...65535")
        }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why a peer address was refused.
public enum PeerAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let text, let reason): return "invalid peer address '\(text)': \(reason)"
        }
    }
}

/// Everything a `PeerManager` needs. Defaults suit a validator; tests shorten the timers.
public struct NetworkConfiguration: Sendable {
    /// Our validator key: the handshake proves it.
    public var identity: SigningKey
    /// The chain's genesis hash; peers on another chain are dropped.
    public var genesis: Hash256
    /// Every validator's key (ours may be included). Only these may connect.
    public var validators: Set<PublicKey>
    /// Where to listen. Port 0 lets the OS choose (see `PeerManager.localAddress`).
    public var listenHost: String = "0.0.0.0"
    public var listenPort: Int = 0
    /// Peers to dial. A validator without an address here is still accepted when it dials us.
    public var peerAddresses: [PublicKey: PeerAddress] = [:]
    /// The largest frame payload sent or accepted.
    public var maximumFrameSize: Int = Frame.defaultMaximumSize
    /// The longest a handshake may take; also how long a connection the peer has
    /// half-closed stays usable while its replacement is set up.
    public var handshakeTimeout: TimeAmount = .seconds(5)
    /// Send a ping after this long without writing; drop a peer silent for three times this long.
    public var keepaliveInterval: TimeAmount = .seconds(5)
    /// The first reconnect delay; each failed attempt doubles it up to `reconnectMaximumDelay`.
    public var reconnectBaseDelay: TimeAmount = .milliseconds(200)
    public var reconnectMaximumDelay: TimeAmount = .seconds(10)
    /// TCP connect timeout for dials.
    public var connectTimeout: TimeAmount = .seconds(3)
    /// Per-peer outbound queue bounds (see `OutboundQueue` for the drop-oldest policy).
    public var outboundQueueCapacity: Int = 4096
    public var outboundQueueByteLimit: Int = 64 << 20
    /// Inbound messages buffered for the consumer of `PeerManager.messages`; beyond
    /// this the oldest are dropped and counted.
    public var inboundBufferCapacity: Int = 16384
    /// Inbound connections allowed to be mid-handshake at once; more are closed on accept.
    public var maximumPendingHandshakes: Int = 64
    /// The protocol version announced and the peer versions accepted.
    public var protocolVersion: UInt16 = ProtocolVersion.current
    public var acceptedVersions: ClosedRange<UInt16> = ProtocolVersion.current...ProtocolVersion.current

    public init(identity: SigningKey, genesis: Hash256, validators: Set<PublicKey>) {
        self.identity = identity
        self.genesis = genesis
        self.validators = validators
    }

    /// The handshake rules these settings imply.
    public var handshakePolicy: HandshakePolicy {
        HandshakePolicy(
            identity: identity, genesis: genesis, validators: validators,
            version: protocolVersion, acceptedVersions: acceptedVersions)
    }
}
