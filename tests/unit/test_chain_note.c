/* test_chain_note.c — C2SP signed notes and checkpoints. The PeterNeumann and EnochRoot keys,
 * signatures and the mangling and malformed-note cases are the published test vectors of
 * golang.org/x/mod/sumdb/note (note_test.go), the reference implementation of the format. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../chain/note.h"

#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PETER_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define TEXT                                                                                       \
    "If you think cryptography is the answer to your problem,\n"                                   \
    "then you don't know what your problem is.\n"
#define PETER_SIG                                                                                  \
    "\xe2\x80\x94 PeterNeumann "                                                                   \
    "x08go/ZJkuBS9UG/"                                                                             \
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
#define ENOCH_SIG                                                                                  \
    "\xe2\x80\x94 EnochRoot "                                                                      \
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"                                                 \
    "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

static struct chain_note_verifier peter, enoch;

static void setup(void)
{
    ck_assert_int_eq(chain_note_verifier_parse(PETER_VKEY, &peter), 0);
    ck_assert_int_eq(chain_note_verifier_parse(ENOCH_VKEY, &enoch), 0);
}

static int open_s(const char *note, const struct chain_note_verifier *known, size_t n,
                  struct chain_note_opened *out)
{
    return chain_note_open(note, strlen(note), known, n, out);
}

START_TEST(go_verifier_key)
{
    char out[CHAIN_NOTE_VKEY_MAX];

    ck_assert_str_eq(peter.name, "PeterNeumann");
    ck_assert_uint_eq(peter.key_hash, 0xc74f20a3u);
    ck_assert_int_eq(chain_note_verifier_format(&peter, out, sizeof out), 0);
    ck_assert_str_eq(out, PETER_VKEY);
    ck_assert_int_eq(chain_note_verifier_format(&peter, out, 20), CHAIN_E_BUFFER);
    ck_assert_uint_eq(enoch.key_hash, 0xaf0cfe78u);
}
END_TEST

/* The key hash computed here from its definition, with nothing from chain/. */
START_TEST(key_hash_known_answer)
{
    uint8_t buf[64], h[32];
    size_t nl = strlen("PeterNeumann");
    uint32_t want;

    memcpy(buf, "PeterNeumann", nl);
    buf[nl] = '\n';
    buf[nl + 1] = 0x01;
    memcpy(buf + nl + 2, peter.pubkey, 32);
    crypto_hash_sha256(h, buf, nl + 2 + 32);
    want = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    ck_assert_uint_eq(want, 0xc74f20a3u);
    ck_assert_uint_eq(chain_note_key_hash("PeterNeumann", peter.pubkey), want);
}
END_TEST

/* TestNewVerifier: every proper substring and every single-byte increment is refused. */
START_TEST(go_verifier_manglings)
{
    char b[sizeof PETER_VKEY], sub[sizeof PETER_VKEY];
    size_t len = strlen(PETER_VKEY), i, j;
    struct chain_note_verifier v;

    memcpy(b, PETER_VKEY, sizeof b);
    for (i = 0; i <= len; i++) {
        for (j = i + 1; j <= len; j++) {
            if (i == 0 && j == len)
                continue;
            memcpy(sub, b + i, j - i);
            sub[j - i] = '\0';
            ck_assert_msg(chain_note_verifier_parse(sub, &v) == CHAIN_E_BAD_KEY, "%s", sub);
        }
    }
    for (i = 0; i < len; i++) {
        b[i]++;
        ck_assert_msg(chain_note_verifier_parse(b, &v) == CHAIN_E_BAD_KEY, "%s", b);
        b[i]--;
    }
    /* wrong key length and unknown algorithm, each with a matching key hash */
    ck_assert_int_eq(chain_note_verifier_parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsV"
                                               "kmqq/LDE4izWy10TWBADKEY==",
                                               &v),
                     CHAIN_E_BAD_KEY);
    ck_assert_int_eq(chain_note_verifier_parse(
                         "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v),
                     CHAIN_E_BAD_KEY);
    ck_assert_int_eq(chain_note_verifier_parse(NULL, &v), CHAIN_E_BAD_KEY);
}
END_TEST

