/* note.c — C2SP signed notes (Ed25519 only) and the block checkpoint body. Follows the
 * reference implementation golang.org/x/mod/sumdb/note closely enough that its published test
 * vectors hold here, but is stricter where C2SP leaves room: every line by a known key is
 * verified, and the checkpoint body must be exactly our six lines. */
#include "note.h"
#include "chain_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_DASH_SP     "\xe2\x80\x94 " /* U+2014 then a space: starts every signature line */
#define EM_DASH_SP_LEN 4
#define ED_SIG_RAW     (4 + crypto_sign_BYTES)          /* key hash || signature */
#define KEY_RAW        (1 + crypto_sign_PUBLICKEYBYTES) /* algorithm byte || key */

/* One signature line, pointing into the note. */
struct sigline {
    const char *name; /* key name */
    size_t name_len;  /* bytes of name */
    uint32_t hash;    /* key hash from the signature's first 4 bytes */
    uint8_t raw[72];  /* decoded signature bytes (key hash first), when raw_len <= 72 */
    size_t raw_len;   /* decoded length; may exceed sizeof raw for other algorithms */
    const char *line; /* the whole line including its "\n" */
    size_t line_len;  /* bytes of line */
};

/* Go's unicode.IsSpace: the Latin-1 spaces and the White_Space code points above them. */
static int is_unicode_space(uint32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

static int name_valid_n(const char *name, size_t len)
{
    size_t pos = 0;
    uint32_t c;

    if (len == 0 || len > CHAIN_NOTE_NAME_MAX)
        return 0;
    while (pos < len) {
        if (chain_utf8_next((const uint8_t *)name, len, &pos, &c) != 0)
            return 0;
        if (c == '+' || c < 0x20 || c == 0x7f || is_unicode_space(c))
            return 0;
    }
    return 1;
}

int chain_note_name_valid(const char *name)
{
    return name != NULL && name_valid_n(name, strnlen(name, CHAIN_NOTE_NAME_MAX + 1));
}

/* Note text rule of C2SP: valid UTF-8 and no ASCII control character except newline. */
static int text_chars_valid(const char *s, size_t len)
{
    size_t pos = 0;
    uint32_t c;

    while (pos < len) {
        if (chain_utf8_next((const uint8_t *)s, len, &pos, &c) != 0)
            return 0;
        if (c < 0x20 && c != '\n')
            return 0;
    }
    return 1;
}

static uint32_t key_hash_n(const char *name, size_t name_len, const uint8_t *pk)
{
    static const uint8_t sep[2] = {'\n', CHAIN_NOTE_ALG_ED25519};
    crypto_hash_sha256_state st;
    uint8_t h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, name_len);
    crypto_hash_sha256_update(&st, sep, sizeof sep);
    crypto_hash_sha256_update(&st, pk, crypto_sign_PUBLICKEYBYTES);
    crypto_hash_sha256_final(&st, h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

uint32_t chain_note_key_hash(const char *name, const uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
    return key_hash_n(name, strlen(name), pk);
}

int chain_note_verifier_from_pk(const char *name, const uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                                struct chain_note_verifier *out)
{
    if (!chain_note_name_valid(name))
        return CHAIN_E_BAD_KEY;
    memset(out, 0, sizeof *out);
    memcpy(out->name, name, strlen(name));
    out->key_hash = chain_note_key_hash(name, pk);
    memcpy(out->pubkey, pk, crypto_sign_PUBLICKEYBYTES);
    return CHAIN_OK;
}

/* Exactly 8 hex digits (either case, as Go's ParseUint) into *out. */
static int parse_hash8(const char *s, size_t len, uint32_t *out)
{
    uint32_t v = 0;
    size_t i;

    if (len != 8)
        return -1;
    for (i = 0; i < 8; i++) {
        char c = s[i];
        uint32_t d;

        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* The parts of "<name>+<hash>+<base64>" — split at the first two '+', since base64 may hold
 * more of them. */
struct key_parts {
    const char *name; /* key name */
    size_t name_len;  /* bytes of name */
    uint32_t hash;    /* parsed key hash */
    const char *b64;  /* base64 of algorithm byte || key */
    size_t b64_len;   /* bytes of b64 */
};

static int split_key(const char *s, struct key_parts *k)
{
    const char *p1 = strchr(s, '+'), *p2;

    if (p1 == NULL)
        return CHAIN_E_BAD_KEY;
    p2 = strchr(p1 + 1, '+');
    if (p2 == NULL)
        return CHAIN_E_BAD_KEY;
    k->name = s;
    k->name_len = (size_t)(p1 - s);
    k->b64 = p2 + 1;
    k->b64_len = strlen(p2 + 1);
    if (!name_valid_n(k->name, k->name_len) ||
        parse_hash8(p1 + 1, (size_t)(p2 - p1 - 1), &k->hash) != 0)
        return CHAIN_E_BAD_KEY;
    return CHAIN_OK;
}

/* Decodes the key part: exactly 0x01 || 32 bytes. */
static int decode_key(const struct key_parts *k, uint8_t raw[KEY_RAW])
{
    if (chain_b64_decode_exact(k->b64, k->b64_len, raw, KEY_RAW) != CHAIN_OK ||
        raw[0] != CHAIN_NOTE_ALG_ED25519)
        return CHAIN_E_BAD_KEY;
    return CHAIN_OK;
}

int chain_note_verifier_parse(const char *s, struct chain_note_verifier *out)
{
    struct key_parts k;
    uint8_t raw[KEY_RAW];
    int rc;

    if (s == NULL)
        return CHAIN_E_BAD_KEY;
    rc = split_key(s, &k);
    if (rc == CHAIN_OK)
        rc = decode_key(&k, raw);
    if (rc == CHAIN_OK && key_hash_n(k.name, k.name_len, raw + 1) != k.hash)
        rc = CHAIN_E_BAD_KEY;
    if (rc != CHAIN_OK)
        return rc;
    memset(out, 0, sizeof *out);
    memcpy(out->name, k.name, k.name_len);
    out->key_hash = k.hash;
    memcpy(out->pubkey, raw + 1, crypto_sign_PUBLICKEYBYTES);
    return CHAIN_OK;
}

/* prefix name "+" hash "+" base64(0x01 || key) into out. */
static int format_key(const char *prefix, const char *name, uint32_t hash, const uint8_t *key,
                      char *out, size_t cap)
{
    uint8_t raw[KEY_RAW];
    char b64[CHAIN_B64_LEN(KEY_RAW) + 1];
    int n, rc = CHAIN_OK;

    if (!chain_note_name_valid(name))
        return CHAIN_E_BAD_KEY;
    raw[0] = CHAIN_NOTE_ALG_ED25519;
    memcpy(raw + 1, key, KEY_RAW - 1);
    rc = chain_b64_encode(raw, sizeof raw, b64, sizeof b64);
    if (rc == CHAIN_OK) {
        n = snprintf(out, cap, "%s%s+%08" PRIx32 "+%s", prefix, name, hash, b64);
        if (n < 0 || (size_t)n >= cap) {
            sodium_memzero(out, cap); /* may hold part of a secret */
            rc = CHAIN_E_BUFFER;
        }
    }
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(b64, sizeof b64);
    return rc;
}

int chain_note_verifier_format(const struct chain_note_verifier *v, char *out, size_t cap)
{
    return format_key("", v->name, v->key_hash, v->pubkey, out, cap);
}

int chain_note_signer_from_sk(const char *name, const uint8_t sk[crypto_sign_SECRETKEYBYTES],
                              struct chain_note_signer *out)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];

    if (!chain_note_name_valid(name))
        return CHAIN_E_BAD_KEY;
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    memset(out, 0, sizeof *out);
    memcpy(out->name, name, strlen(name));
    out->key_hash = chain_note_key_hash(name, pk);
    memcpy(out->sk, sk, crypto_sign_SECRETKEYBYTES);
    return CHAIN_OK;
}

int chain_note_signer_parse(const char *s, struct chain_note_signer *out)
{
    static const char prefix[] = "PRIVATE+KEY+";
    uint8_t raw[KEY_RAW], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    struct key_parts k;
    int rc;

    if (s == NULL || strncmp(s, prefix, sizeof prefix - 1) != 0)
        return CHAIN_E_BAD_KEY;
    rc = split_key(s + sizeof prefix - 1, &k);
    if (rc != CHAIN_OK)
        goto out;
    rc = decode_key(&k, raw);
    if (rc != CHAIN_OK)
        goto out;
    crypto_sign_seed_keypair(pk, sk, raw + 1);
    /* the hash names the public key, so it can only be checked after deriving it */
    if (key_hash_n(k.name, k.name_len, pk) != k.hash) {
        rc = CHAIN_E_BAD_KEY;
        goto out;
    }
    memset(out, 0, sizeof *out);
    memcpy(out->name, k.name, k.name_len);
    out->key_hash = k.hash;
    memcpy(out->sk, sk, sizeof sk);
out:
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

int chain_note_signer_format(const struct chain_note_signer *s, char *out, size_t cap)
{
    /* libsodium's secret key is seed || pk: the first half is what the string carries */
    return format_key("PRIVATE+KEY+", s->name, s->key_hash, s->sk, out, cap);
}

/* Appends "— name base64(hash || sig)\n" signing text[0..text_len). */
static void put_sigline(struct chain_buf *b, const char *name, const uint8_t *sk, const char *text,
                        size_t text_len)
{
    uint8_t raw[ED_SIG_RAW], pk[crypto_sign_PUBLICKEYBYTES];
    char b64[CHAIN_B64_LEN(ED_SIG_RAW) + 1];
    uint32_t h;

    crypto_sign_ed25519_sk_to_pk(pk, sk);
    h = chain_note_key_hash(name, pk);
    raw[0] = (uint8_t)(h >> 24);
    raw[1] = (uint8_t)(h >> 16);
    raw[2] = (uint8_t)(h >> 8);
    raw[3] = (uint8_t)h;
    crypto_sign_detached(raw + 4, NULL, (const uint8_t *)text, text_len, sk);
    if (chain_b64_encode(raw, sizeof raw, b64, sizeof b64) != CHAIN_OK) {
        b->err = CHAIN_E_BUFFER; /* cannot happen: b64 is sized for raw */
        return;
    }
    chain_buf_puts(b, EM_DASH_SP);
    chain_buf_puts(b, name);
    chain_buf_putc(b, ' ');
    chain_buf_puts(b, b64);
    chain_buf_putc(b, '\n');
}

/* Hands over b unless it grew past what chain_note_open would accept. */
static int finish_note(struct chain_buf *b, char **out)
{
    if (b->err == 0 && b->len > CHAIN_NOTE_MAX_BYTES) {
        chain_buf_free(b);
        return CHAIN_E_BAD_NOTE;
    }
    return chain_buf_finish(b, out, NULL);
}

int chain_note_sign(const char *text, const char *key_name,
                    const uint8_t sk[crypto_sign_SECRETKEYBYTES], char **out)
{
    struct chain_buf b = {0};
    size_t len;

    if (text == NULL || sk == NULL || out == NULL)
        return CHAIN_E_INVAL;
    len = strlen(text);
    if (len == 0 || text[len - 1] != '\n' || !text_chars_valid(text, len))
        return CHAIN_E_BAD_NOTE;
    if (!chain_note_name_valid(key_name))
        return CHAIN_E_BAD_KEY;
    chain_buf_put(&b, text, len);
    chain_buf_putc(&b, '\n');
    put_sigline(&b, key_name, sk, text, len);
    return finish_note(&b, out);
}

/* Splits a character-checked note at its last blank line: text is [0, *text_len), the signature
 * block [*text_len + 1, len), which must be non-empty and end in "\n". */
static int note_split(const char *note, size_t len, size_t *text_len)
{
    size_t i;

    for (i = len; i >= 2; i--) {
        if (note[i - 2] == '\n' && note[i - 1] == '\n')
            break;
    }
    if (i < 2 || i == len || note[len - 1] != '\n')
        return CHAIN_E_BAD_NOTE;
    *text_len = i - 1;
    return CHAIN_OK;
}

/* The key hash of a signature too long for sl->raw: the first 8 base64 chars are two whole
 * groups (the text is longer than 72 bytes' worth), so they decode on their own. */
static int long_sig_hash(const char *b64, struct sigline *sl)
{
    uint8_t head[6];
    size_t n = 0;

    if (chain_b64_decode(b64, 8, head, sizeof head, &n) != CHAIN_OK || n != 6)
        return CHAIN_E_BAD_NOTE;
    memcpy(sl->raw, head, 4);
    return CHAIN_OK;
}

/* Parses the line at note[*pos..end) (which ends in "\n") into sl and advances *pos. */
static int sigline_next(const char *note, size_t end, size_t *pos, struct sigline *sl)
{
    const char *line = note + *pos, *nl = memchr(line, '\n', end - *pos), *sp, *b64;
    size_t b64_len;
    int rc;

    sl->line = line;
    sl->line_len = (size_t)(nl - line) + 1;
    *pos += sl->line_len;
    if (sl->line_len <= EM_DASH_SP_LEN || memcmp(line, EM_DASH_SP, EM_DASH_SP_LEN) != 0)
        return CHAIN_E_BAD_NOTE;
    sl->name = line + EM_DASH_SP_LEN;
    sp = memchr(sl->name, ' ', (size_t)(nl - sl->name));
    if (sp == NULL)
        return CHAIN_E_BAD_NOTE;
    sl->name_len = (size_t)(sp - sl->name);
    b64 = sp + 1;
    b64_len = (size_t)(nl - b64);
    if (!name_valid_n(sl->name, sl->name_len) || b64_len == 0)
        return CHAIN_E_BAD_NOTE;
    rc = chain_b64_decode(b64, b64_len, sl->raw, sizeof sl->raw, &sl->raw_len);
    if (rc == CHAIN_E_BUFFER)
        rc = long_sig_hash(b64, sl);
    if (rc != CHAIN_OK || sl->raw_len < 5)
        return CHAIN_E_BAD_NOTE;
    sl->hash = (uint32_t)sl->raw[0] << 24 | (uint32_t)sl->raw[1] << 16 | (uint32_t)sl->raw[2] << 8 |
               sl->raw[3];
    return CHAIN_OK;
}

/* Checks the size, characters and shape of a note; on success *text_len is the signed text's. */
static int note_check(const char *note, size_t len, size_t *text_len)
{
    if (note == NULL || len > CHAIN_NOTE_MAX_BYTES || !text_chars_valid(note, len))
        return CHAIN_E_BAD_NOTE;
    return note_split(note, len, text_len);
}

int chain_note_add_signature(const char *note, size_t len, const char *key_name,
                             const uint8_t sk[crypto_sign_SECRETKEYBYTES], char **out)
{
    struct chain_buf b = {0};
    struct sigline sl;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    size_t text_len = 0, pos, n = 0;
    uint32_t mine;
    int rc;

    rc = note_check(note, len, &text_len);
    if (rc != CHAIN_OK)
        goto out;
    if (!chain_note_name_valid(key_name) || sk == NULL) {
        rc = CHAIN_E_BAD_KEY;
        goto out;
    }
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    mine = chain_note_key_hash(key_name, pk);
    chain_buf_put(&b, note, text_len + 1);
    for (pos = text_len + 1; pos < len;) {
        rc = sigline_next(note, len, &pos, &sl);
        if (rc == CHAIN_OK && ++n > CHAIN_NOTE_MAX_SIGS)
            rc = CHAIN_E_BAD_NOTE;
        if (rc != CHAIN_OK)
            goto out;
        if (sl.hash == mine && sl.name_len == strlen(key_name) &&
            memcmp(sl.name, key_name, sl.name_len) == 0)
            continue; /* replaced by the fresh signature below */
        chain_buf_put(&b, sl.line, sl.line_len);
    }
    put_sigline(&b, key_name, sk, note, text_len);
    rc = finish_note(&b, out);
out:
    chain_buf_free(&b);
    return rc;
}

/* Index of the known key named by sl, or -1. */
static int find_known(const struct chain_note_verifier *known, size_t n_known,
                      const struct sigline *sl)
{
    size_t i;

    for (i = 0; i < n_known; i++) {
        if (known[i].key_hash == sl->hash && strlen(known[i].name) == sl->name_len &&
            memcmp(known[i].name, sl->name, sl->name_len) == 0)
            return (int)i;
    }
    return -1;
}

/* C2SP: two known keys with the same name and hash would make the lookup ambiguous. */
static int known_list_ok(const struct chain_note_verifier *known, size_t n_known)
{
    size_t i, j;

    if (n_known > CHAIN_NOTE_MAX_KNOWN || (known == NULL && n_known > 0))
        return 0;
    for (i = 0; i < n_known; i++) {
        for (j = i + 1; j < n_known; j++) {
            if (known[i].key_hash == known[j].key_hash && strcmp(known[i].name, known[j].name) == 0)
                return 0;
        }
    }
    return 1;
}

static int verify_line(const struct chain_note_verifier *k, const struct sigline *sl,
                       const char *text, size_t text_len)
{
    if (sl->raw_len != ED_SIG_RAW ||
        crypto_sign_verify_detached(sl->raw + 4, (const uint8_t *)text, text_len, k->pubkey) != 0)
        return CHAIN_E_BAD_SIG;
    return CHAIN_OK;
}

int chain_note_open(const char *note, size_t len, const struct chain_note_verifier *known,
                    size_t n_known, struct chain_note_opened *out)
{
    struct chain_note_opened res = {0};
    struct sigline sl;
    size_t pos, n = 0;
    int rc, idx;

    if (!known_list_ok(known, n_known))
        return CHAIN_E_INVAL;
    rc = note_check(note, len, &res.text_len);
    if (rc != CHAIN_OK)
        return rc;
    res.text = note;
    for (pos = res.text_len + 1; pos < len;) {
        rc = sigline_next(note, len, &pos, &sl);
        if (rc == CHAIN_OK && ++n > CHAIN_NOTE_MAX_SIGS)
            rc = CHAIN_E_BAD_NOTE;
        if (rc != CHAIN_OK)
            return rc;
        idx = find_known(known, n_known, &sl);
        if (idx < 0) {
            res.n_unknown++;
            continue;
        }
        rc = verify_line(&known[idx], &sl, note, res.text_len);
        if (rc != CHAIN_OK)
            return rc;
        res.known_mask |= (uint64_t)1 << idx;
    }
    res.n_valid = (size_t)__builtin_popcountll(res.known_mask);
    if (res.n_valid == 0)
        return CHAIN_E_UNKNOWN_KEY;
    *out = res;
    return CHAIN_OK;
}

/* An origin line: non-empty, not too long, UTF-8, no control characters. */
static int origin_valid(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > CHAIN_NOTE_NAME_MAX || !chain_utf8_valid(s, len))
        return 0;
    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20)
            return 0;
    }
    return 1;
}

