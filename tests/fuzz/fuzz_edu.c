/* fuzz_edu.c — the edu module's request-body parsers and ledger rules on arbitrary input:
 *   - POST /api/edu/credentials: the body read as http.c reads it (Jansson, duplicates refused),
 *     then edu_subject_parse, the function that turns it into a credential to issue;
 *   - the "courses" column of a batch CSV: edu_courses_from_text;
 *   - credential.issue and credential.revoke txs carrying the input as body: edu_check.
 * Properties: a refused body names a field and a reason; an accepted one has a known kind and
 * subject fields in the canonical-JSON subset, and the credential edu_vc_make builds from it with
 * a fixed issuer verifies; parsed courses are an array of three-string objects. */
#include "fuzz.h"
#include "txmake.h"

#include "../../chain/vc.h"
#include "../../modules/edu/edu_int.h"

static struct edu_issuer issuer;
static uint8_t issuer_sk[crypto_sign_SECRETKEYBYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_sodium();
    fuzz_keypair(issuer.pk, issuer_sk);
    snprintf(issuer.org, sizeof issuer.org, "pku");
    snprintf(issuer.name, sizeof issuer.name, "Peking University");
    if (chain_didkey_encode(issuer.pk, issuer.did, sizeof issuer.did) != 0)
        abort();
    snprintf(issuer.now_iso, sizeof issuer.now_iso, "2026-01-01T00:00:00Z");
    snprintf(issuer.base_url, sizeof issuer.base_url, "https://ledger.example");
    return 0;
}

/* An accepted subject becomes a credential that verifies. */
static void issue(const struct edu_subject *s)
{
    char id[EDU_ID_LEN + 1];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    json_t *vc = edu_vc_make(s, &issuer, s->student[0] ? "did:key:z6Mkfuzz" : NULL, issuer_sk, id);

    FUZZ_ASSERT(vc != NULL);
    FUZZ_ASSERT(chain_vc_verify(vc, pk, NULL, 0) == 0);
    FUZZ_ASSERT(memcmp(pk, issuer.pk, sizeof pk) == 0 && edu_uuid_valid(id));
    json_decref(vc);
}

static void subject(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *in =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    struct edu_subject s;
    char field[64], msg[160];

    if (in == NULL)
        return;
    memset(field, 'x', sizeof field);
    memset(msg, 'x', sizeof msg);
    if (edu_subject_parse(in, &s, field, msg) != 0) {
        FUZZ_ASSERT(memchr(field, '\0', sizeof field) && memchr(msg, '\0', sizeof msg));
        FUZZ_ASSERT(msg[0] != '\0' && s.fields == NULL); /* field may be "": a member "" */
    } else {
        FUZZ_ASSERT(edu_kind_type(s.kind) != NULL && s.name[0] && s.number[0]);
        FUZZ_ASSERT(chain_jcs_check(s.fields) == 0);
        issue(&s);
        edu_subject_clear(&s);
    }
    json_decref(in);
}

static void courses(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size), msg[160];
    json_t *list = edu_courses_from_text(text, msg), *c;
    size_t i;

    if (list != NULL) {
        FUZZ_ASSERT(json_is_array(list));
        json_array_foreach(list, i, c)
        {
            FUZZ_ASSERT(json_object_size(c) == 3 && json_is_string(json_object_get(c, "name")) &&
                        json_is_string(json_object_get(c, "credits")) &&
                        json_is_string(json_object_get(c, "grade")));
        }
    }
    json_decref(list);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {EDU_TX_ISSUE, EDU_TX_REVOKE, "credential.erase"};

    subject(data, size);
    if (size < 16384)
        courses(data, size);
    struct chain_tx *tx = fuzz_tx_make("edu", types[0], "pku", data, size);

    for (size_t t = 0; tx != NULL && t < 3; t++) {
        tx->type = types[t]; /* one envelope per type would only repeat the parse */
        if (fuzz_check("edu", tx) == 0)
            FUZZ_ASSERT(t < 2);
    }
    chain_tx_free(tx);
    return 0;
}