START_TEST(go_signer_key_and_sign)
{
    struct chain_note_signer s;
    char out[CHAIN_NOTE_SKEY_MAX], *note = NULL;
    char b[sizeof PETER_SKEY];
    size_t len = strlen(PETER_SKEY), i;
    uint8_t pk[32];

    ck_assert_int_eq(chain_note_signer_parse(PETER_SKEY, &s), 0);
    ck_assert_str_eq(s.name, "PeterNeumann");
    ck_assert_uint_eq(s.key_hash, 0xc74f20a3u);
    crypto_sign_ed25519_sk_to_pk(pk, s.sk);
    ck_assert_mem_eq(pk, peter.pubkey, 32);
    ck_assert_int_eq(chain_note_signer_format(&s, out, sizeof out), 0);
    ck_assert_str_eq(out, PETER_SKEY);
    /* TestSign: Ed25519 is deterministic, so the note is byte-for-byte Go's */
    ck_assert_int_eq(chain_note_sign(TEXT, s.name, s.sk, &note), 0);
    ck_assert_str_eq(note, TEXT "\n" PETER_SIG);
    free(note);
    /* TestNewSigner: single-byte increments are refused */
    memcpy(b, PETER_SKEY, sizeof b);
    for (i = 0; i < len; i++) {
        struct chain_note_signer t;

        b[i]++;
        ck_assert_msg(chain_note_signer_parse(b, &t) == CHAIN_E_BAD_KEY, "%s", b);
        b[i]--;
    }
    ck_assert_int_eq(chain_note_signer_parse(PETER_SKEY + 1, &s), CHAIN_E_BAD_KEY);
    ck_assert_int_eq(chain_note_signer_parse(PETER_VKEY, &s), CHAIN_E_BAD_KEY);
    sodium_memzero(&s, sizeof s);
    sodium_memzero(out, sizeof out);
}
END_TEST

/* TestOpen */
START_TEST(go_open)
{
    struct chain_note_verifier both[2];
    struct chain_note_opened o;
    const char *note = TEXT "\n" PETER_SIG ENOCH_SIG;

    ck_assert_int_eq(open_s(note, &peter, 1, &o), 0);
    ck_assert_uint_eq(o.text_len, strlen(TEXT));
    ck_assert_ptr_eq(o.text, note);
    ck_assert_uint_eq(o.n_valid, 1);
    ck_assert_uint_eq(o.n_unknown, 1);
    ck_assert_uint_eq(o.known_mask, 1);

    both[0] = enoch;
    both[1] = peter;
    ck_assert_int_eq(open_s(note, both, 2, &o), 0);
    ck_assert_uint_eq(o.n_valid, 2);
    ck_assert_uint_eq(o.n_unknown, 0);
    ck_assert_uint_eq(o.known_mask, 3);

    ck_assert_int_eq(open_s(note, NULL, 0, &o), CHAIN_E_UNKNOWN_KEY);
    /* duplicated known keys are ambiguous */
    both[1] = enoch;
    ck_assert_int_eq(open_s(note, both, 2, &o), CHAIN_E_INVAL);
}
END_TEST

static char *repeat_note(const char *line, int times)
{
    size_t t = strlen(TEXT), l = strlen(line);
    char *s = malloc(t + 1 + l * (size_t)times + 1), *p = s;
    int i;

    memcpy(p, TEXT "\n", t + 1);
    p += t + 1;
    for (i = 0; i < times; i++, p += l)
        memcpy(p, line, l);
    *p = '\0';
    return s;
}

