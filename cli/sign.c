/* sign.c — `lianxin sign`: builds a tx envelope (DESIGN §3.1) around a JSON body and signs it
 * with a key file, printing the envelope as one line of canonical JSON (its leaf bytes). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "../chain/jcs.h"
#include "../chain/tx.h"
#include "cli.h"
#include "keys.h"

static void sign_usage(FILE *f)
{
    fputs("usage: lianxin sign --key FILE --module M --type T --org ORG\n"
          "                    [--origin ORIGIN] [--time MS] BODY\n"
          "\n"
          "Prints the signed tx envelope (one line of canonical JSON). BODY is a JSON object,\n"
          "'-' to read it from standard input, or @FILE to read it from FILE. ORIGIN defaults\n"
          "to " CLI_DEFAULT_ORIGIN ", MS (Unix milliseconds) to now.\n",
          f);
}

/* Parses a decimal integer in [0, 2^53 - 1] from s. Returns 0 or -1. */
static int parse_time(const char *s, int64_t *out)
{
    int64_t v = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (CHAIN_INT_MAX - (*s - '0')) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

int cli_cmd_sign(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},    {"module", required_argument, NULL, 'm'},
        {"type", required_argument, NULL, 't'},   {"org", required_argument, NULL, 'g'},
        {"origin", required_argument, NULL, 'r'}, {"time", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *key_path = NULL, *module = NULL, *type = NULL, *org = NULL;
    const char *origin = CLI_DEFAULT_ORIGIN, *arg;
    struct chain_note_signer signer;
    char *text = NULL, *jcs = NULL;
    json_t *body = NULL, *env = NULL;
    size_t len = 0;
    int64_t time_ms = -1;
    int c, err, rc = CLI_EXIT_USAGE;

    memset(&signer, 0, sizeof(signer));
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key_path = optarg;
            break;
        case 'm':
            module = optarg;
            break;
        case 't':
            type = optarg;
            break;
        case 'g':
            org = optarg;
            break;
        case 'r':
            origin = optarg;
            break;
        case 'T':
            if (parse_time(optarg, &time_ms) != 0) {
                fprintf(stderr, "lianxin: --time wants Unix milliseconds, not %s\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            sign_usage(stdout);
            return CLI_EXIT_OK;
        default:
            sign_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (key_path == NULL || module == NULL || type == NULL || org == NULL || optind != argc - 1) {
        sign_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    arg = argv[optind];
    if (strcmp(arg, "-") == 0 || arg[0] == '@') {
        text = cli_read_file(arg[0] == '@' ? arg + 1 : "-", &len);
        if (text == NULL)
            goto out;
    } else {
        len = strlen(arg);
        text = malloc(len + 1);
        if (text == NULL)
            goto out;
        memcpy(text, arg, len + 1);
    }
    err = chain_jcs_parse_ex(text, len, CHAIN_JCS_REJECT_NUL, &body);
    if (err != 0) {
        fprintf(stderr, "lianxin: the body is not acceptable JSON: %s\n", chain_strerror(err));
        goto out;
    }
    if (!json_is_object(body)) {
        fprintf(stderr, "lianxin: the body must be a JSON object\n");
        goto out;
    }
    if (time_ms < 0) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    if (cli_signer_load(key_path, &signer) != 0)
        goto out;
    env =
        chain_tx_build(origin, module, type, org, signer.sk + crypto_sign_SEEDBYTES, time_ms, body);
    body = NULL; /* stolen */
    if (env == NULL) {
        fprintf(stderr, "lianxin: cannot build the tx (a field is not UTF-8?)\n");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    err = chain_tx_sign(env, signer.sk);
    if (err == 0)
        err = chain_jcs_dump(env, &jcs, NULL);
    if (err != 0) {
        fprintf(stderr, "lianxin: cannot sign the tx: %s\n", chain_strerror(err));
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    printf("%s\n", jcs);
    rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;

out:
    sodium_memzero(&signer, sizeof(signer));
    free(jcs);
    json_decref(env);
    json_decref(body);
    free(text);
    return rc;
}
