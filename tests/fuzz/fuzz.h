/* fuzz.h — what the libFuzzer targets of tests/fuzz share: the entry points libFuzzer calls, a
 * NUL-terminated copy of an input, the fixed keys and clock the targets verify against, and a
 * check that aborts (a crash libFuzzer reports and keeps) when a property of the code fails. */
#ifndef LX_TESTS_FUZZ_H
#define LX_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ORIGIN   "lianxin.fuzz/test" /* the chain the tx and checkpoint targets accept */
#define FUZZ_NOW_MS   1767225600000LL     /* 2026-01-01T00:00:00Z, the "node clock" of tx */
#define FUZZ_KEY_NAME "lianxin.fuzz/test" /* the name of the fixed note key */

/* A property the code under test promised does not hold: report it and crash. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: property failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* data[0..size) with a NUL after it (returns new, free with free()); aborts when out of memory,
 * which under the fuzzer's malloc limit is itself a finding. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    FUZZ_ASSERT(s != NULL);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* The fixed Ed25519 key pair of the targets: derived from a constant seed, so that seeds made
 * by tests/fuzz/seedgen.c verify under every run. */
static inline void fuzz_keypair(uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                                uint8_t sk[crypto_sign_SECRETKEYBYTES])
{
    uint8_t seed[crypto_sign_SEEDBYTES];

    for (size_t i = 0; i < sizeof(seed); i++)
        seed[i] = (uint8_t)(0x4c + i); /* 'L', 'M', ... */
    crypto_sign_seed_keypair(pk, sk, seed);
}

/* sodium_init once; chain/ needs it before hashing or verifying. */
static inline void fuzz_sodium(void)
{
    if (sodium_init() < 0)
        abort();
}

#endif
