/* note.h — C2SP signed notes with Ed25519 (c2sp.org/signed-note) and the block checkpoint of
 * DESIGN §3.2 (c2sp.org/tlog-checkpoint plus three extension lines).
 *
 *   note       = text "\n" 1*sigline         (text ends in "\n"; the last blank line splits)
 *   sigline    = "— " name " " base64(keyhash[4] || sig[64]) "\n"        (U+2014, then a space)
 *   keyhash    = SHA-256(name || "\n" || 0x01 || pubkey)[0:4], big-endian
 *   verifier   = name "+" 8 lowercase hex of keyhash "+" base64(0x01 || pubkey)
 *   signer key = "PRIVATE+KEY+" name "+" 8 hex "+" base64(0x01 || seed32)   (Go's x/mod/sumdb/note)
 *
 *   checkpoint body = origin "\n" size "\n" base64(root) "\n" "height " h "\n"
 *                     "prev " base64(SHA-256(previous body)) "\n" "time " unix_ms "\n"
 */
#ifndef CHAIN_NOTE_H
#define CHAIN_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "chain.h"

#define CHAIN_NOTE_NAME_MAX    255     /* longest key name / checkpoint origin, in bytes */
#define CHAIN_NOTE_MAX_BYTES   1048576 /* largest note accepted by chain_note_open */
#define CHAIN_NOTE_MAX_SIGS    100     /* most signature lines accepted by chain_note_open */
#define CHAIN_NOTE_MAX_KNOWN   64      /* most verifiers chain_note_open takes at once */
#define CHAIN_NOTE_ALG_ED25519 0x01    /* C2SP signature type byte */

/* Room for a verifier key string and its NUL. */
#define CHAIN_NOTE_VKEY_MAX (CHAIN_NOTE_NAME_MAX + 1 + 8 + 1 + CHAIN_B64_LEN(33) + 1)
/* Room for a signer key string and its NUL. */
#define CHAIN_NOTE_SKEY_MAX (12 + CHAIN_NOTE_VKEY_MAX)

/* A key that may sign notes, as configured by a verifier. */
struct chain_note_verifier {
    char name[CHAIN_NOTE_NAME_MAX + 1];         /* key name (NUL-terminated) */
    uint32_t key_hash;                          /* C2SP key ID */
    uint8_t pubkey[crypto_sign_PUBLICKEYBYTES]; /* Ed25519 public key */
};

/* A named signing key. Holds a secret: wipe with sodium_memzero when done (or keep it in
 * sodium_malloc memory). */
struct chain_note_signer {
    char name[CHAIN_NOTE_NAME_MAX + 1];     /* key name (NUL-terminated) */
    uint32_t key_hash;                      /* C2SP key ID of the public key */
    uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* libsodium secret key (seed || pk) */
};

/* What chain_note_open found. */
struct chain_note_opened {
    const char *text;    /* the signed text, borrowed from the note (not NUL-terminated there) */
    size_t text_len;     /* bytes of text, including its final "\n" */
    uint64_t known_mask; /* bit i set when known[i] signed the note validly */
    size_t n_valid;      /* number of known keys with a valid signature (bits in known_mask) */
    size_t n_unknown;    /* signature lines by keys not in known (ignored) */
};

/* The tree head a block commits to. */
struct chain_checkpoint {
    char origin[CHAIN_NOTE_NAME_MAX + 1]; /* log origin line (NUL-terminated, non-empty) */
    uint64_t size;                        /* tree size */
    uint8_t root[CHAIN_HASH_LEN];         /* Merkle root of that size */
    uint64_t height;                      /* block height */
    uint8_t prev[CHAIN_HASH_LEN];         /* SHA-256 of the previous body; zeros at genesis */
    int64_t time_ms;                      /* block time, Unix ms, >= 0 */
};

/* Returns 1 if name may name a key: non-empty, at most CHAIN_NOTE_NAME_MAX bytes of UTF-8, no
 * Unicode space, no '+', no control character. */
int chain_note_name_valid(const char *name);

/* The C2SP key ID of an Ed25519 key: SHA-256(name || "\n" || 0x01 || pk)[0:4], big-endian. */
uint32_t chain_note_key_hash(const char *name, const uint8_t pk[crypto_sign_PUBLICKEYBYTES]);

/* Fills out for (name, pk), computing the key hash. Returns 0 or CHAIN_E_BAD_KEY for an invalid
 * name. Borrows everything. */
int chain_note_verifier_from_pk(const char *name, const uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                                struct chain_note_verifier *out) CHAIN_WUR;

/* Parses "<name>+<8 hex>+<base64(0x01 || pubkey)>". Returns 0, or CHAIN_E_BAD_KEY for a
 * malformed string, an unknown algorithm, a key that is not 32 bytes, or a key hash that does
 * not match. Borrows s; *out is filled only on success. */
