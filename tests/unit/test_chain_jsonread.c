/* test_chain_jsonread.c — chain/jsonread.c against Jansson itself. The reader must accept what
 * json_loadb accepts with the flags chain_jcs_parse used (JSON_DECODE_ANY |
 * JSON_REJECT_DUPLICATES, JSON_ALLOW_NUL or not), build the same values in the same order, fail
 * with the same error, then apply the subset's checks as chain_jcs_check does; and when it says
 * a text is canonical, the text must be exactly chain_jcs_dump's. Checked on hand-picked edges
 * (nesting at Jansson's limit of 2048, numbers at int64's, invalid UTF-8 after a token) and on
 * random texts, valid and then mutated, from a fixed seed so a failure replays. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../../chain/chain_int.h"
#include "../../chain/jcs.h"
#include "../json_reference.h"

/* ---- the comparison ---- */

static char *show(const char *buf, size_t len)
{
    static char out[400];
    size_t i, n = 0;

    for (i = 0; i < len && n + 5 < sizeof out; i++) {
        unsigned char c = (unsigned char)buf[i];

        n += (size_t)snprintf(out + n, sizeof out - n, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
    }
    return out;
}

/* Does any member name in v hold a character JCS escapes? The reader does not vouch for a text
 * whose names carry escapes, so such a text may be canonical without being told so. */
static int name_escapes(const json_t *v)
{
    const char *key;
    json_t *m;
    size_t i;

    json_array_foreach((json_t *)v, i, m)
    {
        if (name_escapes(m))
            return 1;
    }
    json_object_foreach((json_t *)v, key, m)
    {
        for (const char *k = key; *k != '\0'; k++)
            if ((unsigned char)*k < 0x20 || *k == '"' || *k == '\\')
                return 1;
        if (name_escapes(m))
            return 1;
    }
    return 0;
}

static long n_ok, n_canonical;

static void compare(const char *buf, size_t len, int allow_nul)
{
    json_t *want = NULL, *got = NULL;
    int rc_want = reference_read(buf, len, allow_nul, &want);
    int canonical = -1, rc_got = chain_json_read(buf, len, allow_nul, &got, &canonical);
    char *a, *b, *jcs = NULL;
    size_t jcs_len = 0;

    ck_assert_msg(reference_agrees(buf, len, rc_got, rc_want), "%s (allow_nul %d): %s, Jansson %s",
                  show(buf, len), allow_nul, chain_err_code(rc_got), chain_err_code(rc_want));
    if (rc_got != CHAIN_OK || rc_want != CHAIN_OK) {
        json_decref(want);
        json_decref(got);
        return;
    }
    n_ok++;
    /* the same values, members in the same order */
    a = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
    b = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
    ck_assert_msg(a != NULL && b != NULL && strcmp(a, b) == 0, "%s: %s, Jansson %s", show(buf, len),
                  b, a);
    ck_assert_int_eq(chain_jcs_dump(got, &jcs, &jcs_len), CHAIN_OK);
    if (canonical) {
        n_canonical++;
        ck_assert_msg(jcs_len == len && memcmp(jcs, buf, len) == 0, "%s is not canonical",
                      show(buf, len));
    } else if (jcs_len == len && memcmp(jcs, buf, len) == 0) {
        ck_assert_msg(name_escapes(got), "%s is canonical, not told so", show(buf, len));
    }
    free(a);
    free(b);
    free(jcs);
    json_decref(want);
    json_decref(got);
}

static void compare_both(const char *buf, size_t len)
{
    compare(buf, len, 0);
    compare(buf, len, 1);
}

static void compare_str(const char *s)
{
    compare_both(s, strlen(s));
}

/* ---- hand-picked edges ---- */

START_TEST(edges)
{
    static const char *const cases[] = {
        "",
        " ",
        "1",
        "-0",
        "-",
        "--1",
        "01",
        "-01",
        "0x",
        "1.",
        "1.e5",
        "1e",
        "1e+",
        "1E-2",
        "1.5",
        ".5",
        "+1",
        "1 2",
        "1 x",
        "[1,]",
        "[,1]",
        "{\"a\":1,}",
        "{,}",
        "{\"a\" 1}",
        "{\"a\":}",
        "{1:2}",
        "[",
        "]",
        "{",
        "}",
        "[1",
        "{\"a\"",
        "{\"a\":1",
        "\"a",
        "\"\\",
        "\"\\u12\"",
        "\"\\u12g4\"",
        "\"\\x\"",
        "\"\\/\"",
        "\"\\u0041\"",
        "\"\\u001F\"",
        "\"\\u001f\"",
        "\"\\u0008\"",
        "\"\\b\"",
        "\"\\u007f\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\ud800\\\\u0041\"",
        "\"\\ud800\\udc00\"",
        "\"\\uDBFF\\uDFFF\"",
        "\"\\u0000\"",
        "{\"\\u0000\":1}",
        "{\"a\\u0000\":1}",
        "\"\x01\"",
        "\"\n\"",
        "\"\x7f\"",
        "true",
        "truex",
        "true1",
        "tru",
        "nul",
        "null null",
        "falsee",
        "TRUE",
        "nan",
        "9007199254740991",
        "9007199254740992",
        "-9007199254740991",
        "-9007199254740992",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
        "[99999999999999999999999,x]",
        "[9007199254740992,x]",
        "[1.5,x]",
        "[1e999,x]",
        "[-1e999,x]",
        "[1e-999,x]",
        "1e999",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"a\"",
        "{\"a\":1,\"a\" x",
        "{\"b\":1,\"a\":2}",
        "{\"a\":1,\"b\":2}",
        "{\"a\":1, \"b\":2}",
        "{\"\":1,\"a\":{\"\":[]}}",
        "[{},[],{}]",
        "\xef\xbb\xbf{}",
        "{}\xff",
        "1\xff",
        "-\xff",
        "0\xff",
        "1.\xff",
        "1.5\xff",
        "1e\xff",
        "true\xff",
        "\"\xff\"",
        "\"\xc3\"",
        "\"\xc3\xa9\"",
        "\xc3\xa9",
        "[\xc3\xa9]",
        "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xc0\x80\"",
        "\"\xe0\x80\x80\"",
        "{\"\xc3\xa9\":1,\"z\":2}",
        "{\"z\":1,\"\xc3\xa9\":2}",
        "{\"\xef\xbf\xbf\":1,\"\xf0\x90\x80\x80\":2}",
        "{\"\xf0\x90\x80\x80\":1,\"\xef\xbf\xbf\":2}",
        "{\"a\":1}\n",
        "\t[]",
        "[1 ]",
        "[\"\\\"\\\\\\b\\f\\n\\r\\t\"]",
        "[1,\"\\u00e9\"]",
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        compare_str(cases[i]);
    compare_both("\"a\0b\"", 5); /* a raw NUL byte in a string */
    compare_both("[1]\0", 4);
    compare_both("\0", 1);
}
END_TEST

/* Nesting around the subset's limit (32) and Jansson's (2048), closed or not, around values
 * that fail in the lexer, in the parser, or not at all. */
START_TEST(deep)
{
    static const size_t levels[] = {31, 32, 33, 2046, 2047, 2048, 2049, 2050};
    static const char *const inner[] = {"",
                                        "1",
                                        "x",
                                        "\"a\"",
                                        "\"\\u0000\"",
                                        "1e999",
                                        "99999999999999999999",
                                        "1.5",
                                        "[]",
                                        "{}",
                                        "\xc3\xa9",
                                        "\xff",
                                        "\"\xff",
                                        "9007199254740992",
                                        "true",
                                        "truex\"",
                                        "{\"a\":",
                                        "{\"a\":1,\"a\":2}"};
    char *buf = malloc(2 * 2050 * 6 + 64);

    ck_assert_ptr_nonnull(buf);
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        for (size_t k = 0; k < sizeof inner / sizeof inner[0]; k++) {
            for (int obj = 0; obj < 2; obj++) {
                size_t n = 0, close;

                for (size_t d = 0; d < levels[l]; d++)
                    n += (size_t)sprintf(buf + n, "%s", obj && d % 2 ? "{\"k\":" : "[");
                n += (size_t)sprintf(buf + n, "%s", inner[k]);
                close = n;
                for (size_t d = levels[l]; d-- > 0;)
                    n += (size_t)sprintf(buf + n, "%s", obj && d % 2 ? "}" : "]");
                compare_both(buf, n);
                compare_both(buf, close); /* cut after the innermost value */
            }
        }
    }
    free(buf);
}
END_TEST

/* ---- random texts ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12; /* xorshift64* */
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

struct text {
    char p[8192];
    size_t n;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (t->n + n < sizeof t->p) {
        memcpy(t->p + t->n, s, n);
        t->n += n;
    }
}

static void puts_(struct text *t, const char *s)
{
    put(t, s, strlen(s));
}

static void space(struct text *t)
{
    static const char *const ws[] = {" ", "\n", "\t", "\r", "  \n "};

    if (below(10) == 0)
        puts_(t, ws[below(5)]);
}

static void put_cp_raw(struct text *t, uint32_t c)
{
    char b[4];
    size_t n;

    if (c < 0x80) {
        b[0] = (char)c, n = 1;
    } else if (c < 0x800) {
        b[0] = (char)(0xc0 | c >> 6), b[1] = (char)(0x80 | (c & 0x3f)), n = 2;
    } else if (c < 0x10000) {
        b[0] = (char)(0xe0 | c >> 12), b[1] = (char)(0x80 | (c >> 6 & 0x3f));
        b[2] = (char)(0x80 | (c & 0x3f)), n = 3;
    } else {
        b[0] = (char)(0xf0 | c >> 18), b[1] = (char)(0x80 | (c >> 12 & 0x3f));
        b[2] = (char)(0x80 | (c >> 6 & 0x3f)), b[3] = (char)(0x80 | (c & 0x3f)), n = 4;
    }
    put(t, b, n);
}

static void put_u(struct text *t, uint32_t unit)
{
    char b[8];

    snprintf(b, sizeof b, below(2) ? "\\u%04x" : "\\u%04X", unit);
    put(t, b, 6);
}

/* One character of a string, raw or escaped in any of the ways JSON allows. */
static void put_char(struct text *t, uint32_t c)
{
    static const char shortc[] = "\"\\/\b\f\n\r\t", shorte[] = "\"\\/bfnrt";
    const char *s = c < 0x80 && c != 0 ? strchr(shortc, (int)c) : NULL;
    int must = c < 0x20 || c == '"' || c == '\\';

    if (!must && below(4) != 0) {
        put_cp_raw(t, c);
    } else if (s != NULL && below(3) != 0) {
        char e[2] = {'\\', shorte[s - shortc]};

        put(t, e, 2);
    } else if (c >= 0x10000) {
        put_u(t, 0xd800 + ((c - 0x10000) >> 10));
        put_u(t, 0xdc00 + ((c - 0x10000) & 0x3ff));
    } else {
        put_u(t, c);
    }
}

static uint32_t any_cp(void)
{
    static const uint32_t special[] = {0,    '"',    '\\',   '/',     0x7f,     0x80,   0xe9,
                                       0x20, 0xd7ff, 0xe000, 0xfffd,  0xffff,   0x2028, 0x10000,
                                       'a',  'b',    'A',    0x1f600, 0x10ffff, '\n',   0x1f};
    uint32_t c;

    switch (below(5)) {
    case 0:
        return special[below(sizeof special / sizeof special[0])];
    case 1:
        return below(0x20);
    case 2:
        c = 0x80 + below(0xff80);
        return c >= 0xd800 && c <= 0xdfff ? c + 0x800 : c;
    case 3:
        return 0x10000 + below(0x100000);
    default:
        return 'a' + below(4);
    }
}

static void put_string(struct text *t, int short_names)
{
    uint32_t n = short_names ? below(3) : below(7);

    puts_(t, "\"");
    for (uint32_t i = 0; i < n; i++)
        put_char(t, short_names && below(4) != 0 ? 'a' + below(3) : any_cp());
    puts_(t, "\"");
}

static void put_number(struct text *t)
{
    static const char *const fixed[] = {"0",
                                        "-0",
                                        "1",
                                        "-1",
                                        "9007199254740991",
                                        "-9007199254740991",
                                        "9007199254740992",
                                        "-9007199254740992",
                                        "9223372036854775807",
                                        "9223372036854775808",
                                        "-9223372036854775808",
                                        "-9223372036854775809",
                                        "18446744073709551616",
                                        "1.5",
                                        "-0.0",
                                        "1e5",
                                        "1E+400",
                                        "-1e400",
                                        "1e-400",
                                        "2.5e-3",
                                        "0e0"};
    char b[32];

    if (below(2)) {
        puts_(t, fixed[below(sizeof fixed / sizeof fixed[0])]);
        return;
    }
    snprintf(b, sizeof b, "%lld", (long long)(rnd() % 2000000) - 1000000);
    puts_(t, b);
}

static void put_value(struct text *t, int depth);

/* An object (members with short names from a small alphabet, so names repeat and come in
 * either order) or an array, with whitespace here and there. */
static void put_container(struct text *t, int depth, int object)
{
    uint32_t n = below(object ? 5 : 4);

    puts_(t, object ? "{" : "[");
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0)
            puts_(t, ",");
        space(t);
        if (object) {
            put_string(t, 1);
            space(t);
            puts_(t, ":");
            space(t);
        }
        put_value(t, depth + 1);
        space(t);
    }
    puts_(t, object ? "}" : "]");
}

