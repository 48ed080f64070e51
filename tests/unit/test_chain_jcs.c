/* test_chain_jcs.c — RFC 8785 canonical JSON: the RFC's integer-only examples, the reference
 * test data of cyberphone/json-canonicalization (the RFC author's), every escape, the integer-only
 * subset's limits, and a round-trip property test over random values. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../../chain/jcs.h"

/* Canonicalizes the JSON text in and compares the result with want (NUL-terminated), or checks
 * the expected error when want is NULL. */
static void expect_canon_n(const char *in, size_t in_len, const char *want, size_t want_len)
{
    char *out = NULL;
    size_t out_len = 0;
    int rc = chain_jcs_canonicalize(in, in_len, &out, &out_len);

    ck_assert_msg(rc == 0, "canonicalize(%s) failed: %s", in, chain_err_code(rc));
    ck_assert_uint_eq(out_len, want_len);
    ck_assert_msg(memcmp(out, want, want_len) == 0, "got %s want %s", out, want);
    ck_assert_int_eq(out[out_len], '\0');
    free(out);
}

static void expect_canon(const char *in, const char *want)
{
    expect_canon_n(in, strlen(in), want, strlen(want));
}

static void expect_err(const char *in, int err)
{
    char *out = NULL;
    size_t out_len = 0;
    int rc = chain_jcs_canonicalize(in, strlen(in), &out, &out_len);

    ck_assert_msg(rc == err, "canonicalize(%s) = %s, want %s", in, chain_err_code(rc),
                  chain_err_code(err));
    ck_assert_ptr_null(out);
}

/* RFC 8785 §3.2.3: member names sort by UTF-16 code units, so U+1F600 (D83D DE00) comes before
 * U+FB33 although its UTF-8 bytes are greater. */
START_TEST(rfc8785_sorting_example)
{
    const char *in = "{\n"
                     "  \"\\u20ac\": \"Euro Sign\",\n"
                     "  \"\\r\": \"Carriage Return\",\n"
                     "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
                     "  \"1\": \"One\",\n"
                     "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
                     "  \"\\u0080\": \"Control\",\n"
                     "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
                     "}";
    const char *want = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
                       "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                       "\"\xe2\x82\xac\":\"Euro Sign\","
                       "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
                       "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}";

    expect_canon(in, want);
}
END_TEST

/* RFC 8785 §3.2.2.2 string example (the numbers of the §3.2.2 example are floats, which this
 * ledger rejects, so they are left out). */
START_TEST(rfc8785_string_example)
{
    const char *in = "{\"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\","
                     " \"literals\": [null, true, false]}";
    const char *want = "{\"literals\":[null,true,false],"
                       "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";

    expect_canon(in, want);
}
END_TEST

