/* test_chain_common.c — error codes and the strict base64 / hex helpers every other part of
 * chain/ builds on (RFC 4648 §10 test vectors for base64). */
#include <check.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../chain/chain.h"

static const int all_errors[] = {
    CHAIN_OK,
    CHAIN_E_MALFORMED,
    CHAIN_E_MISSING_FIELD,
    CHAIN_E_EXTRA_FIELD,
    CHAIN_E_WRONG_TYPE,
    CHAIN_E_FLOAT,
    CHAIN_E_BAD_BASE64,
    CHAIN_E_BAD_KEY_LEN,
    CHAIN_E_BAD_SIG_LEN,
    CHAIN_E_BAD_SIG,
    CHAIN_E_WRONG_CHAIN,
    CHAIN_E_TIME_SKEW,
    CHAIN_E_TOO_LARGE,
    CHAIN_E_TOO_DEEP,
    CHAIN_E_RANGE,
    CHAIN_E_BAD_PROOF,
    CHAIN_E_BAD_NOTE,
    CHAIN_E_UNKNOWN_KEY,
    CHAIN_E_NOMEM,
    CHAIN_E_DUPLICATE_KEY,
    CHAIN_E_BAD_VERSION,
    CHAIN_E_BAD_NONCE_LEN,
    CHAIN_E_BAD_LENGTH,
    CHAIN_E_BAD_CHECKPOINT,
    CHAIN_E_BAD_KEY,
    CHAIN_E_KEY_MISMATCH,
    CHAIN_E_BUFFER,
    CHAIN_E_INVAL,
    CHAIN_E_BAD_HEX,
};
#define N_ERRORS (sizeof all_errors / sizeof all_errors[0])

START_TEST(error_codes_stable)
{
    /* the codes clients see; changing one breaks them */
    ck_assert_str_eq(chain_err_code(CHAIN_E_MALFORMED), "malformed_json");
    ck_assert_str_eq(chain_err_code(CHAIN_E_MISSING_FIELD), "missing_field");
    ck_assert_str_eq(chain_err_code(CHAIN_E_EXTRA_FIELD), "extra_field");
    ck_assert_str_eq(chain_err_code(CHAIN_E_WRONG_TYPE), "wrong_type");
    ck_assert_str_eq(chain_err_code(CHAIN_E_FLOAT), "float_not_allowed");
    ck_assert_str_eq(chain_err_code(CHAIN_E_BAD_BASE64), "bad_base64");
    ck_assert_str_eq(chain_err_code(CHAIN_E_BAD_KEY_LEN), "bad_key_length");
    ck_assert_str_eq(chain_err_code(CHAIN_E_BAD_SIG_LEN), "bad_signature_length");
    ck_assert_str_eq(chain_err_code(CHAIN_E_BAD_SIG), "invalid_signature");
    ck_assert_str_eq(chain_err_code(CHAIN_E_WRONG_CHAIN), "wrong_chain");
    ck_assert_str_eq(chain_err_code(CHAIN_E_TIME_SKEW), "time_skew");
    ck_assert_str_eq(chain_err_code(CHAIN_E_TOO_LARGE), "tx_too_large");
    ck_assert_str_eq(chain_err_code(CHAIN_E_TOO_DEEP), "too_deep");
    ck_assert_str_eq(chain_err_code(CHAIN_E_RANGE), "integer_out_of_range");
    ck_assert_str_eq(chain_err_code(CHAIN_E_BAD_PROOF), "bad_proof");
    ck_assert_str_eq(chain_err_code(CHAIN_E_BAD_NOTE), "bad_note");
    ck_assert_str_eq(chain_err_code(CHAIN_E_UNKNOWN_KEY), "unknown_key");
    ck_assert_str_eq(chain_err_code(CHAIN_E_NOMEM), "nomem");
    ck_assert_str_eq(chain_err_code(12345), "unknown_error");
    ck_assert_str_eq(chain_strerror(CHAIN_E_BAD_SIG), "signature does not verify");
    ck_assert_str_eq(chain_strerror(-12345), "unknown error");
}
END_TEST

