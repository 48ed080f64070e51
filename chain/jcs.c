/* jcs.c — RFC 8785 canonical JSON for the integer-only subset the ledger accepts. Jansson holds
 * the values (jsonread.c reads them); this file enforces the subset and writes the canonical
 * bytes. */
#include "jcs.h"
#include "chain_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct member {
    const char *key; /* borrowed from the object */
    size_t key_len;  /* bytes, keys may hold U+0000 when built with json_object_setn */
    json_t *val;     /* borrowed */
};

/* Jansson's iterator functions take a non-const object although they do not modify it; the
 * casts below only bridge that API gap. */
static json_t *unconst(const json_t *v)
{
    return (json_t *)(uintptr_t)v;
}

static int int_in_range(json_int_t n)
{
    return n >= -CHAIN_INT_MAX && n <= CHAIN_INT_MAX;
}

/* A member name must be UTF-8 without U+0000: Jansson's parser refuses NUL in names, so a name
 * holding one (possible via json_object_setn) would canonicalize to text nobody can parse. */
static int key_valid(const char *key, size_t len)
{
    return memchr(key, '\0', len) == NULL && chain_utf8_valid(key, len);
}

/* First UTF-16 code unit of cp in *u1; the second (or 0 for the BMP) in *u2. */
static void utf16_units(uint32_t cp, uint32_t *u1, uint32_t *u2)
{
    if (cp < 0x10000) {
        *u1 = cp;
        *u2 = 0;
        return;
    }
    cp -= 0x10000;
    *u1 = 0xd800 + (cp >> 10);
    *u2 = 0xdc00 + (cp & 0x3ff);
}

/* RFC 8785 §3.2.3: compare member names as arrays of UTF-16 code units. UTF-8 byte order agrees
 * with that except between U+E000..U+FFFF and the supplementary planes, whose surrogates
 * (D800..DFFF) sort below E000 — so decode and compare units rather than bytes. Keys were checked
 * to be valid UTF-8 before sorting.
 *
 * Most names are ASCII, so the bytes are compared first: where they first differ, two ASCII
 * bytes start characters in both names (a continuation byte is never ASCII), and a name that
 * is a byte prefix of the other is a prefix in code units too. */
int chain_jcs_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    const uint8_t *ua = (const uint8_t *)a, *ub = (const uint8_t *)b;
    size_t pa = 0, pb = 0, n = alen < blen ? alen : blen, i = 0;

    while (i < n && ua[i] == ub[i])
        i++;
    if (i == n)
        return alen == blen ? 0 : alen < blen ? -1 : 1;
    if (ua[i] < 0x80 && ub[i] < 0x80)
        return ua[i] < ub[i] ? -1 : 1;
    while (pa < alen && pb < blen) {
        uint32_t ca, cb, a1, a2, b1, b2;

        if (chain_utf8_next(ua, alen, &pa, &ca) != 0 || chain_utf8_next(ub, blen, &pb, &cb) != 0)
            return memcmp(a, b, alen < blen ? alen : blen); /* unreachable for checked keys */
        if (ca == cb)
            continue;
        utf16_units(ca, &a1, &a2);
        utf16_units(cb, &b1, &b2);
        if (a1 != b1)
            return a1 < b1 ? -1 : 1;
        return a2 < b2 ? -1 : 1;
    }
    if (pa < alen)
        return 1;
    if (pb < blen)
        return -1;
    return 0;
}

static int member_cmp(const void *x, const void *y)
{
    const struct member *a = x, *b = y;

    return chain_jcs_name_cmp(a->key, a->key_len, b->key, b->key_len);
}

static void write_string(struct chain_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;

    chain_buf_putc(b, '"');
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        chain_buf_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            memcpy(u, "\\u00", 4);
            u[4] = hex[c >> 4];
            u[5] = hex[c & 0xf];
            u[6] = '\0';
            esc = u;
        }
        chain_buf_puts(b, esc);
    }
    chain_buf_put(b, s + run, len - run);
    chain_buf_putc(b, '"');
}

static int write_value(struct chain_buf *b, const json_t *v, int depth);

/* Collects the members of obj into a new array (free with free()), checked and sorted. */
static int sorted_members(const json_t *obj, struct member **out, size_t *n_out)
{
    size_t n = json_object_size(obj), i = 0;
    struct member *m = NULL;
    void *it;
    int rc = CHAIN_OK;

    m = malloc((n ? n : 1) * sizeof *m);
    if (m == NULL) {
        rc = CHAIN_E_NOMEM;
        goto out;
    }
    for (it = json_object_iter(unconst(obj)); it != NULL && i < n;
         it = json_object_iter_next(unconst(obj), it), i++) {
        m[i].key = json_object_iter_key(it);
        m[i].key_len = json_object_iter_key_len(it);
        m[i].val = json_object_iter_value(it);
        if (!key_valid(m[i].key, m[i].key_len)) {
            rc = CHAIN_E_MALFORMED;
            goto out;
        }
    }
    qsort(m, i, sizeof *m, member_cmp);
    *out = m;
    *n_out = i;
    m = NULL;
out:
    free(m);
    return rc;
}