START_TEST(go_open_limits_and_bad_sigs)
{
    struct chain_note_opened o;
    char *n100 = repeat_note(PETER_SIG, 100), *n101 = repeat_note(PETER_SIG, 101);
    char bad[512];

    ck_assert_int_eq(open_s(n100, &peter, 1, &o), 0);
    ck_assert_int_eq(open_s(n101, &peter, 1, &o), CHAIN_E_BAD_NOTE);
    ck_assert_int_eq(open_s(n101, NULL, 0, &o), CHAIN_E_BAD_NOTE);
    free(n100);
    free(n101);

    /* peterSig[:60] + "ABCD" + peterSig[60:]: a known key's signature that fails */
    snprintf(bad, sizeof bad, "%s\n%.60s%s%s", TEXT, PETER_SIG, "ABCD", PETER_SIG + 60);
    ck_assert_int_eq(open_s(bad, &peter, 1, &o), CHAIN_E_BAD_SIG);
    /* ... but the same line is ignored when the key is unknown */
    snprintf(bad, sizeof bad, "%s\n%s%.60s%s%s", TEXT, PETER_SIG, ENOCH_SIG, "ABCD",
             ENOCH_SIG + 60);
    ck_assert_int_eq(open_s(bad, &peter, 1, &o), 0);
    ck_assert_uint_eq(o.n_unknown, 1);
}
END_TEST

START_TEST(go_malformed_notes)
{
    char peter_short[sizeof PETER_SIG];
    const char *bad[8];
    char buf[8][512];
    struct chain_note_opened o;
    size_t i;

    memcpy(peter_short, PETER_SIG, sizeof PETER_SIG);
    peter_short[strlen(peter_short) - 1] = '\0';
    bad[0] = TEXT;
    bad[1] = TEXT "\n";
    snprintf(buf[2], sizeof buf[2], "%s\n%s", TEXT, peter_short);
    bad[2] = buf[2];
    bad[3] = "\x01" TEXT "\n" PETER_SIG;
    bad[4] = "\xff" TEXT "\n" PETER_SIG;
    bad[5] = TEXT "\n\xe2\x80\x94 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1F"
                  "FYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";
    bad[6] = TEXT "\n" PETER_SIG "Unexpected line.\n";
    bad[7] = TEXT "\n" PETER_SIG "\n";
    for (i = 0; i < 8; i++)
        ck_assert_msg(open_s(bad[i], &peter, 1, &o) == CHAIN_E_BAD_NOTE, "case %zu", i);
}
END_TEST

START_TEST(more_malformed_notes)
{
    static const char *const bad[] = {
        "",
        "\n",
        "\n\n",
        TEXT "\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
             "qdngotpRZb6KE6RyyBwJnAM=\n",
        TEXT "\n\xe2\x80\x94PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC"
             "2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        TEXT "\n\xe2\x80\x94 Peter+Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1F"
             "FYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        TEXT "\n\xe2\x80\x94 PeterNeumann \n",
        TEXT "\n\xe2\x80\x94 PeterNeumann AAAA\n", /* < 5 bytes */
        TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1F"
             "FYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n", /* no padding */
        TEXT "\n\xe2\x80\x94  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
             "KvqfqdngotpRZb6KE6RyyBwJnAM=\n", /* empty name */
        "tab\there\n\n" PETER_SIG,
        "cr\r\n\n" PETER_SIG,
        "trailing blank\n\n" PETER_SIG "\n",
        "\xed\xa0\x80\n\n" PETER_SIG, /* surrogate */
        TEXT "\n" PETER_SIG "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pA"
             "cElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM= \n", /* trailing sp */
    };
    struct chain_note_opened o;
    size_t i;
    char *huge;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(open_s(bad[i], &peter, 1, &o) == CHAIN_E_BAD_NOTE, "case %zu", i);
    /* over 1 MiB */
    huge = malloc(CHAIN_NOTE_MAX_BYTES + 200);
    memset(huge, 'a', CHAIN_NOTE_MAX_BYTES);
    huge[CHAIN_NOTE_MAX_BYTES - 1] = '\n';
    strcpy(huge + CHAIN_NOTE_MAX_BYTES, "\n" PETER_SIG);
    ck_assert_int_eq(open_s(huge, &peter, 1, &o), CHAIN_E_BAD_NOTE);
    free(huge);
}
END_TEST

