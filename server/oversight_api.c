/*
 * Oversight endpoints for the administrator and regulators (穿透式监管): reading and exporting
 * the audit log, and freezing or unfreezing an organisation or a single record. A freeze is a
 * core tx — signed with the admin key when the administrator asks, and with the custodial key
 * of the caller's regulator organisation when a regulator does — so it is on the ledger with
 * its reason, and the ledger's rules (modules/core/oversight.c) enforce it.
 */
#define _GNU_SOURCE
#include "auditlog.h"
#include "custody.h"
#include "db.h"
#include "http.h"
#include "server.h"

#include "../chain/chain.h"
#include "../chain/tx.h"
#include "../modules/module.h"

#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIST_DEFAULT 100
#define LIST_MAX     1000
#define CSV_DEFAULT  10000
#define CSV_MAX      100000

/* ---- filters ------------------------------------------------------------------------------- */

/* The query's filters as statement parameters: NULL where absent. */
struct filters {
    const char *p[7];                  /* user, org, module, from, to, before, limit */
    char from[24], to[24], before[24]; /* normalised numbers */
    char limit[24];
    int64_t n_limit; /* the limit as a number */
};

/* A decimal integer in [min, max] with at most 16 digits. Returns 0 or -1. */
static int parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v;

    if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 16)
        return -1;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Module names as in paths: [a-z0-9._-], 1 to 64 bytes. */
