/*
 * The sequencer: a mempool and one thread that turns it into blocks. A block is cut when
 * block_txs txs wait or block_ms after the first arrived — by default 0, so as soon as the
 * thread is free: txs that arrive while a block commits form the next one (group commit, one
 * fsync for all of them, and no timer to wait for when the node is idle); the thread applies each
 * tx's rules in order inside one database transaction, appends the accepted leaves to the Merkle
 * log, signs the checkpoint with the node key and commits once. Only then is anyone told anything.
 *
 * Submitters never wait on a lock held during hashing or I/O: they link their items into the
 * queue and are called back (done) from the sequencer thread when every item is decided.
 */
#ifndef LX_SERVER_SEQ_H
#define LX_SERVER_SEQ_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct srv;
struct seq;
struct chain_tx;
struct lx_module;
struct lx_nodecache;
struct lx_leafstore;

struct seq_item {
    struct chain_tx *tx;         /* owned; NULL when it did not parse */
    const struct lx_module *mod; /* the module named by tx->module */
    struct seq_sub *sub;         /* the submission it belongs to */
    struct seq_item *next;       /* queue link */
    unsigned status;             /* 0 undecided, 200 accepted, else the refusal's HTTP status */
    char code[48];               /* refusal code */
    char message[200];           /* refusal sentence */
    char detail[120];            /* refusal detail (a field name), may be empty */
    uint64_t leaf_index;         /* accepted: position in the log */
    uint64_t height;             /* accepted: block */
};

struct seq_sub {
    struct seq_item *items; /* n items (owned by whoever made the sub) */
    size_t n;
    atomic_size_t pending;             /* items still undecided */
    void (*done)(struct seq_sub *sub); /* called once when all are decided */
    void *ctx;                         /* for done */
};

/* Connects, loads the chain head (creating the key files and the genesis block on a new
 * database), and starts the thread. Returns 0, or a negative srv_err with a reason in err. */
int seq_open(struct srv *s, struct seq **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Queues every item of sub whose status is 0; done(sub) is called from the sequencer thread once
 * all are decided — or right here, when none needed the sequencer or it is stopping. Sets
 * sub->pending. Thread-safe. */
void seq_enqueue(struct seq *q, struct seq_sub *sub);

/* Finishes every queued tx (each gets its answer), stops the thread, frees q. NULL is fine. */
void seq_close(struct seq *q);

/* Chain head as of the last commit, for status pages. */
void seq_head(struct seq *q, uint64_t *height, uint64_t *tree_size);

/* The stored Merkle nodes of the committed log (nodes.h), published before the head moves. */
const struct lx_nodecache *seq_nodes(struct seq *q);

/* The leaf copy proofs may be built from (leafstore.h), or NULL. */
struct lx_leafstore *seq_leaves(struct seq *q);

/* A copy of the checkpoint of the last committed block (free() it) and its tree size, or NULL
 * (no block yet, no sequencer, out of memory). It may be newer than a seq_head read before. */
char *seq_checkpoint(struct seq *q, uint64_t *tree_size);

/* The consortium admin key, loaded at start (borrowed; NULL before seq_open). */
struct chain_note_signer;
const struct chain_note_signer *seq_admin_key(struct seq *q);

/* Marks an item refused (before or during sequencing). */
void seq_item_refuse(struct seq_item *it, unsigned status, const char *code, const char *message,
                     const char *detail);

#endif
