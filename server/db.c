/* The connection pool of db.h. One mutex guards the slot table; connecting and preparing
 * happen outside it so one slow reconnect does not stall other threads. Also COPY's buffers,
 * pipelines, and chains of COPYs (which alone write protocol messages past libpq: send_ahead). */
#define _DEFAULT_SOURCE
#include "db.h"
#include "err.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

struct db_slot {
    PGconn *conn; /* NULL until connected, or after it broke */
    int busy;     /* taken by a caller */
};

struct db_pool {
    char *conninfo;              /* owned copy */
    pthread_mutex_t mu;          /* guards slots */
    pthread_cond_t freed;        /* signalled on release */
    size_t n;                    /* slots */
    struct db_slot *slots;       /* owned */
    const struct db_stmt *stmts; /* borrowed */
    size_t n_stmts;
};

int db_pool_open(const char *conninfo, size_t n, struct db_pool **out)
{
    struct db_pool *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return SRV_ENOMEM;
    p->conninfo = strdup(conninfo);
    p->slots = calloc(n, sizeof(*p->slots));
    if (p->conninfo == NULL || p->slots == NULL) {
        free(p->conninfo);
        free(p->slots);
        free(p);
        return SRV_ENOMEM;
    }
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->freed, NULL);
    *out = p;
    return 0;
}

void db_pool_prepare(struct db_pool *p, const struct db_stmt *stmts, size_t n)
{
    p->stmts = stmts;
    p->n_stmts = n;
}

/* Is this idle connection still alive? PQconsumeInput reads, without blocking (libpq sockets
 * are non-blocking), the notice a restarting server sends before it closes; PQstatus then
 * turns bad. A query would find out too, but only after the caller committed to it. */
static int conn_alive(PGconn *c)
{
    if (PQstatus(c) != CONNECTION_OK)
        return 0;
    if (!PQconsumeInput(c))
        return 0;
    return PQstatus(c) == CONNECTION_OK;
}

static int conn_prepare(struct db_pool *p, PGconn *c)
{
    for (size_t i = 0; i < p->n_stmts; i++) {
        PGresult *r = PQprepare(c, p->stmts[i].name, p->stmts[i].sql, 0, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

        if (!ok)
            fprintf(stderr, "lianxind: cannot prepare %s: %s", p->stmts[i].name,
                    PQresultErrorMessage(r));
        PQclear(r);
        if (!ok)
            return -1;
    }
    return 0;
}

/* Server notices ("relation already exists, skipping") are expected chatter, not errors;
 * warnings and worse still reach the log. */
static void on_notice(void *arg, const PGresult *r)
{
    const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);

    (void)arg;
    if (sev != NULL && strcmp(sev, "NOTICE") != 0 && strcmp(sev, "DEBUG") != 0 &&
        strcmp(sev, "LOG") != 0 && strcmp(sev, "INFO") != 0)
        fprintf(stderr, "lianxind: database %s", PQresultErrorMessage(r));
}

PGconn *db_connect(const char *conninfo, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(conninfo);

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(c));
        err[strcspn(err, "\n")] = '\0';
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeReceiver(c, on_notice, NULL);
    return c;
}

static int take_slot(struct db_pool *p, int wait_ms)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    for (;;) {
        /* Prefer a connected slot, so an outage does not make every caller reconnect. */
        int pick = -1;

        for (size_t i = 0; i < p->n; i++) {
            if (p->slots[i].busy)
                continue;
            if (pick < 0 || p->slots[i].conn != NULL)
                pick = (int)i;
            if (p->slots[i].conn != NULL)
                break;
        }
        if (pick >= 0) {
            p->slots[pick].busy = 1;
            pthread_mutex_unlock(&p->mu);
            return pick;
        }
        if (pthread_cond_timedwait(&p->freed, &p->mu, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&p->mu);
            return -1;
        }
    }
}

