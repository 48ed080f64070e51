/* checkpoint.h — the checkpoint monitor (`lianxin checkpoint`): compares a node's latest signed
 * checkpoint with the one saved on the previous run, so a cron job notices a rollback or a fork
 * of the log. The comparison itself is pure and lives here for tests. */
#ifndef LX_CLI_CHECKPOINT_H
#define LX_CLI_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "../chain/merkle.h"
#include "../chain/note.h"
#include "cli.h"

/* What the comparison of two verified checkpoints of one log found. */
enum cli_cp_verdict {
    CLI_CP_OK = 0,        /* the new tree equals or extends the old one */
    CLI_CP_ROLLBACK = 1,  /* the new tree is smaller than the old one */
    CLI_CP_FORK = 2,      /* same size with another root, or no valid consistency proof */
    CLI_CP_OTHER_LOG = 3, /* the two checkpoints name different origins */
};

/* Compares old (saved) with new (just fetched). path[0..path_len) is the RFC 9162 consistency
 * proof from old->size to new->size; it is only looked at when new->size > old->size. Writes a
 * one-line explanation to why[0..cap). Borrows everything. */
enum cli_cp_verdict cli_checkpoint_compare(const struct chain_checkpoint *old,
                                           const struct chain_checkpoint *new_cp,
                                           const uint8_t (*path)[CHAIN_HASH_LEN], size_t path_len,
                                           char *why, size_t cap) CLI_WUR;

#endif