START_TEST(sign_open_round_trip_and_cosign)
{
    uint8_t pk1[32], sk1[64], pk2[32], sk2[64], pk3[32], sk3[64];
    struct chain_note_verifier known[3];
    struct chain_note_opened o;
    char *n1 = NULL, *n2 = NULL, *n3 = NULL, *n4 = NULL;
    const char *text = "lianxin.test/chain-1\n5\nAAAA\n\nblank lines inside are fine\n";

    crypto_sign_keypair(pk1, sk1);
    crypto_sign_keypair(pk2, sk2);
    crypto_sign_keypair(pk3, sk3);
    ck_assert_int_eq(chain_note_verifier_from_pk("lianxin.test/node-1", pk1, &known[0]), 0);
    ck_assert_int_eq(chain_note_verifier_from_pk("lianxin.test/node-2", pk2, &known[1]), 0);
    ck_assert_int_eq(chain_note_verifier_from_pk("lianxin.test/node-3", pk3, &known[2]), 0);

    ck_assert_int_eq(chain_note_sign(text, "lianxin.test/node-1", sk1, &n1), 0);
    ck_assert_int_eq(chain_note_open(n1, strlen(n1), known, 3, &o), 0);
    ck_assert_uint_eq(o.text_len, strlen(text));
    ck_assert_mem_eq(o.text, text, o.text_len);
    ck_assert_uint_eq(o.known_mask, 1);

    /* a cosignature is appended and both are reported */
    ck_assert_int_eq(chain_note_add_signature(n1, strlen(n1), "lianxin.test/node-2", sk2, &n2), 0);
    ck_assert_int_eq(chain_note_open(n2, strlen(n2), known, 3, &o), 0);
    ck_assert_uint_eq(o.n_valid, 2);
    ck_assert_uint_eq(o.known_mask, 3);
    ck_assert_uint_eq(strncmp(n2, n1, strlen(n1)), 0);

    /* signing again with the same key replaces its line instead of adding one */
    ck_assert_int_eq(chain_note_add_signature(n2, strlen(n2), "lianxin.test/node-1", sk1, &n3), 0);
    ck_assert_uint_eq(strlen(n3), strlen(n2));
    ck_assert_int_eq(chain_note_open(n3, strlen(n3), known, 3, &o), 0);
    ck_assert_uint_eq(o.known_mask, 3);

    /* a signature by a key nobody configured is ignored */
    ck_assert_int_eq(chain_note_add_signature(n3, strlen(n3), "stranger", sk3, &n4), 0);
    ck_assert_int_eq(chain_note_open(n4, strlen(n4), known, 2, &o), 0);
    ck_assert_uint_eq(o.n_valid, 2);
    ck_assert_uint_eq(o.n_unknown, 1);
    /* a known name with another key hash is an unknown key too */
    ck_assert_int_eq(chain_note_verifier_from_pk("lianxin.test/node-1", pk3, &known[2]), 0);
    ck_assert_int_eq(chain_note_open(n1, strlen(n1), &known[2], 1, &o), CHAIN_E_UNKNOWN_KEY);

    free(n1);
    free(n2);
    free(n3);
    free(n4);
    sodium_memzero(sk1, sizeof sk1);
    sodium_memzero(sk2, sizeof sk2);
    sodium_memzero(sk3, sizeof sk3);
}
END_TEST

START_TEST(tampering_rejected)
{
    uint8_t pk[32], sk[64];
    struct chain_note_verifier v;
    struct chain_note_opened o;
    char *n = NULL, *pos;

    crypto_sign_keypair(pk, sk);
    ck_assert_int_eq(chain_note_verifier_from_pk("k", pk, &v), 0);
    ck_assert_int_eq(chain_note_sign("size 10\n", "k", sk, &n), 0);
    n[5] = '9'; /* the text */
    ck_assert_int_eq(chain_note_open(n, strlen(n), &v, 1, &o), CHAIN_E_BAD_SIG);
    n[5] = '1';
    pos = strrchr(n, ' ') + 20; /* inside the signature's base64 */
    *pos = *pos == 'A' ? 'B' : 'A';
    ck_assert_int_eq(chain_note_open(n, strlen(n), &v, 1, &o), CHAIN_E_BAD_SIG);
    free(n);
}
END_TEST

