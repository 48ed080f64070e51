/* vc.c — eddsa-jcs-2022 Data Integrity proofs, did:key and base58btc (see vc.h). The algorithms
 * follow the numbered steps of the specification; the unit test holds its worked example
 * (Appendix B.3) byte for byte. */
#include "vc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jcs.h"

#define MC_ED25519_PUB_0 0xed /* multicodec ed25519-pub as an unsigned varint: 0xed 0x01 */
#define MC_ED25519_PUB_1 0x01
#define MULTIKEY_BYTES   (2 + crypto_sign_PUBLICKEYBYTES)

static const char b58_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* ---- base58btc ------------------------------------------------------------------------- */

/* Quadratic schoolbook conversion: the values here are at most a few dozen bytes. */
int chain_b58_encode(const uint8_t *bin, size_t n, char *out, size_t cap)
{
    uint8_t digits[256]; /* base-58 digits, least significant first */
    size_t nd = 0, zeros = 0, len;

    if (n > 180)
        return CHAIN_E_BUFFER; /* 180 bytes need < 250 digits; nothing here is that long */
    while (zeros < n && bin[zeros] == 0)
        zeros++;
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = bin[i];

        for (size_t j = 0; j < nd; j++) {
            carry += (unsigned)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry > 0) {
            digits[nd++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    len = zeros + nd;
    if (len + 1 > cap)
        return CHAIN_E_BUFFER;
    for (size_t i = 0; i < zeros; i++)
        out[i] = '1';
    for (size_t i = 0; i < nd; i++)
        out[zeros + i] = b58_alphabet[digits[nd - 1 - i]];
    out[len] = '\0';
    return CHAIN_OK;
}

static int b58_value(char c)
{
    const char *p = c ? strchr(b58_alphabet, c) : NULL;

    return p ? (int)(p - b58_alphabet) : -1;
}

int chain_b58_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t bytes[256]; /* the value, least significant byte first */
    size_t nb = 0, zeros = 0;

    if (len == 0 || len > 340)
        return len == 0 ? CHAIN_E_MALFORMED : CHAIN_E_BUFFER;
    while (zeros < len && s[zeros] == '1')
        zeros++;
    for (size_t i = zeros; i < len; i++) {
        int v = b58_value(s[i]);
        unsigned carry;

        if (v < 0)
            return CHAIN_E_MALFORMED;
        carry = (unsigned)v;
        for (size_t j = 0; j < nb; j++) {
            carry += (unsigned)bytes[j] * 58;
            bytes[j] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
        while (carry > 0) {
            if (nb == sizeof(bytes))
                return CHAIN_E_BUFFER;
            bytes[nb++] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
    }
    if (zeros + nb > cap)
        return CHAIN_E_BUFFER;
    memset(out, 0, zeros);
    for (size_t i = 0; i < nb; i++)
        out[zeros + i] = bytes[nb - 1 - i];
    *out_len = zeros + nb;
    return CHAIN_OK;
}

/* ---- Multikey and did:key --------------------------------------------------------------- */

int chain_multikey_encode(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *out, size_t cap)
{
    uint8_t mc[MULTIKEY_BYTES] = {MC_ED25519_PUB_0, MC_ED25519_PUB_1};

    if (cap < 2)
        return CHAIN_E_BUFFER;
    memcpy(mc + 2, pk, crypto_sign_PUBLICKEYBYTES);
    out[0] = 'z';
    return chain_b58_encode(mc, sizeof(mc), out + 1, cap - 1);
}

/* Decodes the Multikey mk[0..len). */
static int multikey_decode_n(const char *mk, size_t len, uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
    uint8_t mc[MULTIKEY_BYTES + 8];
    size_t n = 0;

    if (len < 2 || mk[0] != 'z' || chain_b58_decode(mk + 1, len - 1, mc, sizeof(mc), &n) != 0 ||
        n != MULTIKEY_BYTES || mc[0] != MC_ED25519_PUB_0 || mc[1] != MC_ED25519_PUB_1)
        return CHAIN_E_BAD_KEY;
    memcpy(pk, mc + 2, crypto_sign_PUBLICKEYBYTES);
    return CHAIN_OK;
}

int chain_multikey_decode(const char *mk, uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
    return mk ? multikey_decode_n(mk, strlen(mk), pk) : CHAIN_E_BAD_KEY;
}

int chain_didkey_encode(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *out, size_t cap)
{
    if (cap < 9)
        return CHAIN_E_BUFFER;
    memcpy(out, "did:key:", 8);
    return chain_multikey_encode(pk, out + 8, cap - 8);
}

int chain_didkey_vm(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *out, size_t cap)
{
    char mk[CHAIN_MULTIKEY_MAX];
    int n;

    if (chain_multikey_encode(pk, mk, sizeof(mk)) != 0)
        return CHAIN_E_BUFFER;
    n = snprintf(out, cap, "did:key:%s#%s", mk, mk);
    return n > 0 && (size_t)n < cap ? CHAIN_OK : CHAIN_E_BUFFER;
}

int chain_didkey_decode(const char *did, uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
    const char *mk, *hash;
    size_t len;
    uint8_t again[crypto_sign_PUBLICKEYBYTES];

    if (did == NULL || strncmp(did, "did:key:", 8) != 0)
        return CHAIN_E_BAD_KEY;
    mk = did + 8;
    hash = strchr(mk, '#');
    len = hash ? (size_t)(hash - mk) : strlen(mk);
    if (multikey_decode_n(mk, len, pk) != 0)
        return CHAIN_E_BAD_KEY;
    if (hash != NULL && (strlen(hash + 1) != len || strncmp(hash + 1, mk, len) != 0 ||
                         multikey_decode_n(hash + 1, len, again) != 0))
        return CHAIN_E_BAD_KEY;
    return CHAIN_OK;
}

/* ---- dateTime ----------------------------------------------------------------------------- */

/* n decimal digits at s; their value in *v. */
static int digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

int chain_vc_datetime_valid(const char *s)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, se, zh, zm;
    const char *p;

    if (s == NULL || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
        return 0;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    p = s + 19;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9')
            return 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    if (p[0] == 'Z' && p[1] == '\0')
        return 1;
    if ((p[0] == '+' || p[0] == '-') && digits(p + 1, 2, &zh) && p[3] == ':' &&
        digits(p + 4, 2, &zm) && p[6] == '\0')
        return zh <= 14 && zm <= 59;
    return 0;
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int chain_vc_datetime_ms(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se, zh = 0, zm = 0, sign = 0;
    const char *p;
    int64_t secs;

    if (!chain_vc_datetime_valid(s))
        return CHAIN_E_MALFORMED;
    digits(s, 4, &y);
    digits(s + 5, 2, &mo);
    digits(s + 8, 2, &d);
    digits(s + 11, 2, &h);
    digits(s + 14, 2, &mi);
    digits(s + 17, 2, &se);
    p = s + 19;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        digits(p + 1, 2, &zh);
        digits(p + 4, 2, &zm);
    }
    secs = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60 + se;
    *out = (secs - sign * (zh * 3600 + zm * 60)) * 1000;
    return CHAIN_OK;
}

/* ---- hashing, signing, verifying ----------------------------------------------------------- */

static int jcs_sha256(const json_t *v, uint8_t out[CHAIN_HASH_LEN])
{
    char *text = NULL;
    size_t len = 0;
    int rc = chain_jcs_dump(v, &text, &len);

    if (rc != 0)
        return rc;
    crypto_hash_sha256(out, (const unsigned char *)text, len);
    free(text);
    return CHAIN_OK;
}

int chain_vc_hash_data(const json_t *unsecured, const json_t *proof_config,
                       uint8_t out[CHAIN_VC_HASH_DATA])
{
    int rc = jcs_sha256(proof_config, out); /* §3.3.4 step 3: proofConfigHash first */

    return rc != 0 ? rc : jcs_sha256(unsecured, out + CHAIN_HASH_LEN);
}

int chain_vc_anchor_hash(const json_t *vc, uint8_t out[CHAIN_HASH_LEN])
{
    return jcs_sha256(vc, out);
}

int chain_vc_sign(json_t *doc, const uint8_t sk[crypto_sign_SECRETKEYBYTES], const char *created)
{
    char vm[CHAIN_VC_VM_MAX], pv[CHAIN_VC_PROOF_VALUE];
    uint8_t hash[CHAIN_VC_HASH_DATA], sig[crypto_sign_BYTES];
    const json_t *ctx = json_object_get(doc, "@context");
    json_t *proof = NULL;
    int rc;

    if (!json_is_object(doc) || json_object_get(doc, "proof") != NULL ||
        !chain_vc_datetime_valid(created))
        return CHAIN_E_INVAL;
    /* the public key is the second half of a libsodium secret key */
    if (chain_didkey_vm(sk + crypto_sign_SEEDBYTES, vm, sizeof(vm)) != 0)
        return CHAIN_E_BUFFER;
    /* §3.3.1 steps 1–2: the options, and the document's @context */
    proof = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", CHAIN_VC_PROOF_TYPE, "cryptosuite",
                      CHAIN_VC_CRYPTOSUITE, "created", created, "verificationMethod", vm,
                      "proofPurpose", CHAIN_VC_PURPOSE);
    if (proof == NULL)
        return CHAIN_E_NOMEM;
    if (ctx != NULL && json_object_set(proof, "@context", (json_t *)ctx) != 0) {
        rc = CHAIN_E_NOMEM;
        goto out;
    }
    /* steps 3–6: proofConfig, transformation, hashing, serialization */
    if ((rc = chain_vc_hash_data(doc, proof, hash)) != 0)
        goto out;
    crypto_sign_detached(sig, NULL, hash, sizeof(hash), sk);
    /* step 7: proofValue, base58btc Multibase */
    pv[0] = 'z';
    if ((rc = chain_b58_encode(sig, sizeof(sig), pv + 1, sizeof(pv) - 1)) != 0)
        goto out;
    if (json_object_set_new(proof, "proofValue", json_string(pv)) != 0 ||
        json_object_set(doc, "proof", proof) != 0)
        rc = CHAIN_E_NOMEM;
out:
    json_decref(proof);
    return rc;
}

__attribute__((format(printf, 4, 5))) static int fail(int rc, char *why, size_t cap,
                                                      const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && cap > 0) {
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static const char *member_str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* §3.3.2 step 4.1: does doc_ctx start with every value of proof_ctx, in order? A single value
 * (not an array) counts as an array of one. */
static int context_prefix(const json_t *doc_ctx, const json_t *proof_ctx)
{
    size_t nd = json_is_array(doc_ctx) ? json_array_size(doc_ctx) : (doc_ctx != NULL);
    size_t np = json_is_array(proof_ctx) ? json_array_size(proof_ctx) : 1;

    if (np > nd)
        return 0;
    for (size_t i = 0; i < np; i++) {
        const json_t *d = json_is_array(doc_ctx) ? json_array_get(doc_ctx, i) : doc_ctx;
        const json_t *p = json_is_array(proof_ctx) ? json_array_get(proof_ctx, i) : proof_ctx;

        if (!json_equal((json_t *)d, (json_t *)p))
            return 0;
    }
    return 1;
}

int chain_vc_verify(const json_t *secured, uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *why,
                    size_t cap)
{
    const json_t *proof = json_object_get(secured, "proof");
    const char *pv = member_str(proof, "proofValue"), *created;
    json_t *unsecured = NULL, *options = NULL;
    uint8_t sig[crypto_sign_BYTES + 8], hash[CHAIN_VC_HASH_DATA];
    size_t n = 0;
    int rc;

    if (!json_is_object(secured))
        return fail(CHAIN_E_MALFORMED, why, cap, "the credential is not a JSON object");
    if (json_is_array(proof))
        return fail(CHAIN_E_MALFORMED, why, cap, "proof sets are not supported");
    if (!json_is_object(proof) || pv == NULL)
        return fail(CHAIN_E_MALFORMED, why, cap, "the credential has no proof with a proofValue");
    if (strcmp(member_str(proof, "type") ? member_str(proof, "type") : "", CHAIN_VC_PROOF_TYPE) ||
        strcmp(member_str(proof, "cryptosuite") ? member_str(proof, "cryptosuite") : "",
               CHAIN_VC_CRYPTOSUITE))
        return fail(CHAIN_E_MALFORMED, why, cap,
                    "the proof is not a DataIntegrityProof of eddsa-jcs-2022");
    if (strcmp(member_str(proof, "proofPurpose") ? member_str(proof, "proofPurpose") : "",
               CHAIN_VC_PURPOSE) != 0)
        return fail(CHAIN_E_MALFORMED, why, cap, "the proof's purpose is not assertionMethod");
    created = member_str(proof, "created");
    if (json_object_get(proof, "created") != NULL && !chain_vc_datetime_valid(created))
        return fail(CHAIN_E_MALFORMED, why, cap, "the proof's created is not a dateTime");
    if (chain_didkey_decode(member_str(proof, "verificationMethod"), pk) != 0)
        return fail(CHAIN_E_BAD_KEY, why, cap, "the verificationMethod is not an Ed25519 did:key");
    /* step 3: proofBytes */
    if (pv[0] != 'z' || chain_b58_decode(pv + 1, strlen(pv + 1), sig, sizeof(sig), &n) != 0 ||
        n != crypto_sign_BYTES)
        return fail(CHAIN_E_BAD_LENGTH, why, cap, "the proofValue is not base58btc of 64 bytes");
    /* steps 1, 2: the document without proof, the options without proofValue */
    unsecured = json_deep_copy(secured);
    options = json_deep_copy(proof);
    if (unsecured == NULL || options == NULL) {
        rc = fail(CHAIN_E_NOMEM, why, cap, "out of memory");
        goto out;
    }
    json_object_del(unsecured, "proof");
    json_object_del(options, "proofValue");
    /* step 4: the proof's @context */
    if (json_object_get(options, "@context") != NULL) {
        if (!context_prefix(json_object_get(secured, "@context"),
                            json_object_get(options, "@context"))) {
            rc = fail(CHAIN_E_MALFORMED, why, cap,
                      "the credential's @context does not start with the proof's");
            goto out;
        }
        if (json_object_set(unsecured, "@context", json_object_get(options, "@context")) != 0) {
            rc = fail(CHAIN_E_NOMEM, why, cap, "out of memory");
            goto out;
        }
    }
    /* steps 5–8 */
    if ((rc = chain_vc_hash_data(unsecured, options, hash)) != 0) {
        fail(rc, why, cap, "the credential cannot be canonicalised: %s", chain_strerror(rc));
        goto out;
    }
    if (crypto_sign_verify_detached(sig, hash, sizeof(hash), pk) != 0) {
        rc = fail(CHAIN_E_BAD_SIG, why, cap, "the Ed25519 signature does not verify");
        goto out;
    }
    rc = CHAIN_OK;
out:
    json_decref(unsecured);
    json_decref(options);
    return rc;
}
