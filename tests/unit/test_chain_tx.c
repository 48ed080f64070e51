/* test_chain_tx.c — the tx envelope: build, sign, parse, verify, the tx id, and one test per
 * rejection code with the field it names. */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../../chain/jcs.h"
#include "../../chain/tx.h"
#include "../tx_same.h"

#define ORIGIN "lianxin.test/chain-1"
#define T0     1795000000000LL

static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

static void setup(void)
{
    crypto_sign_keypair(pk, sk);
}

/* A signed envelope with the given body (stolen). */
static json_t *signed_env(json_t *body)
{
    json_t *env = chain_tx_build(ORIGIN, "edu", "credential.issue", "tsinghua", pk, T0, body);

    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(chain_tx_sign(env, sk), 0);
    return env;
}

static json_t *sample_env(void)
{
    return signed_env(
        json_pack("{s:s,s:I,s:[i,i]}", "student", "s-001", "fen", (json_int_t)1500, "list", 1, 2));
}

/* Jansson's own compact text of env: lets tests write what chain_jcs_dump would refuse. */
static char *raw_text(const json_t *env)
{
    char *s = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    ck_assert_ptr_nonnull(s);
    return s;
}

/* Parses text and expects err, with detail naming want_detail (NULL: don't care). */
static void expect_parse_err(const char *text, size_t len, int err, const char *want_detail)
{
    struct chain_tx *tx = NULL;
    char detail[64];
    int rc = chain_tx_parse_ex(text, len, &tx, detail, sizeof detail);

    ck_assert_msg(rc == err, "parse = %s, want %s (detail %s)", chain_err_code(rc),
                  chain_err_code(err), detail);
    ck_assert_ptr_null(tx);
    if (want_detail != NULL)
        ck_assert_str_eq(detail, want_detail);
}

static void expect_env_err(const json_t *env, int err, const char *want_detail)
{
    char *s = raw_text(env);

    expect_parse_err(s, strlen(s), err, want_detail);
    free(s);
}

static struct chain_tx *parse_ok(const json_t *env)
{
    struct chain_tx *tx = NULL;
    char *text = NULL;
    size_t len = 0;

    ck_assert_int_eq(chain_jcs_dump(env, &text, &len), 0);
    ck_assert_int_eq(chain_tx_parse(text, len, &tx), 0);
    free(text);
    return tx;
}

START_TEST(round_trip)
{
    json_t *env = sample_env(), *copy;
    struct chain_tx *tx;
    char *text = NULL, *unsigned_jcs = NULL, *msg;
    size_t len = 0, ulen = 0, plen = strlen(CHAIN_TX_SIG_PREFIX);
    uint8_t *pre, h[32];
    char hex[65];

    ck_assert_int_eq(chain_jcs_dump(env, &text, &len), 0);
    ck_assert_int_eq(chain_tx_parse(text, len, &tx), 0);
    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, T0), 0);
    ck_assert_int_eq(chain_tx_verify_sig(tx), 0);
    ck_assert_str_eq(tx->chain, ORIGIN);
    ck_assert_str_eq(tx->module, "edu");
    ck_assert_str_eq(tx->type, "credential.issue");
    ck_assert_str_eq(tx->org, "tsinghua");
    ck_assert_mem_eq(tx->signer, pk, sizeof pk);
    ck_assert_int_eq(tx->time_ms, T0);
    ck_assert_int_eq(json_integer_value(json_object_get(tx->body, "fen")), 1500);
    /* the leaf is the canonical text itself */
    ck_assert_uint_eq(tx->leaf_len, len);
    ck_assert_mem_eq(tx->leaf, text, len);

    /* tx id = hex(SHA-256(0x00 || leaf)), computed here without chain/ */
    pre = malloc(len + 1);
    pre[0] = 0x00;
    memcpy(pre + 1, text, len);
    crypto_hash_sha256(h, pre, len + 1);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    ck_assert_str_eq(tx->id_hex, hex);
    ck_assert_mem_eq(tx->leaf_hash, h, 32);

    /* the signature covers "lianxin-tx-v1\n" || JCS(envelope without sig) */
    copy = json_deep_copy(env);
    json_object_del(copy, "sig");
    ck_assert_int_eq(chain_jcs_dump(copy, &unsigned_jcs, &ulen), 0);
    ck_assert_ptr_null(strstr(unsigned_jcs, "\"sig\""));
    msg = malloc(plen + ulen);
    memcpy(msg, CHAIN_TX_SIG_PREFIX, plen);
    memcpy(msg + plen, unsigned_jcs, ulen);
    ck_assert_int_eq(crypto_sign_verify_detached(tx->sig, (uint8_t *)msg, plen + ulen, pk), 0);
    ck_assert_uint_eq(tx->msg_len, plen + ulen);
    ck_assert_mem_eq(tx->msg, msg, plen + ulen);

    free(msg);
    free(unsigned_jcs);
    json_decref(copy);
    free(pre);
    free(text);
    chain_tx_free(tx);
    json_decref(env);
}
END_TEST

