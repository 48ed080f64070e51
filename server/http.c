/*
 * libmicrohttpd glue. A request goes through on_request several times: first with its
 * headers (route, early 413/415 decisions), then once per body chunk, then once with no data
 * (dispatch). A suspended request comes back through on_request once more after
 * srv_req_resume, with its answer ready. on_completed frees it and writes the access log.
 */
#define _GNU_SOURCE
#include "http.h"
#include "auditlog.h"
#include "auth.h"
#include "err.h"
#include "server.h"
#include "static.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CSP                                                                                        \
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "               \
    "form-action 'self'; frame-ancestors 'none'"

uint64_t srv_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void utc_stamp(char *out, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%03dZ", (int)(ts.tv_nsec / 1000000L));
}

void srv_log_error(const char *fmt, ...)
{
    char stamp[32], line[1024];
    va_list ap;

    utc_stamp(stamp, sizeof(stamp));
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s lianxind: %s\n", stamp, line);
}

/* ---- replies ------------------------------------------------------------------------------ */

char *srv_error_body(const char *code, const char *message, const char *detail)
{
    json_t *err = json_pack("{s:s, s:s}", "code", code, "message", message);
    json_t *doc = NULL;
    char *out = NULL;

    if (err == NULL)
        return NULL;
    /* json_string refuses invalid UTF-8: such a detail is dropped, the error still goes out. */
    if (detail != NULL)
        json_object_set_new(err, "detail", json_string(detail));
    doc = json_pack("{s:O}", "error", err);
    if (doc != NULL)
        out = json_dumps(doc, JSON_COMPACT);
    json_decref(err);
    json_decref(doc);
    return out;
}

static void set_response(struct srv_req *r, unsigned status, struct MHD_Response *resp,
                         const char *content_type, size_t bytes)
{
    if (r->resp != NULL)
        MHD_destroy_response(r->resp);
    r->resp = resp;
    r->status = status;
    r->resp_bytes = bytes;
    if (resp != NULL && content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
}

/* Takes ownership of buf (malloc'd) as the body. */
static unsigned reply_buffer(struct srv_req *r, unsigned status, const char *ctype, char *buf,
                             size_t len)
{
    struct MHD_Response *resp;

    resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(buf);
        status = 500;
    }
    set_response(r, status, resp, ctype, len);
    return status;
}

struct stream_src {
    srv_read_fn read;
    void *cls;
    void (*free_cls)(void *);
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_src *src = cls;
    ssize_t n = src->read(src->cls, pos, buf, max);

    return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : n;
}

static void stream_free(void *cls)
{
    struct stream_src *src = cls;

    if (src->free_cls != NULL)
        src->free_cls(src->cls);
    free(src);
}

unsigned srv_reply_stream(struct srv_req *r, unsigned status, const char *content_type,
                          uint64_t size, srv_read_fn read, void *cls, void (*free_cls)(void *))
{
    struct stream_src *src = malloc(sizeof(*src));
    struct MHD_Response *resp;

    if (src == NULL) {
        if (free_cls != NULL)
            free_cls(cls);
        return srv_reply_error(r, 500, "internal", "out of memory", NULL);
    }
    *src = (struct stream_src){read, cls, free_cls};
    resp = MHD_create_response_from_callback(size, 64 * 1024, stream_read, src, stream_free);
    if (resp == NULL) {
        stream_free(src);
        return srv_reply_error(r, 500, "internal", "out of memory", NULL);
    }
    set_response(r, status, resp, content_type, (size_t)size);
    return status;
}

unsigned srv_reply_text(struct srv_req *r, unsigned status, const char *content_type,
                        const char *text, size_t len)
{
    char *copy = malloc(len + 1);

    if (copy == NULL)
        return srv_reply_error(r, 500, "internal", "out of memory", NULL);
    memcpy(copy, text, len);
    return reply_buffer(r, status, content_type, copy, len);
}

