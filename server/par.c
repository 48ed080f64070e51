/*
 * par_for (par.h). A loop is a job on a queue; its indices are handed out a chunk at a time
 * from an atomic counter, so the caller and the helpers never wait on each other for work,
 * only once at the end, for the chunks still running. The queue's lock is taken when a thread
 * joins or leaves a job, not per chunk.
 */
#include "par.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct job {
    void (*fn)(void *arg, size_t i);
    void *arg;
    size_t n, chunk;
    atomic_size_t next; /* the first index no thread has taken */
    unsigned helpers;   /* helpers working on it (under par.mu) */
    struct job *later;  /* the queue */
};

struct par {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or the pool is closing */
    pthread_cond_t left; /* a helper left a job */
    struct job *head;    /* jobs with indices left to take, oldest first */
    struct job **tail;
    int closing;
    unsigned n_threads;
    pthread_t threads[];
};

/* Takes chunks of j until none are left. */
static void run_chunks(struct job *j)
{
    for (;;) {
        size_t from = atomic_fetch_add(&j->next, j->chunk), to;

        if (from >= j->n)
            return;
        to = j->n - from < j->chunk ? j->n : from + j->chunk;
        for (size_t i = from; i < to; i++)
            j->fn(j->arg, i);
    }
}

/* Takes j off the queue if it is still there. Under p->mu. */
static void unqueue(struct par *p, struct job *j)
{
    for (struct job **at = &p->head; *at != NULL; at = &(*at)->later) {
        if (*at == j) {
            *at = j->later;
            if (p->tail == &j->later)
                p->tail = at;
            return;
        }
    }
}

static void *helper(void *arg)
{
    struct par *p = arg;

    pthread_mutex_lock(&p->mu);
    while (!p->closing) {
        struct job *j = p->head;

        if (j == NULL) {
            pthread_cond_wait(&p->work, &p->mu);
            continue;
        }
        j->helpers++;
        pthread_mutex_unlock(&p->mu);
        run_chunks(j);
        pthread_mutex_lock(&p->mu);
        unqueue(p, j); /* every index is taken: nobody else need join it */
        if (--j->helpers == 0)
            pthread_cond_broadcast(&p->left);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int par_open(unsigned helpers, struct par **out)
{
    struct par *p;

    *out = NULL;
    if (helpers == 0)
        return 0;
    p = calloc(1, sizeof(*p) + helpers * sizeof(p->threads[0]));
    if (p == NULL)
        return -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->left, NULL);
    p->tail = &p->head;
    for (; p->n_threads < helpers; p->n_threads++) {
        if (pthread_create(&p->threads[p->n_threads], NULL, helper, p) != 0) {
            par_close(p);
            return -1;
        }
    }
    *out = p;
    return 0;
}

void par_close(struct par *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->left);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void par_for(struct par *p, size_t n, size_t chunk, void (*fn)(void *arg, size_t i), void *arg)
{
    struct job j = {.fn = fn, .arg = arg, .n = n, .chunk = chunk ? chunk : 1};

    atomic_init(&j.next, 0);
    if (p == NULL || n <= j.chunk) { /* one chunk: handing it over would only add a wake-up */
        run_chunks(&j);
        return;
    }
    pthread_mutex_lock(&p->mu);
    *p->tail = &j;
    p->tail = &j.later;
    if ((n - 1) / j.chunk == 1)
        pthread_cond_signal(&p->work); /* two chunks: one helper is enough */
    else
        pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    run_chunks(&j);
    pthread_mutex_lock(&p->mu);
    unqueue(p, &j);
    while (j.helpers > 0) /* their last chunks are still running */
        pthread_cond_wait(&p->left, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