static int write_object(struct chain_buf *b, const json_t *obj, int depth)
{
    struct member *m = NULL;
    size_t n = 0, i;
    int rc;

    rc = sorted_members(obj, &m, &n);
    if (rc != CHAIN_OK)
        goto out;
    chain_buf_putc(b, '{');
    for (i = 0; i < n; i++) {
        if (i > 0)
            chain_buf_putc(b, ',');
        write_string(b, m[i].key, m[i].key_len);
        chain_buf_putc(b, ':');
        rc = write_value(b, m[i].val, depth);
        if (rc != CHAIN_OK)
            goto out;
    }
    chain_buf_putc(b, '}');
out:
    free(m);
    return rc;
}

static int write_array(struct chain_buf *b, const json_t *arr, int depth)
{
    size_t i, n = json_array_size(arr);
    int rc;

    chain_buf_putc(b, '[');
    for (i = 0; i < n; i++) {
        if (i > 0)
            chain_buf_putc(b, ',');
        rc = write_value(b, json_array_get(arr, i), depth);
        if (rc != CHAIN_OK)
            return rc;
    }
    chain_buf_putc(b, ']');
    return CHAIN_OK;
}

/* depth is the number of containers around v. */
static int write_value(struct chain_buf *b, const json_t *v, int depth)
{
    char num[32];

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (depth + 1 > CHAIN_MAX_DEPTH)
            return CHAIN_E_TOO_DEEP;
        return write_object(b, v, depth + 1);
    case JSON_ARRAY:
        if (depth + 1 > CHAIN_MAX_DEPTH)
            return CHAIN_E_TOO_DEEP;
        return write_array(b, v, depth + 1);
    case JSON_STRING:
        if (!chain_utf8_valid(json_string_value(v), json_string_length(v)))
            return CHAIN_E_MALFORMED;
        write_string(b, json_string_value(v), json_string_length(v));
        return CHAIN_OK;
    case JSON_INTEGER:
        if (!int_in_range(json_integer_value(v)))
            return CHAIN_E_RANGE;
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        chain_buf_puts(b, num);
        return CHAIN_OK;
    case JSON_REAL:
        return CHAIN_E_FLOAT;
    case JSON_TRUE:
        chain_buf_puts(b, "true");
        return CHAIN_OK;
    case JSON_FALSE:
        chain_buf_puts(b, "false");
        return CHAIN_OK;
    case JSON_NULL:
        chain_buf_puts(b, "null");
        return CHAIN_OK;
    }
    return CHAIN_E_MALFORMED;
}

int chain_jcs_dump(const json_t *v, char **out, size_t *out_len)
{
    struct chain_buf b = {0};
    int rc = CHAIN_E_INVAL;

    if (v == NULL)
        goto out;
    rc = write_value(&b, v, 0);
    if (rc != CHAIN_OK)
        goto out;
    rc = chain_buf_finish(&b, out, out_len); /* empties b */
out:
    chain_buf_free(&b);
    return rc;
}

static int check_value(const json_t *v, int depth);

static int check_children(const json_t *v, int depth)
{
    size_t i;
    void *it;
    int rc;

    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++) {
            rc = check_value(json_array_get(v, i), depth);
            if (rc != CHAIN_OK)
                return rc;
        }
        return CHAIN_OK;
    }
    for (it = json_object_iter(unconst(v)); it != NULL;
         it = json_object_iter_next(unconst(v), it)) {
        if (!key_valid(json_object_iter_key(it), json_object_iter_key_len(it)))
            return CHAIN_E_MALFORMED;
        rc = check_value(json_object_iter_value(it), depth);
        if (rc != CHAIN_OK)
            return rc;
    }
    return CHAIN_OK;
}

static int check_value(const json_t *v, int depth)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        if (depth + 1 > CHAIN_MAX_DEPTH)
            return CHAIN_E_TOO_DEEP;
        return check_children(v, depth + 1);
    case JSON_STRING:
        return chain_utf8_valid(json_string_value(v), json_string_length(v)) ? CHAIN_OK
                                                                             : CHAIN_E_MALFORMED;
    case JSON_INTEGER:
        return int_in_range(json_integer_value(v)) ? CHAIN_OK : CHAIN_E_RANGE;
    case JSON_REAL:
        return CHAIN_E_FLOAT;
    default:
        return CHAIN_OK;
    }
}

int chain_jcs_check(const json_t *v)
{
    if (v == NULL)
        return CHAIN_E_INVAL;
    return check_value(v, 0);
}

int chain_jcs_parse_ex(const char *buf, size_t len, unsigned flags, json_t **out)
{
    return chain_json_read(buf, len, !(flags & CHAIN_JCS_REJECT_NUL), out, NULL);
}

int chain_jcs_parse(const char *buf, size_t len, json_t **out)
{
    return chain_jcs_parse_ex(buf, len, 0, out);
}

int chain_jcs_canonicalize(const char *buf, size_t len, char **out, size_t *out_len)
{
    json_t *v = NULL;
    int rc, canonical = 0;

    rc = chain_json_read(buf, len, 1, &v, &canonical);
    if (rc != CHAIN_OK)
        goto out;
    if (!canonical) {
        rc = chain_jcs_dump(v, out, out_len);
        goto out;
    }
    *out = malloc(len + 1); /* already canonical: the text itself */
    if (*out == NULL) {
        rc = CHAIN_E_NOMEM;
        goto out;
    }
    memcpy(*out, buf, len);
    (*out)[len] = '\0';
    if (out_len != NULL)
        *out_len = len;
out:
    json_decref(v);
    return rc;
}
