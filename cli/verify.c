/* verify.c — `lianxin verify` and cli_verify_bundle: checking one tx offline from its bundle
 * (docs/LEDGER.md §6–§7) with nothing but the validator keys. The identity replay of check 5
 * rebuilds, from the key evidence alone, which key belonged to which principal and when; it is
 * the offline twin of the rules the node applies in modules/core. */
#include "verify.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../chain/merkle.h"
#include "../chain/tx.h"
#include "cli.h"
#include "keys.h"

#define WHY_MAX 400 /* room for one reason */
#define ID_MAX  64  /* longest principal id (LEDGER §3) */

typedef unsigned long long ull; /* for printf of uint64_t without <inttypes.h> noise */

/* An inclusion proof as the bundle carries it. */
struct proof {
    uint64_t leaf_index;                                 /* position of the leaf */
    uint64_t tree_size;                                  /* size of the tree it is proven in */
    uint8_t leaf_hash[CHAIN_HASH_LEN];                   /* RFC 6962 leaf hash */
    uint8_t path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN]; /* audit path, bottom-up */
    size_t path_len;                                     /* entries used in path */
};

/* What check 3 learnt about the checkpoint. */
struct cp_state {
    int readable;               /* cp holds the parsed body (whether or not it is signed) */
    struct chain_checkpoint cp; /* the parsed checkpoint */
};

/* One key as the replay of the key evidence knows it. */
struct kv_key {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES]; /* the Ed25519 public key */
    char principal[ID_MAX + 1];             /* who it belongs to (for ever) */
    uint64_t added;                         /* leaf index of the tx that added it */
    int revoked;                            /* 1 once a key.revoke was replayed */
    uint64_t revoked_at;                    /* leaf index of that key.revoke */
};

/* The identity state rebuilt from the key evidence. */
struct kv {
    struct kv_key *keys;     /* every key added so far (owned array) */
    size_t n_keys, cap_keys; /* used and allocated entries of keys */
    char (*ids)[ID_MAX + 1]; /* every principal registered so far (owned array) */
    size_t n_ids, cap_ids;   /* used and allocated entries of ids */
    int genesis;             /* the genesis tx was replayed */
};

static const char *const org_types[] = {"university", "court",   "notary",  "law_firm",
                                        "publisher",  "charity", "auditor", "market_operator",
                                        "regulator",  NULL};
static const char *const person_types[] = {"student", "donor",  "prosumer",
                                           "author",  "lawyer", NULL};

