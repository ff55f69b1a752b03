import BallastCrypto

/// Why a handshake was refused. Each case disconnects the peer and is logged.
public enum HandshakeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The peer speaks a protocol version outside the accepted range.
    case incompatibleVersion(peer: UInt16, accepted: ClosedRange<UInt16>)
    /// The peer validates another chain.
    case wrongChain(peerGenesis: Hash256)
    /// The peer's key is not in the validator set.
    case unknownKey(PublicKey)
    /// The peer claims our own key (a connection to ourselves or an impostor).
    case ownKey
    /// We dialled one validator and another answered.
    case unexpectedPeer(expected: PublicKey, actual: PublicKey)
    /// The proof does not verify over this connection's challenge: forged, or
    /// replayed from an earlier connection.
    case badSignature
    /// We already have, or are dialling, the connection to this validator that
    /// both sides keep (dialled by the lower key): the peer's dial is turned away
    /// before it carries any message, so no message is reordered by a switch.
    case duplicateConnection
    /// A message that does not belong at this step of the handshake.
    case unexpectedMessage(String)
    /// The handshake did not finish in time.
    case timeout
    /// The peer closed the connection before the handshake finished (it may have
    /// turned away a duplicate connection).
    case closedByPeer

    public var description: String {
        switch self {
        case .incompatibleVersion(let peer, let accepted):
            return "incompatible protocol version \(peer) (accepted \(accepted.lowerBound)...\(accepted.upperBound))"
        case .wrongChain(let genesis):
            return "peer is on another chain (genesis \(genesis.hex))"
        case .unknownKey(let key):
            return "unknown validator key \(key.hex)"
        case .ownKey:
            return "peer claims our own validator key"
        case .unexpectedPeer(let expected, let actual):
            return "dialled \(expected.hex.prefix(16)) but \(actual.hex.prefix(16)) answered"
        case .badSignature:
            return "handshake signature does not verify over this connection's challenge (forged or replayed)"
        case .duplicateConnection:
            return "duplicate connection: the one dialled by the lower key is kept"
        case .unexpectedMessage(let what):
            return "unexpected \(what) during the handshake"
        case .timeout:
            return "handshake timed out"
        case .closedByPeer:
            return "peer closed the connection during the handshake"
        }
    }
}

/// What each side must agree on before a handshake can succeed.
public struct HandshakePolicy: Sendable {
    /// Our validator key.
    public var identity: SigningKey
    /// The chain's genesis hash.
    public var genesis: Hash256
    /// The validator keys allowed to connect (our own key may be included; it is never accepted from a peer).
    public var validators: Set<PublicKey>
    /// The version we announce.
    public var version: UInt16
    /// The peer versions we accept.
    public var acceptedVersions: ClosedRange<UInt16>

    public init(
        identity: SigningKey, genesis: Hash256, validators: Set<PublicKey>,
        version: UInt16 = ProtocolVersion.current,
        acceptedVersions: ClosedRange<UInt16> = ProtocolVersion.current...ProtocolVersion.current
    ) {
        self.identity = identity
        self.genesis = genesis
        self.validators = validators
        self.version = version
        self.acceptedVersions = acceptedVersions
    }
}

/// One side of the handshake, as a pure state machine: messages in, actions out.
///
/// Both sides send `hello` at once. On the peer's hello each side checks the
/// version, chain and key, then answers with a `proof`: its signature over the
/// `HandshakeTranscript` holding the peer's challenge. The peer's proof must
/// verify over our own fresh challenge; then the connection is established.
public struct HandshakeStateMachine: Sendable {
    /// Where the handshake stands.
    public enum State: Equatable, Sendable {
        case awaitingHello
        case awaitingProof(peer: PublicKey)
        case established(peer: PublicKey)
        case failed(HandshakeError)
    }

    /// What the caller must do after a message.
    public enum Action: Equatable, Sendable {
        /// Send this message to the peer.
        case send(WireMessage)
        /// The peer proved `peer`; the connection carries application messages from now on.
        case established(peer: PublicKey)
        /// Drop the connection.
        case fail(HandshakeError)
    }

    public let policy: HandshakePolicy
    /// Our challenge for this connection.
    public let challenge: Challenge
    /// The validator we dialled, if we dialled.
    public let expectedPeer: PublicKey?
    public private(set) var state: State = .awaitingHello

    public init(policy: HandshakePolicy, challenge: Challenge, expectedPeer: PublicKey?) {
        self.policy = policy
        self.challenge = challenge
        self.expectedPeer = expectedPeer
    }

    /// The hello to send when the connection opens.
    public var hello: Hello {
        Hello(version: policy.version, genesis: policy.genesis, publicKey: policy.identity.publicKey, challenge: challenge)
    }

    /// Feeds one message from the peer.
    public mutating func receive(_ message: WireMessage) -> Action {
        let action = step(message)
        if case .fail(let error) = action { state = .failed(error) }
        return action
    }

    private mutating func step(_ message: WireMessage) -> Action {
        switch (state, message) {
        case (.awaitingHello, .hello(let hello)):
            if let error = check(hello) { return .fail(error) }
            state = .awaitingProof(peer: hello.publicKey)
            let transcript = HandshakeTranscript(
                genesis: policy.genesis, challenge: hello.challenge,
                signer: policy.identity.publicKey, verifier: hello.publicKey)
            return .send(.proof(policy.identity.sign(transcript.signingMessage)))
        case (.awaitingProof(let peer), .proof(let signature)):
            let transcript = HandshakeTranscript(
                genesis: policy.genesis, challenge: challenge, signer: peer, verifier: policy.identity.publicKey)
            guard peer.verify(signature, for: transcript.signingMessage) else { return .fail(.badSignature) }
            state = .established(peer: peer)
            return .established(peer: peer)
        case (.failed(let error), _):
            return .fail(error)
        case (_, let message):
            return .fail(.unexpectedMessage(Self.name(of: message)))
        }
    }

    private func check(_ hello: Hello) -> HandshakeError? {
        if !policy.acceptedVersions.contains(hello.version) {
            return .incompatibleVersion(peer: hello.version, accepted: policy.acceptedVersions)
        }
        if hello.genesis != policy.genesis { return .wrongChain(peerGenesis: hello.genesis) }
        if hello.publicKey == policy.identity.publicKey { return .ownKey }
        if !policy.validators.contains(hello.publicKey) { return .unknownKey(hello.publicKey) }
        if let expectedPeer, expectedPeer != hello.publicKey {
            return .unexpectedPeer(expected: expectedPeer, actual: hello.publicKey)
        }
        return nil
    }

    private static func name(of message: WireMessage) -> String {
        switch message {
        case .hello: return "hello"
        case .proof: return "proof"
        case .payload: return "application message"
        case .ping: return "ping"
        }
    }
}
