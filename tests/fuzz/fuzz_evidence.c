/* fuzz_evidence.c — the evidence module's request-body checks of POST /api/evidence/items
 * (ev_item_body_check, on the input read as http.c reads a body), its ledger rules (ev_check:
 * item.preserve, item.custody, anchor) on a tx carrying the input as body, and the text
 * validators its request handlers use
 * on the fields of a body (ev_text_ok, ev_hex64, ev_uuid_valid, ev_kind_valid, ev_event_valid)
 * on every string of it. Properties: verdicts are accept or a 4xx refusal with a code and a
 * message; an accepted preserve/custody body names a urn:uuid item and a 64-hex hash; the
 * validators accept nothing that breaks their own definition. */
#include "fuzz.h"
#include "txmake.h"

#include "../../modules/evidence/evidence_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_sodium();
    return 0;
}

static void validators(const char *s)
{
    size_t n = strlen(s);

    if (ev_text_ok(s, EV_MAX_SHORT, 0)) {
        FUZZ_ASSERT(n >= 1 && n <= EV_MAX_SHORT);
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT((unsigned char)s[i] >= 0x20 || s[i] == '\n' || s[i] == '\t');
    }
    if (ev_hex64(s))
        FUZZ_ASSERT(n == 64 && strspn(s, "0123456789abcdef") == 64);
    if (ev_uuid_valid(s))
        FUZZ_ASSERT(n == EV_ID_LEN && strspn(s, "0123456789abcdef-") == EV_ID_LEN);
    (void)ev_kind_valid(s);
    (void)ev_event_valid(s);
}

/* Every string member and array element of the body, one level deep (what handlers read). */
static void strings(const json_t *body)
{
    const char *k;
    json_t *v, *e;
    size_t i;

    json_object_foreach((json_t *)body, k, v)
    {
        validators(k);
        if (json_is_string(v))
            validators(json_string_value(v));
        json_array_foreach(v, i, e)
        {
            if (json_is_string(e))
                validators(json_string_value(e));
        }
    }
}

/* POST /api/evidence/items: the body read as http.c reads it, then its stateless checks. */
static void item_body(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *b =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    const char *bad;
    char msg[120];

    if (b == NULL)
        return;
    memset(msg, 'x', sizeof msg);
    bad = ev_item_body_check(b, msg);
    if (bad != NULL) {
        FUZZ_ASSERT(bad[0] != '\0' && memchr(msg, '\0', sizeof msg) && msg[0] != '\0');
    } else {
        FUZZ_ASSERT(json_is_object(b) && ev_hex64(json_string_value(json_object_get(b, "sha256"))));
        FUZZ_ASSERT(ev_uuid_valid(json_string_value(json_object_get(b, "case"))));
        FUZZ_ASSERT(json_integer_value(json_object_get(b, "size")) >= 0);
    }
    json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {EV_TX_PRESERVE, EV_TX_CUSTODY, EV_TX_ANCHOR, "item.drop"};

    struct chain_tx *tx;

    item_body(data, size);
    tx = fuzz_tx_make("evidence", types[0], "court", data, size);
    if (tx == NULL)
        return 0;
    strings(tx->body);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        tx->type = types[t]; /* one envelope per type would only repeat the parse */
        if (fuzz_check("evidence", tx) == 0) {
            const char *item = json_string_value(json_object_get(tx->body, "item_id"));

            FUZZ_ASSERT(t < 3);
            FUZZ_ASSERT(ev_hex64(json_string_value(json_object_get(tx->body, "sha256"))));
            if (t < 2)
                FUZZ_ASSERT(item && strncmp(item, "urn:uuid:", 9) == 0 && ev_uuid_valid(item + 9));
        }
    }
    chain_tx_free(tx);
    return 0;
}