START_TEST(error_table_complete)
{
    size_t i, j;

    for (i = 0; i < N_ERRORS; i++) {
        const char *code = chain_err_code(all_errors[i]), *msg = chain_strerror(all_errors[i]);
        size_t k;

        ck_assert_str_ne(code, "unknown_error");
        ck_assert_str_ne(msg, "unknown error");
        for (k = 0; code[k]; k++)
            ck_assert(islower((unsigned char)code[k]) || isdigit((unsigned char)code[k]) ||
                      code[k] == '_');
        ck_assert(!isupper((unsigned char)msg[0]));
        ck_assert(msg[strlen(msg) - 1] != '.');
        for (j = i + 1; j < N_ERRORS; j++)
            ck_assert_str_ne(code, chain_err_code(all_errors[j]));
    }
    ck_assert_int_eq(chain_err_http_status(CHAIN_OK), 200);
    ck_assert_int_eq(chain_err_http_status(CHAIN_E_MALFORMED), 400);
    ck_assert_int_eq(chain_err_http_status(CHAIN_E_TOO_LARGE), 413);
    ck_assert_int_eq(chain_err_http_status(CHAIN_E_BAD_SIG), 422);
    ck_assert_int_eq(chain_err_http_status(CHAIN_E_TIME_SKEW), 422);
    ck_assert_int_eq(chain_err_http_status(CHAIN_E_NOMEM), 500);
}
END_TEST

/* RFC 4648 §10 */
START_TEST(b64_rfc4648_vectors)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char out[16];
    uint8_t bin[16];
    size_t i, n;

    for (i = 0; i < 7; i++) {
        ck_assert_int_eq(
            chain_b64_encode((const uint8_t *)plain[i], strlen(plain[i]), out, sizeof out), 0);
        ck_assert_str_eq(out, enc[i]);
        ck_assert_uint_eq(strlen(out), CHAIN_B64_LEN(strlen(plain[i])));
        ck_assert_int_eq(chain_b64_decode(enc[i], strlen(enc[i]), bin, sizeof bin, &n), 0);
        ck_assert_uint_eq(n, strlen(plain[i]));
        ck_assert_mem_eq(bin, plain[i], n);
    }
    ck_assert_int_eq(chain_b64_encode((const uint8_t *)"foobar", 6, out, 8), CHAIN_E_BUFFER);
    ck_assert_int_eq(chain_b64_encode((const uint8_t *)"foobar", 6, out, 9), 0);
}
END_TEST

START_TEST(b64_strict)
{
    static const char *const bad[] = {
        "Zg",       "Zg=",   "Zm8",      "Zg===",    "Zh==", /* unused bits set */
        "Zm9=",     "Z===",  "====",     "Zg==Zg==", " Zg==",     "Zg== ", "Zm9v\n",
        "Zm9v\r\n", "Zm 9v", "Zm9v-_==", "Zm9vYg=A", "Zm9vYmFy=", "=Zm9",
    };
    uint8_t bin[16];
    size_t i, n;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(chain_b64_decode(bad[i], strlen(bad[i]), bin, sizeof bin, &n) ==
                          CHAIN_E_BAD_BASE64,
                      "accepted %s", bad[i]);
    }
    ck_assert_int_eq(chain_b64_decode("Zm\0v", 4, bin, sizeof bin, &n), CHAIN_E_BAD_BASE64);
    ck_assert_int_eq(chain_b64_decode("Zg==\0\0\0\0", 8, bin, sizeof bin, &n), CHAIN_E_BAD_BASE64);
    /* too big for the buffer: valid text says so, garbage says garbage */
    ck_assert_int_eq(chain_b64_decode("Zm9vYmFy", 8, bin, 5, &n), CHAIN_E_BUFFER);
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(chain_b64_decode("Zm9vYmF!", 8, bin, 5, &n), CHAIN_E_BAD_BASE64);
    ck_assert_int_eq(chain_b64_decode_exact("Zm9vYmFy", 8, bin, 6), 0);
    ck_assert_int_eq(chain_b64_decode_exact("Zm9vYmFy", 8, bin, 7), CHAIN_E_BAD_LENGTH);
    ck_assert_int_eq(chain_b64_decode_exact("Zm9vYmFy", 8, bin, 5), CHAIN_E_BAD_LENGTH);
    ck_assert_int_eq(chain_b64_decode_exact("Zm9vYmF*", 8, bin, 6), CHAIN_E_BAD_BASE64);
}
END_TEST

/* libsodium 1.0.18 reads any byte >= 0x80 as '/' (found by tests/fuzz/fuzz_note): "AA//" and
 * "AA\xc3\xa9" would decode alike, so a tx's "sig" could be rewritten without breaking it. */
START_TEST(b64_refuses_high_bytes)
{
    uint8_t bin[16];
    size_t n;
    char text[5] = "AAA/";

    ck_assert_int_eq(chain_b64_decode("AA//", 4, bin, sizeof bin, &n), 0);
    ck_assert_int_eq(chain_b64_decode("AA\xc3\xa9", 4, bin, sizeof bin, &n), CHAIN_E_BAD_BASE64);
    ck_assert_int_eq(chain_b64_decode_exact("AA\xc3\xa9", 4, bin, 3), CHAIN_E_BAD_BASE64);
    for (int c = 0x80; c <= 0xff; c++) {
        text[3] = (char)c;
        ck_assert_msg(chain_b64_decode(text, 4, bin, sizeof bin, &n) == CHAIN_E_BAD_BASE64,
                      "accepted byte 0x%02x", c);
    }
}
END_TEST

