/* verify_evidence.c — `lianxin verify CERT [--file ORIGINAL]` of an evidence preservation
 * certificate (GET /api/evidence/items/<id>/certificate, docs/LEDGER.md §9): the five ledger
 * checks of the item.preserve tx and of every custody tx (cli_verify_bundle), that they all
 * concern this item and its hash in ledger order with nothing after "destroyed", that the
 * certificate's number and institution are the tx's, and — given the original file — that the
 * file's SHA-256 is the anchored one. The file is read in blocks, never whole. */
#include "verify.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

__attribute__((format(printf, 5, 6))) static void line(FILE *f, int *failed, int ok,
                                                       const char *what, const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(f, "%s %s: %s\n", ok ? CLI_MARK_OK : CLI_MARK_FAIL, what, msg);
    if (!ok)
        *failed = 1;
}

static const char *sget(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

/* SHA-256 of the file at path, in lowercase hex, into hex (65 bytes). Returns 0 or -1. */
static int file_sha256(const char *path, char hex[65])
{
    crypto_hash_sha256_state st;
    unsigned char buf[65536], h[crypto_hash_sha256_BYTES];
    FILE *f = fopen(path, "rb");
    size_t n;
    int rc = 0;

    if (f == NULL)
        return -1;
    crypto_hash_sha256_init(&st);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        crypto_hash_sha256_update(&st, buf, n);
    if (ferror(f))
        rc = -1;
    fclose(f);
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(hex, 65, h, sizeof(h));
    return rc;
}

/* The certificate number of a tx id (as the server derives it). */
static void cert_number(const char *tx_hex, char out[40])
{
    size_t k = (size_t)snprintf(out, 40, "LXE");

    for (size_t i = 0; i < 16 && tx_hex[i]; i++) {
        char c = tx_hex[i];

        if (i % 4 == 0)
            out[k++] = '-';
        out[k++] = (char)(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
    }
    out[k] = '\0';
}

int cli_is_evidence_cert(const json_t *doc)
{
    return strcmp(sget(doc, "type"), "LianxinEvidenceCertificate") == 0;
}

int cli_verify_evidence_cert(const json_t *cert, const struct chain_note_verifier *keys,
                             size_t n_keys, const char *file, FILE *f)
{
    const json_t *ledger = json_object_get(cert, "ledger");
    const json_t *ib = json_object_get(ledger, "item"), *cb = json_object_get(ledger, "custody");
    const json_t *tx = json_object_get(ib, "tx"), *body = json_object_get(tx, "body");
    const char *item_id = sget(body, "item_id"), *sha = sget(body, "sha256");
    char number[40], hex[65];
    int failed = 0, ok;
    json_int_t last_leaf = json_integer_value(json_object_get(ib, "leaf_index"));
    const char *state = "preserved";

    fprintf(f, "item tx %s\n", sget(ib, "tx_id"));
    if (cli_verify_bundle(ib, keys, n_keys, f) != 0)
        failed = 1;
    cert_number(sget(ib, "tx_id"), number);
    ok = strcmp(sget(tx, "module"), "evidence") == 0 &&
         strcmp(sget(tx, "type"), "item.preserve") == 0 && *item_id &&
         strcmp(item_id, sget(cert, "item_id")) == 0 && strcmp(sha, sget(cert, "sha256")) == 0 &&
         strcmp(sget(ib, "tx_id"), sget(cert, "tx_id")) == 0 &&
         strcmp(number, sget(cert, "number")) == 0 &&
         strcmp(sget(tx, "org"), sget(json_object_get(cert, "institution"), "id")) == 0;
    if (ok)
        line(f, &failed, 1, CLI_CHECK_EV_RECORD, "certificate %s: item %s preserved by %s", number,
             item_id, sget(tx, "org"));
    else
        line(f, &failed, 0, CLI_CHECK_EV_RECORD,
             "the certificate's number, item, hash or institution is not the item tx's");
    ok = json_is_array(cb);
    for (size_t i = 0; ok && i < json_array_size(cb); i++) {
        const json_t *b = json_array_get(cb, i), *t = json_object_get(b, "tx");
        const json_t *tb = json_object_get(t, "body");
        json_int_t leaf = json_integer_value(json_object_get(b, "leaf_index"));

        fprintf(f, "custody tx %zu: %s %s\n", i + 1, sget(tb, "event"), sget(b, "tx_id"));
        if (cli_verify_bundle(b, keys, n_keys, f) != 0)
            failed = 1;
        if (strcmp(sget(t, "module"), "evidence") != 0 ||
            strcmp(sget(t, "type"), "item.custody") != 0 ||
            strcmp(sget(tb, "item_id"), item_id) != 0 || strcmp(sget(tb, "sha256"), sha) != 0) {
            line(f, &failed, 0, CLI_CHECK_CUSTODY, "custody tx %zu is not about this item", i + 1);
            ok = 0;
        } else if (leaf <= last_leaf || strcmp(state, "destroyed") == 0) {
            line(f, &failed, 0, CLI_CHECK_CUSTODY,
                 "custody tx %zu is out of ledger order or follows destruction", i + 1);
            ok = 0;
        }
        last_leaf = leaf;
        state = sget(tb, "event");
    }
    if (ok)
        line(f, &failed, 1, CLI_CHECK_CUSTODY, "%zu event(s) in ledger order; last state %s",
             json_array_size(cb), state);
    else if (!json_is_array(cb))
        line(f, &failed, 0, CLI_CHECK_CUSTODY, "the certificate has no custody list");
    if (file == NULL) {
        fprintf(f, "? %s: not checked; give --file ORIGINAL\n", CLI_CHECK_FILE);
    } else if (file_sha256(file, hex) != 0) {
        line(f, &failed, 0, CLI_CHECK_FILE, "cannot read %s", file);
    } else if (strcmp(hex, sha) == 0) {
        line(f, &failed, 1, CLI_CHECK_FILE, "SHA-256 %s is the anchored hash", hex);
    } else {
        line(f, &failed, 0, CLI_CHECK_FILE, "SHA-256 %s is not the anchored %s", hex, sha);
    }
    return failed ? 1 : 0;
}