/* Whitespace and member order do not change the leaf or the id. */
START_TEST(non_canonical_input_same_id)
{
    json_t *env = sample_env();
    struct chain_tx *a = parse_ok(env), *b = NULL, *c = NULL;
    char *pretty = json_dumps(env, JSON_INDENT(3));

    ck_assert_int_eq(chain_tx_parse(pretty, strlen(pretty), &b), 0);
    ck_assert_str_eq(a->id_hex, b->id_hex);
    ck_assert_int_eq(chain_tx_verify(b, ORIGIN, T0), 0);
    ck_assert_int_eq(chain_tx_from_json(env, &c), 0);
    ck_assert_str_eq(a->id_hex, c->id_hex);
    free(pretty);
    chain_tx_free(a);
    chain_tx_free(b);
    chain_tx_free(c);
    json_decref(env);
}
END_TEST

/* Replaces the first `from` in s (which must hold it) with `to`; returns a new string. */
static char *replaced(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);

    ck_assert_ptr_nonnull(at);
    snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return out;
}

/* A text already in JCS is kept as the leaf; one that only looks close (members in build order,
 * an escape JCS would not write, -0) is written out again, to the same leaf and id. */
START_TEST(leaf_is_canonical_whatever_the_text)
{
    json_t *env = signed_env(json_pack("{s:s,s:i}", "student", "s-001", "zero", 0));
    struct chain_tx *a = parse_ok(env);
    char *jcs = NULL, *variants[4];
    size_t len = 0;

    ck_assert_int_eq(chain_jcs_dump(env, &jcs, &len), 0);
    ck_assert_uint_eq(a->leaf_len, len);
    ck_assert_mem_eq(a->leaf, jcs, len);
    variants[0] = json_dumps(env, JSON_COMPACT); /* "v" first: the order it was built in */
    variants[1] = replaced(jcs, "\"s-001\"", "\"\\u0073-001\"");
    variants[2] = replaced(jcs, "\"zero\":0", "\"zero\":-0");
    variants[3] = replaced(jcs, "\"s-001\"", "\"s\\/001\""); /* a different value */
    for (int i = 0; i < 4; i++) {
        struct chain_tx *b = NULL;

        ck_assert_int_eq(chain_tx_parse(variants[i], strlen(variants[i]), &b), 0);
        if (i < 3) {
            ck_assert_str_eq(b->id_hex, a->id_hex);
            ck_assert_uint_eq(b->leaf_len, len);
            ck_assert_mem_eq(b->leaf, jcs, len);
            ck_assert_int_eq(chain_tx_verify(b, ORIGIN, T0), 0);
        } else { /* "s/001" is not what was signed */
            ck_assert_str_ne(b->id_hex, a->id_hex);
            ck_assert_ptr_nonnull(strstr(b->leaf, "\"s/001\""));
            ck_assert_int_eq(chain_tx_verify(b, ORIGIN, T0), CHAIN_E_BAD_SIG);
        }
        chain_tx_free(b);
        free(variants[i]);
    }
    free(jcs);
    chain_tx_free(a);
    json_decref(env);
}
END_TEST