START_TEST(b64_random_round_trip)
{
    uint8_t in[100], out[100];
    char enc[CHAIN_B64_LEN(100) + 1];
    size_t n, got;

    for (n = 0; n <= 100; n++) {
        randombytes_buf(in, n);
        ck_assert_int_eq(chain_b64_encode(in, n, enc, sizeof enc), 0);
        ck_assert_int_eq(chain_b64_decode_exact(enc, strlen(enc), out, n), 0);
        ck_assert_mem_eq(in, out, n);
        ck_assert_int_eq(chain_b64_decode(enc, strlen(enc), out, sizeof out, &got), 0);
        ck_assert_uint_eq(got, n);
    }
}
END_TEST

/* chain_b64_decode_public answers as chain_b64_decode_exact does for text[0..len) as n bytes,
 * with the same bytes when both accept it. */
static void same_as_exact(const char *text, size_t len, size_t n)
{
    uint8_t fast[48], slow[48];
    int a = chain_b64_decode_public(text, len, fast, n);
    int b = chain_b64_decode_exact(text, len, slow, n);

    ck_assert_msg(a == b, "\"%.*s\" as %zu bytes: %d, exact says %d", (int)len, text, n, a, b);
    if (a == CHAIN_OK)
        ck_assert_mem_eq(fast, slow, n);
}

/* Encodings of random values of 0 to 40 bytes, each asked for its own size and its
 * neighbours', then mangled one byte at a time (any byte: '=', NUL, >= 0x80), cut short and
 * lengthened; and a few texts at the padding's edges. */
START_TEST(b64_public_matches_exact)
{
    uint8_t in[40];
    char enc[CHAIN_B64_LEN(40) + 8];

    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)round % 41, len;

        randombytes_buf(in, n);
        ck_assert_int_eq(chain_b64_encode(in, n, enc, sizeof enc), 0);
        len = strlen(enc);
        for (size_t m = n > 0 ? n - 1 : 0; m <= n + 1 && m <= 40; m++)
            same_as_exact(enc, len, m);
        for (int k = 0; k < 64 && len > 0; k++) {
            char mangled[sizeof enc];
            size_t at = randombytes_uniform((uint32_t)len);

            memcpy(mangled, enc, len);
            mangled[at] = (char)randombytes_uniform(256);
            same_as_exact(mangled, len, n);
        }
        same_as_exact(enc, len > 0 ? len - 1 : 0, n);
        memcpy(enc + len, "AAAA", 5);
        same_as_exact(enc, len + 4, n);
        same_as_exact(enc, len + 1, n);
    }
    same_as_exact("Zh==", 4, 1);     /* unused bits set */
    same_as_exact("Zm9=", 4, 2);     /* unused bits set */
    same_as_exact("Zm9v", 4, 2);     /* no padding where it belongs */
    same_as_exact("Zg=a", 4, 1);     /* padding then data */
    same_as_exact("Zg==Zg==", 8, 2); /* padding inside */
}
END_TEST

START_TEST(hex)
{
    uint8_t bin[4] = {0x00, 0xab, 0x7f, 0xff}, back[4];
    char out[9];

    chain_hex_encode(bin, 4, out);
    ck_assert_str_eq(out, "00ab7fff");
    ck_assert_int_eq(chain_hex_decode(out, 8, back, 4), 0);
    ck_assert_mem_eq(back, bin, 4);
    ck_assert_int_eq(chain_hex_decode("00AB7FFF", 8, back, 4), CHAIN_E_BAD_HEX);
    ck_assert_int_eq(chain_hex_decode("00ab7ff", 7, back, 4), CHAIN_E_BAD_LENGTH);
    ck_assert_int_eq(chain_hex_decode("00ab7fffaa", 10, back, 4), CHAIN_E_BAD_LENGTH);
    ck_assert_int_eq(chain_hex_decode("00ab7fg0", 8, back, 4), CHAIN_E_BAD_HEX);
}
END_TEST

static Suite *common_suite(void)
{
    Suite *s = suite_create("chain_common");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, error_codes_stable);
    tcase_add_test(tc, error_table_complete);
    tcase_add_test(tc, b64_rfc4648_vectors);
    tcase_add_test(tc, b64_strict);
    tcase_add_test(tc, b64_refuses_high_bytes);
    tcase_add_test(tc, b64_random_round_trip);
    tcase_add_test(tc, b64_public_matches_exact);
    tcase_add_test(tc, hex);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    sr = srunner_create(common_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
