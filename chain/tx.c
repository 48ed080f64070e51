/* tx.c — parse, check, sign and verify the tx envelope. Every rejection has its own error code
 * and names the field, because clients build these by hand and need to know what to fix. */
#include "tx.h"
#include "jcs.h"
#include "merkle.h"
#include "chain_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* How each envelope field is read. */
enum field_kind {
    FIELD_VERSION, /* integer 1 */
    FIELD_STRING,  /* string, stored as a borrowed const char * */
    FIELD_B64,     /* base64 of exactly len bytes, decoded into a uint8_t array */
    FIELD_TIME,    /* integer, stored as int64_t */
    FIELD_BODY,    /* object, stored as a borrowed const json_t * */
};

struct field_spec {
    const char *name;     /* JSON member name */
    enum field_kind kind; /* how to read it */
    size_t offset;        /* where it goes in struct chain_tx */
    size_t len;           /* FIELD_B64: bytes expected */
    int len_err;          /* FIELD_B64: error for another size */
};

/* The envelope's fields, in the order they are checked and reported: the format as data. */
static const struct field_spec tx_fields[] = {
    {"v", FIELD_VERSION, 0, 0, 0},
    {"chain", FIELD_STRING, offsetof(struct chain_tx, chain), 0, 0},
    {"module", FIELD_STRING, offsetof(struct chain_tx, module), 0, 0},
    {"type", FIELD_STRING, offsetof(struct chain_tx, type), 0, 0},
    {"org", FIELD_STRING, offsetof(struct chain_tx, org), 0, 0},
    {"signer", FIELD_B64, offsetof(struct chain_tx, signer), crypto_sign_PUBLICKEYBYTES,
     CHAIN_E_BAD_KEY_LEN},
    {"nonce", FIELD_B64, offsetof(struct chain_tx, nonce), CHAIN_TX_NONCE_LEN,
     CHAIN_E_BAD_NONCE_LEN},
    {"time", FIELD_TIME, offsetof(struct chain_tx, time_ms), 0, 0},
    {"body", FIELD_BODY, offsetof(struct chain_tx, body), 0, 0},
    {"sig", FIELD_B64, offsetof(struct chain_tx, sig), crypto_sign_BYTES, CHAIN_E_BAD_SIG_LEN},
};
#define TX_N_FIELDS (sizeof tx_fields / sizeof tx_fields[0])

/* Copies s[0..len) into detail, cut so that a multi-byte UTF-8 character is never split: the
 * server puts detail into a JSON string, which must stay valid UTF-8. */