/* A canonical text is read member by member, any other as a tree: the same tx, or the same
 * error and detail, either way. Canonical txs of varied bodies, each cut, each byte changed in
 * turn; the general path is forced by a leading space. */
START_TEST(both_paths_agree)
{
    static const char *const swaps[] = {"\"", "1", "x", "{", "\\", " ", "\x80", "A"};
    json_t *bodies[] = {
        json_pack("{s:s,s:I,s:[i,i]}", "student", "s-001", "fen", (json_int_t)1500, "list", 1, 2),
        json_pack("{s:s,s:s}", "name", "清华 \"q\" \\ \n \x01", "/", "a/b"), json_pack("{}"),
        json_pack("{s:{s:{s:b}}}", "a", "b", "c", 1)};
    long agreed = 0;

    for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
        json_t *env = signed_env(bodies[b]);
        char *jcs = NULL, *text, *spaced;
        size_t len = 0;

        ck_assert_int_eq(chain_jcs_dump(env, &jcs, &len), 0);
        text = malloc(len + 1);
        spaced = malloc(len + 2);
        for (size_t at = 0; at <= len; at++) {
            for (size_t k = 0; k <= sizeof swaps / sizeof swaps[0]; k++) {
                struct chain_tx *t1 = NULL, *t2 = NULL;
                char d1[64], d2[64];
                size_t n = len;
                int r1, r2;

                memcpy(text, jcs, len);
                if (k == sizeof swaps / sizeof swaps[0])
                    n = at; /* cut */
                else if (at < len)
                    text[at] = swaps[k][0];
                spaced[0] = ' ';
                memcpy(spaced + 1, text, n);
                r1 = chain_tx_parse_ex(text, n, &t1, d1, sizeof d1);
                r2 = chain_tx_parse_ex(spaced, n + 1, &t2, d2, sizeof d2);
                ck_assert_msg(r1 == r2 && strcmp(d1, d2) == 0, "%.*s: %s (%s), %s (%s)", (int)n,
                              text, chain_err_code(r1), d1, chain_err_code(r2), d2);
                if (r1 == 0) {
                    ck_assert_msg(tx_same(t1, t2), "%.*s: two different txs", (int)n, text);
                    agreed++;
                }
                chain_tx_free(t1);
                chain_tx_free(t2);
            }
        }
        free(text);
        free(spaced);
        free(jcs);
        json_decref(env);
    }
    ck_assert_int_gt(agreed, 4); /* the unchanged texts at least */
}
END_TEST

START_TEST(nonce_is_random)
{
    json_t *e1 = sample_env(), *e2 = sample_env();
    struct chain_tx *a = parse_ok(e1), *b = parse_ok(e2);

    ck_assert_mem_ne(a->nonce, b->nonce, CHAIN_TX_NONCE_LEN);
    ck_assert_str_ne(a->id_hex, b->id_hex);
    chain_tx_free(a);
    chain_tx_free(b);
    json_decref(e1);
    json_decref(e2);
}
END_TEST

START_TEST(rejects_malformed)
{
    expect_parse_err("{", 1, CHAIN_E_MALFORMED, "tx");
    expect_parse_err("", 0, CHAIN_E_MALFORMED, "tx");
    expect_parse_err("[]", 2, CHAIN_E_MALFORMED, "tx");
    expect_parse_err("\"tx\"", 4, CHAIN_E_MALFORMED, "tx");
    expect_parse_err("{} {}", 5, CHAIN_E_MALFORMED, "tx");
    expect_parse_err("{\"v\":1,\"v\":1}", 13, CHAIN_E_DUPLICATE_KEY, "tx");
}
END_TEST

START_TEST(rejects_missing_field)
{
    static const char *const names[] = {"v",      "chain", "module", "type", "org",
                                        "signer", "nonce", "time",   "body", "sig"};
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *env = sample_env();

        json_object_del(env, names[i]);
        expect_env_err(env, CHAIN_E_MISSING_FIELD, names[i]);
        json_decref(env);
    }
}
END_TEST

