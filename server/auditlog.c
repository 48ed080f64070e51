/*
 * The audit log writer of auditlog.h. HTTP threads copy a finished request's fields into a
 * ring of QUEUE_CAP rows under one mutex and go on; the writer thread numbers, hashes and
 * inserts them in batches of up to BATCH rows, one database transaction per batch, and
 * anchors the head on the ledger. The writer alone knows the last id and hash while it runs;
 * after a failed batch it reloads them from the table, which also settles whether a COMMIT
 * whose answer was lost went through.
 *
 * Back-pressure instead of loss: a state-changing request takes its place in the ring when it
 * arrives (srv_auditlog_admit), and is answered 503 before it does anything when there is
 * none, so the server never serves a write it cannot account for, and no HTTP thread waits for
 * the database (a full ring while the database is down would otherwise stall every request,
 * reads too). Only an audited read (a download) waits for room at its end. While the database
 * fails the writer retries at least every RETRY_MAX_MS, so writes work again soon after it is
 * back. The one place rows can be lost is a shutdown while the database stays unreachable for
 * STOP_GIVE_UP_MS: stderr then says how many.
 *
 * The state is one static object because there is one writer per process (like the signal
 * handling in main.c); struct srv does not need to know about it.
 */
#define _GNU_SOURCE
#include "auditlog.h"
#include "auth.h"
#include "custody.h"
#include "db.h"
#include "http.h"
#include "seq.h"
#include "server.h"

#include "../chain/chain.h"
#include "../chain/jcs.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_CAP       4096  /* rows waiting for the writer */
#define BATCH           256   /* rows per database transaction */
#define WAIT_WARN_S     5     /* a request waiting for room says so this often */
#define RETRY_MAX_MS    1000  /* longest pause between attempts while the database fails */
#define STOP_GIVE_UP_MS 10000 /* at shutdown, stop trying after this long */
#define IDLE_WAKE_MS    1000  /* the writer looks at the anchor clock at least this often */
#define GATHER_MS       10    /* default LIANXIN_AUDIT_GATHER_MS: see gather */

enum state { ST_IDLE = 0, ST_RUNNING, ST_STOPPING, ST_STOPPED };

struct auditlog {
    pthread_mutex_t mu;                   /* guards everything below but the writer-only part */
    pthread_cond_t more;                  /* rows queued, stop asked, anchor decided */
    pthread_cond_t room;                  /* rows left the queue */
    struct srv_auditlog_row q[QUEUE_CAP]; /* the ring */
    size_t head, n;                       /* first queued row, rows queued */
    size_t held;                          /* places held by admitted requests; n + held <= CAP */
    int refusing;                         /* the last admission found no place (for the log) */
    enum state state;                     /* lifecycle */
    struct srv *srv;                      /* borrowed, for the database and the ledger */
    pthread_t thread;                     /* the writer */
    int64_t interval_ms;                  /* anchor at most this often, at least this often
                                             while the log grows */
    int64_t gather_ms;                    /* a batch waits this long to fill */
    int64_t anchored_id;                  /* highest head_id committed on the ledger */
    int64_t pending_id;                   /* head_id of the anchor in flight, 0 if none */
    uint64_t last_anchor_us;              /* monotonic time of the last anchor attempt */
    /* The chain head. Writer-only while it runs; under mu before start and after stop. */
    int loaded;            /* last_id/last_hash read from the table */
    int64_t last_id;       /* id of the last row written, 0 for an empty log */
    uint8_t last_hash[32]; /* its hash; zeros for an empty log */
    PGconn *db;            /* the writer's own connection (not the pool's) */
};

static struct auditlog L = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .more = PTHREAD_COND_INITIALIZER,
    .room = PTHREAD_COND_INITIALIZER,
};

static const char insert_sql[] =
    "INSERT INTO audit_log (id, at_ms, username, org, role, method, route, target, status, "
    "tx_id, client, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
    "decode($12, 'hex'), decode($13, 'hex'))";
static const char head_sql[] =
    "SELECT id, encode(hash, 'hex') FROM audit_log ORDER BY id DESC LIMIT 1";
