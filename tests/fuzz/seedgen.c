/* seedgen.c — writes the generated part of the seed corpus (tests/fuzz/corpus/): real tx
 * envelopes signed with the targets' fixed key for their chain and clock, checkpoint notes
 * signed and cosigned with it, a signed credential, one path per route of the real route table,
 * and Merkle inputs. The hand-written seeds (JSON, CSV, bodies) are plain files next to these.
 * Built on request only (make -f tests/fuzz/fuzz.mk build/fuzz/bin/seedgen), run from the
 * repository root; its output is committed, so a fuzz run never needs it. */
#include "fuzz.h"

#include <errno.h>
#include <sys/stat.h>

#include "../../chain/jcs.h"
#include "../../chain/note.h"
#include "../../chain/tx.h"
#include "../../chain/vc.h"
#include "../../server/router.h"
#include "../../server/srv.h"

#define CORPUS "tests/fuzz/corpus/"

static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

static void put(const char *target, const char *name, const void *data, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, CORPUS "%s", target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        abort();
    snprintf(path, sizeof path, CORPUS "%s/%s", target, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        abort();
}

/* A signed tx of module/type with body (stolen) at time, for chain. */
static void tx(const char *name, const char *chain, const char *module, const char *type,
               const char *org, int64_t time_ms, json_t *body)
{
    json_t *env = chain_tx_build(chain, module, type, org, pk, time_ms, body);
    char *text = NULL;
    size_t len;

    if (env == NULL || chain_tx_sign(env, sk) != 0 || chain_jcs_dump(env, &text, &len) != 0)
        abort();
    put("tx", name, text, len);
    free(text);
    json_decref(env);
}

static void txs(void)
{
    const char *urn = "urn:uuid:6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
    const char *hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    const char *hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    tx("core-org-register", FUZZ_ORIGIN, "core", "org.register", "admin", FUZZ_NOW_MS,
       json_pack("{s:s, s:s, s:s, s:s}", "id", "pku", "name", "Peking University", "type",
                 "university", "key", "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="));
    tx("edu-issue", FUZZ_ORIGIN, "edu", "credential.issue", "pku", FUZZ_NOW_MS + 1000,
       json_pack("{s:s, s:s, s:s}", "credential_id", urn, "hash", hash, "kind", "diploma"));
    tx("edu-revoke", FUZZ_ORIGIN, "edu", "credential.revoke", "pku", FUZZ_NOW_MS - 1000,
       json_pack("{s:s, s:s, s:s}", "credential_id", urn, "hash", hash, "reason", "error"));
    tx("evidence-preserve", FUZZ_ORIGIN, "evidence", "item.preserve", "court", FUZZ_NOW_MS,
       json_pack("{s:s, s:s, s:s, s:i, s:s}", "item_id", urn, "sha256", hex, "kind", "document",
                 "size", 1024, "mime", "application/pdf"));
    tx("nested-body", FUZZ_ORIGIN, "edu", "credential.issue", "pku", FUZZ_NOW_MS,
       json_pack("{s:[I, s, {s:b, s:n}], s:s}", "a", (json_int_t)-9007199254740991LL,
                 "\xe4\xb8\xad", "t", 1, "z", "x", "\xf0\x9f\x98\x80"));
    tx("other-chain", "lianxin.example/other", "core", "key.add", "pku", FUZZ_NOW_MS,
       json_pack("{s:s, s:s}", "principal", "pku", "key", hash));
    tx("old-time", FUZZ_ORIGIN, "core", "key.revoke", "pku", 0,
       json_pack("{s:s, s:s}", "principal", "pku", "key", hash));
}

static void notes(void)
{
    struct chain_checkpoint c = {.size = 5, .height = 3, .time_ms = FUZZ_NOW_MS};
    char *body = NULL, *note = NULL, *cosigned = NULL, vkey[CHAIN_NOTE_VKEY_MAX];
    struct chain_note_verifier v;
    uint8_t pk2[32], sk2[64];

    snprintf(c.origin, sizeof c.origin, "%s", FUZZ_ORIGIN);
    memset(c.root, 0xab, sizeof c.root);
    memset(c.prev, 0x17, sizeof c.prev);
    if (chain_checkpoint_format(&c, &body) != 0 || chain_note_sign(body, FUZZ_KEY_NAME, sk, &note))
        abort();
    put("note", "checkpoint", note, strlen(note));
    put("note", "checkpoint-body", body, strlen(body));
    crypto_sign_seed_keypair(pk2, sk2, (const uint8_t *)"witness-seed-for-the-fuzz-corpus");
    if (chain_note_add_signature(note, strlen(note), "witness.example/w1", sk2, &cosigned) != 0)
        abort();
    put("note", "checkpoint-cosigned", cosigned, strlen(cosigned));
    if (chain_note_verifier_from_pk(FUZZ_KEY_NAME, pk, &v) != 0 ||
        chain_note_verifier_format(&v, vkey, sizeof vkey) != 0)
        abort();
    put("note", "verifier-key", vkey, strlen(vkey));
    free(body);
    free(note);
    free(cosigned);
    c.size = 0;
    c.height = 0;
    memset(c.prev, 0, sizeof c.prev);
    if (chain_checkpoint_format(&c, &body) != 0 || chain_note_sign(body, FUZZ_KEY_NAME, sk, &note))
        abort();
    put("note", "checkpoint-genesis", note, strlen(note));
    free(body);
    free(note);
    sodium_memzero(sk2, sizeof sk2);
}

static void credential(void)
{
    json_t *vc =
        json_pack("{s:[s], s:s, s:[s,s], s:{s:s, s:s}, s:s, s:{s:s, s:s, s:s}}", "@context",
                  "https://www.w3.org/ns/credentials/v2", "id",
                  "urn:uuid:6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "type", "VerifiableCredential",
                  "DiplomaCredential", "issuer", "id", "did:key:z6MkfuzzIssuer", "name",
                  "Peking University", "validFrom", "2026-01-01T00:00:00Z", "credentialSubject",
                  "name", "Li Lei", "studentNumber", "2020001", "degree", "Bachelor of Science");
    char did[CHAIN_DIDKEY_MAX], vm[CHAIN_VC_VM_MAX], *text = NULL;
    size_t len;

    if (vc == NULL || chain_didkey_encode(pk, did, sizeof did) != 0 ||
        chain_didkey_vm(pk, vm, sizeof vm) != 0)
        abort();
    json_object_set_new(json_object_get(vc, "issuer"), "id", json_string(did));
    if (chain_vc_sign(vc, sk, "2026-01-01T00:00:00Z") != 0 || chain_jcs_dump(vc, &text, &len))
        abort();
    put("vc", "credential", text, len);
    put("vc", "didkey", did, strlen(did));
    put("vc", "didkey-vm", vm, strlen(vm));
    free(text);
    json_decref(vc);
}

/* One input per route: the method byte fuzz_router decodes, then the path with its parameters
 * filled in. */
static void routes(void)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"};
    struct srv_router r = {0};
    char err[256];

    if (srv_routes_build(&r, err, sizeof err) != 0)
        abort();
    for (size_t i = 0; i < r.n; i++) {
        char buf[600], name[32];
        size_t o = 0;

        for (uint8_t m = 0; m < 6; m++)
            if (strcmp(methods[m], r.routes[i]->method) == 0)
                buf[o++] = (char)m;
        for (const char *p = r.routes[i]->pattern; *p && o < 500;) {
            if (*p == ':') {
                o += (size_t)snprintf(buf + o, sizeof buf - o, "x1");
                p += strcspn(p, "/");
            } else {
                buf[o++] = *p++;
            }
        }
        snprintf(name, sizeof name, "route-%02zu", i);
        put("router", name, buf, o);
    }
}

int main(void)
{
    fuzz_sodium();
    fuzz_keypair(pk, sk);
    txs();
    notes();
    credential();
    routes();
    sodium_memzero(sk, sizeof sk);
    return 0;
}