START_TEST(rejects_extra_field)
{
    json_t *env = sample_env();
    char detail[8];
    struct chain_tx *tx = NULL;
    char *s;

    json_object_set_new(env, "memo", json_string("hi"));
    expect_env_err(env, CHAIN_E_EXTRA_FIELD, "memo");
    json_object_del(env, "memo");
    /* the detail is cut on a character boundary: 7 bytes hold three 2-byte characters */
    json_object_set_new(env, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", json_true());
    s = raw_text(env);
    ck_assert_int_eq(chain_tx_parse_ex(s, strlen(s), &tx, detail, sizeof detail),
                     CHAIN_E_EXTRA_FIELD);
    ck_assert_str_eq(detail, "\xc3\xa9\xc3\xa9\xc3\xa9");
    free(s);
    json_decref(env);
}
END_TEST

/* A member named "" is an extra field too, and the detail still names it (found by fuzzing). */
START_TEST(rejects_empty_member_name)
{
    json_t *env = sample_env();

    json_object_set_new(env, "", json_true());
    expect_env_err(env, CHAIN_E_EXTRA_FIELD, "\"\"");
    json_decref(env);
}
END_TEST

START_TEST(rejects_wrong_type)
{
    static const struct {
        const char *field;
        const char *value; /* JSON text */
    } cases[] = {
        {"v", "\"1\""}, {"chain", "1"},     {"module", "null"}, {"type", "[]"},
        {"org", "{}"},  {"signer", "1"},    {"nonce", "true"},  {"time", "\"0\""},
        {"body", "[]"}, {"body", "\"{}\""}, {"sig", "false"},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *env = sample_env();

        json_object_set_new(env, cases[i].field, json_loads(cases[i].value, JSON_DECODE_ANY, NULL));
        expect_env_err(env, CHAIN_E_WRONG_TYPE, cases[i].field);
        json_decref(env);
    }
}
END_TEST

START_TEST(rejects_version)
{
    json_t *env = sample_env();

    json_object_set_new(env, "v", json_integer(2));
    expect_env_err(env, CHAIN_E_BAD_VERSION, "v");
    json_decref(env);
}
END_TEST

START_TEST(rejects_float_in_body)
{
    json_t *env = sample_env();

    json_object_set_new((json_t *)json_object_get(env, "body"), "fen", json_real(15.0));
    expect_env_err(env, CHAIN_E_FLOAT, "tx");
    json_object_set_new(env, "time", json_real(1795000000000.0));
    expect_env_err(env, CHAIN_E_FLOAT, "tx");
    json_decref(env);
}
END_TEST

START_TEST(rejects_integer_out_of_range)
{
    json_t *env = sample_env();

    json_object_set_new(env, "time", json_integer(9007199254740992LL));
    expect_env_err(env, CHAIN_E_RANGE, "tx");
    json_decref(env);
}
END_TEST

static void set_b64(json_t *env, const char *field, size_t nbytes)
{
    uint8_t buf[128];
    char b64[256];

    randombytes_buf(buf, nbytes);
    ck_assert_int_eq(chain_b64_encode(buf, nbytes, b64, sizeof b64), 0);
    json_object_set_new(env, field, json_string(b64));
}

START_TEST(rejects_bad_base64)
{
    static const char *const bad[] = {"not base64!", "AAAA AAAA", "AAA",     "AA=A",
                                      "AAAA\n",      "ZmFub3c",   "Zm9vYg=", "Zg==Zg=="};
    static const char *const fields[] = {"signer", "nonce", "sig"};
    size_t i, f;

    for (f = 0; f < 3; f++) {
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            json_t *env = sample_env();

            json_object_set_new(env, fields[f], json_string(bad[i]));
            expect_env_err(env, CHAIN_E_BAD_BASE64, fields[f]);
            json_decref(env);
        }
    }
}
END_TEST