static const char anchored_sql[] = "SELECT coalesce(max(head_id), 0) FROM audit_anchors";

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Absolute CLOCK_REALTIME deadline ms from now, for pthread_cond_timedwait. */
static struct timespec deadline_in(int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* ---- the row and its hash ------------------------------------------------------------------ */

int srv_auditlog_row_hash(struct srv_auditlog_row *row)
{
    crypto_hash_sha256_state st;
    json_t *o;
    char *jcs = NULL;
    size_t len = 0;
    int rc = -1;

    o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "id",
                  (json_int_t)row->id, "at_ms", (json_int_t)row->at_ms, "username", row->username,
                  "org", row->org, "role", row->role, "method", row->method, "route", row->route,
                  "target", row->target, "status", (json_int_t)row->status, "tx_id", row->tx_id,
                  "client", row->client);
    if (o == NULL || chain_jcs_dump(o, &jcs, &len) != 0)
        goto out;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, row->prev_hash, sizeof(row->prev_hash));
    crypto_hash_sha256_update(&st, (const unsigned char *)jcs, len);
    crypto_hash_sha256_final(&st, row->hash);
    rc = 0;
out:
    free(jcs);
    json_decref(o);
    return rc;
}

/* Length of the valid UTF-8 character (RFC 3629: no overlong form, no surrogate, at most
 * U+10FFFF) at s[0..n), or 0 when there is none. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */

    if (c < 0x80)
        return 1;
    if (c < 0xc2 || c > 0xf4)
        return 0;
    len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (len > n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* Copies src into dst (cap bytes) as valid UTF-8 without control characters: a control
 * character or a byte that is not part of valid UTF-8 becomes '?', and a cut never splits a
 * character. Names come from the database or the client, so neither is trusted here. */
static void clean_text(char *dst, size_t cap, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t w = 0, i = 0, n = strlen(src);

    while (i < n) {
        size_t len = utf8_char(s + i, n - i);

        if (w + (len ? len : 1) + 1 > cap)
            break;
        if (len == 0 || (len == 1 && (s[i] < 0x20 || s[i] == 0x7f))) {
            dst[w++] = '?';
            i++;
            continue;
        }
        memcpy(dst + w, s + i, len);
        w += len;
        i += len;
    }
    dst[w] = '\0';
}

/* The path as recorded: printable ASCII stays, every other byte and '%' become %XX (so the
 * text is the URL as sent, and a cut never splits an escape). */
static void clean_target(char *dst, size_t cap, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t w = 0;

    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        int esc = *p <= ' ' || *p >= 0x7f || *p == '%';

        if (w + (esc ? 3 : 1) + 1 > cap)
            break;
        if (esc) {
            dst[w++] = '%';
            dst[w++] = hex[*p >> 4];
            dst[w++] = hex[*p & 15];
        } else {
            dst[w++] = (char)*p;
        }
    }
    dst[w] = '\0';
}

/* ---- the database side --------------------------------------------------------------------- */

static int prepare(PGconn *c)
{
    static const struct db_stmt stmts[] = {
        {"auditlog_insert", insert_sql},
        {"auditlog_head", head_sql},
        {"auditlog_anchored", anchored_sql},
    };

    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
        PGresult *r = PQprepare(c, stmts[i].name, stmts[i].sql, 0, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

        PQclear(r);
        if (!ok)
            return -1;
    }
    return 0;
}

/* Reads the last row's id and hash (and, when anchored is not NULL, the highest anchored
 * head_id) with statement text, so it works on prepared and fresh connections alike. */