static void give_slot(struct db_pool *p, int i, PGconn *c)
{
    pthread_mutex_lock(&p->mu);
    p->slots[i].conn = c;
    p->slots[i].busy = 0;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

PGconn *db_acquire(struct db_pool *p, int wait_ms, const char **why)
{
    int i = take_slot(p, wait_ms);
    PGconn *c;
    char err[256];

    if (i < 0) {
        if (why)
            *why = "all database connections are busy";
        return NULL;
    }
    c = p->slots[i].conn; /* ours alone while busy */
    if (c != NULL && !conn_alive(c)) {
        PQfinish(c);
        c = NULL;
    }
    if (c == NULL) {
        c = db_connect(p->conninfo, err, sizeof(err));
        if (c != NULL && conn_prepare(p, c) != 0) {
            PQfinish(c);
            c = NULL;
        }
        if (c == NULL) {
            give_slot(p, i, NULL);
            if (why)
                *why = "the database is unreachable";
            return NULL;
        }
    }
    p->slots[i].conn = c;
    return c;
}

void db_release(struct db_pool *p, PGconn *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (p->slots[i].conn != c)
            continue;
        if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE) {
            PGresult *r = PQexec(c, "ROLLBACK");
            PQclear(r);
        }
        if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE) {
            PQfinish(c);
            c = NULL;
        }
        give_slot(p, (int)i, c);
        return;
    }
    abort(); /* releasing a connection the pool never gave out is a programmer error */
}

void db_pool_stats(struct db_pool *p, size_t *in_use, size_t *idle, size_t *size)
{
    size_t u = 0, d = 0;

    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n; i++) {
        if (p->slots[i].busy)
            u++;
        else if (p->slots[i].conn != NULL)
            d++;
    }
    pthread_mutex_unlock(&p->mu);
    *in_use = u;
    *idle = d;
    *size = p->n;
}

void db_pool_close(struct db_pool *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        PQfinish(p->slots[i].conn);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    free(p->slots);
    free(p->conninfo);
    free(p);
}

/* Big-endian, as the binary format wants every integer. */
static void put_be(struct db_buf *b, uint64_t v, int bytes)
{
    char out[8];

    for (int i = 0; i < bytes; i++)
        out[i] = (char)(v >> (8 * (bytes - 1 - i)));
    db_buf_put(b, out, (size_t)bytes);
}

void db_bin_row(struct db_buf *b, uint16_t fields)
{
    if (b->len == 0) {
        db_buf_put(b, "PGCOPY\n\377\r\n\0", 11);
        put_be(b, 0, 4); /* flags: no OIDs */
        put_be(b, 0, 4); /* no header extension */
    }
    put_be(b, fields, 2);
}

void db_bin_int8(struct db_buf *b, int64_t v)
{
    put_be(b, 8, 4);
    put_be(b, (uint64_t)v, 8);
}

void db_bin_bytes(struct db_buf *b, const void *p, size_t n)
{
    if (n > INT32_MAX) {
        b->failed = 1;
        return;
    }
    put_be(b, n, 4);
    db_buf_put(b, p, n);
}

void db_bin_array(struct db_buf *b, uint32_t elem_oid)
{
    put_be(b, 1, 4);        /* dimensions */
    put_be(b, 0, 4);        /* no NULLs */
    put_be(b, elem_oid, 4); /* element type */
    put_be(b, 0, 4);        /* elements: set by db_bin_array_end */
    put_be(b, 1, 4);        /* the first index */
}

void db_bin_array_end(struct db_buf *b, uint32_t n)
{
    if (b->failed || b->len < 20)
        return;
    if (n == 0) { /* no elements: an array of no dimensions, header only */
        memset(b->p, 0, 4);
        b->len = 12;
        return;
    }
    for (int i = 0; i < 4; i++)
        b->p[12 + i] = (char)(n >> (8 * (3 - i)));
}