static void put_value(struct text *t, int depth)
{
    switch (below(depth > 5 ? 4 : 6)) {
    case 0:
        puts_(t, below(3) == 0 ? "true" : below(2) ? "false" : "null");
        break;
    case 1:
        put_number(t);
        break;
    case 2:
    case 3:
        put_string(t, 0);
        break;
    case 4:
        put_container(t, depth, 1);
        break;
    default:
        put_container(t, depth, 0);
    }
}

/* Writes the canonical text of a random valid value, so the canonical path is exercised often. */
static void canonical_text(struct text *t)
{
    json_t *v = NULL;
    char *c = NULL;
    size_t n = 0;

    for (;;) {
        t->n = 0;
        put_value(t, 0);
        if (chain_jcs_parse(t->p, t->n, &v) == CHAIN_OK)
            break;
    }
    ck_assert_int_eq(chain_jcs_dump(v, &c, &n), CHAIN_OK);
    t->n = 0;
    put(t, c, n);
    free(c);
    json_decref(v);
}

/* One small edit: a byte replaced, inserted or removed, the text cut, or a piece repeated. */
static void mutate(struct text *t)
{
    static const char *const bits[] = {"\"",
                                       "\\",
                                       "u",
                                       "0",
                                       "-",
                                       ".",
                                       "e",
                                       "{",
                                       "}",
                                       "[",
                                       "]",
                                       ",",
                                       ":",
                                       " ",
                                       "\x01",
                                       "\x7f",
                                       "\x80",
                                       "\xc0",
                                       "\xc3",
                                       "\xe0",
                                       "\xed\xa0\x80",
                                       "\xf4\x90\x80\x80",
                                       "\xff",
                                       "t",
                                       "a",
                                       "\\ud800",
                                       "\\udc00",
                                       "\\u0000",
                                       "\\u00",
                                       "1e999",
                                       "99999999999999999999",
                                       "\xc3\xa9"};
    size_t at = t->n ? below((uint32_t)t->n + 1) : 0;
    const char *b = bits[below(sizeof bits / sizeof bits[0])];
    size_t bn = strlen(b);

    switch (below(6)) {
    case 0: /* replace */
        if (at < t->n)
            t->p[at] = b[0];
        break;
    case 1: /* insert */
        if (t->n + bn < sizeof t->p) {
            memmove(t->p + at + bn, t->p + at, t->n - at);
            memcpy(t->p + at, b, bn);
            t->n += bn;
        }
        break;
    case 2: /* remove */
        if (at < t->n) {
            memmove(t->p + at, t->p + at + 1, t->n - at - 1);
            t->n--;
        }
        break;
    case 3: /* cut */
        t->n = at;
        break;
    case 4: /* a NUL byte */
        if (at < t->n)
            t->p[at] = '\0';
        break;
    default: { /* repeat a piece in place */
        size_t len = below(12);

        if (at + len <= t->n && t->n + len < sizeof t->p) {
            memmove(t->p + at + len, t->p + at, t->n - at);
            t->n += len;
        }
    }
    }
}