unsigned srv_reply_json(struct srv_req *r, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);

    json_decref(body);
    if (text == NULL)
        return srv_reply_error(r, 500, "internal", "out of memory", NULL);
    return reply_buffer(r, status, "application/json", text, strlen(text));
}

unsigned srv_reply_error(struct srv_req *r, unsigned status, const char *code, const char *message,
                         const char *detail)
{
    char *text = srv_error_body(code, message, detail);

    if (text == NULL) {
        /* Out of memory: a static body still tells the client what happened. */
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        set_response(
            r, 500,
            MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom, MHD_RESPMEM_PERSISTENT),
            "application/json", sizeof(oom) - 1);
        return 500;
    }
    return reply_buffer(r, status, "application/json", text, strlen(text));
}

/* ---- request helpers ---------------------------------------------------------------------- */

const char *srv_req_header(struct srv_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *srv_req_query(struct srv_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *srv_req_param(const struct srv_req *r, const char *name)
{
    return srv_match_param(&r->match, name);
}

void srv_req_suspend(struct srv_req *r)
{
    r->suspended = 1;
    MHD_suspend_connection(r->conn);
}

void srv_req_resume(struct srv_req *r)
{
    MHD_resume_connection(r->conn);
}

/* Percent-decodes in place (libmicrohttpd's unescape callback, for the path and the query).
 * %00 becomes 0x01 instead of a NUL that would silently cut the string short: every control
 * character is refused by the path checks, so such a request gets its 404. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    char *w = s;

    (void)cls;
    (void)c;
    for (const char *p = s; *p; p++) {
        if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], 0};
            long v = strtol(hex, NULL, 16);

            *w++ = v == 0 ? 0x01 : (char)v;
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* ---- static files ------------------------------------------------------------------------- */

static unsigned serve_static(struct srv_req *r)
{
    char rel[SRV_PATH_BUF], etag[64];
    struct stat st;
    const char *mime, *inm;
    struct MHD_Response *resp;
    int fd;

    r->metrics_route = SRV_METRICS_STATIC;
    if (srv_static_normalize(r->path, rel, sizeof(rel)) != 0)
        return srv_reply_error(r, 404, "not_found", "no such page", NULL);
    fd = srv_static_open(r->srv->web_root, rel, &st, &mime);
    if (fd < 0)
        return srv_reply_error(r, 404, "not_found", "no such page", NULL);
    srv_static_etag(&st, etag, sizeof(etag));
    inm = srv_req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm != NULL && srv_etag_matches(inm, etag)) {
        close(fd);
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        set_response(r, 304, resp, NULL, 0);
    } else {
        resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd); /* closes fd */
        if (resp == NULL) {
            close(fd);
            return srv_reply_error(r, 500, "internal", "cannot serve file", NULL);
        }
        set_response(r, 200, resp, mime, (size_t)st.st_size);
    }
    if (r->resp == NULL)
        return srv_reply_error(r, 500, "internal", "out of memory", NULL);
    MHD_add_response_header(r->resp, MHD_HTTP_HEADER_ETAG, etag);
    /* Vendored libraries are versioned by the build; pages and our modules revalidate. */
    MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            strncmp(rel, "vendor/", 7) == 0 ? "public, max-age=86400" : "no-cache");
    return r->status;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