int chain_checkpoint_format(const struct chain_checkpoint *c, char **body)
{
    char root[CHAIN_B64_LEN(CHAIN_HASH_LEN) + 1], prev[CHAIN_B64_LEN(CHAIN_HASH_LEN) + 1];
    char nums[3 * 24 + 32];
    struct chain_buf b = {0};
    size_t origin_len = strnlen(c->origin, sizeof c->origin);

    if (origin_len == sizeof c->origin || !origin_valid(c->origin, origin_len) || c->time_ms < 0)
        return CHAIN_E_BAD_CHECKPOINT;
    if (chain_b64_encode(c->root, CHAIN_HASH_LEN, root, sizeof root) != CHAIN_OK ||
        chain_b64_encode(c->prev, CHAIN_HASH_LEN, prev, sizeof prev) != CHAIN_OK)
        return CHAIN_E_BUFFER;
    chain_buf_put(&b, c->origin, origin_len);
    snprintf(nums, sizeof nums, "\n%" PRIu64 "\n", c->size);
    chain_buf_puts(&b, nums);
    chain_buf_puts(&b, root);
    snprintf(nums, sizeof nums, "\nheight %" PRIu64 "\nprev ", c->height);
    chain_buf_puts(&b, nums);
    chain_buf_puts(&b, prev);
    snprintf(nums, sizeof nums, "\ntime %" PRId64 "\n", c->time_ms);
    chain_buf_puts(&b, nums);
    return chain_buf_finish(&b, body, NULL);
}