static int load_head(PGconn *c, int64_t *id, uint8_t hash[32], int64_t *anchored)
{
    PGresult *r = PQexec(c, head_sql);
    uint8_t h[32] = {0};
    int64_t last = 0;
    int rc = -1;

    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        goto out;
    if (PQntuples(r) == 1) {
        last = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        if (chain_hex_decode(PQgetvalue(r, 0, 1), strlen(PQgetvalue(r, 0, 1)), h, 32) != 0)
            goto out;
    }
    if (anchored != NULL) {
        PQclear(r);
        r = PQexec(c, anchored_sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            goto out;
        *anchored = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    /* all or nothing: a half-read head would chain the next row to the wrong place */
    *id = last;
    memcpy(hash, h, 32);
    rc = 0;
out:
    PQclear(r);
    return rc;
}

/* Inserts row (numbered and hashed) on c; prepared says whether "auditlog_insert" exists. */
static int insert_row(PGconn *c, const struct srv_auditlog_row *row, int prepared)
{
    char id[24], at[24], status[16], prev[65], hash[65];
    const char *p[13] = {id,          at,         row->username, row->org, row->role,
                         row->method, row->route, row->target,   status,   row->tx_id,
                         row->client, prev,       hash};
    PGresult *r;
    int ok;

    snprintf(id, sizeof(id), "%" PRId64, row->id);
    snprintf(at, sizeof(at), "%" PRId64, row->at_ms);
    snprintf(status, sizeof(status), "%u", row->status);
    chain_hex_encode(row->prev_hash, 32, prev);
    chain_hex_encode(row->hash, 32, hash);
    if (prepared)
        r = PQexecPrepared(c, "auditlog_insert", 13, p, NULL, NULL, 0);
    else
        r = PQexecParams(c, insert_sql, 13, NULL, p, NULL, NULL, 0);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        srv_log_error("audit log: cannot write row %" PRId64 ": %s", row->id,
                      PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Writes rows[0..k) with one COPY on c (inside the caller's transaction). */
static int copy_rows(PGconn *c, const struct srv_auditlog_row *rows, size_t k)
{
    struct db_buf b = {0};
    char num[48];
    int rc = -1;

    for (size_t i = 0; i < k; i++) {
        const struct srv_auditlog_row *r = &rows[i];
        const char *text[] = {r->username, r->org, r->role, r->method, r->route, r->target};

        snprintf(num, sizeof(num), "%" PRId64 "\t%" PRId64 "\t", r->id, r->at_ms);
        db_buf_puts(&b, num);
        for (size_t t = 0; t < sizeof(text) / sizeof(text[0]); t++) {
            db_buf_text(&b, text[t]);
            db_buf_put(&b, "\t", 1);
        }
        snprintf(num, sizeof(num), "%u\t", r->status);
        db_buf_puts(&b, num);
        db_buf_text(&b, r->tx_id);
        db_buf_put(&b, "\t", 1);
        db_buf_text(&b, r->client);
        db_buf_put(&b, "\t", 1);
        db_buf_bytea(&b, r->prev_hash, 32);
        db_buf_put(&b, "\t", 1);
        db_buf_bytea(&b, r->hash, 32);
        db_buf_put(&b, "\n", 1);
    }
    if (!b.failed)
        rc = db_copy_in(c,
                        "COPY audit_log (id, at_ms, username, org, role, method, route, target, "
                        "status, tx_id, client, prev_hash, hash) FROM STDIN",
                        b.p, b.len);
    if (rc != 0)
        srv_log_error("audit log: cannot write rows %" PRId64 "..%" PRId64 ": %s", rows[0].id,
                      rows[k - 1].id, b.failed ? "out of memory" : PQerrorMessage(c));
    free(b.p);
    return rc == 0 ? 0 : -1;
}

static int exec_simple(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

    PQclear(r);
    return ok ? 0 : -1;
}

/* Numbers and hashes rows[0..k) after (id, hash) and writes them in one transaction on c.
 * Returns 0 when committed. */
static int write_rows(PGconn *c, struct srv_auditlog_row *rows, size_t k, int64_t id,
                      const uint8_t hash[32], int prepared)
{
    for (size_t i = 0; i < k; i++) {
        rows[i].id = id + 1 + (int64_t)i;
        memcpy(rows[i].prev_hash, i == 0 ? hash : rows[i - 1].hash, 32);
        if (srv_auditlog_row_hash(&rows[i]) != 0) {
            /* clean_text makes this impossible; a row we cannot hash is a bug, said loudly */
            srv_log_error("audit log: cannot hash a row (%s %s)", rows[i].method, rows[i].target);
            snprintf(rows[i].target, sizeof(rows[i].target), "?");
            if (srv_auditlog_row_hash(&rows[i]) != 0)
                return -1;
        }
    }
    if (exec_simple(c, "BEGIN") != 0)
        return -1;
    if (prepared && k > 1) { /* the writer's batches: one COPY, not a round trip per row */
        if (copy_rows(c, rows, k) != 0) {
            exec_simple(c, "ROLLBACK");
            return -1;
        }
        return exec_simple(c, "COMMIT");
    }
    for (size_t i = 0; i < k; i++) {
        if (insert_row(c, &rows[i], prepared) != 0) {
            exec_simple(c, "ROLLBACK");
            return -1;
        }
    }
    return exec_simple(c, "COMMIT");
}

/* The writer's connection, made (and prepared) when missing or broken. */
static int writer_db(void)
{
    char err[256];

    if (L.db != NULL && PQstatus(L.db) == CONNECTION_OK)
        return 0;
    PQfinish(L.db);
    L.db = db_connect(L.srv->cfg.db, err, sizeof(err));
    if (L.db == NULL || prepare(L.db) != 0) {
        PQfinish(L.db);
        L.db = NULL;
        return -1;
    }
    return 0;
}

/* Writes the k rows at the head of the ring (writer thread, mutex not held: producers never
 * touch queued slots). Returns how many of them are now in the table (k, or fewer when an
 * earlier try committed some), or -1 when none is. */
static long write_batch(struct srv_auditlog_row *rows, size_t k)
{
    const struct srv_auditlog_row *last = &rows[k - 1];

    if (writer_db() == 0 && write_rows(L.db, rows, k, L.last_id, L.last_hash, 1) == 0) {
        L.last_id = last->id;
        memcpy(L.last_hash, last->hash, 32);
        return (long)k;
    }
    /* Failed somewhere, possibly after a COMMIT whose answer was lost — in this try or in an
     * earlier one of a shorter batch, whose rows this try numbered the same way. The table
     * decides: the rows up to its head are in, and must not be written again. */
    if (writer_db() != 0 || load_head(L.db, &L.last_id, L.last_hash, NULL) != 0)
        return -1;
    for (size_t j = 0; j < k; j++)
        if (rows[j].id == L.last_id && memcmp(rows[j].hash, L.last_hash, 32) == 0)
            return (long)j + 1;
    return -1;
}

/* ---- anchoring ----------------------------------------------------------------------------- */

/* The ledger decided an anchor (sequencer thread, or the writer's when refused up front). */
static void anchor_done(void *ctx, const struct seq_item *it)
{
    int64_t id = (int64_t)(intptr_t)ctx;

    pthread_mutex_lock(&L.mu);
    if (it->status == 200 && id > L.anchored_id)
        L.anchored_id = id;
    L.pending_id = 0;
    pthread_cond_broadcast(&L.more);
    pthread_mutex_unlock(&L.mu);
    if (it->status != 200)
        srv_log_error("audit log: anchor of row %" PRId64 " refused: %u %s: %s", id, it->status,
                      it->code, it->message);
}

/* The admin-signed audit.anchor tx naming the current head, or NULL. */
static json_t *anchor_tx(void)
{
    char b64[CHAIN_B64_LEN(32) + 1];

    if (chain_b64_encode(L.last_hash, 32, b64, sizeof(b64)) != 0)
        return NULL;
    return srv_admin_sign(
        L.srv, "core", "audit.anchor",
        json_pack("{s:I, s:s}", "head_id", (json_int_t)L.last_id, "head_hash", b64));
}

/* Is an anchor due? Caller holds mu. */
static int anchor_due(uint64_t now_us)
{
    return L.interval_ms > 0 && L.pending_id == 0 && L.last_id > L.anchored_id &&
           (L.last_anchor_us == 0 || now_us - L.last_anchor_us >= (uint64_t)L.interval_ms * 1000u);
}

/* How long the idle writer may sleep: until the next anchor falls due, at most IDLE_WAKE_MS.
 * Caller holds mu. */
static int64_t next_wake_ms(uint64_t now_us)
{
    int64_t left;

    if (L.interval_ms == 0 || L.pending_id != 0 || L.last_id <= L.anchored_id ||
        L.last_anchor_us == 0)
        return IDLE_WAKE_MS;
    left = L.interval_ms - (int64_t)((now_us - L.last_anchor_us) / 1000u);
    return left < 1 ? 1 : left > IDLE_WAKE_MS ? IDLE_WAKE_MS : left;
}

/* Submits an anchor of the head when one is due (writer thread, mutex not held). */
static void maybe_anchor(void)
{
    int64_t id = L.last_id;
    json_t *env;

    pthread_mutex_lock(&L.mu);
    if (!anchor_due(srv_now_us())) {
        pthread_mutex_unlock(&L.mu);
        return;
    }
    L.pending_id = id;
    L.last_anchor_us = srv_now_us();
    pthread_mutex_unlock(&L.mu);
    env = anchor_tx();
    if (env == NULL || srv_ledger_submit(L.srv, env, anchor_done, (void *)(intptr_t)id) != 0) {
        srv_log_error("audit log: cannot submit the anchor of row %" PRId64, id);
        pthread_mutex_lock(&L.mu);
        L.pending_id = 0;
        pthread_mutex_unlock(&L.mu);
    }
    json_decref(env);
}

/* At shutdown: waits for an anchor in flight, then anchors the final head and waits for it. */
static void final_anchor(void)
{
    struct timespec until = deadline_in(STOP_GIVE_UP_MS);
    char tx_id[65] = "";
    unsigned status = 0;
    uint64_t leaf = 0;
    json_t *env;

    pthread_mutex_lock(&L.mu);
    while (L.pending_id != 0 && pthread_cond_timedwait(&L.more, &L.mu, &until) != ETIMEDOUT)
        ;
    if (L.interval_ms == 0 || L.pending_id != 0 || L.last_id <= L.anchored_id) {
        pthread_mutex_unlock(&L.mu);
        return;
    }
    pthread_mutex_unlock(&L.mu);
    env = anchor_tx();
    if (env == NULL || srv_ledger_submit_wait(L.srv, env, &status, tx_id, &leaf) != 0)
        srv_log_error("audit log: cannot submit the final anchor");
    else if (status != 200)
        srv_log_error("audit log: final anchor of row %" PRId64 " refused (%u)", L.last_id, status);
    else {
        pthread_mutex_lock(&L.mu);
        L.anchored_id = L.last_id;
        pthread_mutex_unlock(&L.mu);
        srv_log_error("audit log: head row %" PRId64 " anchored at leaf %" PRIu64, L.last_id, leaf);
    }
    json_decref(env);
}

static void write_direct(struct srv_auditlog_row *row);

/* Lets the batch fill for up to gather_ms (mutex held, rows queued). A batch costs the
 * database mostly per statement and per commit — under a stream of one-tx requests, batches of
 * a dozen rows made the audit log cost as much as the txs' own rows — while nobody waits for
 * its rows: the request was answered before its row was queued. Producers wake the writer only
 * when the queue turns non-empty or the batch is full, so gathering costs no wake-ups. */
static void gather(void)
{
    struct timespec until = deadline_in(L.gather_ms);

    while (L.n < BATCH && L.state == ST_RUNNING &&
           pthread_cond_timedwait(&L.more, &L.mu, &until) != ETIMEDOUT)
        ;
}

/* ---- the writer thread --------------------------------------------------------------------- */

static void *writer(void *arg)
{
    int64_t retry_ms = 0;
    uint64_t failing_since = 0;

    (void)arg;
    pthread_mutex_lock(&L.mu);
    for (;;) {
        size_t k;
        long done;
        int rc;

        while (L.n == 0 && L.state == ST_RUNNING && !anchor_due(srv_now_us())) {
            struct timespec until = deadline_in(next_wake_ms(srv_now_us()));

            pthread_cond_timedwait(&L.more, &L.mu, &until);
        }
        if (L.n == 0 && L.state != ST_RUNNING)
            break;
        if (L.n > 0) /* not when woken only to anchor */
            gather();
        /* A contiguous stretch of the ring: the slots are the writer's until popped. */
        k = L.n < BATCH ? L.n : BATCH;
        if (L.head + k > QUEUE_CAP)
            k = QUEUE_CAP - L.head;
        pthread_mutex_unlock(&L.mu);
        done = k > 0 ? write_batch(&L.q[L.head], k) : 0;
        rc = done >= 0 ? 0 : -1;
        if (rc == 0)
            maybe_anchor();
        pthread_mutex_lock(&L.mu);
        if (rc == 0) {
            L.head = (L.head + (size_t)done) % QUEUE_CAP;
            L.n -= (size_t)done;
            if (failing_since != 0)
                srv_log_error("audit log: writing again");
            retry_ms = 0;
            failing_since = 0;
            pthread_cond_broadcast(&L.room);
            continue;
        }
        /* The database failed: keep the rows, pause, try again. */
        if (failing_since == 0) {
            failing_since = srv_now_us();
            srv_log_error("audit log: cannot write to the database; %zu rows kept, retrying", L.n);
        }
        if (L.state != ST_RUNNING &&
            srv_now_us() - failing_since > (uint64_t)STOP_GIVE_UP_MS * 1000u) {
            srv_log_error("audit log: database unreachable at shutdown; %zu rows NOT recorded",
                          L.n);
            L.n = 0;
            pthread_cond_broadcast(&L.room);
            break;
        }
        retry_ms = retry_ms == 0 ? 100 : retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : retry_ms * 2;
        {
            /* New rows do not hurry the retry; only a stop request does. */
            struct timespec until = deadline_in(retry_ms);
            enum state was = L.state;

            while (L.state == was && pthread_cond_timedwait(&L.more, &L.mu, &until) != ETIMEDOUT)
                ;
        }
    }
    pthread_mutex_unlock(&L.mu);
    final_anchor();
    PQfinish(L.db);
    L.db = NULL;
    return NULL;
}

/* *out = the environment's name in milliseconds: 0 or lo to hi, def when unset. 0, or -1 with
 * err. */
static int env_ms(const char *name, long long def, long long lo, long long hi, long long *out,
                  char *err, size_t errlen)
{
    const char *v = getenv(name);
    char *end = NULL;

    *out = def;
    if (v == NULL || *v == '\0')
        return 0;
    *out = strtoll(v, &end, 10);
    if (*end != '\0' || *out < 0 || (*out != 0 && *out < lo) || *out > hi) {
        snprintf(err, errlen, "%s must be 0 or %lld to %lld", name, lo, hi);
        return -1;
    }
    return 0;
}

int srv_auditlog_start(struct srv *s, char *err, size_t errlen)
{
    long long ms, gather_ms;

    if (env_ms("LIANXIN_AUDIT_ANCHOR_MS", SRV_AUDIT_ANCHOR_MS, 100, 86400000, &ms, err, errlen) !=
            0 ||
        env_ms("LIANXIN_AUDIT_GATHER_MS", GATHER_MS, 1, 10000, &gather_ms, err, errlen) != 0)
        return -1;
    if (ms == 0)
        srv_log_error("audit log: anchoring is off (LIANXIN_AUDIT_ANCHOR_MS=0)");
    pthread_mutex_lock(&L.mu);
    L.srv = s;
    L.interval_ms = ms;
    L.gather_ms = gather_ms;
    L.head = L.n = 0;
    L.pending_id = 0;
    L.last_anchor_us = 0;
    if (writer_db() != 0 || load_head(L.db, &L.last_id, L.last_hash, &L.anchored_id) != 0) {
        snprintf(err, errlen, "audit log: cannot read audit_log: %s",
                 L.db ? PQerrorMessage(L.db) : "no database connection");
        PQfinish(L.db);
        L.db = NULL;
        pthread_mutex_unlock(&L.mu);
        return -1;
    }
    L.loaded = 1;
    L.state = ST_RUNNING;
    if (pthread_create(&L.thread, NULL, writer, NULL) != 0) {
        L.state = ST_IDLE;
        PQfinish(L.db);
        L.db = NULL;
        pthread_mutex_unlock(&L.mu);
        snprintf(err, errlen, "audit log: cannot start the writer thread");
        return -1;
    }
    pthread_mutex_unlock(&L.mu);
    return 0;
}

void srv_auditlog_stop(struct srv *s)
{
    (void)s;
    pthread_mutex_lock(&L.mu);
    if (L.state != ST_RUNNING) {
        pthread_mutex_unlock(&L.mu);
        return;
    }
    L.state = ST_STOPPING;
    pthread_cond_broadcast(&L.more);
    pthread_mutex_unlock(&L.mu);
    pthread_join(L.thread, NULL);
    pthread_mutex_lock(&L.mu);
    L.state = ST_STOPPED;
    L.loaded = 0; /* from here on the table says where the chain ends */
    /* Rows queued while the writer made its final anchor: written one by one. */
    for (; L.n > 0; L.n--, L.head = (L.head + 1) % QUEUE_CAP)
        write_direct(&L.q[L.head]);
    pthread_cond_broadcast(&L.room);
    pthread_mutex_unlock(&L.mu);
}

/* Without a writer (after stop, or before start): writes row at once on a connection of its
 * own. Caller holds mu, which keeps the chain in order. */
static void write_direct(struct srv_auditlog_row *row)
{
    char err[256];
    PGconn *c;

    if (L.srv == NULL)
        return; /* never started: no database to write to (not a server) */
    c = db_connect(L.srv->cfg.db, err, sizeof(err));
    if (c == NULL) {
        srv_log_error("audit log: row NOT recorded (%s %s %u): %s", row->method, row->target,
                      row->status, err);
        return;
    }
    if (!L.loaded && load_head(c, &L.last_id, L.last_hash, NULL) == 0)
        L.loaded = 1;
    if (L.loaded && write_rows(c, row, 1, L.last_id, L.last_hash, 0) == 0) {
        L.last_id = row->id;
        memcpy(L.last_hash, row->hash, 32);
    } else {
        L.loaded = 0; /* reload next time: the table decides */
        srv_log_error("audit log: row NOT recorded (%s %s %u)", row->method, row->target,
                      row->status);
    }
    PQfinish(c);
}

static int changes_state(const struct srv_req *r)
{
    return strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
}

int srv_auditlog_admit(struct srv_req *r)
{
    int ok = 1;

    if (!changes_state(r))
        return 0;
    pthread_mutex_lock(&L.mu);
    if (L.state == ST_RUNNING || L.state == ST_STOPPING) {
        ok = L.n + L.held < QUEUE_CAP;
        if (ok)
            L.held++;
        if (ok == L.refusing) /* say so when it starts and when it ends, not per request */
            srv_log_error(ok ? "audit log: room again; writes accepted"
                             : "audit log: queue full (database slow or down); writes get 503");
        L.refusing = !ok;
    }
    r->audit_slot = ok ? 1 : -1;
    pthread_mutex_unlock(&L.mu);
    return ok ? 0 : -1;
}

void srv_auditlog_request(struct srv_req *r)
{
    struct srv_auditlog_row row;
    int waited = 0;

    if (r->audit_slot < 0)
        return;          /* refused before it did anything: nothing to account for */
    if (r->reads_only) { /* changed nothing after all: give back its place */
        pthread_mutex_lock(&L.mu);
        if (r->audit_slot > 0 && L.held > 0) {
            L.held--;
            pthread_cond_broadcast(&L.room);
        }
        pthread_mutex_unlock(&L.mu);
        return;
    }
    if (!changes_state(r) && !r->audit_read)
        return;
    memset(&row, 0, sizeof(row));
    row.at_ms = wall_ms();
    clean_text(row.username, sizeof(row.username), r->who.username);
    clean_text(row.org, sizeof(row.org), r->who.acting_org);
    clean_text(row.role, sizeof(row.role), r->who.acting_role);
    clean_text(row.method, sizeof(row.method), r->method);
    clean_text(row.route, sizeof(row.route),
               r->match.route != NULL ? r->match.route->pattern : "unmatched");
    clean_target(row.target, sizeof(row.target), r->path ? r->path : "");
    row.status = r->status;
    clean_text(row.tx_id, sizeof(row.tx_id), r->tx_id);
    srv_req_client(r, row.client, sizeof(row.client));

    pthread_mutex_lock(&L.mu);
    if (r->audit_slot > 0 && L.held > 0)
        L.held--; /* its place, kept for it since admission: no wait below */
    while (L.n + L.held >= QUEUE_CAP && (L.state == ST_RUNNING || L.state == ST_STOPPING)) {
        struct timespec until = deadline_in(WAIT_WARN_S * 1000);

        if (pthread_cond_timedwait(&L.room, &L.mu, &until) == ETIMEDOUT)
            srv_log_error("audit log: queue full for %d s; requests wait for the database",
                          (++waited) * WAIT_WARN_S);
    }
    if (L.state == ST_RUNNING || L.state == ST_STOPPING) {
        L.q[(L.head + L.n) % QUEUE_CAP] = row;
        L.n++;
        if (L.n == 1 || L.n == BATCH) /* the writer idles, or gathers (see gather) */
            pthread_cond_signal(&L.more);
    } else {
        write_direct(&row);
    }
    pthread_mutex_unlock(&L.mu);
}