/* Sends one COPY's rows and ends it; 1 when all of them went. */
static int put_rows(PGconn *c, const char *data, size_t len)
{
    int ok = 1;

    /* libpq takes an int per call: long buffers go in pieces */
    for (size_t off = 0; ok && off < len;) {
        size_t n = len - off > (1u << 30) ? (1u << 30) : len - off;

        ok = PQputCopyData(c, data + off, (int)n) == 1;
        off += n;
    }
    return PQputCopyEnd(c, ok ? NULL : "aborted") == 1 && ok;
}

int db_copy_in(PGconn *c, const char *sql, const char *data, size_t len)
{
    /* a chain of one, so its rows go with the statement on a plain connection; borrowed and
     * text, the chain only reads them */
    struct db_buf rows = {.p = (char *)data, .len = len, .cap = len};
    struct db_chain ch = {0};
    size_t failed;

    db_chain_add(&ch, sql, &rows, 0, 0);
    return db_chain_run(c, &ch, NULL, &failed);
}

/* Ends binary rows: the format's trailer, a row of -1 fields. */
static void bin_trailer(struct db_buf *b)
{
    put_be(b, 0xffff, 2);
}

int db_copy_in_bin(PGconn *c, const char *sql, struct db_buf *b)
{
    if (b->len > 0)
        bin_trailer(b);
    if (b->failed)
        return SRV_ENOMEM;
    return db_copy_in(c, sql, b->p, b->len);
}

void db_chain_add(struct db_chain *ch, const char *sql, struct db_buf *b, int binary, int take)
{
    struct db_buf *mine = b;

    if (b->len == 0 && !b->failed)
        return;
    if (binary)
        bin_trailer(b);
    if (b->failed || ch->n == DB_CHAIN_MAX || (take && (mine = malloc(sizeof(*mine))) == NULL)) {
        ch->failed = 1;
        if (take) {
            free(b->p);
            *b = (struct db_buf){0};
        }
        return;
    }
    if (take) {
        *mine = *b;
        *b = (struct db_buf){0};
    }
    ch->copy[ch->n].sql = sql;
    ch->copy[ch->n].buf = mine;
    ch->copy[ch->n].owned = take;
    ch->n++;
}

void db_chain_free(struct db_chain *ch)
{
    for (size_t i = 0; i < ch->n; i++)
        if (ch->copy[i].owned) {
            free(ch->copy[i].buf->p);
            free(ch->copy[i].buf);
        }
    *ch = (struct db_chain){.stepwise = ch->stepwise};
}

/* Moves the message past k sent bytes. */
static void iov_advance(struct msghdr *m, size_t k)
{
    while (m->msg_iovlen > 0 && k >= m->msg_iov->iov_len) {
        k -= m->msg_iov->iov_len;
        m->msg_iov++;
        m->msg_iovlen--;
    }
    if (m->msg_iovlen > 0) {
        m->msg_iov->iov_base = (char *)m->msg_iov->iov_base + k;
        m->msg_iov->iov_len -= k;
    }
}

/* Writes iov whole to the server's socket, past libpq. While the socket is full, what the
 * server says meanwhile is read into libpq's buffer, as libpq does when it sends, so neither
 * side can end up waiting for the other to read. 1 when everything went. */