START_TEST(random_texts)
{
    struct text t;

    rng_state = 0x2545f4914f6cdd1dULL;
    n_ok = n_canonical = 0;
    for (int i = 0; i < 40000; i++) {
        if (i % 3 == 0) {
            canonical_text(&t);
        } else {
            t.n = 0;
            put_value(&t, 0);
        }
        compare_both(t.p, t.n);
        for (uint32_t m = below(3) + 1; m > 0; m--)
            mutate(&t);
        compare_both(t.p, t.n);
    }
    /* the generator reaches what it is meant to: many valid texts, many of them canonical */
    ck_assert_msg(n_ok > 40000 && n_canonical > 20000, "%ld valid, %ld canonical", n_ok,
                  n_canonical);
}
END_TEST

/* The reader's canonical text is taken as it came, and otherwise written out: both agree. */
START_TEST(canonicalize_keeps_or_writes)
{
    char *out = NULL;
    size_t n = 0;

    ck_assert_int_eq(chain_jcs_canonicalize("{\"a\":1,\"b\":[true]}", 18, &out, &n), CHAIN_OK);
    ck_assert_str_eq(out, "{\"a\":1,\"b\":[true]}");
    free(out);
    ck_assert_int_eq(chain_jcs_canonicalize("{\"b\":[true],\"a\":-0}", 19, &out, &n), CHAIN_OK);
    ck_assert_str_eq(out, "{\"a\":0,\"b\":[true]}");
    ck_assert_uint_eq(n, 18);
    free(out);
}
END_TEST

static Suite *jsonread_suite(void)
{
    Suite *s = suite_create("chain_jsonread");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, edges);
    tcase_add_test(tc, canonicalize_keeps_or_writes);
    suite_add_tcase(s, tc);
    tc = tcase_create("differential");
    tcase_set_timeout(tc, 300); /* sanitizer and valgrind builds are many times slower */
    tcase_add_test(tc, deep);
    tcase_add_test(tc, random_texts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    sr = srunner_create(jsonread_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
