// BLAKE2b-256 of many one-block messages at once: the state tree re-hashes its changed node
// pairs level by level, and the pairs of one level are independent, so 4 (AVX2) or 8
// (AVX-512) of them go through the compression function together, one per 64-bit lane.
// Same digests as libsodium's crypto_generichash (checked in BallastCryptoTests).

#include "CBlake2Lanes.h"
#include <string.h>

static const uint64_t IV[8] = {
    0x6A09E667F3BCC908ULL, 0xBB67AE8584CAA73BULL, 0x3C6EF372FE94F82BULL, 0xA54FF53A5F1D36F1ULL,
    0x510E527FADE682D1ULL, 0x9B05688C2B3E6C1FULL, 0x1F83D9ABFB41BD6BULL, 0x5BE0CD19137E2179ULL};

// RFC 7693, 2.7; rounds 10 and 11 repeat 0 and 1.
static const uint8_t SIGMA[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

// Parameter block of an unkeyed 32-byte digest: digest length 32, key length 0, fanout 1, depth 1.
#define PARAM0 0x01010020ULL

static inline uint64_t load64le(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

// A 64-bit word of a message on a little-endian machine (the SIMD paths are x86-64 only).
static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline void store64le(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t rotr64(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

// MARK: portable

#define G1(r, i, a, b, c, d)                           \
    do {                                               \
        a = a + b + m[SIGMA[r][2 * i]];                \
        d = rotr64(d ^ a, 32);                         \
        c = c + d;                                     \
        b = rotr64(b ^ c, 24);                         \
        a = a + b + m[SIGMA[r][2 * i + 1]];            \
        d = rotr64(d ^ a, 16);                         \
        c = c + d;                                     \
        b = rotr64(b ^ c, 63);                         \
    } while (0)

static void hash_one(const uint8_t *block, uint8_t length, uint8_t *digest) {
    uint64_t m[16], v[16];
    for (int i = 0; i < 16; i++) m[i] = load64le(block + 8 * i);
    for (int i = 0; i < 8; i++) v[i] = IV[i];
    v[0] ^= PARAM0;
    for (int i = 0; i < 8; i++) v[8 + i] = IV[i];
    v[12] ^= length;
    v[14] = ~v[14];
    for (int r = 0; r < 12; r++) {
        G1(r, 0, v[0], v[4], v[8], v[12]);
        G1(r, 1, v[1], v[5], v[9], v[13]);
        G1(r, 2, v[2], v[6], v[10], v[14]);
        G1(r, 3, v[3], v[7], v[11], v[15]);
        G1(r, 4, v[0], v[5], v[10], v[15]);
        G1(r, 5, v[1], v[6], v[11], v[12]);
        G1(r, 6, v[2], v[7], v[8], v[13]);
        G1(r, 7, v[3], v[4], v[9], v[14]);
    }
    store64le(digest, IV[0] ^ PARAM0 ^ v[0] ^ v[8]);
    for (int i = 1; i < 4; i++) store64le(digest + 8 * i, IV[i] ^ v[i] ^ v[8 + i]);
}

// Any length, one block at a time (the portable path of `ballast_blake2b256_many`).
static void hash_any(const uint8_t *input, size_t length, uint8_t *digest) {
    uint64_t h[8], m[16], v[16];
    uint8_t block[128];
    for (int i = 0; i < 8; i++) h[i] = IV[i];
    h[0] ^= PARAM0;
    size_t blocks = length == 0 ? 1 : (length + 127) / 128;
    for (size_t j = 0; j < blocks; j++) {
        size_t offset = 128 * j, n = length - offset < 128 ? length - offset : 128;
        if (n) memcpy(block, input + offset, n);
        memset(block + n, 0, 128 - n);
        for (int i = 0; i < 16; i++) m[i] = load64le(block + 8 * i);
        for (int i = 0; i < 8; i++) v[i] = h[i];
        for (int i = 0; i < 8; i++) v[8 + i] = IV[i];
        v[12] ^= (uint64_t)(offset + n);
        if (j == blocks - 1) v[14] = ~v[14];
        for (int r = 0; r < 12; r++) {
            G1(r, 0, v[0], v[4], v[8], v[12]);
            G1(r, 1, v[1], v[5], v[9], v[13]);
            G1(r, 2, v[2], v[6], v[10], v[14]);
            G1(r, 3, v[3], v[7], v[11], v[15]);
            G1(r, 4, v[0], v[5], v[10], v[15]);
            G1(r, 5, v[1], v[6], v[11], v[12]);
            G1(r, 6, v[2], v[7], v[8], v[13]);
            G1(r, 7, v[3], v[4], v[9], v[14]);
        }
        for (int i = 0; i < 8; i++) h[i] ^= v[i] ^ v[8 + i];
    }
    for (int i = 0; i < 4; i++) store64le(digest + 8 * i, h[i]);
}

// Lane k's next block (zero-padded) into `block`, its byte counter and whether it is the last;
// false when lane k has no block left.
static inline int next_block(const uint8_t *input, size_t length, size_t j, uint8_t *block, uint64_t *counter,
                             uint64_t *last) {
    size_t blocks = length == 0 ? 1 : (length + 127) / 128;
    if (j >= blocks) return 0;
    size_t offset = 128 * j, n = length - offset < 128 ? length - offset : 128;
    if (n) memcpy(block, input + offset, n);
    memset(block + n, 0, 128 - n);
    *counter = (uint64_t)(offset + n);
    *last = j == blocks - 1 ? ~(uint64_t)0 : 0;
    return 1;
}

static inline size_t block_count(size_t length) { return length == 0 ? 1 : (length + 127) / 128; }

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

int ballast_blake2b_lanes_detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    // The OS must save the YMM (and for AVX-512 the ZMM and mask) registers: OSXSAVE, then XCR0.
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    uint64_t xcr0 = ((uint64_t)hi << 32) | lo;
    if ((xcr0 & 0x6) != 0x6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (avx512f && (xcr0 & 0xE6) == 0xE6) return 2;
    return avx2 ? 1 : 0;
}

// MARK: AVX2, 4 lanes

#define AVX2 __attribute__((target("avx2")))

AVX2 static inline __m256i ror32_4(__m256i x) { return _mm256_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1)); }
AVX2 static inline __m256i ror24_4(__m256i x) {
    const __m256i r = _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10,
                                       3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10);
    return _mm256_shuffle_epi8(x, r);
}
AVX2 static inline __m256i ror16_4(__m256i x) {
    const __m256i r = _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9,
                                       2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9);
    return _mm256_shuffle_epi8(x, r);
}
AVX2 static inline __m256i ror63_4(__m256i x) { return _mm256_or_si256(_mm256_srli_epi64(x, 63), _mm256_add_epi64(x, x)); }

