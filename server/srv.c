/*
 * Assembling the server: logs, web root, database pool, route table (the server's own routes
 * plus every module's), metrics. Tear-down is the reverse.
 */
#define _DEFAULT_SOURCE
#include "server.h"
#include "admin_api.h"
#include "auditlog.h"
#include "auth.h"
#include "err.h"
#include "http.h"
#include "par.h"
#include "srv.h"
#include "../modules/module.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* GET /metrics: request counters, latency, pool and build info, in Prometheus text. */
static unsigned metrics(struct srv_req *r)
{
    char *text = NULL, extra[512];
    size_t len, in_use, idle, size;
    unsigned status;

    if (srv_metrics_render(r->srv->metrics, &text, &len) != 0)
        return srv_reply_error(r, 500, "internal", "out of memory", NULL);
    db_pool_stats(r->srv->pool, &in_use, &idle, &size);
    snprintf(extra, sizeof(extra),
             "# HELP lianxin_db_pool_connections Database connections by state.\n"
             "# TYPE lianxin_db_pool_connections gauge\n"
             "lianxin_db_pool_connections{state=\"in_use\"} %zu\n"
             "lianxin_db_pool_connections{state=\"idle\"} %zu\n"
             "lianxin_db_pool_size %zu\n"
             "# HELP lianxin_build_info Build of this lianxind.\n"
             "# TYPE lianxin_build_info gauge\n"
             "lianxin_build_info{version=\"%s\"} 1\n",
             in_use, idle, size, r->srv->version);
    char *all = realloc(text, len + strlen(extra) + 1);
    if (all == NULL) {
        free(text);
        return srv_reply_error(r, 500, "internal", "out of memory", NULL);
    }
    memcpy(all + len, extra, strlen(extra) + 1);
    status = srv_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", all, strlen(all));
    free(all);
    return status;
}

static const struct srv_route server_routes[] = {
    {"GET", "/metrics", metrics, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
};

static int open_access_log(struct srv *s, char *err, size_t errlen)
{
    if (strcmp(s->cfg.log, "off") == 0) {
        s->access_log = NULL;
    } else if (strcmp(s->cfg.log, "-") == 0) {
        s->access_log = stdout;
        setvbuf(stdout, NULL, _IOLBF, 0);
    } else {
        s->access_log = fopen(s->cfg.log, "a");
        if (s->access_log == NULL) {
            snprintf(err, errlen, "invalid LIANXIN_LOG '%s': %s", s->cfg.log, strerror(errno));
            return SRV_EINVAL;
        }
        setvbuf(s->access_log, NULL, _IOLBF, 0);
    }
    return 0;
}

int srv_routes_build(struct srv_router *router, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(server_routes) / sizeof(server_routes[0]); i++)
        if (srv_router_add(router, &server_routes[i], err, errlen) != 0)
            return SRV_EINVAL;
    for (size_t i = 0; i < srv_n_auth_routes; i++)
        if (srv_router_add(router, &srv_auth_routes[i], err, errlen) != 0)
            return SRV_EINVAL;
    for (size_t i = 0; i < srv_n_admin_routes; i++)
        if (srv_router_add(router, &srv_admin_routes[i], err, errlen) != 0)
            return SRV_EINVAL;
    for (size_t i = 0; i < srv_n_oversight_routes; i++)
        if (srv_router_add(router, &srv_oversight_routes[i], err, errlen) != 0)
            return SRV_EINVAL;
    for (size_t m = 0; m < lx_n_modules; m++)
        for (size_t i = 0; i < lx_modules[m]->n_routes; i++)
            if (srv_router_add(router, &lx_modules[m]->routes[i], err, errlen) != 0)
                return SRV_EINVAL;
    return 0;
}

/* Prepared statements of every module, gathered once so the pool prepares them all. */
static struct db_stmt all_stmts[256];

static int gather_stmts(size_t *n, char *err, size_t errlen)
{
    *n = 0;
    for (size_t i = 0; i < srv_n_auth_stmts; i++)
        all_stmts[(*n)++] = srv_auth_stmts[i];
    for (size_t i = 0; i < srv_n_auth_api_stmts; i++)
        all_stmts[(*n)++] = srv_auth_api_stmts[i];
    for (size_t i = 0; i < srv_n_admin_stmts; i++)
        all_stmts[(*n)++] = srv_admin_stmts[i];
    for (size_t i = 0; i < srv_n_oversight_stmts; i++)
        all_stmts[(*n)++] = srv_oversight_stmts[i];
    for (size_t m = 0; m < lx_n_modules; m++) {
        for (size_t i = 0; i < lx_modules[m]->n_stmts; i++) {
            if (*n == sizeof(all_stmts) / sizeof(all_stmts[0])) {
                if (err != NULL)
                    snprintf(err, errlen, "too many prepared statements");
                return SRV_EINVAL;
            }
            all_stmts[(*n)++] = lx_modules[m]->stmts[i];
        }
    }
    return 0;
}

const struct db_stmt *srv_stmts(size_t *n)
{
    size_t count = 0;

    (void)gather_stmts(&count, NULL, 0);
    *n = count;
    return all_stmts;
}

/* Helpers for par_for: one fewer than the cores, since the thread with the request works too. */
static unsigned par_helpers(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    return cores > 1 ? (unsigned)cores - 1 : 0;
}

int srv_init(struct srv *s, char *err, size_t errlen)
{
    size_t n_stmts;
    unsigned pool;

    s->listen_fd = -1;
    if (s->cfg.threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        s->cfg.threads = cores > 0 ? (unsigned)cores : 1;
    }
    pool = s->cfg.pool_size ? s->cfg.pool_size : 2 * s->cfg.threads + 2;
    if (realpath(s->cfg.web_dir, s->web_root) == NULL) {
        snprintf(err, errlen, "invalid LIANXIN_WEB '%s': %s", s->cfg.web_dir, strerror(errno));
        return SRV_EINVAL;
    }
    if (mkdir(s->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "invalid LIANXIN_DATA '%s': %s", s->cfg.data_dir, strerror(errno));
        return SRV_EINVAL;
    }
    if (open_access_log(s, err, errlen) != 0 || srv_routes_build(&s->router, err, errlen) != 0 ||
        gather_stmts(&n_stmts, err, errlen) != 0)
        return SRV_EINVAL;
    s->metrics = srv_metrics_new(&s->router);
    if (s->metrics == NULL || db_pool_open(s->cfg.db, pool, &s->pool) != 0) {
        snprintf(err, errlen, "out of memory");
        return SRV_ENOMEM;
    }
    db_pool_prepare(s->pool, all_stmts, n_stmts);
    if (par_open(par_helpers(), &s->par) != 0) {
        snprintf(err, errlen, "cannot start the checking threads");
        return SRV_ENOMEM;
    }
    return 0;
}

void srv_fini(struct srv *s)
{
    par_close(s->par);
    s->par = NULL;
    db_pool_close(s->pool);
    s->pool = NULL;
    srv_metrics_free(s->metrics);
    s->metrics = NULL;
    if (s->access_log != NULL && s->access_log != stdout)
        fclose(s->access_log);
    s->access_log = NULL;
}