START_TEST(sign_contract)
{
    uint8_t pk[32], sk[64];
    char *n = NULL;
    char long_name[300];

    crypto_sign_keypair(pk, sk);
    ck_assert_int_eq(chain_note_sign("no newline", "k", sk, &n), CHAIN_E_BAD_NOTE);
    ck_assert_int_eq(chain_note_sign("", "k", sk, &n), CHAIN_E_BAD_NOTE);
    ck_assert_int_eq(chain_note_sign("tab\t\n", "k", sk, &n), CHAIN_E_BAD_NOTE);
    ck_assert_int_eq(chain_note_sign("ok\n", "a+b", sk, &n), CHAIN_E_BAD_KEY);
    ck_assert_int_eq(chain_note_sign("ok\n", "a b", sk, &n), CHAIN_E_BAD_KEY);
    ck_assert_int_eq(chain_note_sign("ok\n", "", sk, &n), CHAIN_E_BAD_KEY);
    ck_assert_ptr_null(n);
    ck_assert(chain_note_name_valid("example.com/log"));
    ck_assert(!chain_note_name_valid("nb\xc2\xa0sp"));
    ck_assert(!chain_note_name_valid("ideographic\xe3\x80\x80space"));
    ck_assert(!chain_note_name_valid("line\xe2\x80\xa8sep"));
    ck_assert(!chain_note_name_valid("bad\xff"));
    memset(long_name, 'n', sizeof long_name);
    long_name[CHAIN_NOTE_NAME_MAX] = '\0';
    ck_assert(chain_note_name_valid(long_name));
    long_name[CHAIN_NOTE_NAME_MAX] = 'n';
    long_name[CHAIN_NOTE_NAME_MAX + 1] = '\0';
    ck_assert(!chain_note_name_valid(long_name));
}
END_TEST

START_TEST(verifier_round_trip)
{
    uint8_t pk[32], sk[64];
    struct chain_note_verifier v, w;
    struct chain_note_signer s, t;
    char vk[CHAIN_NOTE_VKEY_MAX], skey[CHAIN_NOTE_SKEY_MAX];

    crypto_sign_keypair(pk, sk);
    ck_assert_int_eq(chain_note_verifier_from_pk("lianxin.test/chain-1", pk, &v), 0);
    ck_assert_int_eq(chain_note_verifier_format(&v, vk, sizeof vk), 0);
    ck_assert_int_eq(chain_note_verifier_parse(vk, &w), 0);
    ck_assert_mem_eq(&v, &w, sizeof v);
    ck_assert_int_eq(chain_note_signer_from_sk("lianxin.test/chain-1", sk, &s), 0);
    ck_assert_uint_eq(s.key_hash, v.key_hash);
    ck_assert_int_eq(chain_note_signer_format(&s, skey, sizeof skey), 0);
    ck_assert_int_eq(strncmp(skey, "PRIVATE+KEY+lianxin.test/chain-1+", 33), 0);
    ck_assert_int_eq(chain_note_signer_parse(skey, &t), 0);
    ck_assert_mem_eq(&s, &t, sizeof s);
    ck_assert_int_eq(chain_note_verifier_from_pk("bad name", pk, &v), CHAIN_E_BAD_KEY);
    sodium_memzero(&s, sizeof s);
    sodium_memzero(&t, sizeof t);
    sodium_memzero(skey, sizeof skey);
    sodium_memzero(sk, sizeof sk);
}
END_TEST

/* ---- checkpoints ---- */

static struct chain_checkpoint sample_cp(void)
{
    struct chain_checkpoint c;
    int i;

