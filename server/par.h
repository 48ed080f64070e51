/*
 * A loop spread over the cores: the CPU work of one request — a batch's signature checks — run
 * by the thread that has the request and by whichever helper threads are idle.
 *
 * libmicrohttpd gives each connection to one of its worker threads for good, and which one
 * takes a new connection is a race: eight clients posting batches often all land on one worker,
 * and the signatures of every batch were then checked on one core while the other idled. With
 * par_for, the worker checks its batch together with the helpers, whatever the connections did.
 * The edu module's batches of diplomas and the evidence module's anchors build and check their
 * txs through it too.
 */
#ifndef LX_SERVER_PAR_H
#define LX_SERVER_PAR_H

#include <stddef.h>

struct par;

/* Starts a pool of `helpers` threads. Returns 0, or -1 (nothing started) when a thread could
 * not be made; *out is NULL with 0 helpers, and par_for then runs every loop on its caller. */
int par_open(unsigned helpers, struct par **out) __attribute__((warn_unused_result));

/* Stops the helpers and frees the pool; no par_for may be running. NULL is a no-op. */
void par_close(struct par *p);

/* Calls fn(arg, i) once for each i in [0, n), in chunks of `chunk` consecutive indices, on the
 * calling thread and on any helper that is free; returns when every call has returned. Calls
 * for different i may run at once, so fn must not share what it writes. Any number of threads
 * may call par_for at once; p may be NULL. */
void par_for(struct par *p, size_t n, size_t chunk, void (*fn)(void *arg, size_t i), void *arg);

#endif
