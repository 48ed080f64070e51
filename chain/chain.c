/* chain.c — the pieces every part of chain/ leans on: error codes and messages, strict base64
 * and hex, a growable buffer and a strict UTF-8 decoder. */
#include "chain.h"
#include "chain_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

struct err_entry {
    int err;          /* the enum chain_err value */
    const char *code; /* stable snake_case code for JSON bodies */
    const char *msg;  /* short lowercase sentence */
    int http;         /* suggested HTTP status when a client caused it */
};

/* One table, so a new error cannot get a code without a message or a status. */
static const struct err_entry err_table[] = {
    {CHAIN_OK, "ok", "success", 200},
    {CHAIN_E_MALFORMED, "malformed_json", "input is not well-formed json", 400},
    {CHAIN_E_MISSING_FIELD, "missing_field", "a required field is missing", 400},
    {CHAIN_E_EXTRA_FIELD, "extra_field", "the tx has a field the format does not define", 400},
    {CHAIN_E_WRONG_TYPE, "wrong_type", "a field has the wrong json type", 400},
    {CHAIN_E_FLOAT, "float_not_allowed", "numbers must be integers", 400},
    {CHAIN_E_BAD_BASE64, "bad_base64", "a value is not strict padded base64", 400},
    {CHAIN_E_BAD_KEY_LEN, "bad_key_length", "a public key must be 32 bytes", 400},
    {CHAIN_E_BAD_SIG_LEN, "bad_signature_length", "a signature must be 64 bytes", 400},
    {CHAIN_E_BAD_SIG, "invalid_signature", "signature does not verify", 422},
    {CHAIN_E_WRONG_CHAIN, "wrong_chain", "the tx is for another chain", 422},
    {CHAIN_E_TIME_SKEW, "time_skew", "the tx time is too far from the node clock", 422},
    {CHAIN_E_TOO_LARGE, "tx_too_large", "the tx is larger than 64 kib", 413},
    {CHAIN_E_TOO_DEEP, "too_deep", "json nesting is deeper than 32 levels", 400},
    {CHAIN_E_RANGE, "integer_out_of_range", "an integer is beyond 2^53 - 1 in magnitude", 400},
    {CHAIN_E_BAD_PROOF, "bad_proof", "the merkle proof does not verify", 422},
    {CHAIN_E_BAD_NOTE, "bad_note", "the signed note is malformed", 400},
    {CHAIN_E_UNKNOWN_KEY, "unknown_key", "no known key signed the note", 422},
    {CHAIN_E_NOMEM, "nomem", "out of memory", 500},
    {CHAIN_E_DUPLICATE_KEY, "duplicate_key", "a json object repeats a member name", 400},
    {CHAIN_E_BAD_VERSION, "unsupported_version", "the tx version must be 1", 400},
    {CHAIN_E_BAD_NONCE_LEN, "bad_nonce_length", "a nonce must be 16 bytes", 400},
    {CHAIN_E_BAD_LENGTH, "bad_length", "a value has the wrong number of bytes", 400},
    {CHAIN_E_BAD_CHECKPOINT, "bad_checkpoint", "the checkpoint body is malformed", 400},
    {CHAIN_E_BAD_KEY, "bad_key", "the key string is malformed", 400},
    {CHAIN_E_KEY_MISMATCH, "key_mismatch", "the secret key does not match the signer", 422},
    {CHAIN_E_BUFFER, "buffer_too_small", "the output buffer is too small", 500},
    {CHAIN_E_INVAL, "invalid_argument", "an argument is out of range", 400},
    {CHAIN_E_BAD_HEX, "bad_hex", "a value is not lowercase hex", 400},
};

static const struct err_entry *err_find(int err)
{
    size_t i;

    for (i = 0; i < sizeof err_table / sizeof err_table[0]; i++) {
        if (err_table[i].err == err)
            return &err_table[i];
    }
    return NULL;
}

const char *chain_err_code(int err)
{
    const struct err_entry *e = err_find(err);

    return e ? e->code : "unknown_error";
}

const char *chain_strerror(int err)
{
    const struct err_entry *e = err_find(err);

    return e ? e->msg : "unknown error";
}

int chain_err_http_status(int err)
{
    const struct err_entry *e = err_find(err);

    return e ? e->http : 500;
}

int chain_b64_encode(const uint8_t *bin, size_t bin_len, char *out, size_t out_cap)
{
    if (out_cap < CHAIN_B64_LEN(bin_len) + 1)
        return CHAIN_E_BUFFER;
    sodium_bin2base64(out, out_cap, bin, bin_len, sodium_base64_VARIANT_ORIGINAL);
    return CHAIN_OK;
}

