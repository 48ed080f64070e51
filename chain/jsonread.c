/* jsonread.c — the strict JSON reader behind chain_jcs_parse and every tx the node admits.
 *
 * It accepts exactly what json_loadb accepts with JSON_DECODE_ANY | JSON_REJECT_DUPLICATES (and
 * JSON_ALLOW_NUL unless told otherwise), builds the same Jansson values, and fails with the same
 * error (as chain_jcs_parse reports it) for every input; then it applies the ledger's subset (no
 * reals, integers within 2^53 - 1, depth CHAIN_MAX_DEPTH) as chain_jcs_check would, first
 * offence in document order. test_chain_jcs holds it to all of that against Jansson itself over
 * random texts. One difference, on purpose: Jansson drops a NUL byte that directly follows a
 * number or a literal (its one byte of pushback reads as empty), so "1\0" was 1; here that NUL
 * is refused like a NUL anywhere else.
 *
 * Why not json_loadb: Jansson reads one byte at a time through a callback and copies every byte
 * into a growing buffer, which made parsing the largest cost of a tx after its signature
 * (docs/BENCHMARKS.md, eleventh round). Reading from the buffer in place is several times faster,
 * and it lets the reader tell whether the text is already canonical (RFC 8785), so that a tx sent
 * in JCS, as `lianxin sign` prints it, keeps its own bytes as its leaf instead of being written
 * out again.
 *
 * The lexer follows Jansson's, down to where it looks one byte past a token: Jansson keeps the
 * first error it meets, so where an input holds two, the one Jansson meets first must be the one
 * found here. Errors it meets while reading a token ("set" below) come before those the parser
 * raises about a token it was handed, and in parse_value the depth limit comes before the rest. */
#include "jcs.h"
#include "chain_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Tokens; the punctuation is its own character. */
enum {
    TOK_EOF = 0,
    TOK_INVALID = -1, /* Jansson's TOKEN_INVALID with no error set: the parser names it */
    TOK_ERROR = -2,   /* the lexer failed with r->err */
    TOK_STRING = 256,
    TOK_INTEGER,
    TOK_REAL,
    TOK_TRUE,
    TOK_FALSE,
    TOK_NULL,
};

struct reader {
    const uint8_t *p, *end; /* next byte, end of the text */
    int allow_nul;          /* U+0000 allowed in string values (never in names) */
    int canonical;          /* 1 while everything read so far is exactly JCS */
    int late;               /* first breach of the subset, reported only if the text parses */
    int tok;                /* the current token */
    int err;                /* TOK_ERROR: why */
    const char *str;        /* TOK_STRING: the value, in the text or in scratch */
    size_t str_len;         /* its bytes */
    int str_escaped;        /* it held an escape (so str is in scratch) */
    json_int_t num;         /* TOK_INTEGER */
    char *scratch;          /* decoded strings, one after another: never more than the text */
    size_t scratch_used;
};

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The characters that may follow a backslash other than 'u'. */
static int is_short_escape(int c)
{
    return c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
           c == 't';
}

static int lex_fail(struct reader *r, int err)
{
    r->tok = TOK_ERROR;
    r->err = err;
    return r->tok;
}

/* The byte at q as Jansson's stream hands it over: -1 at the end, and -2 when a byte that starts
 * a sequence of invalid UTF-8 is read (Jansson sets its error there, whatever it then does). */
static int peek(const struct reader *r, const uint8_t *q)
{
    size_t pos = 0;
    uint32_t cp;

    if (q >= r->end)
        return -1;
    if (*q < 0x80)
        return *q;
    if (chain_utf8_next(q, (size_t)(r->end - q), &pos, &cp) != 0)
        return -2;
    return *q;
}

/* The code unit of a \u escape whose four hex digits start at s (the scan checked them). */
static uint32_t u_escape(const uint8_t *s)
{
    return (uint32_t)(hex_value(s[0]) << 12 | hex_value(s[1]) << 8 | hex_value(s[2]) << 4 |
                      hex_value(s[3]));
}

/* Whether the escape at s (after the backslash) is the one chain_jcs_dump writes for the
 * character it stands for: \" \\ \b \f \n \r \t, and \u00xx in lowercase for the other
 * controls. */
