@testable import BallastCrypto
import Testing

/// The one-block BLAKE2b-256 written in Swift must give libsodium's digest at every length it takes.
@Suite struct Blake2bTests {
    @Test func knownDigests() {
        #expect(Blake2b.hash256([]).hex == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
        #expect(Blake2b.hash256(Array("abc".utf8)).hex == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
    }

    @Test func singleBlockMatchesLibsodiumAtEveryLength() {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for length in 0...128 {
            for _ in 0..<4 {
                let bytes: [UInt8] = (0..<length).map { _ in
                    x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return UInt8(truncatingIfNeeded: x >> 56)
                }
                let swift = bytes.withUnsafeBytes { Blake2b.hash256SingleBlock($0) }
                let sodium = bytes.withUnsafeBytes { Blake2b.hash256Sodium($0) }
                #expect(swift == sodium, "length \(length)")
            }
        }
    }
}
