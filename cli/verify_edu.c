/* verify_edu.c — `lianxin verify` of an edu credential bundle {"credential","ledger"}
 * (docs/LEDGER.md §8): the credential's own eddsa-jcs-2022 proof, the five ledger checks of its
 * anchor tx (cli_verify_bundle), and what ties the two together — the anchored hash is SHA-256
 * of the credential's JCS form, the credential's key is the tx's signer, and the signer's org
 * was admitted as a university under the issuer's name. Revocation needs a node: asked when one
 * is named, else reported as not checked. */
#include "verify.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../chain/tx.h"
#include "../chain/vc.h"
#include "http.h"

#define WHY_MAX 400

__attribute__((format(printf, 5, 6))) static void line(FILE *f, int *failed, int ok,
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

static const char *sget(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

static const char *issuer_id(const json_t *vc)
{
    const json_t *is = json_object_get(vc, "issuer");

    return json_is_string(is) ? json_string_value(is) : sget(is, "id");
}

/* The org.register of org among the (already verified) key evidence, or NULL. */
static const json_t *registration(const json_t *evidence, const char *org)
{
    for (size_t i = 0; i < json_array_size(evidence); i++) {
        const json_t *tx = json_object_get(json_array_get(evidence, i), "tx");

        if (strcmp(sget(tx, "module"), "core") == 0 &&
            strcmp(sget(tx, "type"), "org.register") == 0 &&
            strcmp(sget(json_object_get(tx, "body"), "id"), org) == 0)
            return json_object_get(tx, "body");
    }
    return NULL;
}

/* Asks node_url for the revocation status of urn (a urn:uuid:). Prints the line. */
static void revocation(FILE *f, int *revoked, const char *node_url, const char *urn)
{
    char path[160];
    struct cli_http_resp r;
    json_t *doc = NULL;
    char *url;

    if (node_url == NULL) {
        fprintf(f, "? %s: not checked (offline); give --url URL to ask a node\n",
                CLI_CHECK_REVOCATION);
        return;
    }
    if (strncmp(urn, "urn:uuid:", 9) != 0 || strlen(urn) > 60) {
        line(f, revoked, 0, CLI_CHECK_REVOCATION, "the credential has no urn:uuid id");
        return;
    }
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/status", urn + 9);
    url = cli_url_join(node_url, path);
    if (url == NULL || cli_http_get(url, &r) != 0) {
        fprintf(f, "? %s: not checked (%s)\n", CLI_CHECK_REVOCATION, url ? r.err : "out of memory");
        if (url)
            cli_http_resp_free(&r);
        free(url);
        return;
    }
    doc = r.status == 200 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    if (r.status == 404)
        line(f, revoked, 0, CLI_CHECK_REVOCATION, "the node does not know this credential");
    else if (doc == NULL)
        fprintf(f, "? %s: not checked (the node answered %ld)\n", CLI_CHECK_REVOCATION, r.status);
    else if (strcmp(sget(doc, "status"), "revoked") == 0)
        line(f, revoked, 0, CLI_CHECK_REVOCATION, "revoked on %s: %s",
             sget(json_object_get(doc, "revoked"), "date"),
             sget(json_object_get(doc, "revoked"), "reason"));
    else
        line(f, revoked, 1, CLI_CHECK_REVOCATION, "not revoked, says %s", node_url);
    json_decref(doc);
    cli_http_resp_free(&r);
    free(url);
}

int cli_verify_edu_bundle(const json_t *bundle, const struct chain_note_verifier *keys,
                          size_t n_keys, const char *node_url, int64_t now_ms, FILE *f)
{
    const json_t *vc = json_object_get(bundle, "credential");
    const json_t *ledger = json_object_get(bundle, "ledger");
    const json_t *reg;
    struct chain_tx *tx = NULL;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], did_pk[crypto_sign_PUBLICKEYBYTES], hash[32];
    char why[WHY_MAX], b64[CHAIN_B64_LEN(32) + 1];
    const char *from = sget(vc, "validFrom"), *until = sget(vc, "validUntil");
    const char *name = sget(json_object_get(vc, "issuer"), "name");
    int64_t t;
    int failed = 0, revoked = 0, sig_ok, ledger_ok;

    /* the credential's own proof */
    memset(pk, 0, sizeof(pk));
    sig_ok = chain_vc_verify(vc, pk, why, sizeof(why)) == 0;
    if (sig_ok &&
        (chain_didkey_decode(issuer_id(vc), did_pk) != 0 || memcmp(did_pk, pk, sizeof(pk)) != 0)) {
        sig_ok = 0;
        snprintf(why, sizeof(why), "the proof's key is not the issuer's did:key");
    }
    if (sig_ok)
        line(f, &failed, 1, CLI_CHECK_VC_SIG, "eddsa-jcs-2022 by %.60s", issuer_id(vc));
    else
        line(f, &failed, 0, CLI_CHECK_VC_SIG, "%s", why);

    /* the anchor tx on the ledger: the five checks of any bundle */
    ledger_ok = cli_verify_bundle(ledger, keys, n_keys, f) == 0;
    if (!ledger_ok)
        failed = 1;

    /* what ties them */
    if (!json_is_object(json_object_get(ledger, "tx")) ||
        chain_tx_from_json(json_object_get(ledger, "tx"), &tx) != 0) {
        tx = NULL;
        line(f, &failed, 0, CLI_CHECK_ANCHOR, "there is no readable anchor tx");
        line(f, &failed, 0, CLI_CHECK_ISSUER_KEY, "there is no readable anchor tx");
        line(f, &failed, 0, CLI_CHECK_UNIVERSITY, "there is no readable anchor tx");
    } else {
        if (chain_vc_anchor_hash(vc, hash) != 0 || chain_b64_encode(hash, 32, b64, sizeof(b64)))
            line(f, &failed, 0, CLI_CHECK_ANCHOR, "the credential cannot be canonicalised");
        else if (strcmp(tx->module, "edu") != 0 || strcmp(tx->type, "credential.issue") != 0)
            line(f, &failed, 0, CLI_CHECK_ANCHOR, "the tx is not an edu credential.issue");
        else if (strcmp(sget(tx->body, "credential_id"), sget(vc, "id")) != 0)
            line(f, &failed, 0, CLI_CHECK_ANCHOR, "the tx anchors another credential id");
        else if (strcmp(sget(tx->body, "hash"), b64) != 0)
            line(f, &failed, 0, CLI_CHECK_ANCHOR,
                 "SHA-256(JCS(credential)) = %.12s... is not the anchored %.12s...", b64,
                 sget(tx->body, "hash"));
        else
            line(f, &failed, 1, CLI_CHECK_ANCHOR, "the tx anchors SHA-256(JCS(credential)) = %s",
                 b64);
        if (memcmp(pk, tx->signer, sizeof(pk)) != 0)
            line(f, &failed, 0, CLI_CHECK_ISSUER_KEY,
                 "the credential is signed with another key than its anchor tx");
        else
            line(f, &failed, 1, CLI_CHECK_ISSUER_KEY,
                 "the credential's key is the anchor tx's signer, for %.64s", tx->org);
        reg = registration(json_object_get(ledger, "key_evidence"), tx->org);
        if (!ledger_ok)
            line(f, &failed, 0, CLI_CHECK_UNIVERSITY,
                 "cannot be established: the ledger checks failed");
        else if (reg == NULL)
            line(f, &failed, 0, CLI_CHECK_UNIVERSITY, "the evidence lacks the admission of %.64s",
                 tx->org);
        else if (strcmp(sget(reg, "type"), "university") != 0)
            line(f, &failed, 0, CLI_CHECK_UNIVERSITY,
                 "%.64s was admitted as %.32s, not a university", tx->org, sget(reg, "type"));
        else if (strcmp(sget(reg, "name"), name) != 0)
            line(f, &failed, 0, CLI_CHECK_UNIVERSITY,
                 "the issuer name is not the registered name \"%.100s\"", sget(reg, "name"));
        else
            line(f, &failed, 1, CLI_CHECK_UNIVERSITY, "%.100s (%.64s), admitted as a university",
                 name, tx->org);
    }

    /* validity period */
    if (*from && chain_vc_datetime_ms(from, &t) != 0)
        line(f, &failed, 0, CLI_CHECK_VALIDITY, "validFrom is not a date and time");
    else if (*from && t > now_ms)
        line(f, &failed, 0, CLI_CHECK_VALIDITY, "not valid before %.40s", from);
    else if (*until && chain_vc_datetime_ms(until, &t) != 0)
        line(f, &failed, 0, CLI_CHECK_VALIDITY, "validUntil is not a date and time");
    else if (*until && t < now_ms)
        line(f, &failed, 0, CLI_CHECK_VALIDITY, "expired on %.40s", until);
    else
        line(f, &failed, 1, CLI_CHECK_VALIDITY, "valid from %.40s%s%.40s",
             *from ? from : "the start", *until ? " until " : "", until);

    revocation(f, &revoked, node_url, sget(vc, "id"));
    chain_tx_free(tx);
    return failed ? 1 : revoked ? 2 : 0;
}
