/*
 * The cost of verifying one bundle offline, without process start-up: the same function
 * `lianxin verify` runs (cli_verify_bundle), timed over many repetitions in one process.
 *   verifybench BUNDLE KEYS_FILE [N]   → {"verify_ms": …}
 */
#define _GNU_SOURCE
#include "../../cli/keys.h"
#include "../../cli/verify.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    struct chain_note_verifier keys[16];
    size_t n_keys = 0;
    json_t *bundle;
    FILE *devnull;
    struct timespec t0, t1;
    int n = argc > 3 ? atoi(argv[3]) : 1000;

    if (argc < 3 || sodium_init() < 0)
        return 2;
    bundle = json_load_file(argv[1], 0, NULL);
    if (bundle == NULL || cli_keys_load(argv[2], keys, 16, &n_keys) != 0)
        return 2;
    devnull = fopen("/dev/null", "w");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++)
        if (cli_verify_bundle(bundle, keys, n_keys, devnull) != 0)
            return 1; /* a bundle that does not verify is no benchmark */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("{\"verify_ms\":%.3f}\n",
           ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6) / n);
    json_decref(bundle);
    fclose(devnull);
    return 0;
}