/* cyberphone/json-canonicalization testdata: arrays, french, weird, unicode, simpleString. */
START_TEST(reference_testdata)
{
    expect_canon("[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]",
                 "[56,{\"1\":[],\"10\":null,\"d\":true}]");
    expect_canon("{\n  \"peach\": \"This sorting order\",\n"
                 "  \"p\xc3\xa9\x63h\xc3\xa9\": \"is wrong according to French\",\n"
                 "  \"p\xc3\xaa\x63he\": \"but canonicalization MUST\",\n"
                 "  \"sin\":   \"ingnore locale\"\n}\n",
                 "{\"peach\":\"This sorting order\","
                 "\"p\xc3\xa9\x63h\xc3\xa9\":\"is wrong according to French\","
                 "\"p\xc3\xaa\x63he\":\"but canonicalization MUST\",\"sin\":\"ingnore locale\"}");
    expect_canon("{\n  \"\\u20ac\": \"Euro Sign\",\n  \"1\": \"One\",\n"
                 "  \"\\u0080\": \"Control\\u007f\",\n  \"\\ud83d\\ude02\": \"Smiley\",\n"
                 "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\",\n"
                 "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
                 "  \"</script>\": \"Browser Challenge\"\n}\n",
                 "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\xc2\x80\":\"Control\x7f\","
                 "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                 "\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x82\":\"Smiley\","
                 "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
    /* JCS does not normalize Unicode */
    expect_canon("{\n  \"Unnormalized Unicode\":\"\\u1e0d\\u0307\"\n}\n",
                 "{\"Unnormalized Unicode\":\"\xe1\xb8\x8d\xcc\x87\"}");
    expect_canon("    \"this is a test string 1235\"", "\"this is a test string 1235\"");
}
END_TEST

/* structures.json of the same test data holds 56.0: a float, which this ledger refuses. With
 * the float made an integer it canonicalizes to the reference output. */
START_TEST(reference_structures)
{
    expect_err("{\n  \"1\": {\"f\": {\"f\": \"hi\",\"F\": 5} ,\"\\n\": 56.0},\n  \"10\": { },\n"
               "  \"\": \"empty\",\n  \"a\": { },\n  \"111\": [ { } ],\n  \"A\": { }\n}",
               CHAIN_E_FLOAT);
    expect_canon("{\n  \"1\": {\"f\": {\"f\": \"hi\",\"F\": 5} ,\"\\n\": 56},\n  \"10\": { },\n"
                 "  \"\": \"empty\",\n  \"a\": { },\n  \"111\": [ { } ],\n  \"A\": { }\n}",
                 "{\"\":\"empty\",\"1\":{\"\\n\":56,\"f\":{\"F\":5,\"f\":\"hi\"}},\"10\":{},"
                 "\"111\":[{}],\"A\":{},\"a\":{}}");
}
END_TEST

START_TEST(each_escape)
{
    expect_canon("\"\\\"\"", "\"\\\"\"");
    expect_canon("\"\\\\\"", "\"\\\\\"");
    expect_canon("\"\\b\"", "\"\\b\"");
    expect_canon("\"\\f\"", "\"\\f\"");
    expect_canon("\"\\n\"", "\"\\n\"");
    expect_canon("\"\\r\"", "\"\\r\"");
    expect_canon("\"\\t\"", "\"\\t\"");
    expect_canon("\"\\u0008\\u000C\\u000a\\u000D\\u0009\"", "\"\\b\\f\\n\\r\\t\"");
    expect_canon("\"\\u0001\\u001f\\u000b\\u001B\"", "\"\\u0001\\u001f\\u000b\\u001b\"");
    expect_canon("\"\\/\"", "\"/\"");
    expect_canon("\"\\u0041\"", "\"A\"");
    /* DEL, U+2028, U+2029 and non-ASCII stay raw, unlike some JSON encoders */
    expect_canon("\"\\u007f\"", "\"\x7f\"");
    expect_canon("\"\\u2028\\u2029\"", "\"\xe2\x80\xa8\xe2\x80\xa9\"");
    expect_canon("\"\\u00e9\\ud834\\udd1e\"", "\"\xc3\xa9\xf0\x9d\x84\x9e\"");
    expect_canon("\"\xf0\x9d\x84\x9e\"", "\"\xf0\x9d\x84\x9e\"");
    /* U+0000 is escaped as a control, and survives (JSON_ALLOW_NUL) */
    expect_canon_n("\"a\\u0000b\"", 10, "\"a\\u0000b\"", 10);
}
END_TEST

START_TEST(literals_and_integers)
{
    expect_canon(" [ null , true , false ] ", "[null,true,false]");
    expect_canon("-0", "0");
    expect_canon("[0, -1, 42, -9007199254740991, 9007199254740991]",
                 "[0,-1,42,-9007199254740991,9007199254740991]");
    expect_canon("{}", "{}");
    expect_canon("[]", "[]");
    expect_canon("{\"a\":{},\"b\":[[]]}", "{\"a\":{},\"b\":[[]]}");
}
END_TEST

START_TEST(floats_rejected)
{
    expect_err("1.5", CHAIN_E_FLOAT);
    expect_err("1e2", CHAIN_E_FLOAT);
    expect_err("1E2", CHAIN_E_FLOAT);
    expect_err("-0.0", CHAIN_E_FLOAT);
    expect_err("1.0", CHAIN_E_FLOAT);
    expect_err("0e0", CHAIN_E_FLOAT);
    expect_err("1e400", CHAIN_E_FLOAT);
    expect_err("{\"a\":[1,{\"b\":2.25}]}", CHAIN_E_FLOAT);
}
END_TEST

START_TEST(integer_boundary)
{
    json_t *v;
    char *out = NULL;
    size_t n;

    expect_canon("9007199254740991", "9007199254740991");
    expect_canon("-9007199254740991", "-9007199254740991");
    expect_err("9007199254740992", CHAIN_E_RANGE);
    expect_err("-9007199254740992", CHAIN_E_RANGE);
    expect_err("[9223372036854775807]", CHAIN_E_RANGE);
    expect_err("99999999999999999999", CHAIN_E_RANGE);
    expect_err("-99999999999999999999", CHAIN_E_RANGE);

    /* values built in C are held to the same limits */
    v = json_pack("{s:I}", "n", (json_int_t)9007199254740992LL);
    ck_assert_int_eq(chain_jcs_dump(v, &out, &n), CHAIN_E_RANGE);
    ck_assert_int_eq(chain_jcs_check(v), CHAIN_E_RANGE);
    json_decref(v);
    v = json_pack("[f]", 0.5);
    ck_assert_int_eq(chain_jcs_dump(v, &out, &n), CHAIN_E_FLOAT);
    json_decref(v);
    ck_assert_ptr_null(out);
}
END_TEST

/* depth nested arrays (kind '[') or objects (kind '{') around 1 */
static char *nested(int depth, char kind)
{
    char *s = malloc((size_t)depth * 6 + 2), *p = s;
    int i;

    for (i = 0; i < depth; i++) {
        if (kind == '[') {
            *p++ = '[';
        } else {
            memcpy(p, "{\"a\":", 5);
            p += 5;
        }
    }
    *p++ = '1';
    for (i = 0; i < depth; i++)
        *p++ = kind == '[' ? ']' : '}';
    *p = '\0';
    return s;
}

static json_t *nested_value(int depth)
{
    json_t *v = json_integer(1);
    int i;

    for (i = 0; i < depth; i++) {
        json_t *a = json_array();

        json_array_append_new(a, v);
        v = a;
    }
    return v;
}

START_TEST(depth_limit)
{
    char *s32a = nested(32, '['), *s33a = nested(33, '['), *s32o = nested(32, '{');
    char *s33o = nested(33, '{'), *s5000 = nested(5000, '['), *out = NULL;
    json_t *v32 = nested_value(32), *v33 = nested_value(33);
    size_t n;

    expect_canon(s32a, s32a);
    expect_canon(s32o, s32o);
    expect_err(s33a, CHAIN_E_TOO_DEEP);
    expect_err(s33o, CHAIN_E_TOO_DEEP);
    expect_err(s5000, CHAIN_E_TOO_DEEP); /* beyond Jansson's own parser limit too */
    ck_assert_int_eq(chain_jcs_dump(v32, &out, &n), 0);
    ck_assert_str_eq(out, s32a);
    free(out);
    out = NULL;
    ck_assert_int_eq(chain_jcs_dump(v33, &out, &n), CHAIN_E_TOO_DEEP);
    ck_assert_ptr_null(out);
    json_decref(v32);
    json_decref(v33);
    free(s32a);
    free(s33a);
    free(s32o);
    free(s33o);
    free(s5000);
}
END_TEST

START_TEST(strict_parse)
{
    json_t *v = NULL;

    expect_err("{\"a\":1,\"a\":2}", CHAIN_E_DUPLICATE_KEY);
    expect_err("{\"b\":{\"a\":1,\"a\":1}}", CHAIN_E_DUPLICATE_KEY);
    expect_err("{} x", CHAIN_E_MALFORMED);
    expect_err("{}{}", CHAIN_E_MALFORMED);
    expect_err("", CHAIN_E_MALFORMED);
    expect_err("   ", CHAIN_E_MALFORMED);
    expect_err("[1,]", CHAIN_E_MALFORMED);
    expect_err("{'a':1}", CHAIN_E_MALFORMED);
    expect_err("01", CHAIN_E_MALFORMED);
    expect_err("\"\xff\"", CHAIN_E_MALFORMED);
    expect_err("\"\xc0\xaf\"", CHAIN_E_MALFORMED);     /* overlong '/' */
    expect_err("\"\xed\xa0\x80\"", CHAIN_E_MALFORMED); /* encoded surrogate */
    expect_err("\"\\ud800\"", CHAIN_E_MALFORMED);      /* lone surrogate escape */
    expect_err("NaN", CHAIN_E_MALFORMED);
    expect_err("\"a\nb\"", CHAIN_E_MALFORMED);
    /* U+0000 may be refused on request */
    ck_assert_int_eq(chain_jcs_parse_ex("\"a\\u0000\"", 9, CHAIN_JCS_REJECT_NUL, &v),
                     CHAIN_E_MALFORMED);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(chain_jcs_parse("\"a\\u0000\"", 9, &v), 0);
    ck_assert_uint_eq(json_string_length(v), 2);
    json_decref(v);
}
END_TEST

START_TEST(dump_rejects_bad_utf8)
{
    json_t *v = json_stringn_nocheck("\xff", 1);
    json_t *o = json_object();
    char *out = NULL;
    size_t n;

    ck_assert_int_eq(chain_jcs_dump(v, &out, &n), CHAIN_E_MALFORMED);
    json_object_set_new_nocheck(o, "\xc3", json_integer(1));
    ck_assert_int_eq(chain_jcs_dump(o, &out, &n), CHAIN_E_MALFORMED);
    json_object_clear(o);
    json_object_setn_new(o, "a\0b", 3, json_integer(1)); /* unparseable once written */
    ck_assert_int_eq(chain_jcs_dump(o, &out, &n), CHAIN_E_MALFORMED);
    ck_assert_int_eq(chain_jcs_check(o), CHAIN_E_MALFORMED);
    ck_assert_ptr_null(out);
    json_decref(v);
    json_decref(o);
}
END_TEST

/* The supplementary planes sort between U+D7FF and U+E000 in UTF-16. */
START_TEST(utf16_order_edges)
{
    expect_canon("{\"\\uffff\":1,\"\\ud800\\udc00\":2,\"\\ud7ff\":3,\"\\ue000\":4}",
                 "{\"\xed\x9f\xbf\":3,\"\xf0\x90\x80\x80\":2,\"\xee\x80\x80\":4,"
                 "\"\xef\xbf\xbf\":1}");
    expect_canon("{\"aa\":1,\"a\":2,\"\":3,\"b\":4,\"B\":5}",
                 "{\"\":3,\"B\":5,\"a\":2,\"aa\":1,\"b\":4}");
    expect_canon("{\"\\udbff\\udfff\":1,\"\\ud800\\udc01\":2}",
                 "{\"\xf0\x90\x80\x81\":2,\"\xf4\x8f\xbf\xbf\":1}");
}
END_TEST

/* ---- property test ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure replays */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

static size_t put_utf8(uint32_t c, char *p)
{
    if (c < 0x80) {
        p[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        p[0] = (char)(0xc0 | c >> 6);
        p[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        p[0] = (char)(0xe0 | c >> 12);
        p[1] = (char)(0x80 | (c >> 6 & 0x3f));
        p[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    p[0] = (char)(0xf0 | c >> 18);
    p[1] = (char)(0x80 | (c >> 12 & 0x3f));
    p[2] = (char)(0x80 | (c >> 6 & 0x3f));
    p[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* A code point from a class chosen at random, stressing the escaping and sorting edges. */
static uint32_t rnd_codepoint(int allow_nul)
{
    static const uint32_t special[] = {'"',    '\\',   '/',    0x7f,   0x2028,  0x2029,   0xfeff,
                                       0xfffd, 0xffff, 0xe000, 0xd7ff, 0x10000, 0x10ffff, 0x80};
    uint32_t c;

    switch (rnd_below(7)) {
    case 0:
        c = rnd_below(0x20);
        return (c == 0 && !allow_nul) ? 1 : c;
    case 1:
        return 0x20 + rnd_below(0x5f);
    case 2:
        return special[rnd_below(sizeof special / sizeof special[0])];
    case 3:
        return 0x80 + rnd_below(0x800 - 0x80);
    case 4:
        c = 0x800 + rnd_below(0x10000 - 0x800);
        return (c >= 0xd800 && c <= 0xdfff) ? c + 0x800 : c; /* no surrogates in UTF-8 */
    case 5:
        return 0xe000 + rnd_below(0x2000);
    default:
        return 0x10000 + rnd_below(0x100000);
    }
}

static size_t rnd_string(char *buf, int allow_nul)
{
    size_t n = rnd_below(9), len = 0, i;

    for (i = 0; i < n; i++)
        len += put_utf8(rnd_codepoint(allow_nul), buf + len);
    return len;
}

static json_int_t rnd_int(void)
{
    switch (rnd_below(4)) {
    case 0:
        return (json_int_t)rnd_below(21) - 10;
    case 1:
        return rnd_below(2) ? 9007199254740991LL : -9007199254740991LL;
    default:
        return (json_int_t)(rnd() % 9007199254740991ULL) * (rnd_below(2) ? 1 : -1);
    }
}

static json_t *rnd_value(int depth)
{
    char buf[64];
    unsigned kind = rnd_below(depth >= 6 ? 5 : 8);
    json_t *v;
    uint32_t i, n;

    switch (kind) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(rnd_below(2));
    case 2:
    case 3:
        return json_integer(rnd_int());
    case 4:
        return json_stringn(buf, rnd_string(buf, 1));
    case 5:
    case 6:
        v = json_object();
        n = rnd_below(6);
        for (i = 0; i < n; i++) {
            size_t klen = rnd_string(buf, 0);

            json_object_setn_new(v, buf, klen, rnd_value(depth + 1));
        }
        return v;
    default:
        v = json_array();
        n = rnd_below(5);
        for (i = 0; i < n; i++)
            json_array_append_new(v, rnd_value(depth + 1));
        return v;
    }
}

/* UTF-16 code units of a UTF-8 key, written independently of chain/ for the order check. */
static size_t to_utf16(const char *s, size_t len, uint16_t *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n = 0;

    while (i < len) {
        uint32_t c;

        if (u[i] < 0x80) {
            c = u[i++];
        } else if (u[i] < 0xe0) {
            c = (uint32_t)(u[i] & 0x1f) << 6 | (u[i + 1] & 0x3f);
            i += 2;
        } else if (u[i] < 0xf0) {
            c = (uint32_t)(u[i] & 0x0f) << 12 | (uint32_t)(u[i + 1] & 0x3f) << 6 |
                (u[i + 2] & 0x3f);
            i += 3;
        } else {
            c = (uint32_t)(u[i] & 0x07) << 18 | (uint32_t)(u[i + 1] & 0x3f) << 12 |
                (uint32_t)(u[i + 2] & 0x3f) << 6 | (u[i + 3] & 0x3f);
            i += 4;
        }
        if (c >= 0x10000) {
            out[n++] = (uint16_t)(0xd800 + ((c - 0x10000) >> 10));
            out[n++] = (uint16_t)(0xdc00 + ((c - 0x10000) & 0x3ff));
        } else {
            out[n++] = (uint16_t)c;
        }
    }
    return n;
}

static int utf16_less(const char *a, size_t al, const char *b, size_t bl)
{
    uint16_t ua[64], ub[64];
    size_t na = to_utf16(a, al, ua), nb = to_utf16(b, bl, ub), i;

    for (i = 0; i < na && i < nb; i++) {
        if (ua[i] != ub[i])
            return ua[i] < ub[i];
    }
    return na < nb;
}

/* Every object of v (as parsed, in document order) lists its keys in strictly increasing UTF-16
 * order. */
static void assert_sorted(json_t *v)
{
    const char *prev = NULL;
    size_t prev_len = 0, i;
    void *it;

    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++)
            assert_sorted(json_array_get(v, i));
        return;
    }
    if (!json_is_object(v))
        return;
    for (it = json_object_iter(v); it != NULL; it = json_object_iter_next(v, it)) {
        const char *k = json_object_iter_key(it);
        size_t kl = json_object_iter_key_len(it);

        if (prev != NULL)
            ck_assert_msg(utf16_less(prev, prev_len, k, kl), "keys out of UTF-16 order");
        prev = k;
        prev_len = kl;
        assert_sorted(json_object_iter_value(it));
    }
}

START_TEST(property_round_trip)
{
    int i;

    rng_state = 0x9e3779b97f4a7c15ULL;
    for (i = 0; i < 2000; i++) {
        json_t *v = rnd_value(0), *back = NULL, *ordered;
        char *c1 = NULL, *c2 = NULL;
        size_t l1 = 0, l2 = 0;
        json_error_t err;

        ck_assert_int_eq(chain_jcs_dump(v, &c1, &l1), 0);
        ck_assert_msg(chain_jcs_parse(c1, l1, &back) == 0, "reparse failed: %s", c1);
        ck_assert_msg(json_equal(v, back), "value changed: %s", c1);
        ck_assert_int_eq(chain_jcs_dump(back, &c2, &l2), 0);
        ck_assert_uint_eq(l1, l2);
        ck_assert_msg(memcmp(c1, c2, l1) == 0, "not idempotent: %s", c1);
        /* Jansson keeps insertion order, so parsing the text shows the written order */
        ordered = json_loadb(c1, l1, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        ck_assert_ptr_nonnull(ordered);
        assert_sorted(ordered);
        json_decref(ordered);
        json_decref(v);
        json_decref(back);
        free(c1);
        free(c2);
    }
}
END_TEST

static Suite *jcs_suite(void)
{
    Suite *s = suite_create("chain_jcs");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, rfc8785_sorting_example);
    tcase_add_test(tc, rfc8785_string_example);
    tcase_add_test(tc, reference_testdata);
    tcase_add_test(tc, reference_structures);
    tcase_add_test(tc, each_escape);
    tcase_add_test(tc, literals_and_integers);
    tcase_add_test(tc, floats_rejected);
    tcase_add_test(tc, integer_boundary);
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, strict_parse);
    tcase_add_test(tc, dump_rejects_bad_utf8);
    tcase_add_test(tc, utf16_order_edges);
    suite_add_tcase(s, tc);
    tc = tcase_create("property");
    tcase_set_timeout(tc, 120); /* sanitizer builds are several times slower */
    tcase_add_test(tc, property_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    sr = srunner_create(jcs_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
