#ifndef BALLAST_CBLAKE2LANES_H
#define BALLAST_CBLAKE2LANES_H

#include <stddef.h>
#include <stdint.h>

/// The widest implementation this CPU and OS support: 0 portable C, 1 AVX2 (4 lanes),
/// 2 AVX-512 (8 lanes). Runs CPUID, which is slow in a virtual machine: call it once.
int ballast_blake2b_lanes_detect(void);

/// BLAKE2b-256 (unkeyed, RFC 7693) of `count` one-block messages, several at a time in SIMD
/// lanes (each lane hashes its own message; the digests are those of the plain algorithm).
///
/// Message i is `lengths[i]` (0...128) bytes at `blocks + 128 * i`, and the rest of its 128-byte
/// block must be zero. Digest i is written to `digests + 32 * i`. `level` is at most what
/// `ballast_blake2b_lanes_detect` returned (lower levels are for tests).
void ballast_blake2b256_blocks(int level, const uint8_t *blocks, const uint8_t *lengths, size_t count,
                               uint8_t *digests);

/// BLAKE2b-256 (unkeyed) of `count` messages of any length, several at a time in SIMD lanes
/// (a lane that has finished its message waits for the others). Message i is `lengths[i]` bytes
/// at `inputs[i]`; digest i is written to `digests + 32 * i`. `level` as above.
void ballast_blake2b256_many(int level, const uint8_t *const *inputs, const size_t *lengths, size_t count,
                             uint8_t *digests);

#endif
