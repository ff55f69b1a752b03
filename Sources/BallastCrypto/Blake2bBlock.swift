extension Blake2b {
    /// The BLAKE2b IV (RFC 7693, 2.6).
    @usableFromInline static let iv: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (
        0x6A09_E667_F3BC_C908, 0xBB67_AE85_84CA_A73B, 0x3C6E_F372_FE94_F82B, 0xA54F_F53A_5F1D_36F1, 0x510E_527F_ADE6_82D1, 0x9B05_688C_2B3E_6C1F, 0x1F83_D9AB_FB41_BD6B, 0x5BE0_CD19_137E_2179)

    /// BLAKE2b-256 of at most 128 bytes (one block), computed here rather than by libsodium: the
    /// state tree hashes tens of thousands of 64-byte node pairs per block, and libsodium's
    /// init / update / final path costs about as much again as the compression itself.
    /// Same digest as `crypto_generichash` (checked against it in BallastCryptoTests).
    static func hash256SingleBlock(_ input: UnsafeRawBufferPointer) -> Hash256 {
        precondition(input.count <= 128, "one block is at most 128 bytes")
        var block: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        if let base = input.baseAddress, input.count > 0 {
            withUnsafeMutableBytes(of: &block) { $0.baseAddress!.copyMemory(from: base, byteCount: input.count) }
        }

        let m0 = UInt64(littleEndian: block.0)
        let m1 = UInt64(littleEndian: block.1)
        let m2 = UInt64(littleEndian: block.2)
        let m3 = UInt64(littleEndian: block.3)
        let m4 = UInt64(littleEndian: block.4)
        let m5 = UInt64(littleEndian: block.5)
        let m6 = UInt64(littleEndian: block.6)
        let m7 = UInt64(littleEndian: block.7)
        let m8 = UInt64(littleEndian: block.8)
        let m9 = UInt64(littleEndian: block.9)
        let m10 = UInt64(littleEndian: block.10)
        let m11 = UInt64(littleEndian: block.11)
        let m12 = UInt64(littleEndian: block.12)
        let m13 = UInt64(littleEndian: block.13)
        let m14 = UInt64(littleEndian: block.14)
        let m15 = UInt64(littleEndian: block.15)
        // Parameter block: digest length 32, key length 0, fanout 1, depth 1.
        let h0 = iv.0 ^ 0x0101_0020, h1 = iv.1, h2 = iv.2, h3 = iv.3, h4 = iv.4, h5 = iv.5, h6 = iv.6, h7 = iv.7
        var v0 = h0, v1 = h1, v2 = h2, v3 = h3, v4 = h4, v5 = h5, v6 = h6, v7 = h7
        // Counter = the input length, last-block flag set.
        var v8 = iv.0, v9 = iv.1, v10 = iv.2, v11 = iv.3, v12 = iv.4 ^ UInt64(input.count), v13 = iv.5, v14 = ~iv.6, v15 = iv.7
        // The twelve rounds unrolled, each with its message schedule SIGMA[r mod 10] (RFC 7693,
        // 2.7) written out: rounds 10 and 11 therefore repeat rounds 0 and 1.
        g(&v0, &v4, &v8, &v12, m0, m1)
        g(&v1, &v5, &v9, &v13, m2, m3)
        g(&v2, &v6, &v10, &v14, m4, m5)
        g(&v3, &v7, &v11, &v15, m6, m7)
        g(&v0, &v5, &v10, &v15, m8, m9)
        g(&v1, &v6, &v11, &v12, m10, m11)
        g(&v2, &v7, &v8, &v13, m12, m13)
        g(&v3, &v4, &v9, &v14, m14, m15)
        g(&v0, &v4, &v8, &v12, m14, m10)
        g(&v1, &v5, &v9, &v13, m4, m8)
        g(&v2, &v6, &v10, &v14, m9, m15)
        g(&v3, &v7, &v11, &v15, m13, m6)
        g(&v0, &v5, &v10, &v15, m1, m12)
        g(&v1, &v6, &v11, &v12, m0, m2)
        g(&v2, &v7, &v8, &v13, m11, m7)
        g(&v3, &v4, &v9, &v14, m5, m3)
        g(&v0, &v4, &v8, &v12, m11, m8)
        g(&v1, &v5, &v9, &v13, m12, m0)
        g(&v2, &v6, &v10, &v14, m5, m2)
        g(&v3, &v7, &v11, &v15, m15, m13)
        g(&v0, &v5, &v10, &v15, m10, m14)
        g(&v1, &v6, &v11, &v12, m3, m6)
        g(&v2, &v7, &v8, &v13, m7, m1)
        g(&v3, &v4, &v9, &v14, m9, m4)
        g(&v0, &v4, &v8, &v12, m7, m9)
        g(&v1, &v5, &v9, &v13, m3, m1)
        g(&v2, &v6, &v10, &v14, m13, m12)
        g(&v3, &v7, &v11, &v15, m11, m14)
        g(&v0, &v5, &v10, &v15, m2, m6)
        g(&v1, &v6, &v11, &v12, m5, m10)
        g(&v2, &v7, &v8, &v13, m4, m0)
        g(&v3, &v4, &v9, &v14, m15, m8)
        g(&v0, &v4, &v8, &v12, m9, m0)
        g(&v1, &v5, &v9, &v13, m5, m7)
        g(&v2, &v6, &v10, &v14, m2, m4)
        g(&v3, &v7, &v11, &v15, m10, m15)
        g(&v0, &v5, &v10, &v15, m14, m1)
        g(&v1, &v6, &v11, &v12, m11, m12)
        g(&v2, &v7, &v8, &v13, m6, m8)
        g(&v3, &v4, &v9, &v14, m3, m13)
        g(&v0, &v4, &v8, &v12, m2, m12)
        g(&v1, &v5, &v9, &v13, m6, m10)
        g(&v2, &v6, &v10, &v14, m0, m11)
        g(&v3, &v7, &v11, &v15, m8, m3)
        g(&v0, &v5, &v10, &v15, m4, m13)
        g(&v1, &v6, &v11, &v12, m7, m5)
        g(&v2, &v7, &v8, &v13, m15, m14)
        g(&v3, &v4, &v9, &v14, m1, m9)
        g(&v0, &v4, &v8, &v12, m12, m5)
        g(&v1, &v5, &v9, &v13, m1, m15)
        g(&v2, &v6, &v10, &v14, m14, m13)
        g(&v3, &v7, &v11, &v15, m4, m10)
        g(&v0, &v5, &v10, &v15, m0, m7)
        g(&v1, &v6, &v11, &v12, m6, m3)
        g(&v2, &v7, &v8, &v13, m9, m2)
        g(&v3, &v4, &v9, &v14, m8, m11)
        g(&v0, &v4, &v8, &v12, m13, m11)
        g(&v1, &v5, &v9, &v13, m7, m14)
        g(&v2, &v6, &v10, &v14, m12, m1)
        g(&v3, &v7, &v11, &v15, m3, m9)
        g(&v0, &v5, &v10, &v15, m5, m0)
        g(&v1, &v6, &v11, &v12, m15, m4)
        g(&v2, &v7, &v8, &v13, m8, m6)
        g(&v3, &v4, &v9, &v14, m2, m10)
        g(&v0, &v4, &v8, &v12, m6, m15)
        g(&v1, &v5, &v9, &v13, m14, m9)
        g(&v2, &v6, &v10, &v14, m11, m3)
        g(&v3, &v7, &v11, &v15, m0, m8)
        g(&v0, &v5, &v10, &v15, m12, m2)
        g(&v1, &v6, &v11, &v12, m13, m7)
        g(&v2, &v7, &v8, &v13, m1, m4)
        g(&v3, &v4, &v9, &v14, m10, m5)
        g(&v0, &v4, &v8, &v12, m10, m2)
        g(&v1, &v5, &v9, &v13, m8, m4)
        g(&v2, &v6, &v10, &v14, m7, m6)
        g(&v3, &v7, &v11, &v15, m1, m5)
        g(&v0, &v5, &v10, &v15, m15, m11)
        g(&v1, &v6, &v11, &v12, m9, m14)
        g(&v2, &v7, &v8, &v13, m3, m12)
        g(&v3, &v4, &v9, &v14, m13, m0)
        g(&v0, &v4, &v8, &v12, m0, m1)
        g(&v1, &v5, &v9, &v13, m2, m3)
        g(&v2, &v6, &v10, &v14, m4, m5)
        g(&v3, &v7, &v11, &v15, m6, m7)
        g(&v0, &v5, &v10, &v15, m8, m9)
        g(&v1, &v6, &v11, &v12, m10, m11)
        g(&v2, &v7, &v8, &v13, m12, m13)
        g(&v3, &v4, &v9, &v14, m14, m15)
        g(&v0, &v4, &v8, &v12, m14, m10)
        g(&v1, &v5, &v9, &v13, m4, m8)
        g(&v2, &v6, &v10, &v14, m9, m15)
        g(&v3, &v7, &v11, &v15, m13, m6)
        g(&v0, &v5, &v10, &v15, m1, m12)
        g(&v1, &v6, &v11, &v12, m0, m2)
        g(&v2, &v7, &v8, &v13, m11, m7)
        g(&v3, &v4, &v9, &v14, m5, m3)
        return Hash256(storage: ((h0 ^ v0 ^ v8).littleEndian, (h1 ^ v1 ^ v9).littleEndian,
                                 (h2 ^ v2 ^ v10).littleEndian, (h3 ^ v3 ^ v11).littleEndian))
    }

    /// The mixing function G (RFC 7693, 3.1).
    @inline(__always)
    private static func g(_ a: inout UInt64, _ b: inout UInt64, _ c: inout UInt64, _ d: inout UInt64, _ x: UInt64, _ y: UInt64) {
        a = a &+ b &+ x
        d = rotr(d ^ a, 32)
        c = c &+ d
        b = rotr(b ^ c, 24)
        a = a &+ b &+ y
        d = rotr(d ^ a, 16)
        c = c &+ d
        b = rotr(b ^ c, 63)
    }

    @inline(__always)
    private static func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 { (x >> n) | (x << (64 - n)) }
}
