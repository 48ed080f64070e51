/* txmake.h — the tx a module's stateless check sees, made from fuzz input the way the server
 * makes it: the body must pass the strict parser of chain_tx_parse (JCS subset, no U+0000, an
 * object), the envelope is built with chain_tx_build and read back with chain_tx_from_json. The
 * signature is left as zeros: module checks never look at it (the sequencer verifies it first). */
#ifndef LX_TESTS_FUZZ_TXMAKE_H
#define LX_TESTS_FUZZ_TXMAKE_H

#include "fuzz.h"

#include "../../chain/jcs.h"
#include "../../chain/tx.h"
#include "../../modules/module.h"

/* A tx of module / type by org carrying data[0..size) as its body, or NULL when the body is not
 * one chain_tx_parse would let through. Returns new (chain_tx_free). */
static inline struct chain_tx *fuzz_tx_make(const char *module, const char *type, const char *org,
                                            const uint8_t *data, size_t size)
{
    static uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    static int have_pk;
    char zeros[CHAIN_B64_LEN(crypto_sign_BYTES) + 1];
    uint8_t nosig[crypto_sign_BYTES] = {0};
    struct chain_tx *tx = NULL;
    json_t *body = NULL, *env;

    if (chain_jcs_parse_ex((const char *)data, size, CHAIN_JCS_REJECT_NUL, &body) != 0)
        return NULL;
    if (!json_is_object(body)) {
        json_decref(body);
        return NULL;
    }
    if (!have_pk) { /* deriving it takes longer than the rest of the check */
        uint8_t sk[crypto_sign_SECRETKEYBYTES];

        fuzz_keypair(pk, sk);
        sodium_memzero(sk, sizeof sk);
        have_pk = 1;
    }
    env = chain_tx_build(FUZZ_ORIGIN, module, type, org, pk, FUZZ_NOW_MS, body);
    if (env == NULL)
        return NULL; /* org is not UTF-8: no envelope carries it */
    FUZZ_ASSERT(chain_b64_encode(nosig, sizeof nosig, zeros, sizeof zeros) == 0);
    json_object_set_new(env, "sig", json_string(zeros));
    if (chain_tx_from_json(env, &tx) != 0)
        tx = NULL; /* over CHAIN_TX_MAX once wrapped, or too deep: never reaches a module */
    json_decref(env);
    return tx;
}

/* Runs module's stateless check on tx: the verdict must be accept, or a refusal with a 4xx
 * status, a code and a message (what the client is told). */
static inline int fuzz_check(const char *module, const struct chain_tx *tx)
{
    const struct lx_module *m = lx_module_find(module);
    struct lx_reject why;
    int rc;

    FUZZ_ASSERT(m != NULL && m->check != NULL);
    memset(&why, 0, sizeof why);
    rc = m->check(tx, &why);
    FUZZ_ASSERT(rc == 0 || rc == -1);
    if (rc != 0) {
        FUZZ_ASSERT(why.status >= 400 && why.status < 500);
        FUZZ_ASSERT(why.code[0] != '\0' && why.message[0] != '\0');
    }
    return rc;
}

#endif