    memset(&c, 0, sizeof c);
    strcpy(c.origin, "lianxin.test/chain-1");
    c.size = 1234;
    for (i = 0; i < 32; i++)
        c.root[i] = (uint8_t)i;
    c.height = 17;
    memset(c.prev, 0xff, 32);
    c.time_ms = 1795000000123LL;
    return c;
}

START_TEST(checkpoint_format_exact)
{
    struct chain_checkpoint c = sample_cp(), back;
    char *body = NULL;

    ck_assert_int_eq(chain_checkpoint_format(&c, &body), 0);
    ck_assert_str_eq(body,
                     "lianxin.test/chain-1\n1234\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
                     "height 17\nprev //////////////////////////////////////////8=\n"
                     "time 1795000000123\n");
    ck_assert_int_eq(chain_checkpoint_parse(body, strlen(body), &back), 0);
    ck_assert_mem_eq(&back, &c, sizeof c);
    free(body);
}
END_TEST

START_TEST(checkpoint_genesis_and_extremes)
{
    struct chain_checkpoint c = sample_cp(), back;
    char *body = NULL;

    memset(c.prev, 0, 32);
    c.size = 0;
    c.height = 0;
    c.time_ms = 0;
    ck_assert_int_eq(chain_checkpoint_format(&c, &body), 0);
    ck_assert_ptr_nonnull(strstr(body, "\n0\n"));
    ck_assert_ptr_nonnull(strstr(body, "prev AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"));
    ck_assert_int_eq(chain_checkpoint_parse(body, strlen(body), &back), 0);
    ck_assert_mem_eq(&back, &c, sizeof c);
    free(body);
    c.size = UINT64_MAX;
    c.height = UINT64_MAX;
    c.time_ms = INT64_MAX;
    ck_assert_int_eq(chain_checkpoint_format(&c, &body), 0);
    ck_assert_int_eq(chain_checkpoint_parse(body, strlen(body), &back), 0);
    ck_assert_mem_eq(&back, &c, sizeof c);
    free(body);
    c.time_ms = -1;
    ck_assert_int_eq(chain_checkpoint_format(&c, &body), CHAIN_E_BAD_CHECKPOINT);
    c = sample_cp();
    c.origin[0] = '\0';
    ck_assert_int_eq(chain_checkpoint_format(&c, &body), CHAIN_E_BAD_CHECKPOINT);
    strcpy(c.origin, "two\nlines");
    ck_assert_int_eq(chain_checkpoint_format(&c, &body), CHAIN_E_BAD_CHECKPOINT);
}
END_TEST

#define GOOD_ROOT "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define GOOD_PREV "//////////////////////////////////////////8="