#define G4(r, i, a, b, c, d)                                                     \
    do {                                                                         \
        a = _mm256_add_epi64(_mm256_add_epi64(a, b), m[SIGMA[r][2 * i]]);        \
        d = ror32_4(_mm256_xor_si256(d, a));                                     \
        c = _mm256_add_epi64(c, d);                                              \
        b = ror24_4(_mm256_xor_si256(b, c));                                     \
        a = _mm256_add_epi64(_mm256_add_epi64(a, b), m[SIGMA[r][2 * i + 1]]);    \
        d = ror16_4(_mm256_xor_si256(d, a));                                     \
        c = _mm256_add_epi64(c, d);                                              \
        b = ror63_4(_mm256_xor_si256(b, c));                                     \
    } while (0)

#define ROUND4(r)                                  \
    do {                                           \
        G4(r, 0, v[0], v[4], v[8], v[12]);         \
        G4(r, 1, v[1], v[5], v[9], v[13]);         \
        G4(r, 2, v[2], v[6], v[10], v[14]);        \
        G4(r, 3, v[3], v[7], v[11], v[15]);        \
        G4(r, 4, v[0], v[5], v[10], v[15]);        \
        G4(r, 5, v[1], v[6], v[11], v[12]);        \
        G4(r, 6, v[2], v[7], v[8], v[13]);         \
        G4(r, 7, v[3], v[4], v[9], v[14]);         \
    } while (0)

