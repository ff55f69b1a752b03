import Codec
import TestSupport
import Testing

/// A record exercising every primitive the codec has.
private struct Sample: Canonical, Equatable {
    var a: UInt8, b: UInt16, c: UInt32, d: UInt64, e: Int64, flag: Bool
    var text: String
    var blob: [UInt8]
    var list: [UInt64]
    var maybe: UInt32?

    func encode(to w: inout ByteWriter) {
        w.write(a); w.write(b); w.write(c); w.write(d); w.write(e); w.write(flag)
        w.writeString(text); w.writeBytes(blob); w.write(list); w.write(maybe)
    }

    init(from r: inout ByteReader) throws(CodecError) {
        a = try r.readUInt8(); b = try r.readUInt16(); c = try r.readUInt32(); d = try r.readUInt64()
        e = try r.readInt64(); flag = try r.readBool(field: "flag")
        text = try r.readString(field: "text", maximum: 64)
        blob = try r.readBytes(field: "blob", maximum: 300)
        list = try r.readArray(field: "list", maximum: 20)
        maybe = try r.readOptional(field: "maybe")
    }

    init(random g: inout SplitMix64) {
        a = .random(in: .min ... .max, using: &g); b = .random(in: .min ... .max, using: &g)
        c = .random(in: .min ... .max, using: &g); d = .random(in: .min ... .max, using: &g)
        e = .random(in: .min ... .max, using: &g); flag = .random(using: &g)
        let scalars = (0..<Int.random(in: 0...16, using: &g)).map { _ in
            Character(Unicode.Scalar([0x41, 0xe9, 0x4e2d, 0x1f600][Int.random(in: 0...3, using: &g)])!)
        }
        text = String(scalars)
        blob = g.bytes(Int.random(in: 0...300, using: &g))
        list = (0..<Int.random(in: 0...20, using: &g)).map { _ in g.next() }
        maybe = Bool.random(using: &g) ? UInt32.random(in: .min ... .max, using: &g) : nil
    }
}

private func lengthBytes(_ n: Int) -> [UInt8] {
    var w = ByteWriter()
    w.writeLength(n)
    return w.bytes
}

private func readLength(_ bytes: [UInt8], maximum: Int = Int.max) throws(CodecError) -> Int {
    var result: Result<Int, CodecError>!
    bytes.withUnsafeBytes { raw in
        var r = ByteReader(raw)
        result = Result { () throws(CodecError) -> Int in
            let n = try r.readLength(field: "len", maximum: maximum)
            try r.finish()
            return n
        }
    }
    return try result.get()
}

@Suite struct CodecTests {
    @Test func integersAreLittleEndian() {
        var w = ByteWriter()
        w.write(UInt16(0x0102)); w.write(UInt32(0x0304_0506)); w.write(Int64(-2))
        #expect(w.bytes == [0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    @Test func lengthsAreMinimalLEB128() throws {
        #expect(lengthBytes(0) == [0x00])
        #expect(lengthBytes(127) == [0x7f])
        #expect(lengthBytes(128) == [0x80, 0x01])
        #expect(lengthBytes(300) == [0xac, 0x02])
        #expect(lengthBytes(Int.max) == [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
        for n in [0, 1, 127, 128, 255, 16_383, 16_384, 1 << 40, Int.max] {
            #expect(try readLength(lengthBytes(n)) == n)
        }
    }

    @Test func nonMinimalAndOverlongLengthsAreRefused() {
        #expect(throws: CodecError.nonMinimalLength) { try readLength([0x80, 0x00]) }
        #expect(throws: CodecError.nonMinimalLength) { try readLength([0xff, 0x80, 0x00]) }
        #expect(throws: CodecError.lengthOverflow) { try readLength([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]) }
        #expect(throws: CodecError.lengthOverflow) {
            try readLength([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00])
        }
        #expect(throws: CodecError.unexpectedEnd(needed: 1, remaining: 0)) { try readLength([0x80]) }
        #expect(throws: CodecError.lengthTooLarge(field: "len", length: 65, maximum: 64)) { try readLength([65], maximum: 64) }
    }

    @Test func roundTripsRandomValues() throws {
        var g = SplitMix64(seed: 1)
        for _ in 0..<2_000 {
            let value = Sample(random: &g)
            let bytes = value.canonicalBytes
            #expect(try Sample(canonicalBytes: bytes) == value)
        }
    }

    @Test func refusesMalformedInput() throws {
        var g = SplitMix64(seed: 2)
        let good = Sample(random: &g).canonicalBytes
        #expect(throws: CodecError.trailingBytes(count: 1)) { try Sample(canonicalBytes: good + [0]) }
        #expect(throws: CodecError.self) { try Sample(canonicalBytes: Array(good.dropLast())) }
        // The bool sits at offset 23 (1 + 2 + 4 + 8 + 8).
        var badBool = good
        badBool[23] = 2
        #expect(throws: CodecError.invalidValue(field: "flag", reason: "bool byte 2 is not 0 or 1")) {
            try Sample(canonicalBytes: badBool)
        }
        var w = ByteWriter()
        w.write(UInt8(0)); w.write(UInt16(0)); w.write(UInt32(0)); w.write(UInt64(0)); w.write(Int64(0)); w.write(false)
        w.writeLength(2); w.writeRaw([0xc3, 0x28])  // invalid UTF-8
        #expect(throws: CodecError.invalidValue(field: "text", reason: "not valid UTF-8")) {
            try Sample(canonicalBytes: w.bytes)
        }
    }

    /// Random and mutated byte strings never crash the decoder; whatever decodes
    /// re-encodes to exactly the same bytes.
    @Test func fuzzedInputsAreRejectedOrCanonical() throws {
        var g = SplitMix64(seed: 3)
        let seeds = (0..<32).map { _ in Sample(random: &g).canonicalBytes }
        var decoded = 0
        for i in 0..<testSize("BALLAST_FUZZ_CASES", default: 20_000) {
            var input = i % 4 == 0 ? g.bytes(Int.random(in: 0...200, using: &g)) : seeds[i % seeds.count]
            if !input.isEmpty {
                for _ in 0..<Int.random(in: 1...3, using: &g) {
                    let at = Int.random(in: 0..<input.count, using: &g)
                    switch g.next() % 4 {
                    case 0: input[at] ^= UInt8(truncatingIfNeeded: g.next() | 1)
                    case 1: input.remove(at: at)
                    case 2: input.insert(UInt8(truncatingIfNeeded: g.next()), at: at)
                    default: input.removeLast(Int.random(in: 0..<input.count, using: &g))
                    }
                    if input.isEmpty { break }
                }
            }
            if let value = try? Sample(canonicalBytes: input) {
                decoded += 1
                #expect(value.canonicalBytes == input)
            }
        }
        // Single-byte flips in the integer fields decode; the test must exercise both paths.
        #expect(decoded > 0)
    }
}