static int send_raw(PGconn *c, struct iovec *iov, size_t n)
{
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = n};
    struct pollfd p = {.fd = PQsocket(c), .events = POLLIN | POLLOUT};

    while (m.msg_iovlen > 0) {
        ssize_t k = sendmsg(p.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (k > 0) {
            iov_advance(&m, (size_t)k);
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            return 0;
        if (poll(&p, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        if ((p.revents & POLLIN) && PQconsumeInput(c) != 1)
            return 0;
    }
    return 1;
}

/* Whether the rows may go ahead: only on a plain connection, since under TLS or GSSAPI the
 * socket carries libpq's encryption. */
static int can_send_ahead(PGconn *c, const struct db_chain *ch)
{
    if (ch->stepwise || PQsslInUse(c) || PQgssEncInUse(c))
        return 0;
    for (size_t i = 0; i < ch->n; i++)
        if (ch->copy[i].buf->len > INT32_MAX - 4)
            return 0; /* one message per COPY; libpq splits such rows (put_rows) */
    return 1;
}

/* Sends every COPY's rows and its end as the protocol's CopyData and CopyDone messages right
 * behind the query, so the chain costs one round trip instead of n + 1. The server reads them
 * in order, each COPY taking its own as it runs; after an error it drops the rest unread (the
 * protocol's rule for a failed COPY). */
static int send_ahead(PGconn *c, const struct db_chain *ch)
{
    unsigned char heads[DB_CHAIN_MAX][5], done[5] = {'c', 0, 0, 0, 4};
    struct iovec iov[3 * DB_CHAIN_MAX];
    size_t n = 0;

    for (size_t i = 0; i < ch->n; i++) {
        const struct db_buf *b = ch->copy[i].buf;
        uint32_t len = (uint32_t)b->len + 4;

        heads[i][0] = 'd';
        for (int k = 0; k < 4; k++)
            heads[i][1 + k] = (unsigned char)(len >> (8 * (3 - k)));
        iov[n++] = (struct iovec){heads[i], 5};
        iov[n++] = (struct iovec){b->p, b->len};
        iov[n++] = (struct iovec){done, 5};
    }
    return PQflush(c) == 0 && send_raw(c, iov, n);
}

/* Whether sql starts as a COPY does. A tail that is one must be refused before anything is
 * sent: with the rows sent ahead, the CopyDone that ends libpq's state for the chain's last
 * COPY would reach the server while the tail's COPY runs and end it, empty but successful. */
static int is_copy(const char *sql)
{
    while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r')
        sql++;
    return strncasecmp(sql, "COPY", 4) == 0;
}

int db_chain_run(PGconn *c, struct db_chain *ch, const char *tail, size_t *failed)
{
    struct db_buf q = {0};
    size_t sent = 0, done = 0; /* COPYs whose rows went; statements that succeeded */
    int ok, whole = 1, conflict = 0, ahead = can_send_ahead(c, ch);
    PGresult *r;

    *failed = 0;
    if (tail != NULL && is_copy(tail)) {
        db_chain_free(ch);
        return SRV_EINVAL;
    }
    for (size_t i = 0; i < ch->n; i++) {
        db_buf_puts(&q, ch->copy[i].sql);
        db_buf_puts(&q, ";");
    }
    if (tail != NULL)
        db_buf_puts(&q, tail);
    if (ch->failed || q.failed || q.len == 0) {
        free(q.p);
        ok = !ch->failed && !q.failed;
        db_chain_free(ch);
        return ok ? 0 : SRV_ENOMEM;
    }
    ok = PQsendQuery(c, q.p) == 1 && (!ahead || send_ahead(c, ch));
    free(q.p);
    /* each COPY first asks for its rows (COPY_IN), then reports; the tail reports */
    while (ok && (r = PQgetResult(c)) != NULL) {
        ExecStatusType st = PQresultStatus(r);

        if (st == PGRES_COPY_IN) {
            /* rows sent ahead leave only libpq's state to end: the CopyDone this sends reaches
             * the server behind every message sent ahead, when no COPY is running, and the
             * server ignores it there, as it does any copy message out of a COPY */
            if (sent >= ch->n) { /* a COPY past the chain's, hidden in the tail */
                whole = 0;
                (void)PQputCopyEnd(c, "no rows for this COPY");
            } else if (ahead) {
                whole = PQputCopyEnd(c, NULL) == 1;
            } else {
                whole = put_rows(c, ch->copy[sent].buf->p, ch->copy[sent].buf->len);
            }
            sent++;
        } else if (st == PGRES_COMMAND_OK) {
            done++;
        } else {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

            conflict = whole && done < ch->n && state != NULL && strncmp(state, "23", 2) == 0;
            ok = 0;
        }
        PQclear(r);
    }
    while ((r = PQgetResult(c)) != NULL) {      /* what follows an error */
        if (PQresultStatus(r) == PGRES_COPY_IN) /* never after an error; but never loop on it */
            (void)PQputCopyEnd(c, "aborted");
        PQclear(r);
    }
    if (ok && done < ch->n + (tail != NULL))
        ok = 0; /* the connection went away before every statement reported */
    if (!ok)
        *failed = done;
    db_chain_free(ch);
    ch->ran_ahead = ahead;
    return ok ? 0 : conflict ? SRV_ECONFLICT : SRV_EDB;
}

/* Waits for the results of one call of a pipeline (one result, then NULL); 1 if it succeeded.
 * keep gets the result instead of it being cleared. */
static int pipeline_result(PGconn *c, PGresult **keep, int *lost)
{
    PGresult *r = PQgetResult(c);
    int st = r != NULL ? (int)PQresultStatus(r) : -1;

    if (r == NULL) { /* no result at all: the connection went away */
        *lost = 1;
        return 0;
    }
    if ((st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) && keep != NULL)
        *keep = r;
    else
        PQclear(r);
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

int db_pipeline(PGconn *c, const struct db_call *calls, size_t n, PGresult **results)
{
    int ok = PQenterPipelineMode(c) == 1, lost = 0;
    PGresult *r;

    for (size_t i = 0; results != NULL && i < n; i++)
        results[i] = NULL;
    for (size_t i = 0; ok && i < n; i++) {
        const struct db_call *k = &calls[i];

        ok = k->name != NULL ? PQsendQueryPrepared(c, k->name, k->n_params, k->params, k->lengths,
                                                   k->formats, 0)
                             : PQsendQueryParams(c, k->sql, k->n_params, NULL, k->params,
                                                 k->lengths, k->formats, 0);
    }
    if (!ok || PQpipelineSync(c) != 1)
        return SRV_EDB; /* sending failed: the connection is gone; it stays in pipeline mode */
    for (size_t i = 0; i < n && !lost; i++)
        if (!pipeline_result(c, results != NULL ? &results[i] : NULL, &lost))
            ok = 0;
    r = lost ? NULL : PQgetResult(c);
    if (r == NULL || PQresultStatus(r) != PGRES_PIPELINE_SYNC)
        ok = 0;
    PQclear(r);
    if (PQexitPipelineMode(c) != 1)
        ok = 0;
    for (size_t i = 0; !ok && results != NULL && i < n; i++) {
        PQclear(results[i]);
        results[i] = NULL;
    }
    return ok ? 0 : SRV_EDB;
}

int db_exec(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    int rc = 0;

    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(c));
        err[strcspn(err, "\n")] = '\0';
        rc = SRV_EDB;
    }
    PQclear(r);
    return rc;
}

/* ---- buffers for COPY ---------------------------------------------------------------------- */

void db_buf_put(struct db_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        char *np;

        while (cap < b->len + n + 1)
            cap *= 2;
        np = realloc(b->p, cap);
        if (np == NULL) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void db_buf_puts(struct db_buf *b, const char *s)
{
    db_buf_put(b, s, strlen(s));
}

void db_buf_bytea(struct db_buf *b, const uint8_t *d, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char chunk[512];
    size_t k = 0;

    db_buf_put(b, "\\\\x", 3);
    for (size_t i = 0; i < n; i++) {
        chunk[k++] = hex[d[i] >> 4];
        chunk[k++] = hex[d[i] & 15];
        if (k == sizeof(chunk)) {
            db_buf_put(b, chunk, k);
            k = 0;
        }
    }
    db_buf_put(b, chunk, k);
}

void db_buf_text(struct db_buf *b, const char *s)
{
    if (s == NULL) {
        db_buf_put(b, "\\N", 2);
        return;
    }
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '\\':
            db_buf_put(b, "\\\\", 2);
            break;
        case '\t':
            db_buf_put(b, "\\t", 2);
            break;
        case '\n':
            db_buf_put(b, "\\n", 2);
            break;
        case '\r':
            db_buf_put(b, "\\r", 2);
            break;
        default:
            db_buf_put(b, p, 1);
        }
    }
}