static void detail_set(char *detail, size_t cap, const char *s, size_t len)
{
    size_t n;

    if (detail == NULL || cap == 0)
        return;
    n = len < cap - 1 ? len : cap - 1;
    while (n > 0 && n < len && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    memcpy(detail, s, n);
    detail[n] = '\0';
}

static void detail_str(char *detail, size_t cap, const char *s)
{
    detail_set(detail, cap, s, strlen(s));
}

static int is_tx_field(const char *key, size_t key_len)
{
    size_t i;

    for (i = 0; i < TX_N_FIELDS; i++) {
        if (strlen(tx_fields[i].name) == key_len && memcmp(tx_fields[i].name, key, key_len) == 0)
            return 1;
    }
    return 0;
}

/* Missing fields first (in tx_fields order), then unknown ones. */
static int check_field_set(json_t *doc, char *detail, size_t cap)
{
    size_t i;
    void *it;

    for (i = 0; i < TX_N_FIELDS; i++) {
        if (json_object_get(doc, tx_fields[i].name) == NULL) {
            detail_str(detail, cap, tx_fields[i].name);
            return CHAIN_E_MISSING_FIELD;
        }
    }
    for (it = json_object_iter(doc); it != NULL; it = json_object_iter_next(doc, it)) {
        const char *key = json_object_iter_key(it);
        size_t key_len = json_object_iter_key_len(it);

        if (!is_tx_field(key, key_len)) {
            if (key_len == 0) /* a detail must name something, even a member named "" */
                detail_str(detail, cap, "\"\"");
            else
                detail_set(detail, cap, key, key_len);
            return CHAIN_E_EXTRA_FIELD;
        }
    }
    return CHAIN_OK;
}

/* A base64 field of exactly n bytes (a signature or a public key: public, so the fast decoder);
 * a wrong size is reported as len_err. */
static int get_b64(json_t *v, uint8_t *out, size_t n, int len_err)
{
    int rc;

    if (!json_is_string(v))
        return CHAIN_E_WRONG_TYPE;
    rc = chain_b64_decode_public(json_string_value(v), json_string_length(v), out, n);
    return rc == CHAIN_E_BAD_LENGTH ? len_err : rc;
}

/* Checks one field of the envelope and stores it in tx as f describes. */
static int read_field(struct chain_tx *tx, const struct field_spec *f)
{
    json_t *v = json_object_get(tx->doc, f->name);
    char *dst = (char *)tx + f->offset;

    switch (f->kind) {
    case FIELD_VERSION:
        if (!json_is_integer(v))
            return CHAIN_E_WRONG_TYPE;
        return json_integer_value(v) == 1 ? CHAIN_OK : CHAIN_E_BAD_VERSION;
    case FIELD_STRING:
        if (!json_is_string(v))
            return CHAIN_E_WRONG_TYPE;
        *(const char **)(void *)dst = json_string_value(v);
        return CHAIN_OK;
    case FIELD_B64:
        return get_b64(v, (uint8_t *)dst, f->len, f->len_err);
    case FIELD_TIME:
        if (!json_is_integer(v))
            return CHAIN_E_WRONG_TYPE;
        /* in range: chain_jcs_parse checked 2^53 */
        *(int64_t *)(void *)dst = (int64_t)json_integer_value(v);
        return CHAIN_OK;
    case FIELD_BODY:
        if (!json_is_object(v))
            return CHAIN_E_WRONG_TYPE;
        *(const json_t **)(void *)dst = v;
        return CHAIN_OK;
    }
    return CHAIN_E_INVAL;
}

/* Reads each field in tx_fields order; on failure names it in detail. */
static int read_fields(struct chain_tx *tx, char *detail, size_t cap)
{
    size_t i;
    int rc;

    for (i = 0; i < TX_N_FIELDS; i++) {
        rc = read_field(tx, &tx_fields[i]);
        if (rc != CHAIN_OK) {
            detail_str(detail, cap, tx_fields[i].name);
            return rc;
        }
    }
    return CHAIN_OK;
}

/* prefix || JCS(env without "sig") into a new string (free with free()). Borrows env. */
static int signed_message(json_t *env, char **out, size_t *out_len)
{
    struct chain_buf b = {0};
    json_t *copy = NULL;
    char *jcs = NULL;
    size_t jcs_len = 0;
    int rc;

    copy = json_copy(env); /* shallow: shares the values, so this is cheap */
    if (copy == NULL) {
        rc = CHAIN_E_NOMEM;
        goto out;
    }
    json_object_del(copy, "sig"); /* absent is fine */
    rc = chain_jcs_dump(copy, &jcs, &jcs_len);
    if (rc != CHAIN_OK)
        goto out;
    chain_buf_puts(&b, CHAIN_TX_SIG_PREFIX);
    chain_buf_put(&b, jcs, jcs_len);
    rc = chain_buf_finish(&b, out, out_len);
out:
    free(jcs);
    json_decref(copy);
    return rc;
}

/* The signed message from the leaf: the leaf without `,"sig":"<sig>"`, the signature's text
 * being leaf[sig_at..sig_at + sig_len). */
static int message_at(struct chain_tx *tx, size_t sig_at, size_t sig_len)
{
    static const char member[] = ",\"sig\":\"";
    size_t prefix = sizeof(CHAIN_TX_SIG_PREFIX) - 1, cut = sizeof(member) - 1 + sig_len + 1;
    size_t at = sig_at - (sizeof(member) - 1);

    if (sig_at < sizeof(member) - 1 || memcmp(tx->leaf + at, member, sizeof(member) - 1) != 0)
        return -1;
    tx->msg_len = prefix + tx->leaf_len - cut;
    tx->msg = malloc(tx->msg_len + 1);
    if (tx->msg == NULL)
        return -1;
    memcpy(tx->msg, CHAIN_TX_SIG_PREFIX, prefix);
    memcpy(tx->msg + prefix, tx->leaf, at);
    memcpy(tx->msg + prefix + at, tx->leaf + at + cut, tx->leaf_len - at - cut + 1);
    return 0;
}

/* The signed message cut from the leaf instead of serialising the envelope again. JCS sorts
 * members, so the top-level "sig" sits between "org" and "signer": the last `,"sig":"<value>"`
 * in the leaf. (An earlier one can only be inside "body", which comes first; a string cannot
 * hold it, since JCS escapes its quotes.) Returns 0, or -1 when it is not there, and the caller
 * serialises instead. */
static int message_from_leaf(struct chain_tx *tx)
{
    const char *sig = json_string_value(json_object_get(tx->doc, "sig"));
    size_t sig_len = sig ? strlen(sig) : 0;
    const char *hit = NULL;

    if (sig == NULL)
        return -1;
    for (const char *p = tx->leaf; (p = strstr(p, ",\"sig\":\"")) != NULL; p++)
        if (strncmp(p + 8, sig, sig_len) == 0 && p[8 + sig_len] == '"')
            hit = p;
    if (hit == NULL)
        return -1;
    return message_at(tx, (size_t)(hit - tx->leaf) + 8, sig_len);
}

/* The leaf is the envelope's JCS: the text itself when it came canonical (as `lianxin sign` and
 * the node's own custody write it), else written out from the parsed values. */
static int make_leaf(struct chain_tx *tx, const char *buf, size_t len, int canonical)
{
    if (!canonical)
        return chain_jcs_dump(tx->doc, &tx->leaf, &tx->leaf_len);
    tx->leaf = malloc(len + 1);
    if (tx->leaf == NULL)
        return CHAIN_E_NOMEM;
    memcpy(tx->leaf, buf, len);
    tx->leaf[len] = '\0';
    tx->leaf_len = len;
    return CHAIN_OK;
}

static int compute_digests(struct chain_tx *tx, const char *buf, size_t len, int canonical)
{
    int rc;

    rc = make_leaf(tx, buf, len, canonical);
    if (rc != CHAIN_OK)
        return rc;
    if (message_from_leaf(tx) != 0) {
        rc = signed_message(tx->doc, &tx->msg, &tx->msg_len);
        if (rc != CHAIN_OK)
            return rc;
    }
    chain_merkle_leaf_hash((const uint8_t *)tx->leaf, tx->leaf_len, tx->leaf_hash);
    chain_hex_encode(tx->leaf_hash, sizeof tx->leaf_hash, tx->id_hex);
    return CHAIN_OK;
}

/* ---- the fast path: a canonical text read member by member -------------------------------- */

/* What the members of a canonical envelope gave, before they become a tx. */
struct members {
    struct chain_tx *tx;
    struct chain_buf strings; /* chain\0module\0type\0org\0 */
    size_t str_off[4];        /* where each starts in strings */
    unsigned seen;            /* bit i: tx_fields[i] was read */
    size_t sig_at, sig_len;   /* the signature's text in the leaf */
    json_t *body;             /* owned */
};

static int field_index(const char *key, size_t key_len)
{
    for (size_t i = 0; i < TX_N_FIELDS; i++)
        if (strlen(tx_fields[i].name) == key_len && memcmp(tx_fields[i].name, key, key_len) == 0)
            return (int)i;
    return -1;
}

/* Takes one member if it is a field with a valid value; anything else (returns 1) sends the
 * text to the general path, which names the mistake exactly as it always has. */
static int take_member(void *ctx, const struct chain_json_member *m)
{
    struct members *f = ctx;
    int i = field_index(m->name, m->name_len);
    const struct field_spec *spec;
    char *dst;

    if (i < 0)
        return 1;
    spec = &tx_fields[i];
    dst = (char *)f->tx + spec->offset;
    f->seen |= 1u << i;
    switch (spec->kind) {
    case FIELD_VERSION:
    case FIELD_TIME:
        if (!json_is_integer(m->value) ||
            (spec->kind == FIELD_VERSION && json_integer_value(m->value) != 1))
            return 1;
        if (spec->kind == FIELD_TIME)
            *(int64_t *)(void *)dst = (int64_t)json_integer_value(m->value);
        json_decref(m->value);
        return 0;
    case FIELD_STRING:
        if (m->str == NULL)
            return 1;
        f->str_off[i - 1] = f->strings.len; /* chain, module, type, org follow "v" */
        chain_buf_put(&f->strings, m->str, m->str_len);
        chain_buf_putc(&f->strings, '\0');
        return f->strings.err != 0;
    case FIELD_B64:
        if (m->str == NULL ||
            chain_b64_decode_public(m->str, m->str_len, (uint8_t *)dst, spec->len) != CHAIN_OK)
            return 1;
        if (strcmp(spec->name, "sig") == 0) {
            f->sig_at = m->str_at; /* base64 has no escapes: the text is the value */
            f->sig_len = m->str_len;
        }
        return 0;
    case FIELD_BODY:
        if (!json_is_object(m->value))
            return 1;
        f->body = m->value;
        return 0;
    }
    return 1;
}

/* Reads a canonical envelope without building a tree of it: each member's value goes straight
 * into tx, only the body becomes Jansson values. Returns 0 with tx complete, or 1 with tx as it
 * was (the general path then reads the text). */
static int parse_canonical(struct chain_tx *tx, const char *buf, size_t len)
{
    struct members f = {.tx = tx};
    const char **strs[4] = {&tx->chain, &tx->module, &tx->type, &tx->org};

    if (chain_json_read_members(buf, len, take_member, &f) != 0 ||
        f.seen != (1u << TX_N_FIELDS) - 1 || f.strings.err != 0)
        goto general;
    if (make_leaf(tx, buf, len, 1) != CHAIN_OK || message_at(tx, f.sig_at, f.sig_len) != 0)
        goto general;
    tx->strings = f.strings.p;
    for (int i = 0; i < 4; i++)
        *strs[i] = tx->strings + f.str_off[i];
    tx->doc = f.body;
    tx->body = f.body;
    chain_merkle_leaf_hash((const uint8_t *)tx->leaf, tx->leaf_len, tx->leaf_hash);
    chain_hex_encode(tx->leaf_hash, sizeof tx->leaf_hash, tx->id_hex);
    return 0;
general:
    free(tx->leaf);
    free(tx->msg);
    chain_buf_free(&f.strings);
    json_decref(f.body);
    memset(tx, 0, sizeof(*tx));
    return 1;
}

int chain_tx_parse_ex(const char *buf, size_t len, struct chain_tx **out, char *detail,
                      size_t detail_cap)
{
    struct chain_tx *tx = NULL;
    int rc, canonical = 0;

    detail_str(detail, detail_cap, "");
    if (len > CHAIN_TX_MAX) {
        detail_str(detail, detail_cap, "tx");
        rc = CHAIN_E_TOO_LARGE;
        goto out;
    }
    tx = calloc(1, sizeof *tx);
    if (tx == NULL) {
        rc = CHAIN_E_NOMEM;
        goto out;
    }
    if (parse_canonical(tx, buf, len) == 0) {
        *out = tx;
        return CHAIN_OK;
    }
    rc = chain_json_read(buf, len, 0, &tx->doc, &canonical);
    if (rc == CHAIN_OK && !json_is_object(tx->doc))
        rc = CHAIN_E_MALFORMED;
    if (rc != CHAIN_OK) {
        detail_str(detail, detail_cap, "tx");
        goto out;
    }
    rc = check_field_set(tx->doc, detail, detail_cap);
    if (rc != CHAIN_OK)
        goto out;
    rc = read_fields(tx, detail, detail_cap);
    if (rc != CHAIN_OK)
        goto out;
    rc = compute_digests(tx, buf, len, canonical);
    if (rc != CHAIN_OK)
        goto out;
    *out = tx;
    tx = NULL;
out:
    chain_tx_free(tx);
    return rc;
}

int chain_tx_parse(const char *buf, size_t len, struct chain_tx **out)
{
    return chain_tx_parse_ex(buf, len, out, NULL, 0);
}

int chain_tx_from_json(const json_t *env, struct chain_tx **out)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    rc = chain_jcs_dump(env, &text, &len);
    if (rc != CHAIN_OK)
        goto out;
    rc = chain_tx_parse(text, len, out);
out:
    free(text);
    return rc;
}

