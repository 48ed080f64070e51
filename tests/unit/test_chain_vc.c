/* test_chain_vc.c — eddsa-jcs-2022, did:key and base58btc. Every expected value of the first
 * test case is copied from the worked example of the specification, "Data Integrity EdDSA
 * Cryptosuites v1.0", W3C Recommendation 15 May 2025, Appendix B.3 "Representation:
 * eddsa-jcs-2022" (Examples 29–39; the same files are w3c/vc-di-eddsa TestVectors/keyPair.json
 * and TestVectors/eddsa-jcs-2022/): the key pair, the credential, the proof options, both
 * canonical forms, both hashes, the signature and the proofValue. Nothing there is computed by
 * this code first. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../chain/jcs.h"
#include "../../chain/vc.h"

/* Example 29 */
#define SPEC_PUBLIC "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
#define SPEC_SECRET "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
#define SPEC_VM     "did:key:" SPEC_PUBLIC "#" SPEC_PUBLIC

/* Example 30: the credential without proof */
static const char spec_credential[] =
    "{\n"
    "    \"@context\": [\n"
    "        \"https://www.w3.org/ns/credentials/v2\",\n"
    "        \"https://www.w3.org/ns/credentials/examples/v2\"\n"
    "    ],\n"
    "    \"id\": \"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33\",\n"
    "    \"type\": [\"VerifiableCredential\", \"AlumniCredential\"],\n"
    "    \"name\": \"Alumni Credential\",\n"
    "    \"description\": \"A minimum viable example of an Alumni Credential.\",\n"
    "    \"issuer\": \"https://vc.example/issuers/5678\",\n"
    "    \"validFrom\": \"2023-01-01T00:00:00Z\",\n"
    "    \"credentialSubject\": {\n"
    "        \"id\": \"did:example:abcdefgh\",\n"
    "        \"alumniOf\": \"The School of Examples\"\n"
    "    }\n"
    "}";

/* Example 31 */
static const char spec_canonical_credential[] =
    "{\"@context\":[\"https://www.w3.org/ns/credentials/v2\",\"https://www.w3.org/ns/credentials/"
    "examples/v2\"],\"credentialSubject\":{\"alumniOf\":\"The School of "
    "Examples\",\"id\":\"did:example:abcdefgh\"},\"description\":\"A minimum viable example of an "
    "Alumni "
    "Credential.\",\"id\":\"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33\",\"issuer\":\"https://"
    "vc.example/issuers/5678\",\"name\":\"Alumni "
    "Credential\",\"type\":[\"VerifiableCredential\",\"AlumniCredential\"],\"validFrom\":\"2023-"
    "01-01T00:00:00Z\"}";

/* Example 32 */
#define SPEC_DOC_HASH "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"

/* Example 33: the proof options document */
static const char spec_proof_options[] =
    "{\n"
    "  \"type\": \"DataIntegrityProof\",\n"
    "  \"cryptosuite\": \"eddsa-jcs-2022\",\n"
    "  \"created\": \"2023-02-24T23:36:38Z\",\n"
    "  \"verificationMethod\": "
    "\"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#"
    "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2\",\n"
    "  \"proofPurpose\": \"assertionMethod\",\n"
    "  \"@context\": [\n"
    "    \"https://www.w3.org/ns/credentials/v2\",\n"
    "    \"https://www.w3.org/ns/credentials/examples/v2\"\n"
    "  ]\n"
    "}";

/* Example 34 */
static const char spec_canonical_options[] =
    "{\"@context\":[\"https://www.w3.org/ns/credentials/v2\",\"https://www.w3.org/ns/credentials/"
    "examples/v2\"],\"created\":\"2023-02-24T23:36:38Z\",\"cryptosuite\":\"eddsa-jcs-2022\","
    "\"proofPurpose\":\"assertionMethod\",\"type\":\"DataIntegrityProof\",\"verificationMethod\":"
    "\"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#"
    "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2\"}";

/* Examples 35, 36, 37, 38 */
#define SPEC_PROOF_HASH "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"
#define SPEC_SIG_HEX                                                                               \
    "407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b80351da3f253d725c6f00b07c9e54"   \
    "48d50b3ef78012b9ab54255116d069c6dd2808"
#define SPEC_PROOF_VALUE                                                                           \
    "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"

