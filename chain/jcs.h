/* jcs.h — RFC 8785 JSON Canonicalization Scheme over Jansson values, restricted to the JSON the
 * ledger accepts: integers only (|n| <= 2^53 - 1), nesting at most CHAIN_MAX_DEPTH. Signatures and
 * tx ids are computed over these bytes, so two implementations must agree on every one of them. */
#ifndef CHAIN_JCS_H
#define CHAIN_JCS_H

#include <stddef.h>

#include <jansson.h>

#include "chain.h"

/* Flags for chain_jcs_parse_ex. */
#define CHAIN_JCS_REJECT_NUL 0x1 /* refuse strings containing U+0000 (C code reads them) */

/* Writes the canonical form of v: members sorted by UTF-16 code units, no whitespace, strings
 * escaped as ECMAScript JSON.stringify does (\" \\ \b \f \n \r \t, other controls as lowercase
 * \u00xx, everything else raw UTF-8). Nesting depth counts containers: a top-level array or
 * object is depth 1.
 *
 * On success *out is new (free with free()), NUL-terminated, and *out_len (may be NULL) is its
 * length without the NUL. Fails with CHAIN_E_FLOAT for a real, CHAIN_E_RANGE for an integer
 * beyond 2^53 - 1 in magnitude, CHAIN_E_TOO_DEEP, CHAIN_E_MALFORMED for a string or key that is not
 * valid UTF-8, CHAIN_E_NOMEM; *out is then untouched. Borrows v. */
int chain_jcs_dump(const json_t *v, char **out, size_t *out_len) CHAIN_WUR;

/* Parses buf[0..len) strictly: exactly one JSON value (any type) with only whitespace around it,
 * no duplicate member names, no reals, integers within 2^53 - 1, depth at most CHAIN_MAX_DEPTH.
 * U+0000 in strings is allowed. On success *out is a new reference (json_decref it).
 * Fails with CHAIN_E_MALFORMED, CHAIN_E_DUPLICATE_KEY, CHAIN_E_FLOAT, CHAIN_E_RANGE,
 * CHAIN_E_TOO_DEEP or CHAIN_E_NOMEM, leaving *out untouched. Borrows buf. */
int chain_jcs_parse(const char *buf, size_t len, json_t **out) CHAIN_WUR;

/* chain_jcs_parse with flags (CHAIN_JCS_REJECT_NUL: a U+0000 in a string is CHAIN_E_MALFORMED). */
int chain_jcs_parse_ex(const char *buf, size_t len, unsigned flags, json_t **out) CHAIN_WUR;

/* Checks that v is inside the accepted subset (no reals, integers in range, depth, valid UTF-8)
 * without writing anything. Returns 0 or the error chain_jcs_dump would return. Borrows v. */
int chain_jcs_check(const json_t *v) CHAIN_WUR;

/* chain_jcs_parse then chain_jcs_dump: the canonical bytes of the JSON text buf[0..len).
 * *out is new (free with free()). Errors as the two functions. Borrows buf. */
int chain_jcs_canonicalize(const char *buf, size_t len, char **out, size_t *out_len) CHAIN_WUR;

#endif