int chain_tx_verify_sig(const struct chain_tx *tx)
{
    if (crypto_sign_verify_detached(tx->sig, (const unsigned char *)tx->msg, tx->msg_len,
                                    tx->signer) != 0)
        return CHAIN_E_BAD_SIG;
    return CHAIN_OK;
}

/* |a - b| <= limit without overflow for any int64 pair: the unsigned difference of the larger
 * minus the smaller is exact. */
static int within(int64_t a, int64_t b, uint64_t limit)
{
    uint64_t d = a >= b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;

    return d <= limit;
}

int chain_tx_verify(const struct chain_tx *tx, const char *chain_origin, int64_t now_ms)
{
    if (tx == NULL || chain_origin == NULL)
        return CHAIN_E_INVAL;
    if (strcmp(tx->chain, chain_origin) != 0)
        return CHAIN_E_WRONG_CHAIN;
    if (!within(tx->time_ms, now_ms, CHAIN_TIME_SKEW_MS))
        return CHAIN_E_TIME_SKEW;
    return chain_tx_verify_sig(tx);
}

/* The envelope must name the key that signs it, or the result could never verify. */
static int check_signer(json_t *env, const uint8_t *sk)
{
    uint8_t named[crypto_sign_PUBLICKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    json_t *v = json_object_get(env, "signer");
    int rc;

    if (v == NULL)
        return CHAIN_E_MISSING_FIELD;
    rc = get_b64(v, named, sizeof named, CHAIN_E_BAD_KEY_LEN);
    if (rc != CHAIN_OK)
        return rc;
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    return memcmp(named, pk, sizeof pk) == 0 ? CHAIN_OK : CHAIN_E_KEY_MISMATCH;
}

int chain_tx_sign(json_t *env, const uint8_t sk[crypto_sign_SECRETKEYBYTES])
{
    uint8_t sig[crypto_sign_BYTES];
    char b64[CHAIN_B64_LEN(crypto_sign_BYTES) + 1];
    char *msg = NULL;
    size_t msg_len = 0;
    int rc;

    if (!json_is_object(env) || sk == NULL) {
        rc = CHAIN_E_INVAL;
        goto out;
    }
    rc = check_signer(env, sk);
    if (rc != CHAIN_OK)
        goto out;
    rc = signed_message(env, &msg, &msg_len);
    if (rc != CHAIN_OK)
        goto out;
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg, msg_len, sk);
    rc = chain_b64_encode(sig, sizeof sig, b64, sizeof b64);
    if (rc != CHAIN_OK)
        goto out;
    if (json_object_set_new(env, "sig", json_string(b64)) != 0)
        rc = CHAIN_E_NOMEM;
out:
    free(msg);
    return rc;
}