/* Example 39: the signed credential */
static const char spec_signed[] =
    "{\n"
    "  \"@context\": [\n"
    "    \"https://www.w3.org/ns/credentials/v2\",\n"
    "    \"https://www.w3.org/ns/credentials/examples/v2\"\n"
    "  ],\n"
    "  \"id\": \"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33\",\n"
    "  \"type\": [\n"
    "    \"VerifiableCredential\",\n"
    "    \"AlumniCredential\"\n"
    "  ],\n"
    "  \"name\": \"Alumni Credential\",\n"
    "  \"description\": \"A minimum viable example of an Alumni Credential.\",\n"
    "  \"issuer\": \"https://vc.example/issuers/5678\",\n"
    "  \"validFrom\": \"2023-01-01T00:00:00Z\",\n"
    "  \"credentialSubject\": {\n"
    "    \"id\": \"did:example:abcdefgh\",\n"
    "    \"alumniOf\": \"The School of Examples\"\n"
    "  },\n"
    "  \"proof\": {\n"
    "    \"type\": \"DataIntegrityProof\",\n"
    "    \"cryptosuite\": \"eddsa-jcs-2022\",\n"
    "    \"created\": \"2023-02-24T23:36:38Z\",\n"
    "    \"verificationMethod\": "
    "\"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#"
    "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2\",\n"
    "    \"proofPurpose\": \"assertionMethod\",\n"
    "    \"@context\": [\n"
    "      \"https://www.w3.org/ns/credentials/v2\",\n"
    "      \"https://www.w3.org/ns/credentials/examples/v2\"\n"
    "    ],\n"
    "    \"proofValue\": "
    "\"z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX\""
    "\n"
    "  }\n"
    "}";

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &e);

    ck_assert_msg(v != NULL, "%s", e.text);
    return v;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* The spec's secret key: Multikey "z" + base58btc(0x80 0x26 || 32-byte seed) (multicodec
 * ed25519-priv 0x1300 as a varint); expanded to a libsodium secret key. */
static void spec_secret(uint8_t sk[crypto_sign_SECRETKEYBYTES], uint8_t pk[32])
{
    uint8_t raw[40];
    size_t n = 0;

    ck_assert_int_eq(
        chain_b58_decode(SPEC_SECRET + 1, strlen(SPEC_SECRET) - 1, raw, sizeof raw, &n), 0);
    ck_assert_uint_eq(n, 34);
    ck_assert_uint_eq(raw[0], 0x80);
    ck_assert_uint_eq(raw[1], 0x26);
    ck_assert_int_eq(crypto_sign_seed_keypair(pk, sk, raw + 2), 0);
}

START_TEST(spec_keys)
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES], pk[32], pk2[32];
    char mk[CHAIN_MULTIKEY_MAX], did[CHAIN_DIDKEY_MAX], vm[CHAIN_VC_VM_MAX];

    spec_secret(sk, pk);
    /* the public key derived from the secret one is the spec's public Multikey */
    ck_assert_int_eq(chain_multikey_encode(pk, mk, sizeof mk), 0);
    ck_assert_str_eq(mk, SPEC_PUBLIC);
    ck_assert_int_eq(chain_multikey_decode(SPEC_PUBLIC, pk2), 0);
    ck_assert_mem_eq(pk, pk2, 32);
    ck_assert_int_eq(chain_didkey_encode(pk, did, sizeof did), 0);
    ck_assert_str_eq(did, "did:key:" SPEC_PUBLIC);
    ck_assert_int_eq(chain_didkey_vm(pk, vm, sizeof vm), 0);
    ck_assert_str_eq(vm, SPEC_VM);
    memset(pk2, 0, sizeof pk2);
    ck_assert_int_eq(chain_didkey_decode(SPEC_VM, pk2), 0);
    ck_assert_mem_eq(pk, pk2, 32);
    ck_assert_int_eq(chain_didkey_decode("did:key:" SPEC_PUBLIC, pk2), 0);
    ck_assert_mem_eq(pk, pk2, 32);
    sodium_memzero(sk, sizeof sk);
}
END_TEST

