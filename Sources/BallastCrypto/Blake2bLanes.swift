import CBlake2Lanes

extension Blake2b {
    /// The widest SIMD implementation this machine runs (0 portable, 1 AVX2, 2 AVX-512), found
    /// once: CPUID is slow in a virtual machine.
    static let lanesLevel: Int32 = ballast_blake2b_lanes_detect()

    /// BLAKE2b-256 of `count` messages of at most 128 bytes each, several at a time in SIMD lanes
    /// (the state tree re-hashes the independent node pairs of one level together). The digests
    /// are those of `hash256(_:)`, whichever implementation runs.
    ///
    /// Message i is `lengths[i]` bytes at `blocks + 128 i`; the rest of its 128-byte block must
    /// be zero. Digest i goes to `digests + 32 i`.
    public static func hash256Blocks(_ blocks: UnsafeRawPointer, lengths: UnsafePointer<UInt8>, count: Int,
                                     digests: UnsafeMutableRawPointer) {
        hash256Blocks(blocks, lengths: lengths, count: count, digests: digests, level: lanesLevel)
    }

    /// `hash256Blocks` by the implementation `level` (at most `lanesLevel`; tests try each).
    static func hash256Blocks(_ blocks: UnsafeRawPointer, lengths: UnsafePointer<UInt8>, count: Int,
                              digests: UnsafeMutableRawPointer, level: Int32) {
        precondition(level <= lanesLevel, "this machine does not run SIMD level \(level)")
        ballast_blake2b256_blocks(level, blocks.assumingMemoryBound(to: UInt8.self), lengths, count,
                                  digests.assumingMemoryBound(to: UInt8.self))
    }
}

extension Blake2b {
    /// BLAKE2b-256 of `count` messages of any length, several at a time in SIMD lanes (the state
    /// root's changed leaves: accounts are several blocks long). Message i is `lengths[i]` bytes
    /// at `inputs[i]` (which may be nil when the length is 0); digest i goes to `digests + 32 i`.
    /// The digests are those of `hash256(_:)`, whichever implementation runs.
    public static func hash256Many(_ inputs: UnsafePointer<UnsafePointer<UInt8>?>, lengths: UnsafePointer<Int>,
                                   count: Int, digests: UnsafeMutableRawPointer) {
        hash256Many(inputs, lengths: lengths, count: count, digests: digests, level: lanesLevel)
    }

    /// `hash256Many` by the implementation `level` (at most `lanesLevel`; tests try each).
    static func hash256Many(_ inputs: UnsafePointer<UnsafePointer<UInt8>?>, lengths: UnsafePointer<Int>,
                            count: Int, digests: UnsafeMutableRawPointer, level: Int32) {
        precondition(level <= lanesLevel, "this machine does not run SIMD level \(level)")
        ballast_blake2b256_many(level, inputs, lengths, count, digests.assumingMemoryBound(to: UInt8.self))
    }
}