static int module_valid(const char *m)
{
    size_t n = strlen(m);

    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = m[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Reads user, org, module, from, to, before and limit from the query. Returns 0, or the
 * status of the 400 it answered. */
static unsigned read_filters(struct srv_req *r, struct filters *f, int64_t def, int64_t max)
{
    static const char *const nums[] = {"from", "to", "before"};
    char *bufs[3] = {f->from, f->to, f->before};
    const char *v;
    int64_t n;

    memset(f, 0, sizeof(*f));
    if ((v = srv_req_query(r, "user")) != NULL && *v != '\0') {
        if (strlen(v) > 64)
            return srv_reply_error(r, 400, "bad_parameter", "user is too long", "user");
        f->p[0] = v;
    }
    if ((v = srv_req_query(r, "org")) != NULL && *v != '\0') {
        if (strlen(v) > 72)
            return srv_reply_error(r, 400, "bad_parameter", "org is too long", "org");
        f->p[1] = v;
    }
    if ((v = srv_req_query(r, "module")) != NULL && *v != '\0') {
        if (!module_valid(v))
            return srv_reply_error(r, 400, "bad_parameter",
                                   "module is the first path segment after /api/", "module");
        f->p[2] = v;
    }
    for (size_t i = 0; i < 3; i++) {
        if ((v = srv_req_query(r, nums[i])) == NULL || *v == '\0')
            continue;
        if (parse_int(v, i == 2 ? 1 : 0, CHAIN_INT_MAX, &n) != 0)
            return srv_reply_error(
                r, 400, "bad_parameter",
                i == 2 ? "before must be a row id" : "from and to must be Unix ms", nums[i]);
        snprintf(bufs[i], 24, "%" PRId64, n);
        f->p[3 + i] = bufs[i];
    }
    f->n_limit = def;
    if ((v = srv_req_query(r, "limit")) != NULL && *v != '\0' &&
        parse_int(v, 1, max, &f->n_limit) != 0)
        return srv_reply_error(r, 400, "bad_parameter", "limit is out of range", "limit");
    snprintf(f->limit, sizeof(f->limit), "%" PRId64, f->n_limit);
    f->p[6] = f->limit;
    return 0;
}

/* Runs the filtered list on a pool connection. Returns the result (PQclear it) or NULL after
 * answering 503. *c is set for db_release. */
static PGresult *audit_query(struct srv_req *r, const struct filters *f, PGconn **c)
{
    PGresult *res;

    if ((*c = db_acquire(r->srv->pool, 1000, NULL)) == NULL) {
        srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
        return NULL;
    }
    res = PQexecPrepared(*c, "oversight_audit_list", 7, f->p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
        return NULL;
    }
    return res;
}

/* Column order of oversight_audit_list. */
enum {
    C_ID,
    C_AT,
    C_USER,
    C_ORG,
    C_ROLE,
    C_METHOD,
    C_ROUTE,
    C_TARGET,
    C_STATUS,
    C_TX,
    C_CLIENT,
    C_PREV,
    C_HASH,
    N_COLS
};

static const char *const col_names[N_COLS] = {"id",     "at_ms",     "username", "org",    "role",
                                              "method", "route",     "target",   "status", "tx_id",
                                              "client", "prev_hash", "hash"};

/* GET /api/audit?user=&org=&module=&from=&to=&limit=&before= → newest first. */
static unsigned audit_list(struct srv_req *r)
{
    struct filters f;
    PGconn *c = NULL;
    PGresult *res;
    json_t *rows, *body;
    unsigned status;
    int n;

    if ((status = read_filters(r, &f, LIST_DEFAULT, LIST_MAX)) != 0)
        return status;
    if ((res = audit_query(r, &f, &c)) == NULL) {
        db_release(r->srv->pool, c);
        return r->status;
    }
    rows = json_array();
    n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();

        for (int k = 0; k < N_COLS; k++) {
            const char *v = PQgetvalue(res, i, k);

            if (k == C_ID || k == C_AT || k == C_STATUS)
                json_object_set_new(o, col_names[k], json_integer(strtoll(v, NULL, 10)));
            else
                json_object_set_new(o, col_names[k], json_string(v));
        }
        json_array_append_new(rows, o);
    }
    body = json_pack("{s:o, s:o}", "rows", rows, "next_before",
                     n > 0 && n == f.n_limit
                         ? json_integer(strtoll(PQgetvalue(res, n - 1, C_ID), NULL, 10))
                         : json_null());
    PQclear(res);
    db_release(r->srv->pool, c);
    return srv_reply_json(r, 200, body);
}

/* ---- CSV ----------------------------------------------------------------------------------- */

size_t srv_csv_cell(const char *in, char *out, size_t cap)
{
    int guard = in[0] == '=' || in[0] == '+' || in[0] == '-' || in[0] == '@' || in[0] == '\t' ||
                in[0] == '\r';
    int quote = strpbrk(in, ",\"\r\n") != NULL;
    size_t need = strlen(in) + (size_t)guard + (quote ? 2 : 0), w = 0;

    for (const char *p = in; quote && *p; p++)
        need += *p == '"';
    if (need + 1 > cap)
        return need;
    if (quote)
        out[w++] = '"';
    if (guard)
        out[w++] = '\'';
    for (const char *p = in; *p; p++) {
        if (quote && *p == '"')
            out[w++] = '"';
        out[w++] = *p;
    }
    if (quote)
        out[w++] = '"';
    out[w] = '\0';
    return w;
}

/* A growing text buffer; on OOM it stops growing and remembers. */
struct text {
    char *buf;
    size_t len, cap;
    int oom;
};

static void text_cell(struct text *t, const char *cell, int last)
{
    size_t need;

    if (t->oom)
        return;
    need = srv_csv_cell(cell, t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0);
    if (t->buf == NULL || need + 3 > t->cap - t->len) {
        size_t cap = t->cap ? t->cap : 65536;
        char *nb;

        while (cap - t->len < need + 3)
            cap *= 2;
        if ((nb = realloc(t->buf, cap)) == NULL) {
            t->oom = 1;
            return;
        }
        t->buf = nb;
        t->cap = cap;
        need = srv_csv_cell(cell, t->buf + t->len, t->cap - t->len);
    }
    t->len += need;
    if (last) {
        t->buf[t->len++] = '\r'; /* RFC 4180 line ends */
        t->buf[t->len++] = '\n';
    } else {
        t->buf[t->len++] = ',';
    }
}

/* GET /api/audit.csv?…: the same filters and order, as text/csv with a header row. */
static unsigned audit_csv(struct srv_req *r)
{
    struct filters f;
    struct text t = {0};
    PGconn *c = NULL;
    PGresult *res;
    unsigned status;

    if ((status = read_filters(r, &f, CSV_DEFAULT, CSV_MAX)) != 0)
        return status;
    if ((res = audit_query(r, &f, &c)) == NULL) {
        db_release(r->srv->pool, c);
        return r->status;
    }
    for (int k = 0; k < N_COLS; k++) {
        text_cell(&t, col_names[k], k == N_COLS - 1);
        if (k == C_AT)
            text_cell(&t, "time_utc", 0);
    }
    for (int i = 0; i < PQntuples(res); i++) {
        for (int k = 0; k < N_COLS; k++) {
            text_cell(&t, PQgetvalue(res, i, k), k == N_COLS - 1);
            if (k == C_AT) {
                int64_t ms = strtoll(PQgetvalue(res, i, k), NULL, 10);
                time_t secs = (time_t)(ms / 1000);
                struct tm tm;
                char iso[40];
                size_t n;

                gmtime_r(&secs, &tm);
                n = strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
                snprintf(iso + n, sizeof(iso) - n, ".%03dZ", (int)(ms % 1000));
                text_cell(&t, iso, 0);
            }
        }
    }
    PQclear(res);
    db_release(r->srv->pool, c);
    if (t.oom) {
        free(t.buf);
        return srv_reply_error(r, 503, "busy", "out of memory; ask for fewer rows", NULL);
    }
    status = srv_reply_text(r, 200, "text/csv; charset=utf-8", t.buf, t.len);
    free(t.buf);
    if (r->resp != NULL && status == 200)
        MHD_add_response_header(r->resp, "Content-Disposition",
                                "attachment; filename=\"audit.csv\"");
    return status;
}

/* ---- freezes ------------------------------------------------------------------------------- */

/* The tx for a freeze or an unfreeze by the caller: the admin key for the administrator, else
 * the custodial key of a regulator organisation the caller holds a role in. Returns the
 * envelope, or NULL after answering (403 when the regulator has no such organisation). */
static json_t *overseer_sign(struct srv_req *r, const char *type, json_t *body, char *org,
                             size_t org_cap)
{
    char uid[24], err[200];
    const char *params[1] = {uid};
    PGconn *c;
    PGresult *res;
    json_t *env;

    if (strcmp(r->who.node_role, "admin") == 0) {
        snprintf(org, org_cap, "admin");
        env = srv_admin_sign(r->srv, "core", type, body);
        if (env == NULL)
            srv_reply_error(r, 503, "no_ledger", "the admin key is not available", NULL);
        return env;
    }
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL) {
        json_decref(body);
        srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
        return NULL;
    }
    snprintf(uid, sizeof(uid), "%" PRId64, r->who.user_id);
    res = PQexecPrepared(c, "oversight_regulator_org", 1, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        int failed = PQresultStatus(res) != PGRES_TUPLES_OK;

        PQclear(res);
        db_release(r->srv->pool, c);
        json_decref(body);
        if (failed)
            srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
        else
            srv_reply_error(r, 403, "no_regulator_org",
                            "you hold no role in a regulator organisation to sign with", NULL);
        return NULL;
    }
    snprintf(org, org_cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    env = srv_custody_sign(r->srv, c, org, "core", type, body, err, sizeof(err));
    db_release(r->srv->pool, c);
    if (env == NULL) {
        srv_log_error("oversight: cannot sign a %s for %s: %s", type, org, err);
        srv_reply_error(r, 500, "signing_failed", "the regulator organisation's key cannot sign",
                        NULL);
    }
    return env;
}

/* POST /api/oversight/freeze and /unfreeze {"target","reason"} → the core tx, answered after
 * it commits with {"action","target","org","tx_id","leaf_index","height"}. */
static unsigned freeze_common(struct srv_req *r, const char *type)
{
    const char *target = json_string_value(json_object_get(r->json, "target"));
    const char *reason = json_string_value(json_object_get(r->json, "reason"));
    char org[72];
    json_t *env, *body;
    struct chain_tx probe = {0};
    struct lx_reject why = {0};

    if (!json_is_object(r->json) || target == NULL || reason == NULL ||
        json_object_size(r->json) != 2)
        return srv_reply_error(r, 400, "bad_parameter",
                               "send {\"target\":\"org:<id>|tx:<hex>\",\"reason\":\"…\"}", NULL);
    /* The ledger's rules check the target and the reason: one place for them. Their stateless
     * part runs here too, before a key is unsealed, so that a reason of a megabyte gets its
     * 422 instead of a 413 for the tx it would make. */
    body = json_pack("{s:s, s:s}", "target", target, "reason", reason);
    if (body == NULL)
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    probe.type = type;
    probe.body = body;
    if (lx_module_find("core")->check(&probe, &why) != 0) {
        json_decref(body);
        return srv_reply_error(r, why.status, why.code, why.message, NULL);
    }
    env = overseer_sign(r, type, body, org, sizeof(org));
    if (env == NULL)
        return r->status;
    return srv_ledger_submit_reply(
        r, env, 200, json_pack("{s:s, s:s, s:s}", "action", type, "target", target, "org", org));
}

static unsigned freeze(struct srv_req *r)
{
    return freeze_common(r, "freeze");
}

static unsigned unfreeze(struct srv_req *r)
{
    return freeze_common(r, "unfreeze");
}

/* GET /api/oversight/freezes: the active freezes, newest first. */
static unsigned freezes(struct srv_req *r)
{
    PGconn *c = db_acquire(r->srv->pool, 1000, NULL);
    PGresult *res;
    json_t *arr;

    if (c == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    res = PQexecPrepared(c, "oversight_freezes", 0, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        db_release(r->srv->pool, c);
        return srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
    }
    arr = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "target", PQgetvalue(res, i, 0),
                           "reason", PQgetvalue(res, i, 1), "frozen_by", PQgetvalue(res, i, 2),
                           "frozen_leaf", (json_int_t)strtoll(PQgetvalue(res, i, 3), NULL, 10),
                           "frozen_at_ms", (json_int_t)strtoll(PQgetvalue(res, i, 4), NULL, 10),
                           "tx_id", PQgetvalue(res, i, 5)));
    PQclear(res);
    db_release(r->srv->pool, c);
    return srv_reply_json(r, 200, json_pack("{s:o}", "freezes", arr));
}

