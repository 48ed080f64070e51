/* checkpoint.c — `lianxin checkpoint`: a monitor for cron. Fetches the node's latest checkpoint,
 * verifies its signature, and proves with GET /api/chain/consistency that it extends the
 * checkpoint saved on the previous run; only then saves it. A rollback or a fork is reported
 * loudly on stderr with exit status 2, and the old state is kept so every later run repeats
 * the alarm until a human looks. */
#include "checkpoint.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "http.h"
#include "keys.h"

#define CP_EXIT_OK    0 /* the log grew or stayed the same; state saved */
#define CP_EXIT_ERROR 1 /* could not check: usage, network, unreadable state */
#define CP_EXIT_ALARM 2 /* rollback, fork, or a checkpoint that does not verify */

typedef unsigned long long ull;

enum cli_cp_verdict cli_checkpoint_compare(const struct chain_checkpoint *old,
                                           const struct chain_checkpoint *new_cp,
                                           const uint8_t (*path)[CHAIN_HASH_LEN], size_t path_len,
                                           char *why, size_t cap)
{
    if (strcmp(old->origin, new_cp->origin) != 0) {
        snprintf(why, cap, "the saved checkpoint is of log %s, the node serves log %s", old->origin,
                 new_cp->origin);
        return CLI_CP_OTHER_LOG;
    }
    if (new_cp->size < old->size) {
        snprintf(why, cap, "the log shrank from tree size %llu to %llu", (ull)old->size,
                 (ull)new_cp->size);
        return CLI_CP_ROLLBACK;
    }
    if (new_cp->size == old->size) {
        if (memcmp(old->root, new_cp->root, CHAIN_HASH_LEN) != 0) {
            snprintf(why, cap, "two different roots for tree size %llu", (ull)old->size);
            return CLI_CP_FORK;
        }
        snprintf(why, cap, "unchanged at tree size %llu", (ull)old->size);
        return CLI_CP_OK;
    }
    if (chain_merkle_consistency_verify(old->size, new_cp->size, old->root, new_cp->root, path,
                                        path_len) != 0) {
        snprintf(why, cap, "no valid consistency proof from tree size %llu to %llu", (ull)old->size,
                 (ull)new_cp->size);
        return CLI_CP_FORK;
    }
    snprintf(why, cap, "grew from tree size %llu to %llu, consistently", (ull)old->size,
             (ull)new_cp->size);
    return CLI_CP_OK;
}

static void checkpoint_usage(FILE *f)
{
    fputs("usage: lianxin checkpoint --url URL --state FILE [--keys FILE|URL]\n"
          "\n"
          "Fetches URL/api/chain/checkpoint and verifies its signature with the validator keys\n"
          "(from --keys, else URL/api/chain/keys). When FILE holds the checkpoint saved by an\n"
          "earlier run, checks that the log only grew: a smaller tree is a ROLLBACK, another\n"
          "root or a consistency proof (URL/api/chain/consistency) that fails is a FORK. Then\n"
          "saves the new checkpoint to FILE. Exit 0 when all is well, 1 when the check could not\n"
          "be made (usage, network, files), 2 on an alarm (ROLLBACK, FORK, bad signature).\n",
          f);
}

/* Opens note[0..len) with keys and parses its checkpoint. Returns 0, or -1 with why. */
static int open_checkpoint(const char *note, size_t len, const struct chain_note_verifier *keys,
                           size_t n_keys, struct chain_checkpoint *out, char *why, size_t cap)
{
    struct chain_note_opened op;
    int err = chain_note_open(note, len, keys, n_keys, &op);

    if (err != 0) {
        snprintf(why, cap, "%s",
                 err == CHAIN_E_UNKNOWN_KEY ? "not signed by any validator key"
                 : err == CHAIN_E_BAD_SIG   ? "a validator signature does not verify"
                                            : chain_strerror(err));
        return -1;
    }
    if (chain_checkpoint_parse(op.text, op.text_len, out) != 0) {
        snprintf(why, cap, "the signed text is not a checkpoint");
        return -1;
    }
    return 0;
}

/* Fetches the consistency proof from old_size to new_size into path. Returns 0, 1 when the
 * node's answer is not a proof (a FORK: the node cannot prove it), or -1 when it could not be
 * fetched (reason on stderr). */
static int fetch_consistency(const char *base, uint64_t old_size, uint64_t new_size,
                             uint8_t (*path)[CHAIN_HASH_LEN], size_t *path_len)
{
    struct cli_http_resp resp = {0};
    char q[128], *url = NULL;
    json_t *doc = NULL, *arr;
    int rc = -1;

    snprintf(q, sizeof(q), "/api/chain/consistency?from=%llu&to=%llu", (ull)old_size,
             (ull)new_size);
    url = cli_url_join(base, q);
    if (url == NULL) {
        fprintf(stderr, "lianxin: out of memory\n");
        goto out;
    }
    if (cli_http_get(url, &resp) != 0) {
        fprintf(stderr, "lianxin: cannot fetch %s: %s\n", url, resp.err);
        goto out;
    }
    if (resp.status >= 500) {
        fprintf(stderr, "lianxin: %s answered HTTP %ld\n", url, resp.status);
        goto out;
    }
    rc = 1;
    doc = json_loadb(resp.body, resp.len, 0, NULL);
    arr = json_object_get(doc, "path");
    if (resp.status != 200 || !json_is_array(arr) || json_array_size(arr) > CHAIN_MERKLE_MAX_PATH ||
        json_integer_value(json_object_get(doc, "from")) != (json_int_t)old_size ||
        json_integer_value(json_object_get(doc, "to")) != (json_int_t)new_size) {
        fprintf(stderr, "lianxin: %s gave no consistency proof (HTTP %ld)\n", url, resp.status);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *v = json_array_get(arr, i);

        if (!json_is_string(v) ||
            chain_b64_decode_exact(json_string_value(v), json_string_length(v), path[i],
                                   CHAIN_HASH_LEN) != 0) {
            fprintf(stderr, "lianxin: %s: path element %zu is not base64 of 32 bytes\n", url, i);
            goto out;
        }
    }
    *path_len = json_array_size(arr);
    rc = 0;

out:
    json_decref(doc);
    cli_http_resp_free(&resp);
    free(url);
    return rc;
}

