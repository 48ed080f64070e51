/* Jobs and batched ledger submission; see job.h. */
#define _GNU_SOURCE
#include "job.h"
#include "custody.h"
#include "db.h"
#include "http.h"
#include "seq.h"
#include "server.h"
#include "../chain/tx.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define JOB_DB_WAIT_MS 5000

static atomic_int jobs_running;

/* A job holds a pool connection until it ends, block wait included: at most half the pool may
 * be held by jobs, so that a burst of batch uploads never starves ordinary requests. */
static int job_limit(struct srv *s)
{
    size_t in_use, idle, size;
    int limit;

    db_pool_stats(s->pool, &in_use, &idle, &size);
    limit = (int)(size / 2);
    if (limit > SRV_MAX_JOBS)
        limit = SRV_MAX_JOBS;
    return limit > 0 ? limit : 1;
}

static void job_free(struct srv_job *j)
{
    if (j->free_data != NULL)
        j->free_data(j->data);
    free(j);
}

static void *job_main(void *arg)
{
    struct srv_job *j = arg;
    struct srv_req *r = j->r;
    PGconn *c = db_acquire(r->srv->pool, JOB_DB_WAIT_MS, NULL);

    if (c == NULL) {
        srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    } else {
        (void)j->run(j, c);
        db_release(r->srv->pool, c);
    }
    job_free(j);
    atomic_fetch_sub(&jobs_running, 1);
    srv_req_resume(r); /* r belongs to libmicrohttpd again from here */
    return NULL;
}

unsigned srv_job_start(struct srv_req *r, srv_job_fn fn, void *data, void (*free_data)(void *))
{
    struct srv_job *j = calloc(1, sizeof(*j));
    pthread_attr_t attr;
    pthread_t t;
    int rc;

    if (j == NULL) {
        if (free_data != NULL)
            free_data(data);
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    }
    *j = (struct srv_job){r, fn, data, free_data};
    if (atomic_fetch_add(&jobs_running, 1) >= job_limit(r->srv)) {
        atomic_fetch_sub(&jobs_running, 1);
        job_free(j);
        return srv_reply_error(r, 503, "busy", "too many writes in progress; retry", NULL);
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

void srv_ledger_run(struct srv *s, struct seq_item *items, size_t n, int checked)
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
        else if (!checked)
            srv_tx_check(s, &items[i]); /* signature, chain, time, the module's check */
    }
    w.sub.items = items;
    w.sub.n = n;
    w.sub.done = all_decided;
    if (s->seq != NULL)
        seq_enqueue(s->seq, &w.sub); /* calls all_decided, here or later */
    else
        w.done = 1;
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
}

void srv_items_free(struct seq_item *items, size_t n)
{
    for (size_t i = 0; items != NULL && i < n; i++)
        chain_tx_free(items[i].tx);
    free(items);
}
