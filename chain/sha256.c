/*
 * sha256.c — SHA-256 of a prefix byte and a message, for the Merkle log's leaf and node hashes.
 *
 * libsodium's SHA-256 is portable C. Most x86-64 processors made since 2017 carry the SHA
 * extensions, which do the same compression about five times faster; a proof hashes 60 to 140
 * nodes, so profiles of proof serving showed libsodium's compression as half of lianxind's CPU.
 * When the processor has the extensions (checked once with CPUID) the blocks go through them;
 * otherwise, and on other architectures, through libsodium. A unit test holds both equal.
 */
#include "sha256.h"

#include <string.h>

#include <sodium.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

#define HAVE_SHA_NI_CODE 1

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Compresses n 64-byte blocks into state with the SHA extensions. The message schedule is kept
 * four words at a time: group i (i >= 4) is msg2(msg1(g[i-4], g[i-3]) + words 4i-7..4i-4,
 * g[i-1]), which is FIPS 180-4's W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]. */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_ni(uint32_t state[8],
                                                                    const uint8_t *p, size_t n)
{
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i t = _mm_loadu_si128((const __m128i *)(const void *)&state[0]);
    __m128i s1 = _mm_loadu_si128((const __m128i *)(const void *)&state[4]);
    __m128i s0;

    t = _mm_shuffle_epi32(t, 0xb1);    /* CDAB */
    s1 = _mm_shuffle_epi32(s1, 0x1b);  /* EFGH */
    s0 = _mm_alignr_epi8(t, s1, 8);    /* ABEF */
    s1 = _mm_blend_epi16(s1, t, 0xf0); /* CDGH */
    for (; n > 0; n--, p += 64) {
        __m128i save0 = s0, save1 = s1, g[4];

#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) {
            __m128i w, m;

            if (i < 4) {
                w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)),
                                     swap);
            } else {
                w = _mm_sha256msg1_epu32(g[i & 3], g[(i - 3) & 3]);
                w = _mm_add_epi32(w, _mm_alignr_epi8(g[(i - 1) & 3], g[(i - 2) & 3], 4));
                w = _mm_sha256msg2_epu32(w, g[(i - 1) & 3]);
            }
            g[i & 3] = w;
            m = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)(const void *)&K[4 * i]));
            s1 = _mm_sha256rnds2_epu32(s1, s0, m);
            s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0e));
        }
        s0 = _mm_add_epi32(s0, save0);
        s1 = _mm_add_epi32(s1, save1);
    }
    t = _mm_shuffle_epi32(s0, 0x1b);   /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xb1);  /* DCHG */
    s0 = _mm_blend_epi16(t, s1, 0xf0); /* DCBA */
    s1 = _mm_alignr_epi8(s1, t, 8);    /* HGFE */
    _mm_storeu_si128((__m128i *)(void *)&state[0], s0);
    _mm_storeu_si128((__m128i *)(void *)&state[4], s1);
}

static int has_sha_ni(void)
{
    unsigned a, b, c, d;

    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29))) /* CPUID.7.0:EBX.SHA */
        return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    return (c & (1u << 19)) && (c & (1u << 9)); /* SSE4.1 and SSSE3 */
}
#endif

/* -1 until checked, then 0 or 1; racing first callers compute the same answer. */
static int use_ni = -1;

int chain_sha256_accelerated(void)
{
#ifdef HAVE_SHA_NI_CODE
    if (use_ni < 0)
        use_ni = has_sha_ni();
    return use_ni;
#else
    return 0;
#endif
}

void chain_sha256_force_portable(int portable)
{
    use_ni = portable ? 0 : -1;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void chain_sha256_prefixed(uint8_t prefix, const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
                           uint8_t out[32])
{
#ifdef HAVE_SHA_NI_CODE
    if (chain_sha256_accelerated()) {
        uint32_t st[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                          0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        uint64_t bits = (uint64_t)(1 + na + nb) * 8;
        uint8_t blk[128];
        size_t fill = 1, parts = 0;
        const uint8_t *src[2] = {a, b};
        size_t left[2] = {na, nb};

        blk[0] = prefix;
        /* Whole blocks straight from the message where it allows, the rest through blk. */
        while (parts < 2) {
            size_t take = 64 - fill < left[parts] ? 64 - fill : left[parts];

            if (take > 0) { /* an empty part may be NULL, and NULL + 0 is undefined */
                memcpy(blk + fill, src[parts], take);
                src[parts] += take;
                left[parts] -= take;
                fill += take;
            }
            if (left[parts] == 0)
                parts++;
            if (fill == 64) {
                compress_ni(st, blk, 1);
                fill = 0;
                if (parts < 2 && left[parts] >= 64) {
                    size_t whole = left[parts] / 64;

                    compress_ni(st, src[parts], whole);
                    src[parts] += whole * 64;
                    left[parts] -= whole * 64;
                    if (left[parts] == 0)
                        parts++;
                }
            }
        }
        blk[fill++] = 0x80;
        if (fill > 56) {
            memset(blk + fill, 0, 128 - fill);
            fill = 128;
        } else {
            memset(blk + fill, 0, 64 - fill);
            fill = 64;
        }
        put_be32(blk + fill - 8, (uint32_t)(bits >> 32));
        put_be32(blk + fill - 4, (uint32_t)bits);
        compress_ni(st, blk, fill / 64);
        for (int i = 0; i < 8; i++)
            put_be32(out + 4 * i, st[i]);
        return;
    }
#endif
    crypto_hash_sha256_state s;

    crypto_hash_sha256_init(&s);
    crypto_hash_sha256_update(&s, &prefix, 1);
    crypto_hash_sha256_update(&s, a, na);
    crypto_hash_sha256_update(&s, b, nb);
    crypto_hash_sha256_final(&s, out);
}