/* Is ct the media type want, with or without parameters ("; charset=utf-8")? */
static int is_type(const char *ct, const char *want)
{
    size_t n = strlen(want);

    if (ct == NULL || strncasecmp(ct, want, n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Is s (NULL counts) valid UTF-8? Jansson's check is strict: no overlong form, no surrogate. */
static int utf8_ok(const char *s)
{
    json_t *j = s != NULL ? json_string(s) : NULL;
    int ok = s == NULL || j != NULL;

    json_decref(j);
    return ok;
}

static enum MHD_Result arg_utf8(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    int *ok = cls;

    (void)kind;
    *ok = *ok && utf8_ok(key) && utf8_ok(value);
    return *ok ? MHD_YES : MHD_NO;
}

/* Are the decoded path and query of an API request valid UTF-8? Handlers hand them to
 * PostgreSQL, which refuses anything else: that would be a 503 for the client's mistake. */
static int request_utf8(struct srv_req *r)
{
    int ok = utf8_ok(r->path);

    if (ok)
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, arg_utf8, &ok);
    return ok;
}

/* Decisions that need only the headers, made before any body is read. Returns a status when
 * the request is answered already, else 0. */
static unsigned early_checks(struct srv_req *r)
{
    const char *cl = srv_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const struct srv_route *rt = r->match.route;

    if (r->match_result == SRV_MATCH_OK && !request_utf8(r))
        return srv_reply_error(r, 400, "bad_parameter", "the path and query must be UTF-8", NULL);
    if (rt != NULL && r->match_result == SRV_MATCH_OK && rt->body == SRV_BODY_STREAM) {
        /* libmicrohttpd answers only before the body or after it: decide now */
        unsigned status;

        if ((status = srv_auth_identify(r)) != 0 || (status = srv_auth_authorise(r)) != 0)
            return status;
        r->chunk = NULL;
        r->chunk_len = 0;
        if ((status = rt->handler(r)) != 0)
            return status;
        r->stream_started = 1;
        return 0; /* the handler sets its own limits, on its chunks */
    }
    if (cl != NULL && strtoull(cl, NULL, 10) > r->srv->cfg.max_body)
        return srv_reply_error(r, 413, "too_large", "request body too large", NULL);
    /* a CSV route checks its media type itself, after authorisation */
    if (rt != NULL && rt->body != SRV_BODY_NONE && rt->body != SRV_BODY_CSV &&
        !is_type(srv_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE), "application/json"))
        return srv_reply_error(r, 415, "unsupported_media_type",
                               "request body must be application/json", NULL);
    return 0;
}

static unsigned parse_body(struct srv_req *r)
{
    json_error_t jerr;
    char detail[200];

    if (r->match.route->body != SRV_BODY_JSON)
        return 0;
    r->json = json_loadb(r->body ? r->body : "", r->body_len,
                         JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (r->json != NULL)
        return 0;
    snprintf(detail, sizeof(detail), "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    return srv_reply_error(r, 400, "malformed_json", "request body is not valid JSON", detail);
}

static unsigned dispatch(struct srv_req *r)
{
    unsigned status;

    if (r->body_too_large)
        return srv_reply_error(r, 413, "too_large", "request body too large", NULL);
    if (r->match_result == SRV_MATCH_NO_METHOD) {
        srv_reply_error(r, 405, "method_not_allowed", "method not allowed here", r->match.allow);
        if (r->resp)
            MHD_add_response_header(r->resp, MHD_HTTP_HEADER_ALLOW, r->match.allow);
        return 405;
    }
    if (r->match_result == SRV_MATCH_NO_PATH) {
        int api = strncmp(r->path, "/api/", 5) == 0 || strcmp(r->path, "/api") == 0;

        if (!api && (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0))
            return serve_static(r);
        return srv_reply_error(r, 404, "not_found", "no such endpoint", NULL);
    }
    if (r->match.route->body == SRV_BODY_STREAM) { /* the end of a streamed body */
        if (r->stream_failed)
            return r->status;
        if (!r->stream_started)
            return srv_reply_error(r, 500, "internal", "stream not started", NULL);
        r->chunk = NULL;
        r->chunk_len = 0;
        return r->match.route->handler(r);
    }
    /* Who first (401 before 400), then the body, then whether the route allows them: an
     * SRV_AUTH_ORG route may name its org in the body. */
    if ((status = srv_auth_identify(r)) != 0 || (status = parse_body(r)) != 0 ||
        (status = srv_auth_authorise(r)) != 0)
        return status;
    return r->match.route->handler(r);
}

static void add_common_headers(struct srv_req *r)
{
    struct MHD_Response *resp = r->resp;

    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    if (strncmp(r->path, "/api/", 5) == 0 && MHD_get_response_header(resp, "Cache-Control") == NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (atomic_load(&r->srv->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (r->set_cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
}

static enum MHD_Result queue_reply(struct srv_req *r)
{
    enum MHD_Result ok;

    if (r->resp == NULL) /* a handler returned a status without replying: programmer error */
        srv_reply_error(r, 500, "internal", "handler gave no answer", NULL);
    if (r->resp == NULL)
        return MHD_NO;
    add_common_headers(r);
    ok = MHD_queue_response(r->conn, r->status, r->resp);
    MHD_destroy_response(r->resp);
    r->resp = NULL;
    r->queued = 1;
    return ok;
}

static struct srv_req *req_new(struct srv *s, struct MHD_Connection *c, const char *url,
                               const char *method)
{
    struct srv_req *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->srv = s;
    r->conn = c;
    r->start_us = srv_now_us();
    snprintf(r->method, sizeof(r->method), "%s", method);
    r->path = strdup(url);
    if (r->path == NULL) {
        free(r);
        return NULL;
    }
    r->match_result = srv_router_match(&s->router, r->method, r->path, &r->match);
    r->metrics_route = r->match.index >= 0 ? r->match.index : SRV_METRICS_UNMATCHED;
    atomic_fetch_add(&s->inflight, 1);
    return r;
}

/* ---- slow clients ------------------------------------------------------------------------- */

/* libmicrohttpd's connection timeout counts idleness: a client that sends one byte a second
 * never trips it, and a few hundred of those would hold every connection. So each connection
 * also has a deadline for its request headers, counted from its opening or from its last
 * answer; a sweeper thread shuts down the socket of one that misses it, and libmicrohttpd then
 * sees the end of the stream and closes it. Sockets are shut down only under mu, and
 * libmicrohttpd closes a socket only after the CLOSED notification, which takes mu too. */
struct conn_watch {
    struct conn_watch *prev, *next;
    int fd;
    _Atomic uint64_t deadline_us; /* monotonic; 0 while a request is being handled */
};

struct http_watch {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* stop */
    pthread_t thread;
    int stopping;
    struct conn_watch head; /* sentinel of the ring of open connections */
    uint64_t limit_us;      /* cfg.header_timeout_s */
    size_t closed;          /* closed since the last log line */
    uint64_t logged_us;     /* when that line was written */
};

#define WATCH_TICK_MS 250
#define WATCH_LOG_S   10 /* a line at most this often while slow clients are being closed */

static struct conn_watch *watch_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci != NULL ? ci->socket_context : NULL;
}

/* A request has its headers (deadline off), or its answer went out (the next one's starts). */
static void watch_request(struct srv *s, struct MHD_Connection *c, int begins)
{
    struct conn_watch *w = s->watch != NULL ? watch_of(c) : NULL;

    if (w != NULL)
        atomic_store(&w->deadline_us, begins ? 0 : srv_now_us() + s->watch->limit_us);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_watch *hw = ((struct srv *)cls)->watch;
    struct conn_watch *w = *socket_context;

    if (hw == NULL)
        return;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

        w = ci != NULL ? calloc(1, sizeof(*w)) : NULL;
        if (w == NULL)
            return; /* unwatched: the idle timeout still applies */
        w->fd = ci->connect_fd;
        atomic_store(&w->deadline_us, srv_now_us() + hw->limit_us);
        pthread_mutex_lock(&hw->mu);
        w->next = hw->head.next;
        w->prev = &hw->head;
        hw->head.next->prev = w;
        hw->head.next = w;
        pthread_mutex_unlock(&hw->mu);
        *socket_context = w;
    } else if (w != NULL) {
        pthread_mutex_lock(&hw->mu);
        w->prev->next = w->next;
        w->next->prev = w->prev;
        pthread_mutex_unlock(&hw->mu);
        free(w);
        *socket_context = NULL;
    }
}

static void *watch_thread(void *arg)
{
    struct http_watch *hw = arg;

    pthread_mutex_lock(&hw->mu);
    while (!hw->stopping) {
        struct timespec until;
        uint64_t now;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += WATCH_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&hw->wake, &hw->mu, &until);
        now = srv_now_us();
        for (struct conn_watch *w = hw->head.next; w != &hw->head; w = w->next) {
            uint64_t d = atomic_load(&w->deadline_us);

            if (d != 0 && now > d) {
                shutdown(w->fd, SHUT_RDWR);
                atomic_store(&w->deadline_us, 0);
                hw->closed++;
            }
        }
        if (hw->closed > 0 && now - hw->logged_us >= WATCH_LOG_S * 1000000ull) {
            srv_log_error("http: closed %zu connections that sent no complete request headers "
                          "within %llu s",
                          hw->closed, (unsigned long long)(hw->limit_us / 1000000u));
            hw->closed = 0;
            hw->logged_us = now;
        }
    }
    pthread_mutex_unlock(&hw->mu);
    return NULL;
}

static struct http_watch *watch_start(unsigned limit_s)
{
    struct http_watch *hw = calloc(1, sizeof(*hw));

    if (hw == NULL)
        return NULL;
    pthread_mutex_init(&hw->mu, NULL);
    pthread_cond_init(&hw->wake, NULL);
    hw->head.next = hw->head.prev = &hw->head;
    hw->limit_us = (uint64_t)limit_s * 1000000u;
    if (pthread_create(&hw->thread, NULL, watch_thread, hw) != 0) {
        free(hw);
        return NULL;
    }
    return hw;
}

static void watch_stop(struct http_watch *hw)
{
    pthread_mutex_lock(&hw->mu);
    hw->stopping = 1;
    pthread_cond_signal(&hw->wake);
    pthread_mutex_unlock(&hw->mu);
    pthread_join(hw->thread, NULL);
}

/* After the daemon stopped: every connection is closed and unlinked. */
static void watch_free(struct srv *s)
{
    pthread_mutex_destroy(&s->watch->mu);
    pthread_cond_destroy(&s->watch->wake);
    free(s->watch);
    s->watch = NULL;
}

/* Appends a body chunk, or notes the body is too large and drops the rest. */
static void take_chunk(struct srv_req *r, const char *data, size_t n)
{
    size_t max = r->srv->cfg.max_body;

    if (r->body_too_large)
        return;
    if (r->body_len + n > max) {
        r->body_too_large = 1;
        free(r->body);
        r->body = NULL;
        r->body_len = r->body_cap = 0;
        return;
    }
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        char *nb;

        while (cap < r->body_len + n + 1)
            cap *= 2;
        nb = realloc(r->body, cap);
        if (nb == NULL) {
            r->body_too_large = 1; /* reported as 413: the client can send less */
            return;
        }
        r->body = nb;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct srv_req *r = *con_cls;

    (void)version;
    if (r == NULL) {
        r = req_new(cls, c, url, method);
        if (r == NULL)
            return MHD_NO;
        *con_cls = r;
        watch_request(r->srv, c, 1);
        if (srv_auditlog_admit(r) != 0) {
            srv_reply_error(r, 503, "busy", "the audit log is behind; try again", NULL);
            return queue_reply(r);
        }
        if (early_checks(r) != 0)
            return queue_reply(r);
        return MHD_YES;
    }
    if (r->queued)
        return MHD_YES; /* answered early; libmicrohttpd discards the rest */
    if (r->suspended) {
        r->suspended = 0; /* resumed: the answer is ready */
        return queue_reply(r);
    }
    if (*upload_size > 0 && r->match_result == SRV_MATCH_OK &&
        r->match.route->body == SRV_BODY_STREAM) {
        /* each chunk straight to the handler, never kept; after a refusal, dropped */
        r->chunk = upload;
        r->chunk_len = *upload_size;
        *upload_size = 0;
        if (r->stream_started && !r->stream_failed && r->match.route->handler(r) != 0)
            r->stream_failed = 1;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        take_chunk(r, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (dispatch(r) == SRV_ASYNC && r->suspended)
        return MHD_YES;
    return queue_reply(r);
}

/* Writes "path" to f with bytes outside printable ASCII as %XX, so a log line stays a line. A
 * share link's path is its bearer token: only its prefix is logged (scripts/secrets-check). */
static void log_path(FILE *f, const char *path)
{
    static const char share[] = "/api/edu/share/";

    if (strncmp(path, share, sizeof(share) - 1) == 0 && path[sizeof(share) - 1] != '\0') {
        fputs(share, f);
        fputs("(token)", f);
        return;
    }
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '%')
            fprintf(f, "%%%02X", *p);
        else
            fputc(*p, f);
    }
}

static void access_log(struct srv_req *r, uint64_t micros)
{
    FILE *f = r->srv->access_log;
    const union MHD_ConnectionInfo *ci;
    char stamp[32], ip[INET6_ADDRSTRLEN] = "-";

    if (f == NULL)
        return;
    ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  ip, sizeof(ip));
    utc_stamp(stamp, sizeof(stamp));
    flockfile(f);
    fprintf(f, "%s %s %s ", stamp, ip, r->method);
    log_path(f, r->path);
    fprintf(f, " %u %zu %lluus\n", r->status, r->resp_bytes, (unsigned long long)micros);
    funlockfile(f);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct srv *s = cls;
    struct srv_req *r = *con_cls;
    uint64_t micros;

    if (r == NULL)
        return;
    watch_request(s, c, 0);
    micros = srv_now_us() - r->start_us;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !r->queued)
        r->status = 0; /* the client went away before an answer */
    access_log(r, micros);
    srv_auditlog_request(r); /* state-changing requests only; may wait while its queue is full */
    srv_metrics_observe(s->metrics, r->metrics_route, r->status, micros);
    if (r->resp != NULL)
        MHD_destroy_response(r->resp);
    json_decref(r->json);
    if (r->user_free != NULL)
        r->user_free(r->user); /* a streamed upload cut short, for instance */
    free(r->body);
    free(r->path);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    srv_log_error("http: %s", line);
}

/* ---- accepting ----------------------------------------------------------------------------
 *
 * libmicrohttpd's workers each accept from the listening socket, and a burst of new connections
 * goes to whichever worker wakes first: under the benchmark's loads all 64 connections often sat
 * on one worker, which then parsed and checked every request on one core (6.3 s of CPU in a
 * 10 s run against 0.4 for the other) and was the first thing to fall behind. So one thread of
 * ours accepts, and hands each connection to the daemon (MHD_add_connection), which gives it to
 * a worker by its descriptor: consecutive connections alternate. */

struct http_acceptor {
    pthread_t thread;
    int stop[2]; /* a pipe: a byte written says stop */
};

static void *accept_main(void *arg)
{
    struct srv *s = arg;
    struct pollfd pf[2] = {{s->listen_fd, POLLIN, 0}, {s->acceptor->stop[0], POLLIN, 0}};
    int said = 0;

    for (;;) {
        struct sockaddr_storage addr;
        socklen_t len = sizeof(addr);
        int fd;

        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            break;
        if (pf[1].revents != 0)
            break;
        fd = accept4(s->listen_fd, (struct sockaddr *)&addr, &len, SOCK_CLOEXEC);
        if (fd < 0) {
            /* EAGAIN: nothing after all; ECONNABORTED, EPROTO: the client went first */
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (!said) /* out of descriptors or memory: once, until a connection is taken */
                srv_log_error("http: cannot accept connections: %s", strerror(errno));
            said = 1;
            usleep(10000); /* until a connection closes, and no spinning on a broken socket */
            continue;
        }
        said = 0;
        (void)MHD_add_connection(s->mhd, fd, (struct sockaddr *)&addr, len); /* closes on failure */
    }
    return NULL;
}

static void acceptor_stop(struct srv *s)
{
    struct http_acceptor *a = s->acceptor;

    if (a == NULL)
        return;
    if (a->thread != 0) {
        (void)!write(a->stop[1], "x", 1);
        pthread_join(a->thread, NULL);
    }
    close(a->stop[0]);
    close(a->stop[1]);
    free(a);
    s->acceptor = NULL;
}

static int acceptor_start(struct srv *s)
{
    struct http_acceptor *a = calloc(1, sizeof(*a));

    if (a == NULL)
        return -1;
    if (pipe2(a->stop, O_CLOEXEC) != 0) {
        free(a);
        return -1;
    }
    s->acceptor = a;
    if (pthread_create(&a->thread, NULL, accept_main, s) != 0) {
        a->thread = 0;
        acceptor_stop(s);
        return -1;
    }
    return 0;
}

/* The listening socket: non-blocking (the acceptor polls it), address reuse as before. */
static int listen_on(const struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0 || listen(fd, 1024) != 0) {
        int saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int srv_http_start(struct srv *s, char *err, size_t errlen)
{
    struct sockaddr_in addr;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)s->cfg.listen_port);
    if (inet_pton(AF_INET, s->cfg.listen_host, &addr.sin_addr) != 1) {
        snprintf(err, errlen, "invalid listen address %s", s->cfg.listen_host);
        return SRV_EINVAL;
    }
    if ((s->listen_fd = listen_on(&addr)) < 0) {
        snprintf(err, errlen, "cannot listen on %s:%u: %s", s->cfg.listen_host, s->cfg.listen_port,
                 strerror(errno));
        return SRV_EIO;
    }
    s->watch = watch_start(s->cfg.header_timeout_s ? s->cfg.header_timeout_s : 10);
    if (s->watch == NULL) {
        snprintf(err, errlen, "cannot start the connection watch");
        return SRV_EIO;
    }
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        s, /* first, so every message goes through it */
        MHD_OPTION_THREAD_POOL_SIZE, s->cfg.threads, MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_conns,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg.per_ip_conns, MHD_OPTION_CONNECTION_TIMEOUT,
        s->cfg.timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
        MHD_OPTION_END);
    if (s->mhd == NULL || acceptor_start(s) != 0) {
        snprintf(err, errlen, "cannot serve on %s:%u: %s", s->cfg.listen_host, s->cfg.listen_port,
                 s->mhd == NULL ? "libmicrohttpd refused to start" : "no accepting thread");
        srv_http_stop(s);
        return SRV_EIO;
    }
    return 0;
}

unsigned srv_http_port(const struct srv *s)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);

    if (s->mhd == NULL || s->listen_fd < 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&addr, &len) != 0)
        return 0;
    return ntohs(addr.sin_port);
}

void srv_http_quiesce(struct srv *s, int grace_ms)
{
    uint64_t until = srv_now_us() + (uint64_t)grace_ms * 1000u;

    if (s->mhd == NULL)
        return;
    atomic_store(&s->draining, 1);
    acceptor_stop(s); /* new connections wait in the backlog, unanswered, until the socket closes */
    while (atomic_load(&s->inflight) > 0 && srv_now_us() < until)
        usleep(5000);
}

void srv_http_stop(struct srv *s)
{
    acceptor_stop(s);
    if (s->watch != NULL)
        watch_stop(s->watch);
    if (s->mhd != NULL)
        MHD_stop_daemon(s->mhd); /* its CLOSED notifications still unlink from the watch */
    s->mhd = NULL;
    if (s->watch != NULL)
        watch_free(s);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s->listen_fd = -1;
}
