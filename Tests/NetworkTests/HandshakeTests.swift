import Codec
import BallastCrypto
import NIOCore
import Testing

@testable import PeerNetwork

/// Keys and policies shared by the handshake and network tests.
enum Fixture {
    static func key(_ n: UInt8) -> SigningKey {
        // Seeds are fixed so that failures reproduce; a 32-byte seed never fails.
        (try? SigningKey(seed: [UInt8](repeating: n, count: 32))) ?? SigningKey.generate()
    }

    static let genesis = Blake2b.hash256(Array("ballast network test genesis".utf8))
    static let otherGenesis = Blake2b.hash256(Array("another chain".utf8))
}

@Suite struct WireMessageTests {
    private func roundTrip(_ message: WireMessage) throws -> WireMessage {
        var buffer = ByteBuffer()
        message.write(to: &buffer)
        #expect(buffer.readableBytes == message.encodedSize)
        return try WireMessage(frame: buffer)
    }

    @Test func everyMessageRoundTrips() throws {
        let hello = Hello(
            version: 7, genesis: Fixture.genesis, publicKey: Fixture.key(1).publicKey, challenge: .random())
        #expect(try roundTrip(.hello(hello)) == .hello(hello))
        let signature = Fixture.key(1).sign([1, 2, 3])
        #expect(try roundTrip(.proof(signature)) == .proof(signature))
        #expect(try roundTrip(.payload([9, 8, 7])) == .payload([9, 8, 7]))
        #expect(try roundTrip(.payload([])) == .payload([]))
        #expect(try roundTrip(.ping) == .ping)
    }

    @Test func helloLayoutIsFixed() {
        let hello = Hello(version: 0x0102, genesis: .zero, publicKey: .zero, challenge: .zero)
        var buffer = ByteBuffer()
        WireMessage.hello(hello).write(to: &buffer)
        #expect(Array(buffer.readableBytesView.prefix(3)) == [1, 0x02, 0x01])
        #expect(buffer.readableBytes == 99)
    }

    @Test func malformedFramesAreRefused() {
        #expect(throws: CodecError.unexpectedEnd(needed: 1, remaining: 0)) { try WireMessage(frame: ByteBuffer()) }
        #expect(throws: CodecError.unknownTag(type: "WireMessage", tag: 0)) { try WireMessage(frame: ByteBuffer(bytes: [0])) }
        #expect(throws: CodecError.unknownTag(type: "WireMessage", tag: 0xFF)) {
            try WireMessage(frame: ByteBuffer(bytes: [0xFF, 1]))
        }
        #expect(throws: CodecError.trailingBytes(count: 1)) { try WireMessage(frame: ByteBuffer(bytes: [4, 0])) }
        // A hello one byte short, and a proof one byte long.
        #expect(throws: CodecError.unexpectedEnd(needed: 32, remaining: 31)) {
            try WireMessage(frame: ByteBuffer(bytes: [1] + [UInt8](repeating: 0, count: 97)))
        }
        #expect(throws: CodecError.trailingBytes(count: 1)) {
            try WireMessage(frame: ByteBuffer(bytes: [2] + [UInt8](repeating: 0, count: 65)))
        }
    }

    @Test func transcriptBindsEveryField() {
        let base = HandshakeTranscript(
            genesis: Fixture.genesis, challenge: .zero, signer: Fixture.key(1).publicKey,
            verifier: Fixture.key(2).publicKey)
        var variants = [base]
        variants.append(HandshakeTranscript(genesis: Fixture.otherGenesis, challenge: .zero, signer: base.signer, verifier: base.verifier))
        variants.append(HandshakeTranscript(genesis: base.genesis, challenge: .random(), signer: base.signer, verifier: base.verifier))
        variants.append(HandshakeTranscript(genesis: base.genesis, challenge: .zero, signer: base.verifier, verifier: base.signer))
        let messages = Set(variants.map(\.signingMessage))
        #expect(messages.count == 4)
        #expect(base.signingMessage.starts(with: [20] + Array("ballast/handshake/v1".utf8)))
        #expect(base.signingMessage.count == 1 + 20 + 4 * 32)
    }
}