/* ---- tables -------------------------------------------------------------------------------- */

const struct srv_route srv_oversight_routes[] = {
    {"GET", "/api/audit", audit_list, SRV_AUTH_OVERSIGHT, SRV_BODY_NONE, 0},
    {"GET", "/api/audit.csv", audit_csv, SRV_AUTH_OVERSIGHT, SRV_BODY_NONE, 0},
    {"POST", "/api/oversight/freeze", freeze, SRV_AUTH_OVERSIGHT, SRV_BODY_JSON, 0},
    {"POST", "/api/oversight/unfreeze", unfreeze, SRV_AUTH_OVERSIGHT, SRV_BODY_JSON, 0},
    {"GET", "/api/oversight/freezes", freezes, SRV_AUTH_OVERSIGHT, SRV_BODY_NONE, 0},
};
const size_t srv_n_oversight_routes =
    sizeof(srv_oversight_routes) / sizeof(srv_oversight_routes[0]);

const struct db_stmt srv_oversight_stmts[] = {
    /* module: the first segment after /api/ of the recorded path */
    {"oversight_audit_list",
     "SELECT id, at_ms, username, org, role, method, route, target, status, tx_id, client, "
     "encode(prev_hash, 'base64'), encode(hash, 'base64') FROM audit_log "
     "WHERE ($1::text IS NULL OR username = $1) AND ($2::text IS NULL OR org = $2) "
     "AND ($3::text IS NULL OR (split_part(target, '/', 2) = 'api' "
     "AND split_part(target, '/', 3) = $3)) "
     "AND ($4::bigint IS NULL OR at_ms >= $4) AND ($5::bigint IS NULL OR at_ms < $5) "
     "AND ($6::bigint IS NULL OR id < $6) ORDER BY id DESC LIMIT $7"},
    {"oversight_regulator_org",
     "SELECT r.org FROM roles r JOIN principals p ON p.id = r.org "
     "WHERE r.user_id = $1 AND p.kind = 'org' AND p.type = 'regulator' ORDER BY r.org LIMIT 1"},
    {"oversight_freezes",
     "SELECT f.target, f.reason, f.frozen_by, f.frozen_leaf, f.frozen_at_ms, "
     "coalesce(encode(t.tx_id, 'hex'), '') FROM freezes f "
     "LEFT JOIN txs t ON t.leaf_index = f.frozen_leaf ORDER BY f.frozen_leaf DESC"},
};
const size_t srv_n_oversight_stmts = sizeof(srv_oversight_stmts) / sizeof(srv_oversight_stmts[0]);
