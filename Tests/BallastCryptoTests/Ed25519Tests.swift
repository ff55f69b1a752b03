import BallastCrypto
import Dispatch
import Testing

/// RFC 8032 section 7.1 test vectors (TEST 1, 2, 3 and SHA(abc)).
private let rfc8032: [(seed: String, publicKey: String, message: String, signature: String)] = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
     "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
     "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
     "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
]

@Suite struct Ed25519Tests {
    @Test(arguments: 0..<rfc8032.count)
    func rfc8032Vector(index: Int) throws {
        let v = rfc8032[index]
        let key = try SigningKey(seed: Hex.decode(v.seed))
        #expect(key.publicKey.hex == v.publicKey)
        #expect(try key.seed == Hex.decode(v.seed))
        let message = try Hex.decode(v.message)
        let signature = key.sign(message)
        #expect(signature.hex == v.signature)
        #expect(key.publicKey.verify(signature, for: message))
        #expect(key.publicKey.verify(try Signature(hex: v.signature), for: message))
    }

    @Test func flippedBitsFailVerification() throws {
        let key = try SigningKey(seed: Hex.decode(rfc8032[2].seed))
        let message: [UInt8] = Array("ballast".utf8)
        let signature = key.sign(message)
        for bit in 0..<(message.count * 8) {
            var m = message
            m[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(!key.publicKey.verify(signature, for: m))
        }
        for bit in 0..<(Signature.byteCount * 8) {
            var s = signature.bytes
            s[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(!key.publicKey.verify(Signature(bytes: s)!, for: message))
        }
        let other = try SigningKey(seed: Hex.decode(rfc8032[1].seed))
        #expect(!other.publicKey.verify(signature, for: message))
    }

    @Test func wrongSeedLengthIsATypedError() {
        #expect(throws: CryptoError.wrongSeedLength(31)) { try SigningKey(seed: [UInt8](repeating: 0, count: 31)) }
    }

    @Test func generatedKeysDifferAndSign() {
        let a = SigningKey.generate(), b = SigningKey.generate()
        #expect(a.publicKey != b.publicKey)
        let sig = a.sign([1, 2, 3])
        #expect(a.publicKey.verify(sig, for: [1, 2, 3]))
        #expect((try? SigningKey(seed: a.seed))?.publicKey == a.publicKey)
    }

    /// Verification must be callable from many threads at once.
    @Test func verifiesConcurrently() throws {
        let key = try SigningKey(seed: Hex.decode(rfc8032[0].seed))
        let messages = (0..<256).map { i in [UInt8(i & 0xff), UInt8(i >> 8), 7] }
        let signatures = messages.map { key.sign($0) }
        // The second half checks each signature against the wrong message: must fail.
        let results = Results(count: messages.count * 2)
        DispatchQueue.concurrentPerform(iterations: messages.count * 2) { i in
            let j = i % messages.count
            let message = i < messages.count ? messages[j] : messages[(j + 1) % messages.count]
            results.set(i, key.publicKey.verify(signatures[j], for: message))
        }
        let all = results.values
        #expect(all[0..<messages.count].allSatisfy { $0 })
        #expect(all[messages.count...].allSatisfy { !$0 })
    }
}

/// One slot per iteration: each thread writes only its own index.
private final class Results: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Bool>
    init(count: Int) { buffer = .allocate(capacity: count); buffer.initialize(repeating: false) }
    deinit { buffer.deallocate() }
    func set(_ i: Int, _ value: Bool) { buffer[i] = value }
    var values: [Bool] { Array(buffer) }
}

@Suite struct HashAndAddressTests {
    /// RFC 7693 appendix A: BLAKE2b-512("abc").
    @Test func rfc7693Vector() {
        let digest = Blake2b.hash(Array("abc".utf8), outputLength: 64)
        #expect(Hex.encode(digest) ==
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
    }

    /// BLAKE2b-256("abc"), the hash every part of Ballast uses (cross-checked with Python's hashlib).
    @Test func blake2b256() {
        #expect(Blake2b.hash256(Array("abc".utf8)).hex == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
    }

    @Test func incrementalEqualsOneShot() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hasher = Blake2bHasher()
        hasher.update(Array(data[0..<10]))
        hasher.update(Array(data[10..<999]))
        hasher.update(Array(data[999...]))
        #expect(hasher.finalize() == Blake2b.hash256(data))
    }

    /// Address = first 20 bytes of BLAKE2b-256(public key).
    @Test func addressOfRFC8032Key() throws {
        let pk = try PublicKey(hex: rfc8032[0].publicKey)
        #expect(pk.address.description == "0x7849ac3049680be1ef762efe0d36e01733c3464e")
        #expect(Array(Blake2b.hash256(pk.bytes).bytes[0..<20]) == pk.address.bytes)
        #expect(try Address(hex: "0x7849ac3049680be1ef762efe0d36e01733c3464e") == pk.address)
    }

    @Test func constantTimeComparison() {
        #expect(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(constantTimeEqual([], []))
    }

    @Test func fixedBytesOrderIsByteOrder() throws {
        let a = try Address(hex: "0x00000000000000000000000000000000000000ff")
        let b = try Address(hex: "0x0000000000000000000000000000000000000100")
        let c = try Address(hex: "0x0100000000000000000000000000000000000000")
        #expect(a < b && b < c && !(b < a) && !(a < a))
        #expect([c, a, b].sorted() == [a, b, c])
        #expect(Set([a, b, a]).count == 2)
    }

    @Test func hexErrors() throws {
        #expect(throws: HexError.oddLength) { try Hex.decode("abc") }
        #expect(throws: HexError.invalidCharacter(offset: 1)) { try Hex.decode("0xag") }
        #expect(throws: HexError.wrongLength(expected: 20, actual: 2)) { try Address(hex: "0x0102") }
        #expect(try Hex.decode(" 0XAbCd\n") == [0xab, 0xcd])
    }
}