/* Examples 30–38 step by step: canonical forms, hashes, signature, proofValue. */
START_TEST(spec_example_steps)
{
    json_t *cred = load(spec_credential), *opts = load(spec_proof_options);
    uint8_t sk[crypto_sign_SECRETKEYBYTES], pk[32], hd[CHAIN_VC_HASH_DATA], sig[64];
    char *canon = NULL, hx[2 * CHAIN_VC_HASH_DATA + 1], b58[CHAIN_VC_PROOF_VALUE];
    size_t len = 0;

    ck_assert_int_eq(chain_jcs_dump(cred, &canon, &len), 0);
    ck_assert_str_eq(canon, spec_canonical_credential);
    free(canon);
    ck_assert_int_eq(chain_jcs_dump(opts, &canon, &len), 0);
    ck_assert_str_eq(canon, spec_canonical_options);
    free(canon);

    ck_assert_int_eq(chain_vc_hash_data(cred, opts, hd), 0);
    hex(hd, 32, hx);
    ck_assert_str_eq(hx, SPEC_PROOF_HASH);
    hex(hd + 32, 32, hx);
    ck_assert_str_eq(hx, SPEC_DOC_HASH);
    hex(hd, 64, hx);
    ck_assert_str_eq(hx, SPEC_PROOF_HASH SPEC_DOC_HASH);

    spec_secret(sk, pk);
    crypto_sign_detached(sig, NULL, hd, sizeof hd, sk);
    hex(sig, 64, hx);
    ck_assert_str_eq(hx, SPEC_SIG_HEX);
    b58[0] = 'z';
    ck_assert_int_eq(chain_b58_encode(sig, 64, b58 + 1, sizeof b58 - 1), 0);
    ck_assert_str_eq(b58, SPEC_PROOF_VALUE);

    sodium_memzero(sk, sizeof sk);
    json_decref(cred);
    json_decref(opts);
}
END_TEST

/* chain_vc_sign on Example 30 with the spec's created gives Example 39 exactly. */
START_TEST(spec_sign_gives_signed_credential)
{
    json_t *cred = load(spec_credential), *want = load(spec_signed);
    uint8_t sk[crypto_sign_SECRETKEYBYTES], pk[32], got_pk[32];
    char *a = NULL, *b = NULL;

    spec_secret(sk, pk);
    ck_assert_int_eq(chain_vc_sign(cred, sk, "2023-02-24T23:36:38Z"), 0);
    ck_assert_int_eq(chain_jcs_dump(cred, &a, NULL), 0);
    ck_assert_int_eq(chain_jcs_dump(want, &b, NULL), 0);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(cred, "proof"), "proofValue")),
        SPEC_PROOF_VALUE);
    /* a second proof is refused */
    ck_assert_int_eq(chain_vc_sign(cred, sk, "2023-02-24T23:36:38Z"), CHAIN_E_INVAL);
    ck_assert_int_eq(chain_vc_verify(want, got_pk, NULL, 0), 0);
    ck_assert_mem_eq(got_pk, pk, 32);
    free(a);
    free(b);
    sodium_memzero(sk, sizeof sk);
    json_decref(cred);
    json_decref(want);
}
END_TEST

/* Example 39 verifies; every kind of change makes it fail with the right error. */
START_TEST(spec_verify_and_tamper)
{
    json_t *v = load(spec_signed), *t;
    uint8_t pk[32];
    char why[160];

    ck_assert_int_eq(chain_vc_verify(v, pk, why, sizeof why), 0);

    t = json_deep_copy(v); /* one character of the subject */
    json_object_set_new(json_object_get(t, "credentialSubject"), "alumniOf",
                        json_string("The School of Examplez"));
    ck_assert_int_eq(chain_vc_verify(t, pk, why, sizeof why), CHAIN_E_BAD_SIG);
    json_decref(t);

    t = json_deep_copy(v); /* the proof's created */
    json_object_set_new(json_object_get(t, "proof"), "created",
                        json_string("2023-02-24T23:36:39Z"));
    ck_assert_int_eq(chain_vc_verify(t, pk, why, sizeof why), CHAIN_E_BAD_SIG);
    json_decref(t);

    t = json_deep_copy(v); /* another suite */
    json_object_set_new(json_object_get(t, "proof"), "cryptosuite", json_string("eddsa-rdfc-2022"));
    ck_assert_int_eq(chain_vc_verify(t, pk, why, sizeof why), CHAIN_E_MALFORMED);
    json_decref(t);

    t = json_deep_copy(v); /* @context of the document no longer starts with the proof's */
    json_array_remove(json_object_get(t, "@context"), 1);
    ck_assert_int_eq(chain_vc_verify(t, pk, why, sizeof why), CHAIN_E_MALFORMED);
    json_decref(t);

    t = json_deep_copy(v); /* truncated proofValue */
    json_object_set_new(json_object_get(t, "proof"), "proofValue", json_string("z2HnFSSPPBzR3"));
    ck_assert_int_eq(chain_vc_verify(t, pk, why, sizeof why), CHAIN_E_BAD_LENGTH);
    json_decref(t);

    t = json_deep_copy(v); /* a key that is not did:key */
    json_object_set_new(json_object_get(t, "proof"), "verificationMethod",
                        json_string("https://vc.example/issuers/5678#key-1"));
    ck_assert_int_eq(chain_vc_verify(t, pk, why, sizeof why), CHAIN_E_BAD_KEY);
    json_decref(t);

    t = json_deep_copy(v); /* no proof */
    json_object_del(t, "proof");
    ck_assert_int_eq(chain_vc_verify(t, pk, why, sizeof why), CHAIN_E_MALFORMED);
    json_decref(t);
    json_decref(v);
}
END_TEST

