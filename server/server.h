/*
 * The server object: configuration, routes, HTTP daemon, database pool, metrics and logs.
 * One exists per process; handlers reach it through req->srv, never through a global.
 */
#ifndef LX_SERVER_SERVER_H
#define LX_SERVER_SERVER_H

#include "config.h"
#include "db.h"
#include "metrics.h"
#include "router.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>

struct MHD_Daemon;
struct seq;
struct http_watch;

struct srv {
    struct srv_config cfg;       /* as loaded at start */
    struct srv_router router;    /* every route, server's and modules' */
    struct srv_metrics *metrics; /* owned */
    struct db_pool *pool;        /* owned */
    struct par *par;             /* owned: helpers for a request's checks (par.h); NULL on 1 core */
    struct MHD_Daemon *mhd;      /* owned; NULL when not serving */
    struct http_watch *watch;    /* owned: request header deadlines (http.c); NULL when not */
    int listen_fd;               /* ours (http.c accepts); closed after stop; -1 if none */
    struct http_acceptor *acceptor; /* owned: the thread that accepts (http.c); NULL when not */
    struct seq *seq;                /* the sequencer, owned; NULL in tools */
    FILE *access_log;               /* stdout, a file, or NULL for off */
    char web_root[PATH_MAX];        /* realpath of cfg.web_dir */
    atomic_int inflight;            /* requests begun and not completed */
    atomic_int draining;            /* set once shutdown began */
    const char *version;            /* build version string */
    unsigned char *master_key;      /* sodium_malloc\'d; seals custodial keys (custody.c) */
};

/* Writes one line to stderr: "2026-11-24T01:02:03.456Z lianxind: <message>". */
void srv_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