START_TEST(rejects_lengths)
{
    static const struct {
        const char *field;
        size_t n;
        int err;
    } cases[] = {
        {"signer", 31, CHAIN_E_BAD_KEY_LEN},  {"signer", 33, CHAIN_E_BAD_KEY_LEN},
        {"signer", 0, CHAIN_E_BAD_KEY_LEN},   {"sig", 63, CHAIN_E_BAD_SIG_LEN},
        {"sig", 65, CHAIN_E_BAD_SIG_LEN},     {"sig", 128, CHAIN_E_BAD_SIG_LEN},
        {"nonce", 15, CHAIN_E_BAD_NONCE_LEN}, {"nonce", 17, CHAIN_E_BAD_NONCE_LEN},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *env = sample_env();

        set_b64(env, cases[i].field, cases[i].n);
        expect_env_err(env, cases[i].err, cases[i].field);
        json_decref(env);
    }
}
END_TEST

START_TEST(rejects_flipped_signature_bit)
{
    json_t *env = sample_env();
    struct chain_tx *tx = parse_ok(env);
    int bit;

    for (bit = 0; bit < 512; bit += 37) {
        tx->sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_int_eq(chain_tx_verify_sig(tx), CHAIN_E_BAD_SIG);
        ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, T0), CHAIN_E_BAD_SIG);
        tx->sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, T0), 0);
    chain_tx_free(tx);
    json_decref(env);
}
END_TEST

START_TEST(rejects_tampered_body)
{
    json_t *env = sample_env();
    struct chain_tx *tx;

    json_object_set_new((json_t *)json_object_get(env, "body"), "fen", json_integer(1501));
    tx = parse_ok(env);
    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, T0), CHAIN_E_BAD_SIG);
    chain_tx_free(tx);
    json_decref(env);
}
END_TEST

START_TEST(rejects_other_signer)
{
    uint8_t pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
    json_t *env = chain_tx_build(ORIGIN, "edu", "t", "", pk, T0, json_object());
    struct chain_tx *tx;

    crypto_sign_keypair(pk2, sk2);
    /* signing with a key the envelope does not name is refused */
    ck_assert_int_eq(chain_tx_sign(env, sk2), CHAIN_E_KEY_MISMATCH);
    ck_assert_ptr_null(json_object_get(env, "sig"));
    /* a signature by another key does not verify */
    ck_assert_int_eq(chain_tx_sign(env, sk), 0);
    tx = parse_ok(env);
    memcpy(tx->signer, pk2, sizeof pk2);
    ck_assert_int_eq(chain_tx_verify_sig(tx), CHAIN_E_BAD_SIG);
    chain_tx_free(tx);
    json_decref(env);
}
END_TEST

START_TEST(rejects_other_chain)
{
    json_t *env = sample_env();
    struct chain_tx *tx = parse_ok(env);

    ck_assert_int_eq(chain_tx_verify(tx, "lianxin.test/chain-2", T0), CHAIN_E_WRONG_CHAIN);
    ck_assert_int_eq(chain_tx_verify(tx, "lianxin.test/chain-", T0), CHAIN_E_WRONG_CHAIN);
    ck_assert_int_eq(chain_tx_verify(tx, "", T0), CHAIN_E_WRONG_CHAIN);
    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, T0), 0);
    chain_tx_free(tx);
    json_decref(env);
}
END_TEST

START_TEST(time_window)
{
    json_t *env = sample_env();
    struct chain_tx *tx = parse_ok(env);

    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, T0 + CHAIN_TIME_SKEW_MS), 0);
    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, T0 - CHAIN_TIME_SKEW_MS), 0);
    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, T0 + CHAIN_TIME_SKEW_MS + 1), CHAIN_E_TIME_SKEW);
    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, T0 - CHAIN_TIME_SKEW_MS - 1), CHAIN_E_TIME_SKEW);
    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, INT64_MIN), CHAIN_E_TIME_SKEW);
    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, INT64_MAX), CHAIN_E_TIME_SKEW);
    chain_tx_free(tx);
    json_decref(env);
}
END_TEST

