/*
 * A fixed-size pool of libpq connections that heals itself: a connection found broken when it
 * is taken (the database restarted, the network dropped) is reconnected on the spot, and when
 * that fails the caller gets NULL and answers 503. Nothing here retries a query behind the
 * caller's back: a write must know whether it happened.
 */
#ifndef LX_SERVER_DB_H
#define LX_SERVER_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

struct db_pool;

/* Named prepared statements, prepared on every connection as it (re)connects. */
struct db_stmt {
    const char *name; /* statement name, unique */
    const char *sql;  /* text with $1, $2 ... */
};

/* Creates a pool of n connections to conninfo (copied). Connections are made lazily, so this
 * succeeds while the database is down. Returns 0 and *out (free with db_pool_close), or
 * SRV_ENOMEM. */
int db_pool_open(const char *conninfo, size_t n, struct db_pool **out)
    __attribute__((warn_unused_result));

/* Registers statements (borrowed array, must outlive the pool) to prepare on each connection.
 * Call before the first db_acquire. */
void db_pool_prepare(struct db_pool *p, const struct db_stmt *stmts, size_t n);

/* Takes a healthy connection, waiting up to wait_ms for a free one. Returns NULL when the
 * database cannot be reached or none became free; *why (if not NULL) then says which, as a
 * static sentence. The connection is borrowed until db_release. */
PGconn *db_acquire(struct db_pool *p, int wait_ms, const char **why);

/* Gives c back. A connection left inside a transaction is rolled back; a broken one is
 * closed, to be reconnected by the next db_acquire. */
void db_release(struct db_pool *p, PGconn *c);

/* Connections currently taken and idle (connected, free), for /metrics. */
void db_pool_stats(struct db_pool *p, size_t *in_use, size_t *idle, size_t *size);

/* Closes every connection and frees the pool; all must have been released. NULL is fine. */
void db_pool_close(struct db_pool *p);

/* Connects once, outside any pool (migrations, audit). Returns the connection (PQfinish it) or
 * NULL with the reason in err. */
PGconn *db_connect(const char *conninfo, char *err, size_t errlen);

/* A growing text buffer for COPY rows and array literals. Start with {0}; after the puts, a
 * set failed means memory ran out (check once, at the end); free(p) when done. */
struct db_buf {
    char *p; /* NUL-terminated */
    size_t len, cap;
    int failed;
};
void db_buf_put(struct db_buf *b, const char *s, size_t n);
void db_buf_puts(struct db_buf *b, const char *s);
/* A text column in COPY's text format: backslash, tab, newline and CR escaped; NULL is \N. */
void db_buf_text(struct db_buf *b, const char *s);
/* A bytea column in COPY's text format: \\x and the hex of d[0..n). */
void db_buf_bytea(struct db_buf *b, const uint8_t *d, size_t n);

/* Rows in COPY's binary format (COPY … FROM STDIN (FORMAT binary)): db_bin_row starts a row of
 * so many fields (the buffer's first row brings the format's header), then each field follows.
 * PostgreSQL reads it without scanning for tabs and escapes or decoding hex: a tx row cost it
 * 6.4-8.4 µs against 9.2-12.8 in text. A text value goes in as its bytes (UTF-8, no NUL), like
 * a bytea. */
void db_bin_row(struct db_buf *b, uint16_t fields);
void db_bin_int8(struct db_buf *b, int64_t v);
void db_bin_bytes(struct db_buf *b, const void *p, size_t n);

/* A one-dimensional array in the binary format of a query parameter, alone in an empty b:
 * db_bin_array starts it (elem_oid: 17 bytea, 25 text), each element is a db_bin_bytes, and
 * db_bin_array_end writes how many there were. Sent with its length and format 1 (struct
 * db_call), PostgreSQL reads it without array_in's parse of a literal and its hex decoding:
 * that parse was 4 % of the backend's time in a batch load. */
#define DB_OID_BYTEA 17u
#define DB_OID_TEXT  25u
void db_bin_array(struct db_buf *b, uint32_t elem_oid);
void db_bin_array_end(struct db_buf *b, uint32_t n);

