/* fuzz_jcs.c — RFC 8785 canonicalisation (chain/jcs.c) on arbitrary bytes. Whatever parses must
 * be inside the subset (chain_jcs_check), canonicalise, and be a fixed point: the canonical text
 * parses again to the same canonical text, byte for byte — the property signatures and tx ids
 * rest on. chain_jcs_canonicalize must give the same bytes as parse + dump, and the NUL-refusing
 * parse must agree with the plain one on every text without a U+0000. The parse itself
 * (chain/jsonread.c) must agree with Jansson's json_loadb as chain used it before, error for
 * error and value for value (../json_reference.h). */
#include "fuzz.h"

#include "../../chain/jcs.h"
#include "../json_reference.h"

/* dump(v) into *out; aborts if a parsed value does not canonicalise. */
static void dump_ok(const json_t *v, char **out, size_t *len)
{
    FUZZ_ASSERT(chain_jcs_check(v) == 0);
    FUZZ_ASSERT(chain_jcs_dump(v, out, len) == 0);
    FUZZ_ASSERT(strlen(*out) <= *len); /* NUL-terminated (a U+0000 is escaped, so equal) */
}

/* Does a string anywhere in v hold U+0000? (Jansson refuses it in member names.) */
static int has_nul(const json_t *v)
{
    const char *key;
    json_t *m;
    size_t i;

    if (json_is_string(v))
        return strlen(json_string_value(v)) != json_string_length(v);
    json_array_foreach((json_t *)v, i, m)
    {
        if (has_nul(m))
            return 1;
    }
    json_object_foreach((json_t *)v, key, m)
    {
        if (has_nul(m))
            return 1;
    }
    return 0;
}

/* chain's parse of buf (rc, and v when 0) is what Jansson made of it: the same error, or the
 * same values with members in the same order. */
static void same_as_jansson(const char *buf, size_t size, int allow_nul, int rc, const json_t *v)
{
    json_t *want = NULL;
    int rc_want = reference_read(buf, size, allow_nul, &want);
    char *a, *b;

    FUZZ_ASSERT(reference_agrees(buf, size, rc, rc_want));
    if (rc == 0 && rc_want == 0) {
        a = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
        b = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        FUZZ_ASSERT(a != NULL && b != NULL && strcmp(a, b) == 0);
        free(a);
        free(b);
    }
    json_decref(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    json_t *v = NULL, *again = NULL, *strict = NULL;
    char *d1 = NULL, *d2 = NULL, *canon = NULL;
    size_t n1, n2, nc;
    int rc = chain_jcs_parse(buf, size, &v), rc_strict;

    rc_strict = chain_jcs_parse_ex(buf, size, CHAIN_JCS_REJECT_NUL, &strict);
    same_as_jansson(buf, size, 1, rc, v);
    same_as_jansson(buf, size, 0, rc_strict, strict);
    if (rc != 0) {
        FUZZ_ASSERT(rc_strict != 0);
        FUZZ_ASSERT(chain_jcs_canonicalize(buf, size, &canon, &nc) == rc);
        return 0;
    }
    dump_ok(v, &d1, &n1);
    FUZZ_ASSERT(strlen(d1) == n1);
    FUZZ_ASSERT(chain_jcs_parse(d1, n1, &again) == 0);
    dump_ok(again, &d2, &n2);
    FUZZ_ASSERT(n1 == n2 && memcmp(d1, d2, n1) == 0);
    FUZZ_ASSERT(chain_jcs_canonicalize(buf, size, &canon, &nc) == 0);
    FUZZ_ASSERT(nc == n1 && memcmp(canon, d1, n1) == 0);
    /* the NUL-refusing parse differs from the plain one exactly on a U+0000 in a string */
    if (!has_nul(v))
        FUZZ_ASSERT(rc_strict == 0);
    else
        FUZZ_ASSERT(rc_strict == CHAIN_E_MALFORMED);
    json_decref(strict);
    json_decref(v);
    json_decref(again);
    free(d1);
    free(d2);
    free(canon);
    return 0;
}
