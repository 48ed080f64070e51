/* main.c — the lianxin client tool: dispatches to one subcommand (keygen, sign, submit, verify,
 * checkpoint). Each lives in its own file; see cli/README.md. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "cli.h"

/* The subcommands, as data. */
static const struct {
    const char *name;                  /* argv[1] */
    int (*run)(int argc, char **argv); /* gets argv from the subcommand's name on */
    const char *summary;               /* one line for --help */
} commands[] = {
    {"keygen", cli_cmd_keygen, "make a new Ed25519 key file"},
    {"sign", cli_cmd_sign, "build and sign a tx envelope"},
    {"submit", cli_cmd_submit, "post signed txs (one, or JSON lines) to a node"},
    {"verify", cli_cmd_verify, "verify a tx bundle offline"},
    {"checkpoint", cli_cmd_checkpoint, "watch a node's checkpoints for rollback or fork"},
};

static void usage(FILE *f)
{
    fputs("usage: lianxin COMMAND [OPTIONS]\n\ncommands:\n", f);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fputs("\n`lianxin COMMAND --help` describes one command. Exit status: 0 success, 1 a check\n"
          "failed or a tx was refused, 2 a usage, file or network error (checkpoint: see its\n"
          "help).\n",
          f);
}

int main(int argc, char **argv)
{
    int rc;

    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("lianxin %s\n", LX_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        if (sodium_init() < 0) {
            fprintf(stderr, "lianxin: libsodium cannot start\n");
            return CLI_EXIT_USAGE;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fprintf(stderr, "lianxin: libcurl cannot start\n");
            return CLI_EXIT_USAGE;
        }
        rc = commands[i].run(argc - 1, argv + 1);
        curl_global_cleanup();
        return rc;
    }
    fprintf(stderr, "lianxin: unknown command %s\n\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
