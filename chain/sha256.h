/*
 * sha256.h — SHA-256 for the Merkle log's hashes: with the processor's SHA extensions where it
 * has them, with libsodium elsewhere (sha256.c says why).
 */
#ifndef CHAIN_SHA256_H
#define CHAIN_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* out = SHA-256(prefix || a[0..na) || b[0..nb)). out may alias a or b. */
void chain_sha256_prefixed(uint8_t prefix, const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
                           uint8_t out[32]);

/* Whether the SHA extensions are used. */
int chain_sha256_accelerated(void);

/* Tests: 1 makes every hash go through libsodium; 0 checks the processor again. */
void chain_sha256_force_portable(int portable);

#endif