/* base58btc: the encode/decode vectors of Bitcoin Core (src/test/data/base58_encode_decode.json).
 */
START_TEST(base58_known)
{
    static const struct {
        const char *hex, *b58;
    } v[] = {
        {"", ""},
        {"00eb15231dfceb60925886b67d065299925915aeb172c06647",
         "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
        {"61", "2g"},
        {"626262", "a3gV"},
        {"636363", "aPEr"},
        {"00000000000000000000", "1111111111"},
        {"516b6fcd0f", "ABnLTmg"},
        {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
        {"572e4794", "3EFU7m"},
        {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
        {"10c8511e", "Rt5zm"},
        {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
    };
    char out[128];
    uint8_t bin[64], back[64];
    size_t n, m;

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        n = strlen(v[i].hex) / 2;
        for (size_t j = 0; j < n; j++)
            sscanf(v[i].hex + 2 * j, "%2hhx", &bin[j]);
        ck_assert_int_eq(chain_b58_encode(bin, n, out, sizeof out), 0);
        ck_assert_str_eq(out, v[i].b58);
        if (n == 0)
            continue;
        ck_assert_int_eq(chain_b58_decode(out, strlen(out), back, sizeof back, &m), 0);
        ck_assert_uint_eq(m, n);
        ck_assert_mem_eq(back, bin, n);
    }
    ck_assert_int_eq(chain_b58_decode("0OIl", 4, back, sizeof back, &m), CHAIN_E_MALFORMED);
    ck_assert_int_eq(chain_b58_decode("", 0, back, sizeof back, &m), CHAIN_E_MALFORMED);
    ck_assert_int_eq(chain_b58_decode("zzzzzzzz", 8, back, 2, &m), CHAIN_E_BUFFER);
    ck_assert_int_eq(chain_b58_encode(bin, 8, out, 3), CHAIN_E_BUFFER);
}
END_TEST

START_TEST(didkey_rejects)
{
    uint8_t pk[32];

    ck_assert_int_eq(chain_didkey_decode(NULL, pk), CHAIN_E_BAD_KEY);
    ck_assert_int_eq(chain_didkey_decode("did:web:example.org", pk), CHAIN_E_BAD_KEY);
    ck_assert_int_eq(chain_didkey_decode("did:key:" SPEC_PUBLIC "#other", pk), CHAIN_E_BAD_KEY);
    /* P-256 key (multicodec 0x1200), as in the spec's ECDSA examples */
    ck_assert_int_eq(
        chain_didkey_decode("did:key:zDnaegE6RR3atJtHKwTRTWHsJ3kNHqFwv7n9YjTgmU7TyfU76", pk),
        CHAIN_E_BAD_KEY);
    ck_assert_int_eq(chain_multikey_decode("6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", pk),
                     CHAIN_E_BAD_KEY);
}
END_TEST

START_TEST(datetime)
{
    ck_assert(chain_vc_datetime_valid("2023-02-24T23:36:38Z"));
    ck_assert(chain_vc_datetime_valid("2024-02-29T00:00:00.123Z"));
    ck_assert(chain_vc_datetime_valid("2023-02-24T23:36:38+08:00"));
    ck_assert(!chain_vc_datetime_valid("2023-02-29T00:00:00Z"));
    ck_assert(!chain_vc_datetime_valid("2023-02-24 23:36:38Z"));
    ck_assert(!chain_vc_datetime_valid("2023-02-24T23:36:38"));
    ck_assert(!chain_vc_datetime_valid("2023-13-01T00:00:00Z"));
    ck_assert(!chain_vc_datetime_valid("2023-02-24T24:00:00Z"));
    ck_assert(!chain_vc_datetime_valid("2023-02-24T23:36:38.Z"));
    ck_assert(!chain_vc_datetime_valid(NULL));
}
END_TEST

/* The Unix epoch by definition; 2000-01-01 is 10957 days after it (30 years, 7 leap days). */
START_TEST(datetime_ms)
{
    int64_t ms = -1;

    ck_assert_int_eq(chain_vc_datetime_ms("1970-01-01T00:00:00Z", &ms), 0);
    ck_assert_int_eq(ms, 0);
    ck_assert_int_eq(chain_vc_datetime_ms("2000-01-01T00:00:00Z", &ms), 0);
    ck_assert_int_eq(ms, 10957LL * 86400000LL);
    ck_assert_int_eq(chain_vc_datetime_ms("2000-01-01T08:00:00.999+08:00", &ms), 0);
    ck_assert_int_eq(ms, 10957LL * 86400000LL);
    ck_assert_int_eq(chain_vc_datetime_ms("1999-12-31T19:00:01-05:00", &ms), 0);
    ck_assert_int_eq(ms, 10957LL * 86400000LL + 1000);
    ck_assert_int_eq(chain_vc_datetime_ms("2000-02-30T00:00:00Z", &ms), CHAIN_E_MALFORMED);
}
END_TEST

/* A fresh key: sign then verify; the anchor hash is SHA-256 of the JCS of the signed document. */
START_TEST(round_trip_and_anchor_hash)
{
    json_t *doc = json_pack("{s:[s], s:s, s:[s,s], s:{s:s, s:s}, s:s, s:{s:s}}", "@context",
                            "https://www.w3.org/ns/credentials/v2", "id", "urn:uuid:1", "type",
                            "VerifiableCredential", "DiplomaCredential", "issuer", "id", "x",
                            "name", "\xe6\xb8\x85\xe5\x8d\x8e\xe5\xa4\xa7\xe5\xad\xa6", "validFrom",
                            "2026-07-01T00:00:00Z", "credentialSubject", "name", "\xe6\x9d\x8e");
    uint8_t sk[crypto_sign_SECRETKEYBYTES], pk[32], got[32], h[32], h2[32];
    char *text = NULL;
    size_t len = 0;

    crypto_sign_keypair(pk, sk);
    ck_assert_int_eq(chain_vc_sign(doc, sk, "2026-07-01T08:00:00Z"), 0);
    ck_assert_int_eq(chain_vc_verify(doc, got, NULL, 0), 0);
    ck_assert_mem_eq(got, pk, 32);
    ck_assert_int_eq(chain_vc_anchor_hash(doc, h), 0);
    ck_assert_int_eq(chain_jcs_dump(doc, &text, &len), 0);
    crypto_hash_sha256(h2, (const unsigned char *)text, len);
    ck_assert_mem_eq(h, h2, 32);
    ck_assert_ptr_nonnull(strstr(text, "\"proofValue\":\"z"));
    free(text);
    ck_assert_int_eq(chain_vc_sign(doc, sk, "yesterday"), CHAIN_E_INVAL);
    sodium_memzero(sk, sizeof sk);
    json_decref(doc);
}
END_TEST

static Suite *vc_suite(void)
{
    Suite *s = suite_create("chain_vc");
    TCase *tc = tcase_create("spec");

    tcase_add_test(tc, spec_keys);
    tcase_add_test(tc, spec_example_steps);
    tcase_add_test(tc, spec_sign_gives_signed_credential);
    tcase_add_test(tc, spec_verify_and_tamper);
    suite_add_tcase(s, tc);
    tc = tcase_create("encodings");
    tcase_add_test(tc, base58_known);
    tcase_add_test(tc, didkey_rejects);
    tcase_add_test(tc, datetime);
    tcase_add_test(tc, datetime_ms);
    tcase_add_test(tc, round_trip_and_anchor_hash);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    sr = srunner_create(vc_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
