/* cli.h — what the parts of the lianxin client tool share: the exit codes, the entry point of
 * each subcommand (one .c file each), and small file helpers (util.c).
 *
 * Exit codes: 0 success; 1 a check failed or a tx was refused (the answer is "no"); 2 the tool
 * could not do its job (usage, unreadable file, network). `lianxin checkpoint` is the one
 * exception, documented in cli/README.md: there 2 is the alarm (rollback, fork). */
#ifndef LX_CLI_CLI_H
#define LX_CLI_CLI_H

#include <stddef.h>

/* Fallible functions carry this so a forgotten check is a compile error under -Werror. */
#define CLI_WUR __attribute__((warn_unused_result))

#define CLI_EXIT_OK        0
#define CLI_EXIT_FAIL      1
#define CLI_EXIT_USAGE     2
#define CLI_DEFAULT_ORIGIN "lianxin.local/dev"    /* lianxind's default chain origin */
#define CLI_FILE_MAX       (256u * 1024u * 1024u) /* largest file or HTTP answer read into memory */

/* The subcommands: argv[0] is the subcommand's name. Each returns the process exit code. */
int cli_cmd_keygen(int argc, char **argv);
int cli_cmd_sign(int argc, char **argv);
int cli_cmd_submit(int argc, char **argv);
int cli_cmd_verify(int argc, char **argv);
int cli_cmd_checkpoint(int argc, char **argv);

/* Reads the whole of path ("-" is standard input) into a new NUL-terminated buffer (free with
 * free(); the text may itself hold NUL bytes, *len counts them). Returns NULL and writes a short
 * reason to stderr when the file cannot be read or is larger than CLI_FILE_MAX. */
char *cli_read_file(const char *path, size_t *len) CLI_WUR;

/* Replaces path atomically with data[0..len): writes a temporary file in the same folder,
 * fsyncs it, renames it over path. Returns 0, or -1 with a reason on stderr (the temporary file
 * is removed). Borrows everything. */
int cli_write_file_atomic(const char *path, const char *data, size_t len) CLI_WUR;

/* Returns 1 if s starts with "http://" or "https://". */
int cli_is_url(const char *s);

#endif
