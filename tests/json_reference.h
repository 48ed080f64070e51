/* json_reference.h — what chain_jcs_parse_ex was before chain/jsonread.c: Jansson's json_loadb
 * with JSON_DECODE_ANY | JSON_REJECT_DUPLICATES (and JSON_ALLOW_NUL when asked), its errors
 * mapped to chain's, then chain_jcs_check. The reader is held to it by test_chain_jsonread and
 * fuzz_jcs. Header-only (static functions) so both builds take it as it is. */
#ifndef LX_TESTS_JSON_REFERENCE_H
#define LX_TESTS_JSON_REFERENCE_H

#include <string.h>

#include <jansson.h>

#include "../chain/jcs.h"

static inline int reference_map_error(const json_error_t *e)
{
    switch (json_error_code(e)) {
    case json_error_out_of_memory:
        return CHAIN_E_NOMEM;
    case json_error_stack_overflow:
        return CHAIN_E_TOO_DEEP;
    case json_error_duplicate_key:
        return CHAIN_E_DUPLICATE_KEY;
    case json_error_numeric_overflow:
        /* "real number overflow" (1e400) is a float to chain; the rest are too-big integers */
        return strncmp(e->text, "real", 4) == 0 ? CHAIN_E_FLOAT : CHAIN_E_RANGE;
    default:
        return CHAIN_E_MALFORMED;
    }
}

/* 0 and a new value in *out, or the error chain_jcs_parse_ex gave for buf[0..len). */
static inline int reference_read(const char *buf, size_t len, int allow_nul, json_t **out)
{
    size_t flags = JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | (allow_nul ? JSON_ALLOW_NUL : 0);
    json_error_t err;
    json_t *v = json_loadb(buf, len, flags, &err);
    int rc;

    if (v == NULL)
        return reference_map_error(&err);
    rc = chain_jcs_check(v);
    if (rc != CHAIN_OK) {
        json_decref(v);
        return rc;
    }
    *out = v;
    return CHAIN_OK;
}

/* The one difference, on purpose: Jansson drops a NUL byte that directly follows a number or a
 * literal ("1\0" reads as 1), where chain refuses a NUL byte anywhere. So where the text holds
 * one, chain may fail with CHAIN_E_MALFORMED when Jansson did not. */
static inline int reference_agrees(const char *buf, size_t len, int rc_chain, int rc_reference)
{
    return rc_chain == rc_reference ||
           (rc_chain == CHAIN_E_MALFORMED && memchr(buf, '\0', len) != NULL);
}

#endif