// Four messages at `blocks` (128 bytes apart).
AVX2 static void hash_four(const uint8_t *blocks, const uint8_t *lengths, uint8_t *digests) {
    __m256i m[16], v[16];
    for (int i = 0; i < 16; i++)
        m[i] = _mm256_setr_epi64x((long long)load64(blocks + 8 * i), (long long)load64(blocks + 128 + 8 * i),
                                  (long long)load64(blocks + 256 + 8 * i), (long long)load64(blocks + 384 + 8 * i));
    for (int i = 0; i < 8; i++) v[i] = _mm256_set1_epi64x((long long)(IV[i] ^ (i == 0 ? PARAM0 : 0)));
    for (int i = 0; i < 8; i++) v[8 + i] = _mm256_set1_epi64x((long long)IV[i]);
    v[12] = _mm256_xor_si256(v[12], _mm256_setr_epi64x(lengths[0], lengths[1], lengths[2], lengths[3]));
    v[14] = _mm256_xor_si256(v[14], _mm256_set1_epi64x(-1));
    ROUND4(0); ROUND4(1); ROUND4(2); ROUND4(3); ROUND4(4); ROUND4(5);
    ROUND4(6); ROUND4(7); ROUND4(8); ROUND4(9); ROUND4(10); ROUND4(11);
    uint64_t out[4][4];
    for (int i = 0; i < 4; i++) {
        __m256i h = _mm256_set1_epi64x((long long)(IV[i] ^ (i == 0 ? PARAM0 : 0)));
        _mm256_storeu_si256((__m256i *)out[i], _mm256_xor_si256(h, _mm256_xor_si256(v[i], v[8 + i])));
    }
    for (int lane = 0; lane < 4; lane++)
        for (int i = 0; i < 4; i++) store64le(digests + 32 * lane + 8 * i, out[i][lane]);
}

// Four messages of any length.
AVX2 static void hash_four_any(const uint8_t *const *inputs, const size_t *lengths, uint8_t *digests) {
    __m256i m[16], v[16], h[8];
    uint8_t blocks[4][128] __attribute__((aligned(64)));
    size_t most = 0;
    for (int k = 0; k < 4; k++) most = block_count(lengths[k]) > most ? block_count(lengths[k]) : most;
    for (int i = 0; i < 8; i++) h[i] = _mm256_set1_epi64x((long long)(IV[i] ^ (i == 0 ? PARAM0 : 0)));
    for (size_t j = 0; j < most; j++) {
        uint64_t counter[4] = {0}, last[4] = {0}, active[4] = {0};
        for (int k = 0; k < 4; k++)
            active[k] = next_block(inputs[k], lengths[k], j, blocks[k], &counter[k], &last[k]) ? ~(uint64_t)0 : 0;
        for (int i = 0; i < 16; i++)
            m[i] = _mm256_setr_epi64x((long long)load64(blocks[0] + 8 * i), (long long)load64(blocks[1] + 8 * i),
                                      (long long)load64(blocks[2] + 8 * i), (long long)load64(blocks[3] + 8 * i));
        for (int i = 0; i < 8; i++) v[i] = h[i];
        for (int i = 0; i < 8; i++) v[8 + i] = _mm256_set1_epi64x((long long)IV[i]);
        v[12] = _mm256_xor_si256(v[12], _mm256_loadu_si256((const __m256i *)counter));
        v[14] = _mm256_xor_si256(v[14], _mm256_loadu_si256((const __m256i *)last));
        ROUND4(0); ROUND4(1); ROUND4(2); ROUND4(3); ROUND4(4); ROUND4(5);
        ROUND4(6); ROUND4(7); ROUND4(8); ROUND4(9); ROUND4(10); ROUND4(11);
        // A lane past its last block keeps its state.
        const __m256i mask = _mm256_loadu_si256((const __m256i *)active);
        for (int i = 0; i < 8; i++)
            h[i] = _mm256_blendv_epi8(h[i], _mm256_xor_si256(h[i], _mm256_xor_si256(v[i], v[8 + i])), mask);
    }
    uint64_t out[4][4];
    for (int i = 0; i < 4; i++) _mm256_storeu_si256((__m256i *)out[i], h[i]);
    for (int lane = 0; lane < 4; lane++)
        for (int i = 0; i < 4; i++) store64le(digests + 32 * lane + 8 * i, out[i][lane]);
}

