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

/// The SIMD batch hashing of one-block messages (`Blake2b.hash256Blocks`) must give libsodium's
/// digest for every message, in every lane, at every implementation level the machine runs.
@Suite struct Blake2bLanesTests {
    @Test func batchMatchesLibsodiumAtEveryLevelLengthAndLane() {
        var x: UInt64 = 0x2545_F491_4F6C_DD1D
        // 8 + 4 + 3 messages exercise the 8-lane, 4-lane and one-at-a-time paths in one call.
        for count in [1, 3, 4, 7, 8, 15, 29] {
            var blocks = [UInt8](repeating: 0, count: 128 * count)
            var lengths = [UInt8](repeating: 0, count: count)
            var expected: [Hash256] = []
            for i in 0..<count {
                let length = (i * 37 + count * 11) % 129
                lengths[i] = UInt8(length)
                for j in 0..<length {
                    x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    blocks[128 * i + j] = UInt8(truncatingIfNeeded: x >> 56)
                }
                expected.append(Array(blocks[(128 * i)..<(128 * i + length)]).withUnsafeBytes { Blake2b.hash256Sodium($0) })
            }
            for level in 0...Blake2b.lanesLevel {
                var digests = [UInt8](repeating: 0, count: 32 * count)
                blocks.withUnsafeBytes { b in
                    lengths.withUnsafeBufferPointer { l in
                        digests.withUnsafeMutableBytes { d in
                            Blake2b.hash256Blocks(b.baseAddress!, lengths: l.baseAddress!, count: count,
                                                  digests: d.baseAddress!, level: level)
                        }
                    }
                }
                for i in 0..<count {
                    let got = Hash256(bytes: digests[(32 * i)..<(32 * i + 32)])
                    #expect(got == expected[i], "level \(level), count \(count), message \(i), length \(lengths[i])")
                }
            }
        }
    }

    @Test func manyMatchesLibsodiumAtEveryLevelAndLength() {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        // Lengths around block boundaries, mixed in one call so that lanes finish at different
        // blocks; 8 + 4 + 3 per call covers the 8-lane, 4-lane and one-at-a-time paths.
        let pattern = [0, 1, 127, 128, 129, 255, 256, 257, 900, 64, 383, 384, 385, 1000, 32]
        for rotation in 0..<3 {
            let lengths = (0..<pattern.count).map { pattern[($0 + rotation * 5) % pattern.count] }
            let messages: [[UInt8]] = lengths.map { length in
                (0..<length).map { _ in
                    x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return UInt8(truncatingIfNeeded: x >> 56)
                }
            }
            let expected = messages.map { m in m.withUnsafeBytes { Blake2b.hash256Sodium($0) } }
            // One buffer holding every message, so the pointers stay valid together.
            let joined = messages.flatMap { $0 }
            for level in 0...Blake2b.lanesLevel {
                var digests = [UInt8](repeating: 0, count: 32 * messages.count)
                joined.withUnsafeBufferPointer { j in
                    var offset = 0
                    var pointers: [UnsafePointer<UInt8>?] = []
                    for length in lengths {
                        pointers.append(j.baseAddress.map { $0 + offset })
                        offset += length
                    }
                    digests.withUnsafeMutableBytes { d in
                        Blake2b.hash256Many(pointers, lengths: lengths, count: messages.count,
                                            digests: d.baseAddress!, level: level)
                    }
                }
                for i in messages.indices {
                    let got = Hash256(bytes: digests[(32 * i)..<(32 * i + 32)])
                    #expect(got == expected[i], "level \(level), message \(i), length \(lengths[i])")
                }
            }
        }
    }
}