@Suite struct HandshakeStateMachineTests {
    let a = Fixture.key(1)
    let b = Fixture.key(2)
    let outsider = Fixture.key(99)

    func policy(_ key: SigningKey, genesis: Hash256 = Fixture.genesis, version: UInt16 = 1) -> HandshakePolicy {
        HandshakePolicy(
            identity: key, genesis: genesis, validators: [a.publicKey, b.publicKey], version: version,
            acceptedVersions: 1...1)
    }

    /// The proof `sender` answers to `receiver`'s hello.
    func proof(from sender: inout HandshakeStateMachine, to receiver: HandshakeStateMachine) throws -> WireMessage {
        guard case .send(let proof) = sender.receive(.hello(receiver.hello)) else {
            Issue.record("no proof answered")
            throw CancellationError()
        }
        return proof
    }

    @Test func bothSidesEstablish() throws {
        var dialler = HandshakeStateMachine(policy: policy(a), challenge: .random(), expectedPeer: b.publicKey)
        var listener = HandshakeStateMachine(policy: policy(b), challenge: .random(), expectedPeer: nil)
        let diallerProof = try proof(from: &dialler, to: listener)
        let listenerProof = try proof(from: &listener, to: dialler)
        #expect(listener.receive(diallerProof) == .established(peer: a.publicKey))
        #expect(dialler.receive(listenerProof) == .established(peer: b.publicKey))
        #expect(dialler.state == .established(peer: b.publicKey))
    }

    @Test func helloChecks() {
        func failure(_ hello: Hello, expecting: PublicKey? = nil) -> HandshakeStateMachine.Action {
            var machine = HandshakeStateMachine(policy: policy(b), challenge: .random(), expectedPeer: expecting)
            return machine.receive(.hello(hello))
        }
        let good = Hello(version: 1, genesis: Fixture.genesis, publicKey: a.publicKey, challenge: .random())
        var hello = good
        hello.publicKey = outsider.publicKey
        #expect(failure(hello) == .fail(.unknownKey(outsider.publicKey)))
        hello = good
        hello.genesis = Fixture.otherGenesis
        #expect(failure(hello) == .fail(.wrongChain(peerGenesis: Fixture.otherGenesis)))
        hello = good
        hello.version = 2
        #expect(failure(hello) == .fail(.incompatibleVersion(peer: 2, accepted: 1...1)))
        hello = good
        hello.publicKey = b.publicKey
        #expect(failure(hello) == .fail(.ownKey))
        let c = Fixture.key(3).publicKey
        #expect(failure(good, expecting: c) == .fail(.unexpectedPeer(expected: c, actual: a.publicKey)))
    }

    @Test func forgedProofIsRefused() throws {
        var listener = HandshakeStateMachine(policy: policy(b), challenge: .random(), expectedPeer: nil)
        let impostor = HandshakeStateMachine(policy: policy(a), challenge: .random(), expectedPeer: nil)
        _ = listener.receive(.hello(impostor.hello))
        // Signed by a key other than the one claimed.
        let transcript = HandshakeTranscript(
            genesis: Fixture.genesis, challenge: listener.challenge, signer: a.publicKey, verifier: b.publicKey)
        #expect(listener.receive(.proof(outsider.sign(transcript.signingMessage))) == .fail(.badSignature))
        // Once failed, it stays failed.
        #expect(listener.receive(.payload([1])) == .fail(.badSignature))
    }

    @Test func replayedProofFromAnEarlierConnectionIsRefused() throws {
        // Connection 1: an eavesdropper records a's proof.
        var first = HandshakeStateMachine(policy: policy(b), challenge: .random(), expectedPeer: nil)
        var aSide = HandshakeStateMachine(policy: policy(a), challenge: .random(), expectedPeer: b.publicKey)
        let recorded = try proof(from: &aSide, to: first)
        _ = first.receive(.hello(aSide.hello))
        #expect(first.receive(recorded) == .established(peer: a.publicKey))
        // Connection 2: the eavesdropper replays a's hello and the recorded proof.
        var second = HandshakeStateMachine(policy: policy(b), challenge: .random(), expectedPeer: nil)
        _ = second.receive(.hello(aSide.hello))
        #expect(second.receive(recorded) == .fail(.badSignature))
    }