// MARK: AVX-512, 8 lanes

#define AVX512 __attribute__((target("avx512f")))

#define G8(r, i, a, b, c, d)                                                     \
    do {                                                                         \
        a = _mm512_add_epi64(_mm512_add_epi64(a, b), m[SIGMA[r][2 * i]]);        \
        d = _mm512_ror_epi64(_mm512_xor_si512(d, a), 32);                        \
        c = _mm512_add_epi64(c, d);                                              \
        b = _mm512_ror_epi64(_mm512_xor_si512(b, c), 24);                        \
        a = _mm512_add_epi64(_mm512_add_epi64(a, b), m[SIGMA[r][2 * i + 1]]);    \
        d = _mm512_ror_epi64(_mm512_xor_si512(d, a), 16);                        \
        c = _mm512_add_epi64(c, d);                                              \
        b = _mm512_ror_epi64(_mm512_xor_si512(b, c), 63);                        \
    } while (0)

#define ROUND8(r)                                  \
    do {                                           \
        G8(r, 0, v[0], v[4], v[8], v[12]);         \
        G8(r, 1, v[1], v[5], v[9], v[13]);         \
        G8(r, 2, v[2], v[6], v[10], v[14]);        \
        G8(r, 3, v[3], v[7], v[11], v[15]);        \
        G8(r, 4, v[0], v[5], v[10], v[15]);        \
        G8(r, 5, v[1], v[6], v[11], v[12]);        \
        G8(r, 6, v[2], v[7], v[8], v[13]);         \
        G8(r, 7, v[3], v[4], v[9], v[14]);         \
    } while (0)

// Eight messages at `blocks` (128 bytes apart).
AVX512 static void hash_eight(const uint8_t *blocks, const uint8_t *lengths, uint8_t *digests) {
    __m512i m[16], v[16];
    // Word i of message k is at 64-bit index 16k + i: gather with stride 16.
    const __m512i stride = _mm512_setr_epi64(0, 16, 32, 48, 64, 80, 96, 112);
    for (int i = 0; i < 16; i++) m[i] = _mm512_i64gather_epi64(stride, (const void *)(blocks + 8 * i), 8);
    for (int i = 0; i < 8; i++) v[i] = _mm512_set1_epi64((long long)(IV[i] ^ (i == 0 ? PARAM0 : 0)));
    for (int i = 0; i < 8; i++) v[8 + i] = _mm512_set1_epi64((long long)IV[i]);
    v[12] = _mm512_xor_si512(v[12], _mm512_setr_epi64(lengths[0], lengths[1], lengths[2], lengths[3],
                                                      lengths[4], lengths[5], lengths[6], lengths[7]));
    v[14] = _mm512_xor_si512(v[14], _mm512_set1_epi64(-1));
    ROUND8(0); ROUND8(1); ROUND8(2); ROUND8(3); ROUND8(4); ROUND8(5);
    ROUND8(6); ROUND8(7); ROUND8(8); ROUND8(9); ROUND8(10); ROUND8(11);
    uint64_t out[4][8];
    for (int i = 0; i < 4; i++) {
        __m512i h = _mm512_set1_epi64((long long)(IV[i] ^ (i == 0 ? PARAM0 : 0)));
        _mm512_storeu_si512((void *)out[i], _mm512_xor_si512(h, _mm512_xor_si512(v[i], v[8 + i])));
    }
    for (int lane = 0; lane < 8; lane++)
        for (int i = 0; i < 4; i++) store64le(digests + 32 * lane + 8 * i, out[i][lane]);
}