/* A signed tx whose canonical text is exactly want bytes long. */
static char *tx_of_size(size_t want)
{
    json_t *env;
    char *text = NULL, *pad;
    size_t len = 0, base;

    env = signed_env(json_pack("{s:s}", "pad", ""));
    ck_assert_int_eq(chain_jcs_dump(env, &text, &len), 0);
    base = len;
    free(text);
    json_decref(env);
    pad = malloc(want - base + 1);
    memset(pad, 'x', want - base);
    pad[want - base] = '\0';
    env = signed_env(json_pack("{s:s}", "pad", pad));
    ck_assert_int_eq(chain_jcs_dump(env, &text, &len), 0);
    ck_assert_uint_eq(len, want);
    free(pad);
    json_decref(env);
    return text;
}

START_TEST(size_limit)
{
    char *at = tx_of_size(CHAIN_TX_MAX), *over = tx_of_size(CHAIN_TX_MAX + 1), *ws;
    struct chain_tx *tx = NULL;
    json_t *env = sample_env();
    char *small = raw_text(env);
    size_t n = strlen(small);

    ck_assert_int_eq(chain_tx_parse(at, CHAIN_TX_MAX, &tx), 0);
    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, T0), 0);
    expect_parse_err(over, CHAIN_TX_MAX + 1, CHAIN_E_TOO_LARGE, "tx");
    /* the size is judged on the bytes received, before parsing: padding counts */
    ws = malloc(CHAIN_TX_MAX + 2);
    memcpy(ws, small, n);
    memset(ws + n, ' ', CHAIN_TX_MAX + 1 - n);
    expect_parse_err(ws, CHAIN_TX_MAX + 1, CHAIN_E_TOO_LARGE, "tx");
    chain_tx_free(tx);
    tx = NULL;
    ck_assert_int_eq(chain_tx_parse(ws, CHAIN_TX_MAX, &tx), 0); /* trailing whitespace is fine */
    free(ws);
    free(small);
    free(at);
    free(over);
    chain_tx_free(tx);
    json_decref(env);
}
END_TEST

/* body {"n": k nested arrays}: the envelope is depth 1, the body 2, so k = 30 reaches 32. */
static json_t *deep_body(int k)
{
    json_t *v = json_integer(7);
    int i;

    for (i = 0; i < k; i++) {
        json_t *a = json_array();

        json_array_append_new(a, v);
        v = a;
    }
    return json_pack("{s:o}", "n", v);
}

START_TEST(depth_limit)
{
    json_t *ok = signed_env(deep_body(30)), *deep;
    struct chain_tx *tx = parse_ok(ok);

    ck_assert_int_eq(chain_tx_verify(tx, ORIGIN, T0), 0);
    chain_tx_free(tx);
    deep = json_deep_copy(ok);
    json_object_set_new(deep, "body", deep_body(31));
    expect_env_err(deep, CHAIN_E_TOO_DEEP, "tx");
    /* a tx that deep cannot be signed either */
    json_object_del(deep, "sig");
    ck_assert_int_eq(chain_tx_sign(deep, sk), CHAIN_E_TOO_DEEP);
    json_decref(ok);
    json_decref(deep);
}
END_TEST

START_TEST(rejects_nul_in_strings)
{
    json_t *env = sample_env();

    json_object_set_new(env, "module", json_stringn("edu\0x", 5));
    expect_env_err(env, CHAIN_E_MALFORMED, "tx");
    json_object_set_new(env, "module", json_string("edu"));
    json_object_set_new((json_t *)json_object_get(env, "body"), "s", json_stringn("a\0", 2));
    expect_env_err(env, CHAIN_E_MALFORMED, "tx");
    json_decref(env);
}
END_TEST

/* The signed message is cut out of the leaf (chain/tx.c); it must equal prefix || JCS(env
 * without sig) even when the body holds "sig" members shaped like the top-level one. */