int cli_cmd_checkpoint(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},
        {"state", required_argument, NULL, 's'},
        {"keys", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct chain_note_verifier keys[CLI_KEYS_MAX];
    struct chain_checkpoint old_cp, new_cp;
    struct cli_http_resp resp = {0};
    uint8_t(*path)[CHAIN_HASH_LEN] = NULL;
    const char *base = NULL, *state = NULL, *keys_spec = NULL;
    char *url = NULL, *old_text = NULL, why[512], root[CHAIN_B64_LEN(CHAIN_HASH_LEN) + 1];
    size_t n_keys = 0, old_len = 0, path_len = 0;
    FILE *probe;
    int c, got, rc = CP_EXIT_ERROR;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            base = optarg;
            break;
        case 's':
            state = optarg;
            break;
        case 'k':
            keys_spec = optarg;
            break;
        case 'h':
            checkpoint_usage(stdout);
            return CP_EXIT_OK;
        default:
            checkpoint_usage(stderr);
            return CP_EXIT_ERROR;
        }
    }
    if (base == NULL || state == NULL || optind != argc) {
        checkpoint_usage(stderr);
        return CP_EXIT_ERROR;
    }
    if (!cli_is_url(base)) {
        fprintf(stderr, "lianxin: --url wants http://… or https://…, not %s\n", base);
        return CP_EXIT_ERROR;
    }
    path = calloc(CHAIN_MERKLE_MAX_PATH, sizeof(*path));
    url = cli_url_join(base, "/api/chain/checkpoint");
    if (path == NULL || url == NULL) {
        fprintf(stderr, "lianxin: out of memory\n");
        goto out;
    }
    if (cli_keys_load(keys_spec ? keys_spec : base, keys, CLI_KEYS_MAX, &n_keys) != 0)
        goto out;

    /* the node's latest checkpoint */
    if (cli_http_get(url, &resp) != 0) {
        fprintf(stderr, "lianxin: cannot fetch %s: %s\n", url, resp.err);
        goto out;
    }
    if (resp.status != 200) {
        fprintf(stderr, "lianxin: %s answered HTTP %ld\n", url, resp.status);
        goto out;
    }
    if (open_checkpoint(resp.body, resp.len, keys, n_keys, &new_cp, why, sizeof(why)) != 0) {
        fprintf(stderr, "lianxin: BAD CHECKPOINT: the checkpoint of %s does not verify: %s\n", base,
                why);
        rc = CP_EXIT_ALARM;
        goto out;
    }

    /* the checkpoint of the previous run, if any */
    probe = fopen(state, "rb");
    if (probe == NULL && errno != ENOENT) {
        fprintf(stderr, "lianxin: cannot open %s: %s\n", state, strerror(errno));
        goto out;
    }
    if (probe != NULL) {
        fclose(probe);
        old_text = cli_read_file(state, &old_len);
        if (old_text == NULL)
            goto out;
        if (open_checkpoint(old_text, old_len, keys, n_keys, &old_cp, why, sizeof(why)) != 0) {
            fprintf(stderr,
                    "lianxin: %s does not hold a checkpoint signed by the validator keys (%s); "
                    "move it away to start over\n",
                    state, why);
            goto out;
        }
        if (new_cp.size > old_cp.size && old_cp.size > 0 &&
            strcmp(old_cp.origin, new_cp.origin) == 0) {
            got = fetch_consistency(base, old_cp.size, new_cp.size, path, &path_len);
            if (got < 0)
                goto out;
            if (got > 0)
                path_len = 0; /* no proof: the comparison reports a FORK */
        }
        switch (cli_checkpoint_compare(&old_cp, &new_cp, (const uint8_t(*)[CHAIN_HASH_LEN])path,
                                       path_len, why, sizeof(why))) {
        case CLI_CP_OK:
            break;
        case CLI_CP_FORK:
            fprintf(stderr,
                    "lianxin: FORK: %s — the node serves a history that contradicts the "
                    "checkpoint saved in %s\n",
                    why, state);
            rc = CP_EXIT_ALARM;
            goto out;
        case CLI_CP_ROLLBACK:
            fprintf(stderr,
                    "lianxin: ROLLBACK: %s — the node lost or removed txs it had "
                    "committed (saved state: %s)\n",
                    why, state);
            rc = CP_EXIT_ALARM;
            goto out;
        case CLI_CP_OTHER_LOG:
            fprintf(stderr, "lianxin: OTHER LOG: %s\n", why);
            rc = CP_EXIT_ALARM;
            goto out;
        }
    } else {
        snprintf(why, sizeof(why), "first checkpoint seen");
    }
    if (cli_write_file_atomic(state, resp.body, resp.len) != 0)
        goto out;
    if (chain_b64_encode(new_cp.root, CHAIN_HASH_LEN, root, sizeof(root)) != 0)
        root[0] = '\0';
    printf("ok: tree size %llu, root %s, height %llu (%s)\n", (ull)new_cp.size, root,
           (ull)new_cp.height, why);
    rc = fflush(stdout) == 0 ? CP_EXIT_OK : CP_EXIT_ERROR;

out:
    free(old_text);
    cli_http_resp_free(&resp);
    free(url);
    free(path);
    return rc;
}