    @Test func proofForAnotherVerifierOrChainIsRefused() throws {
        var listener = HandshakeStateMachine(policy: policy(b), challenge: .random(), expectedPeer: nil)
        let aSide = HandshakeStateMachine(policy: policy(a), challenge: .random(), expectedPeer: nil)
        _ = listener.receive(.hello(aSide.hello))
        let wrongVerifier = HandshakeTranscript(
            genesis: Fixture.genesis, challenge: listener.challenge, signer: a.publicKey, verifier: outsider.publicKey)
        #expect(listener.receive(.proof(a.sign(wrongVerifier.signingMessage))) == .fail(.badSignature))
        var listener2 = HandshakeStateMachine(policy: policy(b), challenge: .random(), expectedPeer: nil)
        _ = listener2.receive(.hello(aSide.hello))
        let wrongChain = HandshakeTranscript(
            genesis: Fixture.otherGenesis, challenge: listener2.challenge, signer: a.publicKey, verifier: b.publicKey)
        #expect(listener2.receive(.proof(a.sign(wrongChain.signingMessage))) == .fail(.badSignature))
    }

    @Test func messagesOutOfOrderAreRefused() {
        var machine = HandshakeStateMachine(policy: policy(b), challenge: .random(), expectedPeer: nil)
        #expect(machine.receive(.payload([1])) == .fail(.unexpectedMessage("application message")))
        var early = HandshakeStateMachine(policy: policy(b), challenge: .random(), expectedPeer: nil)
        #expect(early.receive(.proof(a.sign([0]))) == .fail(.unexpectedMessage("proof")))
        var twice = HandshakeStateMachine(policy: policy(b), challenge: .random(), expectedPeer: nil)
        let hello = HandshakeStateMachine(policy: policy(a), challenge: .random(), expectedPeer: nil).hello
        _ = twice.receive(.hello(hello))
        #expect(twice.receive(.hello(hello)) == .fail(.unexpectedMessage("hello")))
    }

    @Test func backoffDoublesUpToTheCap() {
        let delays = (0..<8).map {
            PeerManager.backoff(attempt: $0, base: .milliseconds(100), maximum: .seconds(5)).nanoseconds / 1_000_000
        }
        #expect(delays == [100, 200, 400, 800, 1600, 3200, 5000, 5000])
        #expect(PeerManager.backoff(attempt: 1_000, base: .seconds(1), maximum: .seconds(10)) == .seconds(10))
    }

    @Test func tieBreakKeepsTheConnectionDialledByTheLowerKey() {
        let (low, high) = a.publicKey < b.publicKey ? (a.publicKey, b.publicKey) : (b.publicKey, a.publicKey)
        // On the lower key's node, its own dial wins; on the higher key's node, the peer's dial wins.
        #expect(PeerManager.prefersDialler(.outbound, over: .inbound, ours: low, peer: high) == true)
        #expect(PeerManager.prefersDialler(.inbound, over: .outbound, ours: low, peer: high) == false)
        #expect(PeerManager.prefersDialler(.inbound, over: .outbound, ours: high, peer: low) == true)
        #expect(PeerManager.prefersDialler(.outbound, over: .inbound, ours: high, peer: low) == false)
        #expect(PeerManager.prefersDialler(.inbound, over: .inbound, ours: high, peer: low) == nil)
    }

    @Test func peerAddressesParse() throws {
        #expect(try PeerAddress(parsing: "10.0.0.2:26656") == PeerAddress(host: "10.0.0.2", port: 26656))
        #expect(try PeerAddress(parsing: "validator-3.example:9000") == PeerAddress(host: "validator-3.example", port: 9000))
        #expect(try PeerAddress(parsing: "[::1]:7000") == PeerAddress(host: "::1", port: 7000))
        #expect(PeerAddress(host: "::1", port: 7000).description == "[::1]:7000")
        for bad in ["host", "host:0", "host:65536", ":80", "::1:80", "[::1]80", "host:x"] {
            #expect(throws: PeerAddressError.self) { try PeerAddress(parsing: bad) }
        }
    }
}
