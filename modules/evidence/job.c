/*
 * Jobs and batched ledger submission for the evidence module. A request that puts many txs on
 * the ledger (machine anchoring: up to 10,000 hashes) runs on a thread of its own while it stays
 * suspended — the sequencer's callback must not block and an HTTP worker must not wait for a
 * block — and hands all its txs to the sequencer as one submission.
 */
#define _GNU_SOURCE
#include "../../chain/tx.h"
#include "../../server/custody.h"
#include "../../server/server.h"
#include "evidence_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JOBS 8 /* evidence jobs in progress at once; more get 503 */

static atomic_int jobs_running;

static void job_free(struct ev_job *j)
{
    if (j->free_data != NULL)
        j->free_data(j->data);
    free(j);
}

static void *job_main(void *arg)
{
    struct ev_job *j = arg;
    struct srv_req *r = j->r;
    PGconn *c = db_acquire(r->srv->pool, EV_DB_WAIT_MS, NULL);

    if (c == NULL) {
        ev_db_down(r);
    } else {
        j->run(j, c);
        db_release(r->srv->pool, c);
    }
    job_free(j);
    atomic_fetch_sub(&jobs_running, 1);
    srv_req_resume(r); /* r belongs to libmicrohttpd again from here */
    return NULL;
}

unsigned ev_job_start(struct srv_req *r, ev_job_fn fn, void *data, void (*free_data)(void *))
{
    struct ev_job *j = calloc(1, sizeof(*j));
    pthread_attr_t attr;
    pthread_t t;
    int rc;

    if (j == NULL) {
        if (free_data != NULL)
            free_data(data);
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    }
    *j = (struct ev_job){r, fn, data, free_data};
    if (atomic_fetch_add(&jobs_running, 1) >= MAX_JOBS) {
        atomic_fetch_sub(&jobs_running, 1);
        job_free(j);
        return srv_reply_error(r, 503, "busy", "too many evidence writes in progress; retry", NULL);
    }
    srv_req_suspend(r);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &attr, job_main, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        job_free(j);
        atomic_fetch_sub(&jobs_running, 1);
        srv_reply_error(r, 503, "busy", "cannot start a thread", NULL);
        srv_req_resume(r);
    }
    return SRV_ASYNC;
}

struct waiter {
    struct seq_sub sub; /* first: the sequencer hands back &sub */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
};

static void all_decided(struct seq_sub *sub)
{
    struct waiter *w = (struct waiter *)sub;

    pthread_mutex_lock(&w->mu);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void ev_ledger_run(struct srv *s, struct seq_item *items, size_t n)
{
    struct waiter w;

    memset(&w, 0, sizeof(w));
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    for (size_t i = 0; i < n; i++) {
        if (items[i].status != 0)
            continue;
        if (items[i].tx == NULL)
            seq_item_refuse(&items[i], 503, "busy", "the tx could not be built", NULL);
        else if (s->seq == NULL)
            seq_item_refuse(&items[i], 503, "no_ledger", "no ledger here", NULL);
    }
    w.sub.items = items;
    w.sub.n = n;
    w.sub.done = all_decided;
    if (s->seq != NULL)
        seq_enqueue(s->seq, &w.sub);
    else
        w.done = 1;
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
}
