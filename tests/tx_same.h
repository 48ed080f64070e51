/* tx_same.h — whether two parsed txs are the same in every field, for the tests that hold
 * chain_tx_parse's two paths (a canonical text read member by member, any other text as a tree)
 * to each other: test_chain_tx and fuzz_tx. Header-only (a static function). */
#ifndef LX_TESTS_TX_SAME_H
#define LX_TESTS_TX_SAME_H

#include <string.h>

#include <jansson.h>

#include "../chain/tx.h"

static inline int tx_same(const struct chain_tx *a, const struct chain_tx *b)
{
    return strcmp(a->chain, b->chain) == 0 && strcmp(a->module, b->module) == 0 &&
           strcmp(a->type, b->type) == 0 && strcmp(a->org, b->org) == 0 &&
           json_equal(a->body, b->body) && memcmp(a->signer, b->signer, sizeof a->signer) == 0 &&
           memcmp(a->nonce, b->nonce, sizeof a->nonce) == 0 &&
           memcmp(a->sig, b->sig, sizeof a->sig) == 0 && a->time_ms == b->time_ms &&
           a->leaf_len == b->leaf_len && memcmp(a->leaf, b->leaf, a->leaf_len) == 0 &&
           a->msg_len == b->msg_len && memcmp(a->msg, b->msg, a->msg_len) == 0 &&
           strcmp(a->id_hex, b->id_hex) == 0 &&
           memcmp(a->leaf_hash, b->leaf_hash, sizeof a->leaf_hash) == 0;
}

#endif