int chain_note_verifier_parse(const char *s, struct chain_note_verifier *out) CHAIN_WUR;

/* Writes the verifier key string of v and a NUL to out[0..cap) (CHAIN_NOTE_VKEY_MAX suffices).
 * Returns 0, CHAIN_E_BAD_KEY for an invalid name, or CHAIN_E_BUFFER. */
int chain_note_verifier_format(const struct chain_note_verifier *v, char *out,
                               size_t cap) CHAIN_WUR;

/* Fills out from a name and a libsodium secret key (seed || pk). Returns 0 or CHAIN_E_BAD_KEY
 * for an invalid name. Copies the secret into out: the caller wipes both. */
int chain_note_signer_from_sk(const char *name, const uint8_t sk[crypto_sign_SECRETKEYBYTES],
                              struct chain_note_signer *out) CHAIN_WUR;

/* Parses "PRIVATE+KEY+<name>+<8 hex>+<base64(0x01 || seed)>", deriving the key pair and
 * checking the key hash against the derived public key. Returns 0 or CHAIN_E_BAD_KEY. Every
 * temporary copy of the seed is wiped; *out holds the secret on success (caller wipes it). */
int chain_note_signer_parse(const char *s, struct chain_note_signer *out) CHAIN_WUR;

/* Writes the signer key string of s and a NUL to out[0..cap) (CHAIN_NOTE_SKEY_MAX suffices).
 * The output is secret: the caller wipes it. Returns 0, CHAIN_E_BAD_KEY or CHAIN_E_BUFFER. */
int chain_note_signer_format(const struct chain_note_signer *s, char *out, size_t cap) CHAIN_WUR;

/* Signs text (NUL-terminated, ending in "\n", valid UTF-8 without control characters other than
 * "\n") with key_name / sk and returns the signed note: text, a blank line, one signature line.
 * On success *out is new (free with free()). Fails with CHAIN_E_BAD_NOTE for an unacceptable text,
 * CHAIN_E_BAD_KEY for an invalid name, CHAIN_E_NOMEM. Borrows everything; keeps no secret. */
int chain_note_sign(const char *text, const char *key_name,
                    const uint8_t sk[crypto_sign_SECRETKEYBYTES], char **out) CHAIN_WUR;

/* Cosigns: returns (new, free with free()) note[0..len) with a signature line by key_name / sk
 * appended; an existing line by the same key (name and key hash) is replaced. The existing lines
 * are checked for syntax only, not verified. Fails with CHAIN_E_BAD_NOTE, CHAIN_E_BAD_KEY or
 * CHAIN_E_NOMEM. Borrows everything. */
int chain_note_add_signature(const char *note, size_t len, const char *key_name,
                             const uint8_t sk[crypto_sign_SECRETKEYBYTES], char **out) CHAIN_WUR;

/* Parses and verifies note[0..len) against known[0..n_known) (distinct name+hash pairs,
 * n_known <= CHAIN_NOTE_MAX_KNOWN). Lines by unknown keys are counted and ignored; every line by
 * a known key must verify. Returns 0 with *out filled (text borrowed from note); CHAIN_E_BAD_NOTE
 * for a malformed note (size over CHAIN_NOTE_MAX_BYTES, invalid UTF-8, a control character other
 * than "\n", no blank line, a signature block not ending in "\n", a malformed line, more than
 * CHAIN_NOTE_MAX_SIGS lines); CHAIN_E_BAD_SIG when a known key's signature fails;
 * CHAIN_E_UNKNOWN_KEY when no known key signed; CHAIN_E_INVAL for a bad known list. */
int chain_note_open(const char *note, size_t len, const struct chain_note_verifier *known,
                    size_t n_known, struct chain_note_opened *out) CHAIN_WUR;

/* Writes the checkpoint body of c. On success *body is new (free with free()), NUL-terminated.
 * Fails with CHAIN_E_BAD_CHECKPOINT (origin empty, too long, not UTF-8, or holding a control
 * character; negative time) or CHAIN_E_NOMEM. Borrows c. */
int chain_checkpoint_format(const struct chain_checkpoint *c, char **body) CHAIN_WUR;

/* Parses a checkpoint body body[0..len) (the text of an opened note) strictly: exactly the six
 * lines, decimal numbers without sign or leading zeros that fit their types, base64 of exactly 32
 * bytes, the extension lines "height ", "prev ", "time " in this order, each line ending in "\n"
 * and nothing after. Returns 0 or CHAIN_E_BAD_CHECKPOINT (*out then unspecified). */
int chain_checkpoint_parse(const char *body, size_t len, struct chain_checkpoint *out) CHAIN_WUR;

/* out = SHA-256(body[0..len)): the value the next checkpoint carries as prev. */
void chain_checkpoint_body_hash(const char *body, size_t len, uint8_t out[CHAIN_HASH_LEN]);

#endif
