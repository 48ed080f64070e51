/*
 * The HTTP layer: libmicrohttpd with an epoll thread pool, the request lifecycle, replies and
 * the JSON error model of DESIGN §3.4. Handlers see a struct srv_req and answer with one of
 * the srv_reply_* calls; every answer gets the security headers and an access-log line.
 */
#ifndef LX_SERVER_HTTP_H
#define LX_SERVER_HTTP_H

#include "router.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct srv;
struct MHD_Connection;
struct MHD_Response;

/* Returned by a handler that suspended its request (srv_req_suspend) to answer it later. */
#define SRV_ASYNC 0u

/* Who is calling (auth.c fills it). */
struct srv_who {
    int64_t user_id;    /* 0: anonymous */
    char username[64];  /* the account */
    char node_role[16]; /* "admin", "regulator", or "" */
    char principal[72]; /* the user's own ledger identity (individuals), or "" */
    int via_token;      /* identified by a bearer token, not a session */
    char token_org[72]; /* a token's scope */
    char token_role[24];
    char csrf[48];        /* the session's CSRF token */
    char acting_org[72];  /* the org this request acts in, once authorised */
    char acting_role[24]; /* the role that allowed it */
};

struct srv_req {
    struct srv *srv;             /* the server, borrowed */
    struct MHD_Connection *conn; /* borrowed from libmicrohttpd */
    char method[8];              /* request method */
    char *path;                  /* decoded path without query (owned) */
    struct srv_match match;      /* route and parameters */
    int match_result;            /* enum srv_match_result */
    int metrics_route;           /* route index, or SRV_METRICS_STATIC/UNMATCHED */
    char *body;                  /* request body, NUL-terminated (owned) */
    size_t body_len, body_cap;   /* bytes in body, allocated */
    int body_too_large;          /* discarding a body over the cap */
    json_t *json;                /* parsed body for SRV_BODY_JSON routes (owned) */
    struct MHD_Response *resp;   /* the answer, once set (owned until queued) */
    unsigned status;             /* its status */
    size_t resp_bytes;           /* its body length, for the access log */
    int suspended;               /* waiting for another thread to answer */
    int queued;                  /* the answer is handed to libmicrohttpd */
    uint64_t start_us;           /* monotonic time of the first byte */
    void *user;                  /* for the handler that suspended it (e.g. a pending tx) */
    struct srv_who who;          /* the caller */
    char tx_id[65];              /* a tx this request put on the ledger, for the audit log */
    char set_cookie[160];        /* a Set-Cookie header to send, or "" */
    int stream_started;          /* SRV_BODY_STREAM: accepted, chunks go to the handler */
    int stream_failed;           /* SRV_BODY_STREAM: answered already; the rest is dropped */
    const char *chunk;           /* SRV_BODY_STREAM: the chunk handed over (borrowed), or NULL */
    size_t chunk_len;            /* its bytes */
    int audit_read;              /* log this read in the audit log too (a download) */
    int reads_only;              /* a POST that only asks (public verification): not logged */
    int audit_slot;              /* 1: holds a place in the audit log queue; -1: refused */
    void (*user_free)(void *);   /* frees user when the request ends, unless NULL */
};

/* Starts serving on the configured address. Returns 0, or SRV_EIO with a reason in err. */
int srv_http_start(struct srv *s, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Stops accepting new connections and waits up to grace_ms for requests in flight to finish.
 * Answers given meanwhile carry "Connection: close". Safe to call when not started. */
void srv_http_quiesce(struct srv *s, int grace_ms);

/* Closes every connection and the daemon. No request may be suspended any more. */
void srv_http_stop(struct srv *s);

/* The port actually bound (useful when the configuration said 0). */
unsigned srv_http_port(const struct srv *s);

/* Replies; each returns status so a handler can `return srv_reply_json(...)`. */
unsigned srv_reply_json(struct srv_req *r, unsigned status, json_t *body /* stolen */);
unsigned srv_reply_text(struct srv_req *r, unsigned status, const char *content_type,
                        const char *text, size_t len /* copied */);
unsigned srv_reply_error(struct srv_req *r, unsigned status, const char *code, const char *message,
                         const char *detail /* may be NULL */);

/* Produces bytes [pos, pos + max) of a streamed answer into buf: returns how many (> 0), or -1
 * on failure (the connection is then closed). Called on the HTTP worker threads. */
typedef ssize_t (*srv_read_fn)(void *cls, uint64_t pos, char *buf, size_t max);

/* Answers with a body of size bytes made by read as libmicrohttpd sends it, never held whole;
 * free_cls(cls) runs when the answer is done or abandoned (also when this call fails). */
unsigned srv_reply_stream(struct srv_req *r, unsigned status, const char *content_type,
                          uint64_t size, srv_read_fn read, void *cls, void (*free_cls)(void *));

/* Builds the DESIGN §3.4 error body {"error":{"code","message"[,"detail"]}} as a new string
 * (free with free()), or NULL on OOM. Pure; unit-tested. */
char *srv_error_body(const char *code, const char *message, const char *detail);

/* A request header, query argument or route parameter; NULL when absent. Borrowed. */
const char *srv_req_header(struct srv_req *r, const char *name);
const char *srv_req_query(struct srv_req *r, const char *name);
const char *srv_req_param(const struct srv_req *r, const char *name);

/* Suspends r (call from its handler, then return SRV_ASYNC). Another thread answers with a
 * srv_reply_* call followed by srv_req_resume. */
void srv_req_suspend(struct srv_req *r);
void srv_req_resume(struct srv_req *r);

/* Monotonic microseconds, for latencies. */
uint64_t srv_now_us(void);

#endif
