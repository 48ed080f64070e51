/* fuzz_vc.c — Verifiable Credentials (chain/vc.c): chain_vc_verify and the anchor hash on any
 * JSON document, read both the way POST /api/edu/verify reads a body (Jansson, reals allowed) and
 * strictly (JCS); then the text decoders — did:key, Multikey, base58btc, dateTime — on the raw
 * input. Properties: results are documented codes with a NUL-terminated reason; base58 and
 * Multikey decoding round-trip through their encoders; a did:key that decodes re-encodes to a
 * prefix of itself; dateTime validity and its Unix-ms conversion agree. */
#include "fuzz.h"

#include "../../chain/jcs.h"
#include "../../chain/vc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_sodium();
    return 0;
}

static void verify(const json_t *doc)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], h[CHAIN_HASH_LEN];
    char why[160];
    int rc;

    memset(why, 'x', sizeof why);
    rc = chain_vc_verify(doc, pk, why, sizeof why);
    if (rc != 0) /* a reason comes with every refusal */
        FUZZ_ASSERT(memchr(why, '\0', sizeof why) != NULL && why[0] != '\0');
    FUZZ_ASSERT(rc == 0 || rc == CHAIN_E_MALFORMED || rc == CHAIN_E_BAD_KEY ||
                rc == CHAIN_E_BAD_LENGTH || rc == CHAIN_E_BAD_SIG || rc == CHAIN_E_FLOAT ||
                rc == CHAIN_E_RANGE || rc == CHAIN_E_TOO_DEEP);
    rc = chain_vc_anchor_hash(doc, h);
    FUZZ_ASSERT(rc == 0 || rc == CHAIN_E_MALFORMED || rc == CHAIN_E_FLOAT || rc == CHAIN_E_RANGE ||
                rc == CHAIN_E_TOO_DEEP);
}

static void texts(const char *s, size_t len)
{
    uint8_t raw[128], pk[crypto_sign_PUBLICKEYBYTES];
    char enc[256], mk[CHAIN_MULTIKEY_MAX], did[CHAIN_DIDKEY_MAX];
    size_t n;
    int64_t ms;

    if (chain_b58_decode(s, len, raw, sizeof raw, &n) == 0) {
        FUZZ_ASSERT(chain_b58_encode(raw, n, enc, sizeof enc) == 0);
        FUZZ_ASSERT(strlen(enc) == len && memcmp(enc, s, len) == 0);
    }
    if (chain_multikey_decode(s, pk) == 0) {
        FUZZ_ASSERT(chain_multikey_encode(pk, mk, sizeof mk) == 0 && strcmp(mk, s) == 0);
    }
    if (chain_didkey_decode(s, pk) == 0) {
        FUZZ_ASSERT(chain_didkey_encode(pk, did, sizeof did) == 0);
        FUZZ_ASSERT(strncmp(s, did, strlen(did)) == 0);
    }
    FUZZ_ASSERT(chain_vc_datetime_valid(s) == (chain_vc_datetime_ms(s, &ms) == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *doc =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    char *s;

    if (doc != NULL)
        verify(doc);
    json_decref(doc);
    doc = NULL;
    if (chain_jcs_parse((const char *)data, size, &doc) == 0)
        verify(doc);
    json_decref(doc);
    if (size <= 256) {
        s = fuzz_cstr(data, size);
        texts(s, strlen(s));
        free(s);
    }
    return 0;
}
