/* chain.h — what every part of the pure ledger core shares: the error enum with its stable
 * client-facing codes, the limits of the tx format, and strict base64/hex helpers.
 *
 * Nothing in chain/ does I/O, reads the clock or keeps global mutable state. The caller must have
 * called sodium_init() (successfully) before using any function of chain/ that hashes, signs,
 * verifies or draws random bytes. */
#ifndef CHAIN_CHAIN_H
#define CHAIN_CHAIN_H

#include <stddef.h>
#include <stdint.h>

/* Fallible public functions carry this so a forgotten check is a compile error under -Werror. */
#define CHAIN_WUR __attribute__((warn_unused_result))

#define CHAIN_HASH_LEN     32     /* SHA-256 output: leaf hashes, node hashes, roots */
#define CHAIN_TX_MAX       65536  /* largest accepted tx, in bytes of its JSON text */
#define CHAIN_MAX_DEPTH    32     /* deepest accepted nesting of arrays/objects (top level is 1) */
#define CHAIN_TIME_SKEW_MS 300000 /* a tx's time may differ from the node clock by this much */
#define CHAIN_INT_MAX      9007199254740991LL /* 2^53 - 1: largest integer JSON may carry */

/* Length of the padded base64 text of n bytes, without the terminating NUL. */
#define CHAIN_B64_LEN(n) ((((size_t)(n) + 2) / 3) * 4)

/* Every fallible function of chain/ returns CHAIN_OK or one of these. The numbers are not
 * stable across versions; the strings of chain_err_code() are. */
enum chain_err {
    CHAIN_OK = 0,
    CHAIN_E_MALFORMED = -1,       /* not JSON, trailing garbage, bad UTF-8, NUL in a tx */
    CHAIN_E_MISSING_FIELD = -2,   /* a required tx field is absent */
    CHAIN_E_EXTRA_FIELD = -3,     /* a tx has a top-level field the format does not define */
    CHAIN_E_WRONG_TYPE = -4,      /* a tx field has the wrong JSON type */
    CHAIN_E_FLOAT = -5,           /* a number with a fraction or exponent */
    CHAIN_E_BAD_BASE64 = -6,      /* not strict padded standard base64 */
    CHAIN_E_BAD_KEY_LEN = -7,     /* a public key that is not 32 bytes */
    CHAIN_E_BAD_SIG_LEN = -8,     /* a signature that is not 64 bytes */
    CHAIN_E_BAD_SIG = -9,         /* a signature that does not verify */
    CHAIN_E_WRONG_CHAIN = -10,    /* a tx for another chain (origin) */
    CHAIN_E_TIME_SKEW = -11,      /* a tx time too far from the node clock */
    CHAIN_E_TOO_LARGE = -12,      /* a tx larger than CHAIN_TX_MAX */
    CHAIN_E_TOO_DEEP = -13,       /* nesting deeper than CHAIN_MAX_DEPTH */
    CHAIN_E_RANGE = -14,          /* an integer beyond +-(2^53 - 1) */
    CHAIN_E_BAD_PROOF = -15,      /* a Merkle proof that does not verify */
    CHAIN_E_BAD_NOTE = -16,       /* a signed note that is not well formed */
    CHAIN_E_UNKNOWN_KEY = -17,    /* a note signed by no known key */
    CHAIN_E_NOMEM = -18,          /* out of memory */
    CHAIN_E_DUPLICATE_KEY = -19,  /* a JSON object names a member twice */
    CHAIN_E_BAD_VERSION = -20,    /* a tx "v" other than 1 */
    CHAIN_E_BAD_NONCE_LEN = -21,  /* a nonce that is not 16 bytes */
    CHAIN_E_BAD_LENGTH = -22,     /* valid base64 or hex of the wrong number of bytes */
    CHAIN_E_BAD_CHECKPOINT = -23, /* a checkpoint body that is not exactly our format */
    CHAIN_E_BAD_KEY = -24,        /* a malformed verifier/signer key string */
    CHAIN_E_KEY_MISMATCH = -25,   /* a secret key that does not belong to the named signer */
    CHAIN_E_BUFFER = -26,         /* the caller's buffer is too small */
    CHAIN_E_INVAL = -27,          /* an argument outside the function's contract */
    CHAIN_E_BAD_HEX = -28,        /* not lowercase hex */
};

/* Returns the stable snake_case code of err for JSON error bodies ("invalid_signature", ...);
 * "unknown_error" for a value that is not an enum chain_err. Static string, never NULL. */
const char *chain_err_code(int err);

/* Returns a short lowercase sentence describing err ("signature does not verify"). Static
 * string, never NULL. */
const char *chain_strerror(int err);

/* Returns the HTTP status that DESIGN §3.4 suggests for err when a client's input caused it:
 * 200 for CHAIN_OK, 413 for CHAIN_E_TOO_LARGE, 422 for well-formed input that fails a check
 * (signature, chain, time, proof, unknown key), 500 for CHAIN_E_NOMEM and CHAIN_E_BUFFER, and
 * 400 for everything else. */
int chain_err_http_status(int err);

/* Writes the padded standard base64 (RFC 4648 §4) of bin[0..bin_len) and a NUL to out, which has
 * room for out_cap bytes (at least CHAIN_B64_LEN(bin_len) + 1). Returns 0, or CHAIN_E_BUFFER
 * (out untouched) when out is too small. Borrows everything. */
int chain_b64_encode(const uint8_t *bin, size_t bin_len, char *out, size_t out_cap) CHAIN_WUR;

/* Decodes strict padded standard base64 b64[0..b64_len) (no whitespace, correct padding, zero
 * unused bits, no NUL) into out, which has room for out_cap bytes, and stores the decoded length
 * in *out_len. Returns 0; CHAIN_E_BAD_BASE64 when the text is not strict base64; CHAIN_E_BUFFER
 * when it is valid but decodes to more than out_cap bytes (*out_len then holds the size needed);
 * CHAIN_E_NOMEM. The whole text is validated before CHAIN_E_BUFFER is reported, so a caller can
 * tell garbage from a value of the wrong size. Borrows everything. */
int chain_b64_decode(const char *b64, size_t b64_len, uint8_t *out, size_t out_cap,
                     size_t *out_len) CHAIN_WUR;

/* Decodes strict base64 that must yield exactly n bytes into out[0..n). Returns 0,
 * CHAIN_E_BAD_BASE64, CHAIN_E_BAD_LENGTH (valid base64 of another size; out is then unspecified)
 * or CHAIN_E_NOMEM. Borrows everything. */
int chain_b64_decode_exact(const char *b64, size_t b64_len, uint8_t *out, size_t n) CHAIN_WUR;

/* chain_b64_decode_exact for public values (signatures, public keys, hashes): the same answers,
 * a table instead of libsodium's constant-time decoder, about ten times faster. Its time depends
 * on the text, so never hand it a secret. Borrows everything. */
int chain_b64_decode_public(const char *b64, size_t b64_len, uint8_t *out, size_t n) CHAIN_WUR;

/* Writes the lowercase hex of bin[0..bin_len) and a NUL to out, which must have room for
 * 2 * bin_len + 1 bytes. Cannot fail. Borrows everything. */
void chain_hex_encode(const uint8_t *bin, size_t bin_len, char *out);

/* Decodes exactly 2 * n lowercase hex digits hex[0..hex_len) into out[0..n) (tx ids in URLs).
 * Returns 0, CHAIN_E_BAD_LENGTH when hex_len != 2 * n, or CHAIN_E_BAD_HEX for any character
 * outside [0-9a-f]. Borrows everything. */
int chain_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t n) CHAIN_WUR;

#endif