// Eight messages of any length.
AVX512 static void hash_eight_any(const uint8_t *const *inputs, const size_t *lengths, uint8_t *digests) {
    __m512i m[16], v[16], h[8];
    uint8_t blocks[8][128] __attribute__((aligned(64)));
    const __m512i stride = _mm512_setr_epi64(0, 16, 32, 48, 64, 80, 96, 112);
    size_t most = 0;
    for (int k = 0; k < 8; k++) most = block_count(lengths[k]) > most ? block_count(lengths[k]) : most;
    for (int i = 0; i < 8; i++) h[i] = _mm512_set1_epi64((long long)(IV[i] ^ (i == 0 ? PARAM0 : 0)));
    for (size_t j = 0; j < most; j++) {
        uint64_t counter[8] = {0}, last[8] = {0};
        __mmask8 active = 0;
        for (int k = 0; k < 8; k++)
            if (next_block(inputs[k], lengths[k], j, blocks[k], &counter[k], &last[k])) active |= (__mmask8)(1u << k);
        for (int i = 0; i < 16; i++) m[i] = _mm512_i64gather_epi64(stride, (const void *)(&blocks[0][0] + 8 * i), 8);
        for (int i = 0; i < 8; i++) v[i] = h[i];
        for (int i = 0; i < 8; i++) v[8 + i] = _mm512_set1_epi64((long long)IV[i]);
        v[12] = _mm512_xor_si512(v[12], _mm512_loadu_si512((const void *)counter));
        v[14] = _mm512_xor_si512(v[14], _mm512_loadu_si512((const void *)last));
        ROUND8(0); ROUND8(1); ROUND8(2); ROUND8(3); ROUND8(4); ROUND8(5);
        ROUND8(6); ROUND8(7); ROUND8(8); ROUND8(9); ROUND8(10); ROUND8(11);
        // A lane past its last block keeps its state.
        for (int i = 0; i < 8; i++)
            h[i] = _mm512_mask_xor_epi64(h[i], active, h[i], _mm512_xor_si512(v[i], v[8 + i]));
    }
    uint64_t out[4][8];
    for (int i = 0; i < 4; i++) _mm512_storeu_si512((void *)out[i], h[i]);
    for (int lane = 0; lane < 8; lane++)
        for (int i = 0; i < 4; i++) store64le(digests + 32 * lane + 8 * i, out[i][lane]);
}

#else
int ballast_blake2b_lanes_detect(void) { return 0; }
#endif

void ballast_blake2b256_blocks(int level, const uint8_t *blocks, const uint8_t *lengths, size_t count,
                               uint8_t *digests) {
    size_t i = 0;
#if defined(__x86_64__)
    if (level >= 2) {
        for (; i + 8 <= count; i += 8) hash_eight(blocks + 128 * i, lengths + i, digests + 32 * i);
    }
    if (level >= 1) {
        for (; i + 4 <= count; i += 4) hash_four(blocks + 128 * i, lengths + i, digests + 32 * i);
    }
#else
    (void)level;
#endif
    for (; i < count; i++) hash_one(blocks + 128 * i, lengths[i], digests + 32 * i);
}

void ballast_blake2b256_many(int level, const uint8_t *const *inputs, const size_t *lengths, size_t count,
                             uint8_t *digests) {
    size_t i = 0;
#if defined(__x86_64__)
    if (level >= 2) {
        for (; i + 8 <= count; i += 8) hash_eight_any(inputs + i, lengths + i, digests + 32 * i);
    }
    if (level >= 1) {
        for (; i + 4 <= count; i += 4) hash_four_any(inputs + i, lengths + i, digests + 32 * i);
    }
#else
    (void)level;
#endif
    for (; i < count; i++) hash_any(inputs[i], lengths[i], digests + 32 * i);
}