/* Decimal digits, no sign, no leading zero (except "0" itself), at most max. */
static int parse_decimal(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (len == 0 || (len > 1 && s[0] == '0'))
        return -1;
    for (i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');

        if (s[i] < '0' || s[i] > '9' || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Takes the next line of body[*pos..len), which must start with prefix and end in "\n"; the part
 * after the prefix goes to *val / *val_len. */
static int take_line(const char *body, size_t len, size_t *pos, const char *prefix,
                     const char **val, size_t *val_len)
{
    const char *line = body + *pos, *nl;
    size_t plen = strlen(prefix);

    if (*pos >= len)
        return -1;
    nl = memchr(line, '\n', len - *pos);
    if (nl == NULL || (size_t)(nl - line) < plen || memcmp(line, prefix, plen) != 0)
        return -1;
    *val = line + plen;
    *val_len = (size_t)(nl - line) - plen;
    *pos += (size_t)(nl - line) + 1;
    return 0;
}

static int take_number(const char *body, size_t len, size_t *pos, const char *prefix, uint64_t max,
                       uint64_t *out)
{
    const char *v;
    size_t n;

    if (take_line(body, len, pos, prefix, &v, &n) != 0)
        return -1;
    return parse_decimal(v, n, max, out);
}

static int take_hash(const char *body, size_t len, size_t *pos, const char *prefix,
                     uint8_t out[CHAIN_HASH_LEN])
{
    const char *v;
    size_t n;

    if (take_line(body, len, pos, prefix, &v, &n) != 0)
        return -1;
    return chain_b64_decode_exact(v, n, out, CHAIN_HASH_LEN) == CHAIN_OK ? 0 : -1;
}

int chain_checkpoint_parse(const char *body, size_t len, struct chain_checkpoint *out)
{
    const char *origin;
    size_t pos = 0, origin_len;
    uint64_t time_ms = 0;

    if (body == NULL || out == NULL)
        return CHAIN_E_BAD_CHECKPOINT;
    memset(out, 0, sizeof *out);
    if (take_line(body, len, &pos, "", &origin, &origin_len) != 0 ||
        !origin_valid(origin, origin_len) ||
        take_number(body, len, &pos, "", UINT64_MAX, &out->size) != 0 ||
        take_hash(body, len, &pos, "", out->root) != 0 ||
        take_number(body, len, &pos, "height ", UINT64_MAX, &out->height) != 0 ||
        take_hash(body, len, &pos, "prev ", out->prev) != 0 ||
        take_number(body, len, &pos, "time ", INT64_MAX, &time_ms) != 0 || pos != len)
        return CHAIN_E_BAD_CHECKPOINT;
    memcpy(out->origin, origin, origin_len);
    out->time_ms = (int64_t)time_ms;
    return CHAIN_OK;
}

void chain_checkpoint_body_hash(const char *body, size_t len, uint8_t out[CHAIN_HASH_LEN])
{
    crypto_hash_sha256(out, (const uint8_t *)body, len);
}
