/*
 * lianxind: the Lianxin application server. `serve` (the default) migrates the database and
 * serves HTTP until SIGINT or SIGTERM, then drains in-flight requests for up to 10 s.
 */
#define _DEFAULT_SOURCE
#include "audit.h"
#include "auditlog.h"
#include "auth.h"
#include "config.h"
#include "custody.h"
#include "db.h"
#include "err.h"
#include "http.h"
#include "migrate.h"
#include "seq.h"
#include "server.h"
#include "srv.h"

#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LX_VERSION
#define LX_VERSION "dev"
#endif

#define DRAIN_MS 10000

static const char *env_get(const char *name)
{
    return getenv(name);
}

/* Applies migrations and, for a server, makes the admin account on first start. */
static int migrate(const struct srv_config *cfg, int bootstrap)
{
    char err[512];
    int applied = 0, rc = -1;
    PGconn *c = db_connect(cfg->db, err, sizeof(err));

    if (c == NULL) {
        srv_log_error("cannot reach the database (LIANXIN_DB=%s): %s", cfg->db, err);
        return -1;
    }
    if (srv_migrate(c, &applied, err, sizeof(err)) != 0) {
        srv_log_error("%s", err);
        goto out;
    }
    if (applied > 0)
        srv_log_error("applied %d migration%s", applied, applied == 1 ? "" : "s");
    if (bootstrap && srv_auth_bootstrap(c, err, sizeof(err)) != 0) {
        srv_log_error("%s", err);
        goto out;
    }
    rc = 0;
out:
    PQfinish(c);
    return rc;
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[SRV_PATH_MAX + 8];
    FILE *f;

    /* Written whole then renamed, so a reader never sees half a number. */
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

/* Waits for SIGINT or SIGTERM; blocked in every thread, so only this sigwait sees them. */
static void wait_for_signal(const sigset_t *set)
{
    int sig = 0;

    sigwait(set, &sig);
    srv_log_error("received %s, draining requests (up to %d s)",
                  sig == SIGINT ? "SIGINT" : "SIGTERM", DRAIN_MS / 1000);
}

/* The master key may be created only while no custodial key exists: afterwards a missing key
 * means the sealed keys could not be opened, and starting would hide that. */
static int open_custody(struct srv *s, char *err, size_t errlen)
{
    PGconn *c = db_connect(s->cfg.db, err, errlen);
    PGresult *r;
    int empty;

    if (c == NULL)
        return -1;
    r = PQexec(c, "SELECT NOT EXISTS (SELECT 1 FROM custody_keys)");
    empty = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    PQfinish(c);
    return srv_custody_open(s, empty, err, errlen);
}

/* Stops in the reverse order of start; each step copes with what was never started. */
static void teardown(struct srv *s)
{
    /* The audit log writes what is queued and anchors its head: it needs the sequencer. */
    srv_auditlog_stop(s);
    seq_close(s->seq); /* answers whatever is still queued, so nothing stays suspended */
    s->seq = NULL;
    srv_http_stop(s);
    srv_custody_close(s);
}

static int serve(struct srv *s, const sigset_t *set)
{
    char err[512];

    if (srv_init(s, err, sizeof(err)) != 0 || open_custody(s, err, sizeof(err)) != 0 ||
        seq_open(s, &s->seq, err, sizeof(err)) != 0 ||
        srv_auditlog_start(s, err, sizeof(err)) != 0 || srv_http_start(s, err, sizeof(err)) != 0) {
        srv_log_error("%s", err);
        teardown(s);
        return 1;
    }
    if (s->cfg.port_file[0] && write_port_file(s->cfg.port_file, srv_http_port(s)) != 0) {
        srv_log_error("cannot write --port-file %s", s->cfg.port_file);
        teardown(s);
        return 1;
    }
    srv_log_error("serving http://%s:%u/ (%u threads)", s->cfg.listen_host, srv_http_port(s),
                  s->cfg.threads);
    wait_for_signal(set);
    srv_http_quiesce(s, DRAIN_MS);
    teardown(s);
    srv_log_error("stopped");
    return 0;
}

/* `lianxind routes`: the route table as JSON lines, for reviews and the authorisation matrix
 * test — {"method","pattern","auth","roles":[…]}. */
static int print_routes(void)
{
    static const char *const auth[] = {"unset", "public", "user", "admin", "oversight", "org"};
    static const char *const roles[] = {"org_admin",    "issuer",  "clerk",           "registrar",
                                        "fund_manager", "auditor", "market_operator", "member"};
    static struct srv_router router;
    char err[256];

    if (srv_routes_build(&router, err, sizeof(err)) != 0) {
        fprintf(stderr, "lianxind: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < router.n; i++) {
        const struct srv_route *rt = router.routes[i];

        printf("{\"method\":\"%s\",\"pattern\":\"%s\",\"auth\":\"%s\",\"roles\":[", rt->method,
               rt->pattern, auth[rt->auth]);
        for (unsigned b = 0, first = 1; b < 8; b++)
            if (rt->roles & (1u << b)) {
                printf("%s\"%s\"", first ? "" : ",", roles[b]);
                first = 0;
            }
        printf("]}\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct srv s; /* large; one per process */
    char err[512];
    sigset_t set;
    int rc;

    /* Buffers of 1 MiB and more (request bodies, a block's COPY text, batch answers) come
     * from mmap and go back when freed. glibc would otherwise raise that threshold each time
     * one is freed and serve the next ones from its arenas, where a few long-lived small
     * blocks pin megabytes between bursts. */
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts */
    signal(SIGPIPE, SIG_IGN);
    if (srv_config_load(&s.cfg, argc, argv, env_get, err, sizeof(err)) != 0) {
        fprintf(stderr, "lianxind: %s\n", err);
        return 2;
    }
    s.version = LX_VERSION;
    if (strcmp(s.cfg.command, "help") == 0) {
        srv_config_usage(stdout);
        return 0;
    }
    if (strcmp(s.cfg.command, "version") == 0) {
        printf("lianxind %s\n", LX_VERSION);
        return 0;
    }
    if (strcmp(s.cfg.command, "routes") == 0)
        return print_routes();
    if (sodium_init() < 0) {
        fprintf(stderr, "lianxind: libsodium failed to initialise\n");
        return 1;
    }
    if (strcmp(s.cfg.command, "audit") == 0) {
        /* Read-only: no migration, so an audit never changes what it examines. */
        /* 0 clean, 1 inconsistent (the report says where), 2 the database failed. */
        PGconn *c = db_connect(s.cfg.db, err, sizeof(err));

        if (c == NULL) {
            srv_log_error("cannot reach the database (LIANXIN_DB=%s): %s", s.cfg.db, err);
            return 2;
        }
        rc = srv_audit(c, stdout);
        PQfinish(c);
        return rc == 0 ? 0 : rc == 1 ? 1 : 2;
    }
    if (migrate(&s.cfg, strcmp(s.cfg.command, "serve") == 0) != 0)
        return 1;
    if (strcmp(s.cfg.command, "migrate") == 0)
        return 0;
    rc = serve(&s, &set);
    srv_fini(&s);
    return rc;
}