/* Runs sql ("COPY t (cols) FROM STDIN") with data[0..len), rows in the format sql names, and
 * waits for its result. len 0 copies nothing and succeeds. Returns 0; SRV_ECONFLICT when a row
 * broke a constraint (SQLSTATE class 23: a unique key, a check, a foreign key); SRV_EDB when
 * the statement failed otherwise. Either way, inside a transaction, the transaction is then
 * aborted. Borrows everything. A chain of one (db_chain_run): one round trip on a plain
 * connection. */
int db_copy_in(PGconn *c, const char *sql, const char *data, size_t len)
    __attribute__((warn_unused_result));

/* db_copy_in of the binary rows in b: adds the format's trailer first (the caller empties b
 * afterwards, len = 0, before its next row). No rows copies nothing. SRV_ENOMEM when building
 * b ran out of memory. */
int db_copy_in_bin(PGconn *c, const char *sql, struct db_buf *b)
    __attribute__((warn_unused_result));

/* A chain of COPYs run as one query string (db_chain_run), a closing statement (the block's
 * COMMIT) riding with the last: on a plain connection (a Unix socket, or TCP without TLS) the
 * rows go right behind the query, one round trip in all; otherwise each COPY waits for the one
 * before it to be read, n + 1 round trips instead of 2n. Start with {0}. */
#define DB_CHAIN_MAX 8
struct db_chain {
    struct {
        const char *sql;    /* "COPY t (cols) FROM STDIN …", a constant (borrowed) */
        struct db_buf *buf; /* its rows, whole */
        int owned;          /* buf and its memory were taken over (freed by the chain) */
    } copy[DB_CHAIN_MAX];
    size_t n;
    int failed;    /* out of memory, or more than DB_CHAIN_MAX: db_chain_run refuses */
    int stepwise;  /* send each COPY's rows only when it asks, even on a plain connection (the
                    * path of encrypted ones; set by tests); kept when the chain is emptied */
    int ran_ahead; /* out: the last db_chain_run sent the rows ahead */
};

/* Adds sql with the rows in b, in the format sql names; binary rows get the format's trailer
 * here. take = 0: b is borrowed until db_chain_run (the caller empties it afterwards, as with
 * db_copy_in_bin); take = 1: the chain takes b's memory and leaves *b = {0}. No rows: nothing
 * is added. */
void db_chain_add(struct db_chain *ch, const char *sql, struct db_buf *b, int binary, int take);

/* Runs the chain's COPYs in order, then tail (one statement without parameters, or NULL), and
 * waits for all of them. Returns 0; SRV_ECONFLICT when a COPY's rows broke a constraint
 * (SQLSTATE class 23); SRV_EDB otherwise; SRV_ENOMEM when building the chain failed, and
 * SRV_EINVAL when tail is a COPY, which would have no rows (nothing sent for either). *failed is
 * the index of the statement that failed (n for tail), else 0. The statements after it do not run;
 * inside a transaction, the transaction is then aborted. The chain is emptied either way. */
int db_chain_run(PGconn *c, struct db_chain *ch, const char *tail, size_t *failed)
    __attribute__((warn_unused_result));

/* Frees what the chain took over and empties it (a block given up before db_chain_run). */
void db_chain_free(struct db_chain *ch);

/* One statement of a pipeline: a prepared statement by name, or else sql, with text params. */
struct db_call {
    const char *name;
    const char *sql;
    int n_params;
    const char *const *params;
    const int *lengths; /* of binary params; NULL when all are text */
    const int *formats; /* 1 for a binary param, 0 for text; NULL when all are text */
};

/* Sends the n calls in one round trip (libpq's pipeline mode) and waits for all their results.
 * Returns 0 when every call succeeded, with call i's result in results[i] unless results is
 * NULL (PQclear each); SRV_EDB otherwise, with libpq's message on c and no results kept. The
 * calls after a failed one are not run, and a transaction the calls are inside stays open and
 * aborted (ROLLBACK it). A connection whose PQpipelineStatus is not PQ_PIPELINE_OFF afterwards
 * was broken mid-way. */
int db_pipeline(PGconn *c, const struct db_call *calls, size_t n, PGresult **results)
    __attribute__((warn_unused_result));

/* Runs a statement that returns no rows; returns 0, or SRV_EDB with libpq's message in err. */
int db_exec(PGconn *c, const char *sql, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