json_t *chain_tx_build(const char *origin, const char *module, const char *type, const char *org,
                       const uint8_t pk[crypto_sign_PUBLICKEYBYTES], int64_t time_ms, json_t *body)
{
    uint8_t nonce[CHAIN_TX_NONCE_LEN];
    char pk_b64[CHAIN_B64_LEN(crypto_sign_PUBLICKEYBYTES) + 1];
    char nonce_b64[CHAIN_B64_LEN(CHAIN_TX_NONCE_LEN) + 1];
    json_t *env = NULL;
    int bad = 1;

    if (!json_is_object(body) || pk == NULL || time_ms > CHAIN_INT_MAX || time_ms < -CHAIN_INT_MAX)
        goto out;
    randombytes_buf(nonce, sizeof nonce);
    if (chain_b64_encode(pk, crypto_sign_PUBLICKEYBYTES, pk_b64, sizeof pk_b64) != 0 ||
        chain_b64_encode(nonce, sizeof nonce, nonce_b64, sizeof nonce_b64) != 0)
        goto out;
    env = json_object();
    if (env == NULL)
        goto out;
    /* json_object_set_new fails on a NULL value, so one flag catches allocation failures and
     * NULL or non-UTF-8 strings alike; it releases the value whenever it fails. */
    bad = json_object_set_new(env, "v", json_integer(1));
    bad |= json_object_set_new(env, "chain", json_string(origin));
    bad |= json_object_set_new(env, "module", json_string(module));
    bad |= json_object_set_new(env, "type", json_string(type));
    bad |= json_object_set_new(env, "org", json_string(org));
    bad |= json_object_set_new(env, "signer", json_string(pk_b64));
    bad |= json_object_set_new(env, "nonce", json_string(nonce_b64));
    bad |= json_object_set_new(env, "time", json_integer((json_int_t)time_ms));
    bad |= json_object_set_new(env, "body", body);
    body = NULL; /* stolen by the call above, even when it failed */
out:
    json_decref(body);
    if (bad) {
        json_decref(env);
        env = NULL;
    }
    return env;
}

void chain_tx_free(struct chain_tx *tx)
{
    if (tx == NULL)
        return;
    json_decref(tx->doc);
    free(tx->strings);
    free(tx->leaf);
    free(tx->msg);
    free(tx);
}