START_TEST(checkpoint_parse_rejects)
{
    static const char *const bad[] = {
        /* origin */
        "\n1234\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
        "o\x01\n1234\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
        "o\xff\n1234\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
        /* size */
        "o\n01234\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
        "o\n-1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
        "o\n+1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
        "o\n1 \n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
        "o\n\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
        "o\n18446744073709551616\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
        "o\n0x10\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
        /* root */
        "o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\nheight 17\nprev " GOOD_PREV
        "\ntime 1\n",
        "o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\nheight 17\nprev " GOOD_PREV
        "\ntime 1\n",
        "o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\nheight 17\nprev " GOOD_PREV
        "\ntime 1\n",
        /* height */
        "o\n1\n" GOOD_ROOT "\nprev " GOOD_PREV "\nheight 17\ntime 1\n",
        "o\n1\n" GOOD_ROOT "\nHeight 17\nprev " GOOD_PREV "\ntime 1\n",
        "o\n1\n" GOOD_ROOT "\nheight  17\nprev " GOOD_PREV "\ntime 1\n",
        "o\n1\n" GOOD_ROOT "\nheight 017\nprev " GOOD_PREV "\ntime 1\n",
        "o\n1\n" GOOD_ROOT "\nheight\nprev " GOOD_PREV "\ntime 1\n",
        /* prev */
        "o\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_ROOT "AAAA\ntime 1\n",
        "o\n1\n" GOOD_ROOT "\nheight 17\nprev\ntime 1\n",
        "o\n1\n" GOOD_ROOT "\nheight 17\nprev: " GOOD_PREV "\ntime 1\n",
        /* time */
        "o\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime -5\n",
        "o\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 9223372036854775808\n",
        "o\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1",
        "o\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\r\n",
        /* shape */
        "o\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\nextra 1\n",
        "o\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n\n",
        "o\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\n",
        "o\n1\n" GOOD_ROOT "\n",
        "",
    };
    struct chain_checkpoint c;
    size_t i;

    ck_assert_int_eq(chain_checkpoint_parse(
                         "o\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
                         strlen("o\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n"),
                         &c),
                     0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(chain_checkpoint_parse(bad[i], strlen(bad[i]), &c) == CHAIN_E_BAD_CHECKPOINT,
                      "case %zu", i);
    /* an embedded NUL in the origin */
    ck_assert_int_eq(chain_checkpoint_parse(
                         "o\0x\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n",
                         strlen("o\n1\n" GOOD_ROOT "\nheight 17\nprev " GOOD_PREV "\ntime 1\n") + 2,
                         &c),
                     CHAIN_E_BAD_CHECKPOINT);
}
END_TEST

/* Two blocks, signed and chained the way the sequencer does it. */
START_TEST(checkpoint_chain_signed)
{
    uint8_t pk[32], sk[64], h[32];
    struct chain_checkpoint c1 = sample_cp(), c2, got;
    struct chain_note_verifier v;
    struct chain_note_opened o;
    char *b1 = NULL, *b2 = NULL, *note = NULL;

    crypto_sign_keypair(pk, sk);
    ck_assert_int_eq(chain_note_verifier_from_pk(c1.origin, pk, &v), 0);
    memset(c1.prev, 0, 32);
    ck_assert_int_eq(chain_checkpoint_format(&c1, &b1), 0);
    c2 = c1;
    c2.height++;
    c2.size += 10;
    chain_checkpoint_body_hash(b1, strlen(b1), c2.prev);
    crypto_hash_sha256(h, (const uint8_t *)b1, strlen(b1));
    ck_assert_mem_eq(c2.prev, h, 32);
    ck_assert_int_eq(chain_checkpoint_format(&c2, &b2), 0);
    ck_assert_int_eq(chain_note_sign(b2, c2.origin, sk, &note), 0);
    ck_assert_int_eq(chain_note_open(note, strlen(note), &v, 1, &o), 0);
    ck_assert_int_eq(chain_checkpoint_parse(o.text, o.text_len, &got), 0);
    ck_assert_mem_eq(&got, &c2, sizeof got);
    ck_assert_mem_eq(got.prev, h, 32);
    free(b1);
    free(b2);
    free(note);
}
END_TEST

static Suite *note_suite(void)
{
    Suite *s = suite_create("chain_note");
    TCase *tc = tcase_create("note");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, go_verifier_key);
    tcase_add_test(tc, key_hash_known_answer);
    tcase_add_test(tc, go_verifier_manglings);
    tcase_add_test(tc, go_signer_key_and_sign);
    tcase_add_test(tc, go_open);
    tcase_add_test(tc, go_open_limits_and_bad_sigs);
    tcase_add_test(tc, go_malformed_notes);
    tcase_add_test(tc, more_malformed_notes);
    tcase_add_test(tc, sign_open_round_trip_and_cosign);
    tcase_add_test(tc, tampering_rejected);
    tcase_add_test(tc, sign_contract);
    tcase_add_test(tc, verifier_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("checkpoint");
    tcase_add_test(tc, checkpoint_format_exact);
    tcase_add_test(tc, checkpoint_genesis_and_extremes);
    tcase_add_test(tc, checkpoint_parse_rejects);
    tcase_add_test(tc, checkpoint_chain_signed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    sr = srunner_create(note_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
