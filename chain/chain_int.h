/* chain_int.h — internals shared by the .c files of chain/ and nobody else: a growable byte
 * buffer that remembers its first failure, and a strict UTF-8 decoder. Not installed, not
 * included by server/ or cli/. */
#ifndef CHAIN_CHAIN_INT_H
#define CHAIN_CHAIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A growable byte string. Appends after a failure are no-ops, so builders can append freely and
 * check once at the end. Start with struct chain_buf b = {0}. */
struct chain_buf {
    char *p;    /* malloc'd bytes, always NUL-terminated when non-NULL */
    size_t len; /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated */
    int err;    /* 0, or the first error (CHAIN_E_NOMEM) */
};

/* Appends data[0..n) to b. On failure records CHAIN_E_NOMEM in b->err. */
void chain_buf_put(struct chain_buf *b, const void *data, size_t n);

/* Appends the NUL-terminated string s to b. */
void chain_buf_puts(struct chain_buf *b, const char *s);

/* Appends one byte to b. */
void chain_buf_putc(struct chain_buf *b, char c);

/* Hands the bytes over: on success *out (new, free with free()) and *out_len (may be NULL) get the
 * NUL-terminated string and 0 is returned; on a recorded failure the buffer is freed and the
 * error returned. b is empty afterwards either way. */
int chain_buf_finish(struct chain_buf *b, char **out, size_t *out_len);

/* Frees b's bytes (wiping nothing: callers never put secrets in a chain_buf). */
void chain_buf_free(struct chain_buf *b);

/* Decodes one code point of strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF)
 * from s[*pos..len), advances *pos and stores the code point in *cp. Returns 0, or -1 for an
 * invalid or truncated sequence (*pos unchanged). */
int chain_utf8_next(const uint8_t *s, size_t len, size_t *pos, uint32_t *cp);

/* Returns 1 if s[0..len) is strict UTF-8, else 0. */
int chain_utf8_valid(const char *s, size_t len);

/* Orders two member names as RFC 8785 sorts them, by UTF-16 code units: <0, 0 or >0 as a sorts
 * before, with or after b. Both must be valid UTF-8. (jcs.c) */
int chain_jcs_name_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* The strict reader behind chain_jcs_parse_ex (jsonread.c): the same language, values and errors,
 * U+0000 in string values only when allow_nul. On success *out is new and, when canonical is not
 * NULL, *canonical is 1 if buf[0..len) is exactly what chain_jcs_dump writes for the value (0
 * tells nothing: a text it cannot vouch for cheaply, such as a member name with an escape, is
 * also 0). Borrows buf. */
int chain_json_read(const char *buf, size_t len, int allow_nul, json_t **out, int *canonical);

/* One member of the object chain_json_read_members reads: a string value as its bytes (str,
 * borrowed until the call returns; at offset str_at of buf when it has no escape, else
 * str_at is 0), any other value as a new reference the callee takes (value). */
struct chain_json_member {
    const char *name;
    size_t name_len;
    const char *str; /* NULL when the value is not a string */
    size_t str_len;
    size_t str_at;
    json_t *value; /* NULL when it is */
};

/* A fast path for texts that are already canonical: when buf[0..len) is exactly the JCS of an
 * object (no U+0000, no escape in a member name), hands each member in order to fn and returns 0.
 * Returns 1 as soon as the text is anything else, or fn returns nonzero: the caller then reads
 * it with chain_json_read, which gives the exact error, and discards what fn kept. fn takes
 * m->value only when it returns 0. */
int chain_json_read_members(const char *buf, size_t len,
                            int (*fn)(void *ctx, const struct chain_json_member *m), void *ctx);

#endif
