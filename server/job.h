/*
 * Requests whose work spans a block: a handler that must do database work on both sides of a
 * ledger commit (store documents, submit their txs, then keep or drop them) cannot do it on an
 * HTTP worker (it would wait for the block) nor in the sequencer's callback (that must not
 * block). srv_job_start runs such work on a thread of its own, with a pool connection, while the
 * request stays suspended; srv_ledger_run hands many txs to the sequencer as one submission and
 * waits until each is decided. Used by the edu and evidence modules.
 */
#ifndef LX_SERVER_JOB_H
#define LX_SERVER_JOB_H

#include <libpq-fe.h>
#include <stddef.h>

struct srv;
struct srv_req;
struct seq_item;
struct srv_job;

/* Does the job's work and answers j->r (srv_reply_*); returns the status it answered. */
typedef unsigned (*srv_job_fn)(struct srv_job *j, PGconn *c);

struct srv_job {
    struct srv_req *r;         /* suspended until the job answers it */
    srv_job_fn run;            /* answers r, on the job's own thread */
    void *data;                /* the job's input (owned) */
    void (*free_data)(void *); /* frees data; may be NULL */
};

#define SRV_MAX_JOBS 16 /* jobs at once, all modules, and never more than half the pool */

/* Runs fn on a thread of its own with a pool connection while r is suspended. Steals data (freed
 * with free_data when the job ends). Returns SRV_ASYNC, or the status already answered (503 when
 * as many jobs run as half the pool, at most SRV_MAX_JOBS, or the thread cannot start). */
unsigned srv_job_start(struct srv_req *r, srv_job_fn fn, void *data, void (*free_data)(void *));

/* Hands items[0..n) (each with ->tx set, or ->status already set) to the sequencer as one
 * submission and waits until every one is decided. Unless checked says the caller ran
 * srv_tx_check on them, they are checked first like POST /api/chain/tx. Not for HTTP workers.
 * Each item ends with status 200 (leaf_index, height) or its refusal. */
void srv_ledger_run(struct srv *s, struct seq_item *items, size_t n, int checked);

/* Frees the txs of items[0..n) and the array. NULL is fine. */
void srv_items_free(struct seq_item *items, size_t n);

#endif