START_TEST(message_is_envelope_without_sig)
{
    json_t *env = sample_env(), *body = json_object_get(env, "body");
    const char *sig = json_string_value(json_object_get(env, "sig"));
    struct chain_tx *tx;
    json_t *copy;
    char *jcs = NULL, *want;
    size_t len = 0;

    json_object_set_new(body, "sig", json_string(sig)); /* the old signature, then sign again */
    json_object_set_new(body, "x", json_pack("{s:s,s:s}", "sig", sig, "signer", "z"));
    ck_assert_int_eq(chain_tx_sign(env, sk), 0);
    tx = parse_ok(env);
    copy = json_copy(env);
    json_object_del(copy, "sig");
    ck_assert_int_eq(chain_jcs_dump(copy, &jcs, &len), 0);
    ck_assert_int_eq(asprintf(&want, "%s%s", CHAIN_TX_SIG_PREFIX, jcs) > 0, 1);
    ck_assert_uint_eq(tx->msg_len, strlen(want));
    ck_assert_str_eq(tx->msg, want);
    ck_assert_int_eq(chain_tx_verify_sig(tx), 0);
    free(want);
    free(jcs);
    json_decref(copy);
    chain_tx_free(tx);
    json_decref(env);
}
END_TEST

START_TEST(build_contract)
{
    json_t *env;

    /* body is stolen even on failure (ASan would report a leak otherwise) */
    ck_assert_ptr_null(chain_tx_build(ORIGIN, "edu", "t", "o", pk, T0, json_array()));
    ck_assert_ptr_null(chain_tx_build(ORIGIN, "edu", "t", "o", pk, T0, NULL));
    ck_assert_ptr_null(chain_tx_build("\xff", "edu", "t", "o", pk, T0, json_object()));
    ck_assert_ptr_null(chain_tx_build(ORIGIN, NULL, "t", "o", pk, T0, json_object()));
    ck_assert_ptr_null(
        chain_tx_build(ORIGIN, "edu", "t", "o", pk, 9007199254740992LL, json_object()));
    env = chain_tx_build(ORIGIN, "edu", "t", "", pk, T0, json_object());
    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(json_integer_value(json_object_get(env, "v")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(env, "org")), "");
    ck_assert_uint_eq(json_object_size(env), 9);
    ck_assert_int_eq(chain_tx_sign(env, sk), 0);
    ck_assert_uint_eq(json_object_size(env), 10);
    /* signing again replaces the signature */
    ck_assert_int_eq(chain_tx_sign(env, sk), 0);
    ck_assert_uint_eq(json_object_size(env), 10);
    json_decref(env);
}
END_TEST

static Suite *tx_suite(void)
{
    Suite *s = suite_create("chain_tx");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, non_canonical_input_same_id);
    tcase_add_test(tc, leaf_is_canonical_whatever_the_text);
    tcase_add_test(tc, both_paths_agree);
    tcase_add_test(tc, nonce_is_random);
    tcase_add_test(tc, rejects_malformed);
    tcase_add_test(tc, rejects_missing_field);
    tcase_add_test(tc, rejects_extra_field);
    tcase_add_test(tc, rejects_empty_member_name);
    tcase_add_test(tc, rejects_wrong_type);
    tcase_add_test(tc, rejects_version);
    tcase_add_test(tc, rejects_float_in_body);
    tcase_add_test(tc, rejects_integer_out_of_range);
    tcase_add_test(tc, rejects_bad_base64);
    tcase_add_test(tc, rejects_lengths);
    tcase_add_test(tc, rejects_flipped_signature_bit);
    tcase_add_test(tc, rejects_tampered_body);
    tcase_add_test(tc, rejects_other_signer);
    tcase_add_test(tc, rejects_other_chain);
    tcase_add_test(tc, time_window);
    tcase_add_test(tc, size_limit);
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, rejects_nul_in_strings);
    tcase_add_test(tc, message_is_envelope_without_sig);
    tcase_add_test(tc, build_contract);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    sr = srunner_create(tx_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