__attribute__((format(printf, 5, 6))) static void report(FILE *f, int *failed, int ok,
                                                         const char *what, const char *fmt, ...)
{
    char msg[WHY_MAX + 200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(f, "%s %s: %s\n", ok ? CLI_MARK_OK : CLI_MARK_FAIL, what, msg);
    if (!ok)
        *failed = 1;
}

/* Copies s into buf[0..cap) for a report line: control characters become '?', and a long value
 * is cut (at a UTF-8 boundary) with "...". Returns buf. */
static const char *printable(const char *s, char *buf, size_t cap)
{
    size_t i = 0, max = cap > 4 ? cap - 4 : 0;

    for (; s != NULL && *s && i < max; s++)
        buf[i++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    if (s != NULL && *s) {
        while (i > 0 && ((unsigned char)buf[i - 1] & 0xc0) == 0x80)
            i--;
        if (i > 0 && ((unsigned char)buf[i - 1] & 0xc0) == 0xc0)
            i--;
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* The first characters of the base64 of a public key, enough to tell keys apart in a report. */
static const char *key_short(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char out[20])
{
    char b64[CHAIN_B64_LEN(crypto_sign_PUBLICKEYBYTES) + 1];

    if (chain_b64_encode(pk, crypto_sign_PUBLICKEYBYTES, b64, sizeof(b64)) != 0)
        b64[0] = '\0';
    snprintf(out, 20, "%.12s...", b64);
    return out;
}

/* *out = o[k] when it is an integer >= 0. Returns 0 or -1. */
static int get_uint(const json_t *o, const char *k, uint64_t *out)
{
    const json_t *v = json_object_get(o, k);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* out = the 32 bytes that the JSON string v holds in strict base64. Returns 0 or -1. */
static int get_b64_32(const json_t *v, uint8_t out[32])
{
    const char *s = json_string_value(v);

    if (s == NULL)
        return -1;
    return chain_b64_decode_exact(s, json_string_length(v), out, 32) == 0 ? 0 : -1;
}

/* Parses a bundle's proof object. Returns 0, or -1 with why. */
static int proof_parse(const json_t *j, struct proof *p, char *why, size_t cap)
{
    const json_t *path = json_object_get(j, "path");

    if (!json_is_object(j)) {
        snprintf(why, cap, "there is no proof");
        return -1;
    }
    if (get_uint(j, "leaf_index", &p->leaf_index) != 0 ||
        get_uint(j, "tree_size", &p->tree_size) != 0) {
        snprintf(why, cap, "the proof has no leaf_index or tree_size");
        return -1;
    }
    if (get_b64_32(json_object_get(j, "leaf_hash"), p->leaf_hash) != 0) {
        snprintf(why, cap, "the proof's leaf_hash is not base64 of 32 bytes");
        return -1;
    }
    if (!json_is_array(path)) {
        snprintf(why, cap, "the proof has no path");
        return -1;
    }
    if (json_array_size(path) > CHAIN_MERKLE_MAX_PATH) {
        snprintf(why, cap, "the proof's path has %zu entries (at most %d)", json_array_size(path),
                 CHAIN_MERKLE_MAX_PATH);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(path); i++) {
        if (get_b64_32(json_array_get(path, i), p->path[i]) != 0) {
            snprintf(why, cap, "path element %zu is not base64 of 32 bytes", i);
            return -1;
        }
    }
    p->path_len = json_array_size(path);
    return 0;
}

/* Parses tx_json as a tx envelope into *out (new, chain_tx_free; NULL when it does not parse)
 * and checks SHA-256(0x00 || JCS(tx)) against want_hash (NULL: the proof had none) and against
 * tx_id, a JSON string of lowercase hex. Returns 0, or -1 with why. */
static int check_leaf(const json_t *tx_json, const json_t *tx_id, const uint8_t *want_hash,
                      struct chain_tx **out, char *why, size_t cap)
{
    int err;

    *out = NULL;
    if (!json_is_object(tx_json)) {
        snprintf(why, cap, "there is no tx object");
        return -1;
    }
    err = chain_tx_from_json(tx_json, out);
    if (err != 0) {
        *out = NULL;
        snprintf(why, cap, "the tx is not a valid envelope: %s", chain_strerror(err));
        return -1;
    }
    if (want_hash == NULL) {
        snprintf(why, cap, "the proof has no readable leaf_hash to compare with");
        return -1;
    }
    if (memcmp((*out)->leaf_hash, want_hash, CHAIN_HASH_LEN) != 0) {
        snprintf(why, cap, "SHA-256(0x00 || JCS(tx)) = %.16s... is not the proof's leaf_hash",
                 (*out)->id_hex);
        return -1;
    }
    if (!json_is_string(tx_id) || json_string_length(tx_id) != CHAIN_TX_ID_HEX_LEN ||
        strcmp(json_string_value(tx_id), (*out)->id_hex) != 0) {
        snprintf(why, cap, "SHA-256(0x00 || JCS(tx)) = %.16s... is not the tx_id", (*out)->id_hex);
        return -1;
    }
    return 0;
}

/* Finds the text of a signed note by hand (for a note whose signatures fail): everything up to
 * and including the "\n" that starts the last blank line. Returns 0 with *text_len, or -1. */
static int note_text(const char *note, size_t len, size_t *text_len)
{
    for (size_t i = len; i >= 2; i--) {
        if (note[i - 2] == '\n' && note[i - 1] == '\n') {
            *text_len = i - 1;
            return 0;
        }
    }
    return -1;
}

/* Check 3. Fills cps for check 4 and 5. */
static void check_checkpoint(const json_t *bundle, const struct chain_note_verifier *keys,
                             size_t n_keys, struct cp_state *cps, FILE *f, int *failed)
{
    const json_t *note = json_object_get(bundle, "checkpoint");
    const char *text = json_string_value(note);
    size_t len = json_string_length(note), tlen = 0;
    struct chain_note_opened op;
    char name[80];
    int err;

    memset(cps, 0, sizeof(*cps));
    if (text == NULL) {
        report(f, failed, 0, CLI_CHECK_CHECKPOINT, "the bundle has no checkpoint");
        return;
    }
    if (n_keys == 0) {
        err = CHAIN_E_INVAL;
    } else {
        err = chain_note_open(text, len, keys, n_keys, &op);
    }
    /* the body is read even when unsigned, so checks 4 and 5 can say what they can */
    if (err == 0)
        cps->readable = chain_checkpoint_parse(op.text, op.text_len, &cps->cp) == 0;
    else if (note_text(text, len, &tlen) == 0)
        cps->readable = chain_checkpoint_parse(text, tlen, &cps->cp) == 0;
    switch (err) {
    case 0:
        break;
    case CHAIN_E_BAD_SIG:
        report(f, failed, 0, CLI_CHECK_CHECKPOINT, "a validator key's signature does not verify");
        return;
    case CHAIN_E_UNKNOWN_KEY:
        report(f, failed, 0, CLI_CHECK_CHECKPOINT, "not signed by any of the %zu validator keys",
               n_keys);
        return;
    case CHAIN_E_BAD_NOTE:
        report(f, failed, 0, CLI_CHECK_CHECKPOINT,
               "the checkpoint is not a well-formed signed note");
        return;
    default:
        if (n_keys == 0)
            report(f, failed, 0, CLI_CHECK_CHECKPOINT, "no validator keys to check it with");
        else
            report(f, failed, 0, CLI_CHECK_CHECKPOINT, "cannot check: %s", chain_strerror(err));
        return;
    }
    if (!cps->readable) {
        report(f, failed, 0, CLI_CHECK_CHECKPOINT, "signed, but the text is not a checkpoint");
        return;
    }
    name[0] = '\0';
    for (size_t i = 0; i < n_keys; i++) {
        if (op.known_mask & (UINT64_C(1) << i)) {
            char nm[72];

            snprintf(name, sizeof(name), "%s+%08x", printable(keys[i].name, nm, sizeof(nm)),
                     (unsigned)keys[i].key_hash);
            break;
        }
    }
    report(f, failed, 1, CLI_CHECK_CHECKPOINT, "signed by %s%s (tree size %llu, height %llu)", name,
           op.n_valid > 1 ? " and others" : "", (ull)cps->cp.size, (ull)cps->cp.height);
}

/* Does p prove its leaf hash against the checkpoint? Also requires the same tree size. Returns 0,
 * or -1 with why. */
static int check_inclusion(const struct proof *p, const struct cp_state *cps, char *why, size_t cap)
{
    if (!cps->readable) {
        snprintf(why, cap, "there is no readable checkpoint to check against");
        return -1;
    }
    if (p->tree_size != cps->cp.size) {
        snprintf(why, cap, "the proof is for tree size %llu, the checkpoint for %llu",
                 (ull)p->tree_size, (ull)cps->cp.size);
        return -1;
    }
    if (chain_merkle_inclusion_verify(p->leaf_index, p->tree_size, p->leaf_hash,
                                      (const uint8_t(*)[CHAIN_HASH_LEN])p->path, p->path_len,
                                      cps->cp.root) != 0) {
        snprintf(why, cap, "the audit path does not lead from leaf %llu to the checkpoint's root",
                 (ull)p->leaf_index);
        return -1;
    }
    return 0;
}

/* ---- identity replay (LEDGER §3) ------------------------------------------------------- */

static int id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > ID_MAX || strcmp(s, "admin") == 0)
        return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int in_list(const char *s, const char *const *list)
{
    for (; s != NULL && *list != NULL; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static struct kv_key *kv_find_key(struct kv *kv, const uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
    for (size_t i = 0; i < kv->n_keys; i++)
        if (memcmp(kv->keys[i].pk, pk, crypto_sign_PUBLICKEYBYTES) == 0)
            return &kv->keys[i];
    return NULL;
}

static int kv_has_principal(const struct kv *kv, const char *id)
{
    for (size_t i = 0; i < kv->n_ids; i++)
        if (strcmp(kv->ids[i], id) == 0)
            return 1;
    return 0;
}

/* Records principal id (at most ID_MAX bytes). Returns 0 or -1 (out of memory). */
static int kv_add_principal(struct kv *kv, const char *id)
{
    if (kv->n_ids == kv->cap_ids) {
        size_t cap = kv->cap_ids ? kv->cap_ids * 2 : 16;
        void *n = realloc(kv->ids, cap * sizeof(*kv->ids));

        if (n == NULL)
            return -1;
        kv->ids = n;
        kv->cap_ids = cap;
    }
    snprintf(kv->ids[kv->n_ids++], ID_MAX + 1, "%s", id);
    return 0;
}

/* Records key pk of principal, added at leaf at. Returns 0 or -1 (out of memory). */
static int kv_add_key(struct kv *kv, const uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                      const char *principal, uint64_t at)
{
    struct kv_key *k;

    if (kv->n_keys == kv->cap_keys) {
        size_t cap = kv->cap_keys ? kv->cap_keys * 2 : 16;
        void *n = realloc(kv->keys, cap * sizeof(*kv->keys));

        if (n == NULL)
            return -1;
        kv->keys = n;
        kv->cap_keys = cap;
    }
    k = &kv->keys[kv->n_keys++];
    memset(k, 0, sizeof(*k));
    memcpy(k->pk, pk, crypto_sign_PUBLICKEYBYTES);
    snprintf(k->principal, sizeof(k->principal), "%s", principal);
    k->added = at;
    return 0;
}

static void kv_free(struct kv *kv)
{
    free(kv->keys);
    free(kv->ids);
}

/* Is pk authorised for principal at leaf index at (added below at, not revoked below at)?
 * Returns 1, or 0 with why. */
static int kv_authorised(struct kv *kv, const uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                         const char *principal, uint64_t at, char *why, size_t cap)
{
    struct kv_key *k = kv_find_key(kv, pk);
    char ks[20], p1[72], p2[72];

    if (k == NULL) {
        snprintf(why, cap, "key %s is not registered by any tx of the key evidence",
                 key_short(pk, ks));
        return 0;
    }
    if (strcmp(k->principal, principal) != 0) {
        snprintf(why, cap, "key %s belongs to %s, not to %s", key_short(pk, ks),
                 printable(k->principal, p1, sizeof(p1)), printable(principal, p2, sizeof(p2)));
        return 0;
    }
    if (k->added >= at) {
        snprintf(why, cap, "key %s was added at leaf %llu, not before leaf %llu", key_short(pk, ks),
                 (ull)k->added, (ull)at);
        return 0;
    }
    if (k->revoked && k->revoked_at < at) {
        snprintf(why, cap, "key %s of %s was revoked at leaf %llu, before leaf %llu",
                 key_short(pk, ks), printable(principal, p1, sizeof(p1)), (ull)k->revoked_at,
                 (ull)at);
        return 0;
    }
    return 1;
}

/* out = the key in body[name]. Returns 0 or -1. */
static int body_key(const json_t *body, const char *name, uint8_t out[crypto_sign_PUBLICKEYBYTES])
{
    return get_b64_32(json_object_get(body, name), out);
}

/* Writes text to why[0..cap) and returns its length (cut to cap - 1), so a reason can follow. */
static size_t prefix(char *why, size_t cap, const char *text)
{
    size_t n = strlen(text);

    if (n >= cap)
        n = cap - 1;
    memcpy(why, text, n);
    why[n] = '\0';
    return n;
}

/* Replays one identity tx found at leaf index at, enforcing LEDGER §3. Returns 0, or -1 with
 * why (a broken rule, or out of memory). */
static int kv_apply(struct kv *kv, const struct chain_tx *tx, uint64_t at, char *why, size_t cap)
{
    const json_t *b = tx->body;
    const char *id = json_string_value(json_object_get(b, "id"));
    const char *principal = json_string_value(json_object_get(b, "principal"));
    const char *type = json_string_value(json_object_get(b, "type"));
    uint8_t key[crypto_sign_PUBLICKEYBYTES];
    char p1[72];
    struct kv_key *k;
    size_t off;

    if (strcmp(tx->module, "core") != 0) {
        snprintf(why, cap, "it is not a core identity tx (module %s)",
                 printable(tx->module, p1, sizeof(p1)));
        return -1;
    }
    if (strcmp(tx->type, "genesis") == 0) {
        if (at != 0 || kv->genesis) {
            snprintf(why, cap, "a genesis tx is only valid as leaf 0");
            return -1;
        }
        if (strcmp(tx->org, "admin") != 0 || body_key(b, "admin_key", key) != 0 ||
            memcmp(key, tx->signer, sizeof(key)) != 0) {
            snprintf(why, cap, "the genesis tx is not signed by its admin_key for admin");
            return -1;
        }
        kv->genesis = 1;
        if (kv_add_principal(kv, "admin") != 0 || kv_add_key(kv, key, "admin", at) != 0)
            goto nomem;
        return 0;
    }
    if (!kv->genesis) {
        snprintf(why, cap, "the key evidence does not start with the genesis tx (leaf 0)");
        return -1;
    }
    if (strcmp(tx->type, "org.register") == 0) {
        if (strcmp(tx->org, "admin") != 0) {
            snprintf(why, cap, "org.register whose org is not admin");
            return -1;
        }
        off = prefix(why, cap, "org.register not signed by an admin key: ");
        if (!kv_authorised(kv, tx->signer, "admin", at, why + off, cap - off))
            return -1;
        if (!id_valid(id) || !in_list(type, org_types) || body_key(b, "key", key) != 0) {
            snprintf(why, cap, "org.register with a malformed id, type or key");
            return -1;
        }
    } else if (strcmp(tx->type, "principal.register") == 0) {
        if (!id_valid(id) || !in_list(type, person_types) || body_key(b, "key", key) != 0 ||
            strcmp(tx->org, id) != 0 || memcmp(key, tx->signer, sizeof(key)) != 0) {
            snprintf(why, cap, "principal.register that is malformed or not self-signed");
            return -1;
        }
    } else if (strcmp(tx->type, "key.add") == 0 || strcmp(tx->type, "key.revoke") == 0) {
        if (principal == NULL || !kv_has_principal(kv, principal) || body_key(b, "key", key) != 0) {
            snprintf(why, cap, "%s for an unknown principal, or without a key", tx->type);
            return -1;
        }
        if (strcmp(tx->org, principal) != 0 && strcmp(tx->org, "admin") != 0) {
            snprintf(why, cap, "%s for %s whose org is neither %s nor admin", tx->type,
                     printable(principal, p1, sizeof(p1)), p1);
            return -1;
        }
        off = prefix(why, cap, "not signed by an authorised key: ");
        if (!kv_authorised(kv, tx->signer, tx->org, at, why + off, cap - off))
            return -1;
        if (strcmp(tx->type, "key.revoke") == 0) {
            k = kv_find_key(kv, key);
            if (k == NULL || strcmp(k->principal, principal) != 0 || k->revoked) {
                snprintf(why, cap, "key.revoke of a key that is not active for %s",
                         printable(principal, p1, sizeof(p1)));
                return -1;
            }
            k->revoked = 1;
            k->revoked_at = at;
            return 0;
        }
        id = principal; /* key.add: the key joins an existing principal */
    } else {
        snprintf(why, cap, "it is not an identity tx (type %s)",
                 printable(tx->type, p1, sizeof(p1)));
        return -1;
    }
    /* org.register, principal.register, key.add: a key belongs to one principal, ever */
    if (kv_find_key(kv, key) != NULL) {
        snprintf(why, cap, "%s of a key that was registered before", tx->type);
        return -1;
    }
    if (strcmp(tx->type, "key.add") != 0) {
        if (kv_has_principal(kv, id)) {
            snprintf(why, cap, "%s of id %s that exists", tx->type, id);
            return -1;
        }
        if (kv_add_principal(kv, id) != 0)
            goto nomem;
    }
    if (kv_add_key(kv, key, id, at) != 0)
        goto nomem;
    return 0;

nomem:
    snprintf(why, cap, "out of memory");
    return -1;
}

/* Decides whether tx, found at leaf index at, was signed by a key authorised for its org, given
 * the identity state replayed from the evidence below at. Returns 1, or 0 with why. */
static int tx_authorised(struct kv *kv, const struct chain_tx *tx, uint64_t at, char *why,
                         size_t cap)
{
    const char *id = json_string_value(json_object_get(tx->body, "id"));
    uint8_t key[crypto_sign_PUBLICKEYBYTES];

    if (strcmp(tx->module, "core") == 0 && strcmp(tx->type, "genesis") == 0) {
        if (at == 0 && strcmp(tx->org, "admin") == 0 && body_key(tx->body, "admin_key", key) == 0 &&
            memcmp(key, tx->signer, sizeof(key)) == 0)
            return 1;
        snprintf(why, cap, "a genesis tx must be leaf 0, signed by its own admin_key");
        return 0;
    }
    if (strcmp(tx->module, "core") == 0 && strcmp(tx->type, "principal.register") == 0) {
        if (id != NULL && strcmp(tx->org, id) == 0 && body_key(tx->body, "key", key) == 0 &&
            memcmp(key, tx->signer, sizeof(key)) == 0 && kv_find_key(kv, key) == NULL)
            return 1;
        snprintf(why, cap, "a principal.register must be signed by the new key it registers");
        return 0;
    }
    return kv_authorised(kv, tx->signer, tx->org, at, why, cap);
}

/* Check 5: verifies every key evidence entry, replays them and decides for tx at leaf at.
 * Returns 0, or -1 with why. *note gets a remark for a success line (a later revocation). */
static int check_keys(const json_t *evidence, const struct chain_tx *tx, uint64_t at,
                      const struct cp_state *cps, char *note, size_t note_cap, char *why,
                      size_t cap)
{
    struct kv kv = {0};
    struct proof *p = NULL;
    struct chain_tx *etx = NULL;
    char sub[WHY_MAX / 2], p1[72];
    uint64_t prev = 0, e_at = 0;
    int decided = 0, rc = -1;

    note[0] = '\0';
    if (!json_is_array(evidence)) {
        snprintf(why, cap, "the bundle has no key_evidence list");
        goto out;
    }
    p = malloc(sizeof(*p));
    if (p == NULL) {
        snprintf(why, cap, "out of memory");
        goto out;
    }
    for (size_t i = 0; i <= json_array_size(evidence); i++) {
        const json_t *e = json_array_get(evidence, i);

        if (i == json_array_size(evidence))
            e_at = UINT64_MAX; /* past the end: decide if not yet done */
        else if (get_uint(e, "leaf_index", &e_at) != 0) {
            snprintf(why, cap, "key evidence #%zu has no leaf_index", i);
            goto out;
        }
        if (!decided && e_at >= at) {
            if (!tx_authorised(&kv, tx, at, sub, sizeof(sub))) {
                snprintf(why, cap, "signer not authorised for %s at leaf %llu: %s",
                         printable(tx->org, p1, sizeof(p1)), (ull)at, sub);
                goto out;
            }
            decided = 1;
        }
        if (i == json_array_size(evidence))
            break;
        if (i > 0 && e_at <= prev) {
            snprintf(why, cap, "key evidence #%zu (leaf %llu) is not in leaf order", i, (ull)e_at);
            goto out;
        }
        prev = e_at;
        chain_tx_free(etx);
        etx = NULL;
        if (proof_parse(json_object_get(e, "proof"), p, sub, sizeof(sub)) != 0 ||
            check_leaf(json_object_get(e, "tx"), json_object_get(e, "tx_id"), p->leaf_hash, &etx,
                       sub, sizeof(sub)) != 0) {
            snprintf(why, cap, "key evidence #%zu (leaf %llu): %s", i, (ull)e_at, sub);
            goto out;
        }
        if (p->leaf_index != e_at) {
            snprintf(why, cap, "key evidence #%zu: its proof is for leaf %llu, not %llu", i,
                     (ull)p->leaf_index, (ull)e_at);
            goto out;
        }
        if (chain_tx_verify_sig(etx) != 0) {
            snprintf(why, cap, "key evidence #%zu (leaf %llu): the tx signature does not verify", i,
                     (ull)e_at);
            goto out;
        }
        if (check_inclusion(p, cps, sub, sizeof(sub)) != 0) {
            snprintf(why, cap, "key evidence #%zu (leaf %llu): %s", i, (ull)e_at, sub);
            goto out;
        }
        if (strcmp(etx->chain, cps->cp.origin) != 0) {
            snprintf(why, cap, "key evidence #%zu (leaf %llu) is for another chain", i, (ull)e_at);
            goto out;
        }
        if (kv_apply(&kv, etx, e_at, sub, sizeof(sub)) != 0) {
            snprintf(why, cap, "key evidence #%zu (leaf %llu) breaks the identity rules: %s", i,
                     (ull)e_at, sub);
            goto out;
        }
    }
    {
        struct kv_key *k = kv_find_key(&kv, tx->signer);

        if (k != NULL && k->revoked && k->revoked_at >= at)
            snprintf(note, note_cap,
                     "; the key was revoked later, at leaf %llu, which leaves "
                     "this tx valid",
                     (ull)k->revoked_at);
    }
    rc = 0;

out:
    chain_tx_free(etx);
    free(p);
    kv_free(&kv);
    return rc;
}

int cli_verify_bundle(const json_t *bundle, const struct chain_note_verifier *keys, size_t n_keys,
                      FILE *f)
{
    const json_t *pj = json_object_get(bundle, "proof");
    struct chain_tx *tx = NULL;
    struct proof *p = NULL;
    struct cp_state cps;
    uint8_t want[CHAIN_HASH_LEN];
    char why[WHY_MAX], pwhy[WHY_MAX], note[200], p1[72], p2[72];
    uint64_t bundle_index;
    int failed = 0, have_proof;

    p = malloc(sizeof(*p));
    if (p == NULL) {
        fprintf(f, "%s %s: out of memory\n", CLI_MARK_FAIL, CLI_CHECK_LEAF);
        return 1;
    }
    have_proof = proof_parse(pj, p, pwhy, sizeof(pwhy)) == 0;

    /* 1. leaf hash */
    if (check_leaf(json_object_get(bundle, "tx"), json_object_get(bundle, "tx_id"),
                   get_b64_32(json_object_get(pj, "leaf_hash"), want) == 0 ? want : NULL, &tx, why,
                   sizeof(why)) == 0)
        report(f, &failed, 1, CLI_CHECK_LEAF, "tx %s", tx->id_hex);
    else
        report(f, &failed, 0, CLI_CHECK_LEAF, "%s", why);

    /* 2. tx signature */
    if (tx == NULL)
        report(f, &failed, 0, CLI_CHECK_SIG, "there is no readable tx to check");
    else if (chain_tx_verify_sig(tx) != 0)
        report(f, &failed, 0, CLI_CHECK_SIG, "the signature does not verify with the signer key");
    else
        report(f, &failed, 1, CLI_CHECK_SIG, "signed by %s for %s", key_short(tx->signer, p1),
               printable(tx->org, p2, sizeof(p2)));

    /* 3. checkpoint signature */
    check_checkpoint(bundle, keys, n_keys, &cps, f, &failed);

    /* 4. inclusion */
    if (!have_proof) {
        report(f, &failed, 0, CLI_CHECK_INCLUSION, "%s", pwhy);
    } else if (json_object_get(bundle, "leaf_index") != NULL &&
               (get_uint(bundle, "leaf_index", &bundle_index) != 0 ||
                bundle_index != p->leaf_index)) {
        report(f, &failed, 0, CLI_CHECK_INCLUSION,
               "the bundle's leaf_index is not the proof's (%llu)", (ull)p->leaf_index);
    } else if (tx != NULL && cps.readable && strcmp(tx->chain, cps.cp.origin) != 0) {
        report(f, &failed, 0, CLI_CHECK_INCLUSION, "the tx is for chain %s, the checkpoint for %s",
               printable(tx->chain, p1, sizeof(p1)), printable(cps.cp.origin, p2, sizeof(p2)));
    } else if (check_inclusion(p, &cps, why, sizeof(why)) != 0) {
        report(f, &failed, 0, CLI_CHECK_INCLUSION, "%s", why);
    } else {
        report(f, &failed, 1, CLI_CHECK_INCLUSION, "leaf %llu of the tree of size %llu",
               (ull)p->leaf_index, (ull)p->tree_size);
    }

    /* 5. key authorisation */
    if (tx == NULL)
        report(f, &failed, 0, CLI_CHECK_KEYS, "there is no readable tx to check");
    else if (!have_proof)
        report(f, &failed, 0, CLI_CHECK_KEYS, "the tx's leaf index is not proven");
    else if (!cps.readable)
        report(f, &failed, 0, CLI_CHECK_KEYS, "there is no readable checkpoint to check against");
    else if (check_keys(json_object_get(bundle, "key_evidence"), tx, p->leaf_index, &cps, note,
                        sizeof(note), why, sizeof(why)) != 0)
        report(f, &failed, 0, CLI_CHECK_KEYS, "%s", why);
    else
        report(f, &failed, 1, CLI_CHECK_KEYS, "key %s was authorised for %s at leaf %llu%s",
               key_short(tx->signer, p1), printable(tx->org, p2, sizeof(p2)), (ull)p->leaf_index,
               note);

    chain_tx_free(tx);
    free(p);
    return failed ? 1 : 0;
}

static void verify_usage(FILE *f)
{
    fputs("usage: lianxin verify BUNDLE --keys FILE|URL [--url URL] [--file ORIGINAL]\n"
          "\n"
          "Checks offline that the tx in BUNDLE (the JSON of GET /api/chain/bundle/<tx_id>; '-'\n"
          "for standard input) is in the log: its leaf hash, its signature, the checkpoint's\n"
          "signature by a validator key, the inclusion proof, and that its signer's key was\n"
          "authorised for its org at its position. The validator keys come from FILE (one\n"
          "verifier key per line) or, given a node's URL, from URL/api/chain/keys (the only\n"
          "network access). Prints one line per check; exit 0 when all hold, 1 when one fails,\n"
          "2 on a usage or I/O error.\n"
          "\n"
          "A credential bundle {\"credential\",\"ledger\"} (GET /api/edu/credentials/<id>/bundle)\n"
          "is recognised: its eddsa-jcs-2022 proof, the ledger checks of its anchor tx, the\n"
          "anchored hash, the issuer's key and admission as a university, and its validity\n"
          "period are checked too. Revocation is asked of the node at --url URL (by default the\n"
          "URL given to --keys); with neither it is reported as not checked.\n"
          "\n"
          "An evidence certificate (GET /api/evidence/items/<id>/certificate) is recognised:\n"
          "the item tx and every custody tx are checked, and with --file ORIGINAL the file's\n"
          "SHA-256 is compared with the anchored hash.\n",
          f);
}

int cli_cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"keys", required_argument, NULL, 'k'},
        {"url", required_argument, NULL, 'u'},
        {"file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct chain_note_verifier keys[CLI_KEYS_MAX];
    const char *keys_spec = NULL, *node_url = NULL, *file = NULL, *path;
    json_error_t jerr;
    json_t *bundle = NULL;
    char *text = NULL;
    size_t len = 0, n_keys = 0;
    int c, rc = CLI_EXIT_USAGE;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            keys_spec = optarg;
            break;
        case 'u':
            node_url = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'h':
            verify_usage(stdout);
            return CLI_EXIT_OK;
        default:
            verify_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (keys_spec == NULL || optind != argc - 1) {
        verify_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    path = argv[optind];
    text = cli_read_file(path, &len);
    if (text == NULL)
        goto out;
    if (cli_keys_load(keys_spec, keys, CLI_KEYS_MAX, &n_keys) != 0)
        goto out;
    bundle = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(bundle)) {
        printf("%s bundle: %s is not a JSON bundle object (%s)\n", CLI_MARK_FAIL, path,
               bundle == NULL ? jerr.text : "another JSON value");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (cli_is_evidence_cert(bundle)) {
        rc = cli_verify_evidence_cert(bundle, keys, n_keys, file, stdout) == 0 ? CLI_EXIT_OK
                                                                               : CLI_EXIT_FAIL;
        printf(rc == CLI_EXIT_OK ? "verified: the evidence was preserved as certified%s\n"
                                 : "NOT verified%s\n",
               file == NULL ? " (the file itself was not checked)" : "");
    } else if (json_is_object(json_object_get(bundle, "credential")) &&
               json_object_get(bundle, "ledger") != NULL) {
        struct timespec now;
        int v;

        if (node_url == NULL && cli_is_url(keys_spec))
            node_url = keys_spec;
        clock_gettime(CLOCK_REALTIME, &now);
        v = cli_verify_edu_bundle(bundle, keys, n_keys, node_url,
                                  (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, stdout);
        rc = v == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        printf(v == 0 ? "verified: a genuine credential, anchored on the ledger by its university\n"
               : v == 2 ? "REVOKED: the credential is genuine but its university revoked it\n"
                        : "NOT verified\n");
    } else {
        rc = cli_verify_bundle(bundle, keys, n_keys, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        printf(rc == CLI_EXIT_OK ? "verified: the tx is in the log, signed by an authorised key\n"
                                 : "NOT verified\n");
    }
    if (fflush(stdout) != 0)
        rc = CLI_EXIT_USAGE;

out:
    json_decref(bundle);
    free(text);
    return rc;
}