static int escape_canonical(const uint8_t *s)
{
    uint32_t cp;

    if (*s != 'u')
        return *s != '/';
    cp = u_escape(s + 1);
    if (cp >= 0x20 || cp == '\b' || cp == '\f' || cp == '\n' || cp == '\r' || cp == '\t')
        return 0;
    return !(s[3] >= 'A' && s[3] <= 'F') && !(s[4] >= 'A' && s[4] <= 'F');
}

static void put_utf8(char *t, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        t[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        t[(*n)++] = (char)(0xc0 | cp >> 6);
        t[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        t[(*n)++] = (char)(0xe0 | cp >> 12);
        t[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        t[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        t[(*n)++] = (char)(0xf0 | cp >> 18);
        t[(*n)++] = (char)(0x80 | (cp >> 12 & 0x3f));
        t[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        t[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

/* Second pass over a string with escapes, s[0..n) between the quotes, into scratch; the checks
 * Jansson makes only once the whole string is read (surrogates). A string never decodes to more
 * bytes than it takes in the text, so scratch, sized to the text from the first escaped string
 * on, holds every decoded string of the parse side by side. */
static int decode_escaped(struct reader *r, const uint8_t *s, size_t n)
{
    size_t i = 0, len = 0;
    char *t;

    if (r->scratch == NULL) {
        r->scratch = malloc((size_t)(r->end - s) + 1);
        if (r->scratch == NULL)
            return lex_fail(r, CHAIN_E_NOMEM);
    }
    t = r->scratch + r->scratch_used;
    while (i < n) {
        uint32_t cp, lo;

        if (s[i] != '\\') {
            t[len++] = (char)s[i++];
            continue;
        }
        if (s[i + 1] != 'u') {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";

            t[len++] = to[strchr(from, s[i + 1]) - from];
            i += 2;
            continue;
        }
        cp = u_escape(s + i + 2);
        i += 6;
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return lex_fail(r, CHAIN_E_MALFORMED);
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (i + 1 >= n || s[i] != '\\' || s[i + 1] != 'u')
                return lex_fail(r, CHAIN_E_MALFORMED);
            lo = u_escape(s + i + 2);
            i += 6;
            if (lo < 0xdc00 || lo > 0xdfff)
                return lex_fail(r, CHAIN_E_MALFORMED);
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        put_utf8(t, &len, cp);
    }
    r->str = t;
    r->str_len = len;
    r->scratch_used += len;
    return TOK_STRING;
}

/* r->p is just past the opening quote. */
static int lex_string(struct reader *r)
{
    const uint8_t *s = r->p, *q = r->p;
    int escaped = 0;

    for (;;) {
        int c;

        if (q < r->end && *q >= 0x80) { /* checked and crossed with one decode */
            size_t pos = 0;
            uint32_t cp;

            if (chain_utf8_next(q, (size_t)(r->end - q), &pos, &cp) != 0)
                return lex_fail(r, CHAIN_E_MALFORMED);
            q += pos;
            continue;
        }
        c = peek(r, q);
        if (c == '"')
            break;
        if (c < 0x20) /* the end or a control character */
            return lex_fail(r, CHAIN_E_MALFORMED);
        if (c == '\\') {
            c = peek(r, q + 1);
            if (c == 'u') {
                for (int i = 2; i < 6; i++)
                    if (hex_value(peek(r, q + i)) < 0)
                        return lex_fail(r, CHAIN_E_MALFORMED);
            } else if (!is_short_escape(c)) {
                return lex_fail(r, CHAIN_E_MALFORMED);
            }
            if (!escape_canonical(q + 1))
                r->canonical = 0;
            escaped = 1;
            q += c == 'u' ? 6 : 2;
        } else {
            q++;
        }
    }
    r->p = q + 1;
    r->str_escaped = escaped;
    if (!escaped) {
        r->str = (const char *)s;
        r->str_len = (size_t)(q - s);
        return r->tok = TOK_STRING;
    }
    return r->tok = decode_escaped(r, s, (size_t)(q - s));
}

/* An overflowing real is an error Jansson sets while lexing; any other real only breaks the
 * subset. strtod as Jansson calls it, on a copy that ends where the token does. */
static int real_overflows(const uint8_t *s, size_t n)
{
    char small[64], *copy = n < sizeof small ? small : malloc(n + 1);
    double v;
    int over;

    if (copy == NULL)
        return -1;
    memcpy(copy, s, n);
    copy[n] = '\0';
    errno = 0;
    v = strtod(copy, NULL);
    over = (v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE;
    if (copy != small)
        free(copy);
    return over;
}

/* r->p is at '-' or a digit. */
static int lex_number(struct reader *r)
{
    const uint8_t *s = r->p, *q = r->p;
    int neg = 0, c, over;
    uint64_t mag = 0;
    int wide = 0; /* more digits than a uint64_t holds */

    if (*q == '-') {
        neg = 1;
        q++;
    }
    c = peek(r, q);
    if (c == '0') {
        c = peek(r, ++q);
        if (is_digit(c))
            return r->tok = TOK_INVALID;
    } else if (is_digit(c)) {
        do {
            if (mag > (UINT64_MAX - 9) / 10)
                wide = 1;
            mag = mag * 10 + (uint64_t)(c - '0');
            c = peek(r, ++q);
        } while (is_digit(c));
    } else {
        return c == -2 ? lex_fail(r, CHAIN_E_MALFORMED) : (r->tok = TOK_INVALID);
    }
    if (c == -2)
        return lex_fail(r, CHAIN_E_MALFORMED);
    if (c != '.' && c != 'e' && c != 'E') {
        r->p = q;
        if (wide || mag > (uint64_t)INT64_MAX + (uint64_t)neg)
            return lex_fail(r, CHAIN_E_RANGE);
        if (neg && mag == 0)
            r->canonical = 0; /* -0 is written 0 */
        r->num = neg ? (json_int_t)(0 - mag) : (json_int_t)mag;
        return r->tok = TOK_INTEGER;
    }
    if (c == '.') {
        c = peek(r, ++q);
        if (!is_digit(c))
            return c == -2 ? lex_fail(r, CHAIN_E_MALFORMED) : (r->tok = TOK_INVALID);
        do
            c = peek(r, ++q);
        while (is_digit(c));
    }
    if (c == 'e' || c == 'E') {
        c = peek(r, ++q);
        if (c == '+' || c == '-')
            c = peek(r, ++q);
        if (!is_digit(c))
            return c == -2 ? lex_fail(r, CHAIN_E_MALFORMED) : (r->tok = TOK_INVALID);
        do
            c = peek(r, ++q);
        while (is_digit(c));
    }
    if (c == -2)
        return lex_fail(r, CHAIN_E_MALFORMED);
    r->p = q;
    over = real_overflows(s, (size_t)(q - s));
    if (over != 0)
        return lex_fail(r, over < 0 ? CHAIN_E_NOMEM : CHAIN_E_FLOAT);
    return r->tok = TOK_REAL;
}

/* A run of letters: true, false, null, or nothing Jansson knows. */
static int lex_word(struct reader *r)
{
    const uint8_t *s = r->p, *q = r->p;
    size_t n;
    int c;

    do
        c = peek(r, ++q);
    while (is_alpha(c));
    if (c == -2)
        return lex_fail(r, CHAIN_E_MALFORMED);
    r->p = q;
    n = (size_t)(q - s);
    if (n == 4 && memcmp(s, "true", 4) == 0)
        return r->tok = TOK_TRUE;
    if (n == 5 && memcmp(s, "false", 5) == 0)
        return r->tok = TOK_FALSE;
    if (n == 4 && memcmp(s, "null", 4) == 0)
        return r->tok = TOK_NULL;
    return r->tok = TOK_INVALID;
}

/* Reads the next token into r->tok. */
static int lex(struct reader *r)
{
    int c;

    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) {
        r->p++;
        r->canonical = 0;
    }
    c = peek(r, r->p);
    switch (c) {
    case -1:
        return r->tok = TOK_EOF;
    case -2:
        return lex_fail(r, CHAIN_E_MALFORMED);
    case '{':
    case '}':
    case '[':
    case ']':
    case ':':
    case ',':
        r->p++;
        return r->tok = c;
    case '"':
        r->p++;
        return lex_string(r);
    default:
        if (is_digit(c) || c == '-')
            return lex_number(r);
        if (is_alpha(c))
            return lex_word(r);
        return r->tok = TOK_INVALID; /* Jansson names it when the parser asks */
    }
}

static void breach(struct reader *r, int err)
{
    if (r->late == CHAIN_OK)
        r->late = err;
}

static int parse_value(struct reader *r, size_t depth, json_t **out);

/* One member's name, borrowed from the text or scratch until the parse ends. */
struct name {
    const char *s;
    size_t len;
    int plain; /* no escapes: s is in the text, and sorted objects need no look-up */
};

/* Whether a name needs the duplicate look-up: not while every name so far in the object was
 * plain and each sorted after the one before (the canonical case), since then none repeats. */
static int name_needs_lookup(struct reader *r, const struct name *prev, const struct name *cur,
                             int *sorted)
{
    if (*sorted && cur->plain &&
        (prev == NULL || chain_jcs_name_cmp(prev->s, prev->len, cur->s, cur->len) < 0))
        return 0;
    *sorted = 0;
    r->canonical = 0;
    return 1;
}

/* After '{'. */
static int parse_object(struct reader *r, size_t depth, json_t **out)
{
    json_t *obj = json_object(), *val = NULL;
    struct name prev = {0}, cur;
    int sorted = 1, first = 1, rc;

    if (obj == NULL)
        return CHAIN_E_NOMEM;
    lex(r);
    if (r->tok == '}')
        goto done;
    for (;;) {
        if (r->tok != TOK_STRING) {
            rc = r->tok == TOK_ERROR ? r->err : CHAIN_E_MALFORMED;
            goto fail;
        }
        cur = (struct name){r->str, r->str_len, !r->str_escaped};
        if (memchr(cur.s, '\0', cur.len) != NULL) {
            rc = CHAIN_E_MALFORMED;
            goto fail;
        }
        if (name_needs_lookup(r, first ? NULL : &prev, &cur, &sorted) &&
            json_object_getn(obj, cur.s, cur.len) != NULL) {
            rc = CHAIN_E_DUPLICATE_KEY;
            goto fail;
        }
        if (lex(r) != ':') {
            rc = r->tok == TOK_ERROR ? r->err : CHAIN_E_MALFORMED;
            goto fail;
        }
        lex(r);
        rc = parse_value(r, depth + 1, &val);
        if (rc != CHAIN_OK)
            goto fail;
        if (json_object_setn_new_nocheck(obj, cur.s, cur.len, val) != 0) {
            rc = CHAIN_E_NOMEM;
            goto fail;
        }
        prev = cur;
        first = 0;
        if (lex(r) != ',')
            break;
        lex(r);
    }
    if (r->tok != '}') {
        rc = r->tok == TOK_ERROR ? r->err : CHAIN_E_MALFORMED;
        goto fail;
    }
done:
    *out = obj;
    return CHAIN_OK;
fail:
    json_decref(obj);
    return rc;
}

/* After '['. Jansson stops at the end of the text before asking for a value, so a value cut
 * short there is a syntax error however deep it is. */
static int parse_array(struct reader *r, size_t depth, json_t **out)
{
    json_t *arr = json_array(), *val = NULL;
    int rc;

    if (arr == NULL)
        return CHAIN_E_NOMEM;
    lex(r);
    if (r->tok == ']')
        goto done;
    while (r->tok != TOK_EOF) {
        rc = parse_value(r, depth + 1, &val);
        if (rc != CHAIN_OK)
            goto fail;
        if (json_array_append_new(arr, val) != 0) {
            rc = CHAIN_E_NOMEM;
            goto fail;
        }
        if (lex(r) != ',')
            break;
        lex(r);
    }
    if (r->tok != ']') {
        rc = r->tok == TOK_ERROR ? r->err : CHAIN_E_MALFORMED;
        goto fail;
    }
done:
    *out = arr;
    return CHAIN_OK;
fail:
    json_decref(arr);
    return rc;
}

/* The value that starts with the current token, at depth (the top level is 1). */
static int parse_value(struct reader *r, size_t depth, json_t **out)
{
    json_t *v;

    if (r->tok == TOK_ERROR)
        return r->err;
    if (depth > JSON_PARSER_MAX_DEPTH)
        return CHAIN_E_TOO_DEEP;
    switch (r->tok) {
    case TOK_STRING:
        if (!r->allow_nul && memchr(r->str, '\0', r->str_len) != NULL)
            return CHAIN_E_MALFORMED;
        v = json_stringn_nocheck(r->str, r->str_len);
        break;
    case TOK_INTEGER:
        if (r->num > CHAIN_INT_MAX || r->num < -CHAIN_INT_MAX)
            breach(r, CHAIN_E_RANGE);
        v = json_integer(r->num);
        break;
    case TOK_REAL:
        /* The subset refuses every real, so its value is never handed out: null stands in for
         * it while the parse goes on, as Jansson's did, to a syntax error that would win. */
        breach(r, CHAIN_E_FLOAT);
        v = json_null();
        break;
    case TOK_TRUE:
        v = json_true();
        break;
    case TOK_FALSE:
        v = json_false();
        break;
    case TOK_NULL:
        v = json_null();
        break;
    case '{':
    case '[':
        if (depth > CHAIN_MAX_DEPTH)
            breach(r, CHAIN_E_TOO_DEEP);
        return r->tok == '{' ? parse_object(r, depth, out) : parse_array(r, depth, out);
    default:
        return CHAIN_E_MALFORMED;
    }
    if (v == NULL)
        return CHAIN_E_NOMEM;
    *out = v;
    return CHAIN_OK;
}

int chain_json_read_members(const char *buf, size_t len,
                            int (*fn)(void *ctx, const struct chain_json_member *m), void *ctx)
{
    struct reader r = {0};
    struct name prev = {0}, cur;
    int first = 1;

    r.p = (const uint8_t *)buf;
    r.end = r.p + len;
    r.canonical = 1;
    if (lex(&r) != '{')
        goto general;
    if (lex(&r) != '}') {
        for (;;) {
            struct chain_json_member m = {0};

            if (r.tok != TOK_STRING || r.str_escaped || memchr(r.str, '\0', r.str_len) != NULL)
                goto general;
            cur = (struct name){r.str, r.str_len, 1};
            if (!first && chain_jcs_name_cmp(prev.s, prev.len, cur.s, cur.len) >= 0)
                goto general;
            if (lex(&r) != ':')
                goto general;
            lex(&r);
            m.name = cur.s;
            m.name_len = cur.len;
            if (r.tok == TOK_STRING) {
                if (memchr(r.str, '\0', r.str_len) != NULL)
                    goto general;
                m.str = r.str;
                m.str_len = r.str_len;
                m.str_at = r.str_escaped ? 0 : (size_t)(r.str - buf);
            } else if (parse_value(&r, 2, &m.value) != CHAIN_OK) {
                goto general;
            }
            if (!r.canonical || r.late != CHAIN_OK || fn(ctx, &m) != 0) {
                json_decref(m.value); /* fn takes the value only when it returns 0 */
                goto general;
            }
            prev = cur;
            first = 0;
            if (lex(&r) != ',')
                break;
            lex(&r);
        }
        if (r.tok != '}')
            goto general;
    }
    if (lex(&r) != TOK_EOF || !r.canonical)
        goto general;
    free(r.scratch);
    return 0;
general:
    free(r.scratch);
    return 1;
}

int chain_json_read(const char *buf, size_t len, int allow_nul, json_t **out, int *canonical)
{
    struct reader r = {0};
    json_t *v = NULL;
    int rc;

    if (buf == NULL)
        return CHAIN_E_INVAL;
    r.p = (const uint8_t *)buf;
    r.end = r.p + len;
    r.allow_nul = allow_nul;
    r.canonical = 1;
    lex(&r);
    rc = parse_value(&r, 1, &v);
    if (rc == CHAIN_OK && lex(&r) != TOK_EOF)
        rc = r.tok == TOK_ERROR ? r.err : CHAIN_E_MALFORMED;
    if (rc == CHAIN_OK)
        rc = r.late;
    free(r.scratch);
    if (rc != CHAIN_OK) {
        json_decref(v);
        return rc;
    }
    *out = v;
    if (canonical != NULL)
        *canonical = r.canonical;
    return CHAIN_OK;
}