/* Size of the bytes a padded base64 text of b64_len chars decodes to, judged from its length and
 * trailing '=' alone; -1 if the length cannot be that of padded base64. */
static int b64_decoded_size(const char *b64, size_t b64_len, size_t *size)
{
    size_t pad = 0;

    if (b64_len % 4 != 0)
        return -1;
    if (b64_len > 0 && b64[b64_len - 1] == '=')
        pad++;
    if (pad == 1 && b64[b64_len - 2] == '=')
        pad++;
    *size = b64_len / 4 * 3 - pad;
    return 0;
}

/* libsodium does the strict part: with b64_end NULL it fails unless every char is consumed, with
 * the ORIGINAL variant it demands exact padding, and it refuses non-zero unused bits. But
 * libsodium 1.0.18 decodes every byte >= 0x80 as '/' (found by tests/fuzz): a value would then
 * have many texts, e.g. a tx "sig" with "//" rewritten as "é" still verifies under another tx id.
 * So bytes outside the alphabet are refused here first. */
static int b64_decode_raw(const char *b64, size_t b64_len, uint8_t *out, size_t cap, size_t *n)
{
    for (size_t i = 0; i < b64_len; i++) {
        unsigned char c = (unsigned char)b64[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return CHAIN_E_BAD_BASE64;
    }
    if (sodium_base642bin(out, cap, b64, b64_len, NULL, n, NULL, sodium_base64_VARIANT_ORIGINAL) !=
        0)
        return CHAIN_E_BAD_BASE64;
    return CHAIN_OK;
}

int chain_b64_decode(const char *b64, size_t b64_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    uint8_t *tmp = NULL;
    size_t need = 0, got = 0;
    int rc;

    if (b64_decoded_size(b64, b64_len, &need) != 0) {
        rc = CHAIN_E_BAD_BASE64;
        goto out;
    }
    if (need <= out_cap) {
        rc = b64_decode_raw(b64, b64_len, out, out_cap, &got);
        if (rc == CHAIN_OK && got != need)
            rc = CHAIN_E_BAD_BASE64; /* '=' inside the text: libsodium stopped early */
        *out_len = got;
        goto out;
    }
    /* Too big for the caller: still decode, so garbage reports as garbage. */
    tmp = malloc(need ? need : 1);
    if (tmp == NULL) {
        rc = CHAIN_E_NOMEM;
        goto out;
    }
    rc = b64_decode_raw(b64, b64_len, tmp, need, &got);
    if (rc == CHAIN_OK)
        rc = CHAIN_E_BUFFER;
    *out_len = need;
    sodium_memzero(tmp, need); /* the text may have been a secret key of the wrong size */
out:
    free(tmp);
    return rc;
}

int chain_b64_decode_exact(const char *b64, size_t b64_len, uint8_t *out, size_t n)
{
    size_t got = 0;
    int rc = chain_b64_decode(b64, b64_len, out, n, &got);

    if (rc == CHAIN_E_BUFFER || (rc == CHAIN_OK && got != n))
        return CHAIN_E_BAD_LENGTH;
    return rc;
}

/* The value of each ASCII character in the base64 alphabet; B64_BAD for the rest, '=' included. */
#define B64_BAD 0xffu
#define X       B64_BAD
static const uint8_t b64_value[128] = {
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  /* controls */
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  /* controls */
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,  X,  63, /* + / */
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,  /* 0-9 */
    X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, /* A-O */
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  X,  /* P-Z */
    X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, /* a-o */
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X,  /* p-z */
};
#undef X

static unsigned b64_char(unsigned char c)
{
    return c < 128 ? b64_value[c] : B64_BAD;
}

/* Only the one text that encodes n bytes is decoded here: exactly (n + 2) / 3 * 4 characters
 * of the alphabet, the padding the size calls for, and zero unused bits. Anything else goes to
 * chain_b64_decode_exact, which tells a value of another size from a text that is not base64.
 * An out-of-alphabet character sets bits 6-7 of bad (every value is at most 63). */
int chain_b64_decode_public(const char *b64, size_t b64_len, uint8_t *out, size_t n)
{
    const unsigned char *s = (const unsigned char *)b64;
    uint8_t *o = out;
    unsigned bad = 0, a, b, c, d;

    if (b64_len != (n + 2) / 3 * 4)
        return chain_b64_decode_exact(b64, b64_len, out, n);
    for (size_t i = 0; i < n / 3; i++, s += 4, o += 3) {
        a = b64_char(s[0]);
        b = b64_char(s[1]);
        c = b64_char(s[2]);
        d = b64_char(s[3]);
        bad |= a | b | c | d;
        o[0] = (uint8_t)(a << 2 | b >> 4);
        o[1] = (uint8_t)(b << 4 | c >> 2);
        o[2] = (uint8_t)(c << 6 | d);
    }
    if (n % 3 == 1) { /* two characters and "=="; the second's low four bits unused */
        a = b64_char(s[0]);
        b = b64_char(s[1]);
        bad |= a | b | (b & 15u ? B64_BAD : 0) | (s[2] != '=' || s[3] != '=' ? B64_BAD : 0);
        o[0] = (uint8_t)(a << 2 | b >> 4);
    } else if (n % 3 == 2) { /* three characters and "="; the third's low two bits unused */
        a = b64_char(s[0]);
        b = b64_char(s[1]);
        c = b64_char(s[2]);
        bad |= a | b | c | (c & 3u ? B64_BAD : 0) | (s[3] != '=' ? B64_BAD : 0);
        o[0] = (uint8_t)(a << 2 | b >> 4);
        o[1] = (uint8_t)(b << 4 | c >> 2);
    }
    if (bad & ~63u)
        return chain_b64_decode_exact(b64, b64_len, out, n);
    return CHAIN_OK;
}

void chain_hex_encode(const uint8_t *bin, size_t bin_len, char *out)
{
    sodium_bin2hex(out, 2 * bin_len + 1, bin, bin_len);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int chain_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t n)
{
    size_t i;

    if (hex_len != 2 * n)
        return CHAIN_E_BAD_LENGTH;
    for (i = 0; i < n; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return CHAIN_E_BAD_HEX;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return CHAIN_OK;
}

void chain_buf_put(struct chain_buf *b, const void *data, size_t n)
{
    size_t want;
    char *p;

    if (b->err != 0)
        return;
    if (n > SIZE_MAX / 2 - b->len) {
        b->err = CHAIN_E_NOMEM;
        return;
    }
    want = b->len + n + 1;
    if (want > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap < want)
            cap *= 2;
        p = realloc(b->p, cap);
        if (p == NULL) {
            b->err = CHAIN_E_NOMEM;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void chain_buf_puts(struct chain_buf *b, const char *s)
{
    chain_buf_put(b, s, strlen(s));
}

void chain_buf_putc(struct chain_buf *b, char c)
{
    chain_buf_put(b, &c, 1);
}

int chain_buf_finish(struct chain_buf *b, char **out, size_t *out_len)
{
    int rc = b->err;

    if (rc == 0 && b->p == NULL)
        chain_buf_put(b, "", 0); /* an empty result is still a string */
    rc = b->err;
    if (rc != 0) {
        chain_buf_free(b);
        return rc;
    }
    *out = b->p;
    if (out_len != NULL)
        *out_len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return CHAIN_OK;
}

void chain_buf_free(struct chain_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}

/* Lead byte -> (sequence length, smallest code point it may encode) */
static int utf8_lead(uint8_t c, size_t *n, uint32_t *min, uint32_t *cp)
{
    if (c < 0x80) {
        *n = 1, *min = 0, *cp = c;
    } else if ((c & 0xe0) == 0xc0) {
        *n = 2, *min = 0x80, *cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        *n = 3, *min = 0x800, *cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        *n = 4, *min = 0x10000, *cp = c & 0x07;
    } else {
        return -1;
    }
    return 0;
}

int chain_utf8_next(const uint8_t *s, size_t len, size_t *pos, uint32_t *cp)
{
    size_t n, i, p = *pos;
    uint32_t min, c;

    if (p >= len || utf8_lead(s[p], &n, &min, &c) != 0 || len - p < n)
        return -1;
    for (i = 1; i < n; i++) {
        if ((s[p + i] & 0xc0) != 0x80)
            return -1;
        c = c << 6 | (s[p + i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return -1;
    *pos = p + n;
    *cp = c;
    return 0;
}

int chain_utf8_valid(const char *s, size_t len)
{
    size_t pos = 0;
    uint32_t cp;

    while (pos < len) {
        if ((unsigned char)s[pos] < 0x80) { /* ASCII, most of every text we see */
            pos++;
            continue;
        }
        if (chain_utf8_next((const uint8_t *)s, len, &pos, &cp) != 0)
            return 0;
    }
    return 1;
}
