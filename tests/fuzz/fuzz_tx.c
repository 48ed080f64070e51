/* fuzz_tx.c — the tx envelope (chain/tx.c): chain_tx_parse_ex on arbitrary bytes, then the full
 * admission check chain_tx_verify against a fixed chain and clock. Properties: a failure names
 * a field in valid, NUL-terminated detail and comes with a known error code; a parsed tx's leaf
 * is canonical (it parses again to the same tx id) and its base64 fields are the one encoding of
 * their bytes; a tx that verifies was signed by its signer,
 * so flipping one byte of its signed message must make it fail. And the text read again after a
 * space (never canonical, so through the general path) gives the same error and detail, or the
 * same tx: a canonical text takes the member-by-member path. */
#include "fuzz.h"

#include "../../chain/jcs.h"
#include "../../chain/tx.h"
#include "../tx_same.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_sodium();
    return 0;
}

/* The leaf is JCS(envelope): parsing it again must give the same tx. */
static void leaf_is_fixed_point(const struct chain_tx *tx)
{
    struct chain_tx *again = NULL;
    char detail[64];

    FUZZ_ASSERT(chain_tx_parse_ex(tx->leaf, tx->leaf_len, &again, detail, sizeof detail) == 0);
    FUZZ_ASSERT(strcmp(again->id_hex, tx->id_hex) == 0);
    FUZZ_ASSERT(again->msg_len == tx->msg_len && memcmp(again->msg, tx->msg, tx->msg_len) == 0);
    chain_tx_free(again);
}

/* Each value has one text: a base64 field is exactly the encoding of the bytes it decoded to
 * (else one signed tx could travel under many tx ids). */
static void b64_canonical(const json_t *doc, const char *field, const uint8_t *bin, size_t n)
{
    char enc[CHAIN_B64_LEN(crypto_sign_BYTES) + 1];

    FUZZ_ASSERT(chain_b64_encode(bin, n, enc, sizeof enc) == 0);
    FUZZ_ASSERT(strcmp(enc, json_string_value(json_object_get(doc, field))) == 0);
}

/* data read after a space: the same answer through the general path. */
static void same_after_space(const uint8_t *data, size_t size, int rc, const struct chain_tx *tx,
                             const char *detail)
{
    char *spaced = malloc(size + 1), detail2[48];
    struct chain_tx *tx2 = NULL;
    int rc2;

    FUZZ_ASSERT(spaced != NULL);
    spaced[0] = ' ';
    memcpy(spaced + 1, data, size);
    rc2 = chain_tx_parse_ex(spaced, size + 1, &tx2, detail2, sizeof detail2);
    /* one byte more: only the size limit can tell the two apart */
    if (rc2 != CHAIN_E_TOO_LARGE) {
        FUZZ_ASSERT(rc2 == rc && strcmp(detail2, detail) == 0);
        FUZZ_ASSERT(rc != 0 || tx_same(tx, tx2));
    }
    chain_tx_free(tx2);
    free(spaced);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct chain_tx *tx = NULL;
    char detail[48];
    int rc = chain_tx_parse_ex((const char *)data, size, &tx, detail, sizeof detail);
    json_t *doc = NULL;

    FUZZ_ASSERT(memchr(detail, '\0', sizeof detail) != NULL);
    same_after_space(data, size, rc, tx, detail);
    if (rc != 0) {
        FUZZ_ASSERT(tx == NULL);
        FUZZ_ASSERT(strcmp(chain_err_code(rc), "unknown_error") != 0);
        FUZZ_ASSERT(detail[0] != '\0');
        return 0;
    }
    FUZZ_ASSERT(detail[0] == '\0' && strlen(tx->id_hex) == CHAIN_TX_ID_HEX_LEN);
    leaf_is_fixed_point(tx);
    FUZZ_ASSERT(chain_jcs_parse(tx->leaf, tx->leaf_len, &doc) == 0);
    b64_canonical(doc, "signer", tx->signer, sizeof tx->signer);
    b64_canonical(doc, "nonce", tx->nonce, sizeof tx->nonce);
    b64_canonical(doc, "sig", tx->sig, sizeof tx->sig);
    json_decref(doc);
    rc = chain_tx_verify(tx, FUZZ_ORIGIN, FUZZ_NOW_MS);
    FUZZ_ASSERT(rc == 0 || rc == CHAIN_E_WRONG_CHAIN || rc == CHAIN_E_TIME_SKEW ||
                rc == CHAIN_E_BAD_SIG);
    if (chain_tx_verify_sig(tx) == 0) {
        /* a valid signature covers every byte of the message */
        size_t at = (size_t)data[size - 1] % tx->msg_len;

        tx->msg[at] ^= 0x01;
        FUZZ_ASSERT(chain_tx_verify_sig(tx) == CHAIN_E_BAD_SIG);
        tx->msg[at] ^= 0x01;
    }
    chain_tx_free(tx);
    return 0;
}
