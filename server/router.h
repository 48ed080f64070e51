/*
 * The route table: {method, path pattern, handler, who may call, what body}. Patterns are
 * literal segments and ":name" parameters, e.g. "/api/chain/tx/:id". A route must declare who
 * may call it; srv_router_add refuses one that does not, so no route is silently open.
 */
#ifndef LX_SERVER_ROUTER_H
#define LX_SERVER_ROUTER_H

#include <stddef.h>

struct srv_req;

/* A handler answers with srv_reply_*() and returns the HTTP status it set, or SRV_ASYNC
 * when it suspended the request to be answered later by another thread. */
typedef unsigned (*srv_handler_fn)(struct srv_req *req);

enum srv_auth {
    SRV_AUTH_UNSET = 0, /* not declared: refused at start-up */
    SRV_AUTH_PUBLIC,    /* anyone, no login */
    SRV_AUTH_USER,      /* any signed-in user or token */
    SRV_AUTH_ADMIN,     /* the node administrator */
    SRV_AUTH_OVERSIGHT, /* the administrator or a regulator */
    SRV_AUTH_ORG,       /* one of .roles in the org the request names (route parameter :org, or
                           "org" in a JSON body); the administrator always; a regulator on GET */
};

/* Roles inside an organisation, for SRV_AUTH_ORG routes (a bit set). */
enum srv_role {
    SRV_ROLE_ORG_ADMIN = 1 << 0,
    SRV_ROLE_ISSUER = 1 << 1,
    SRV_ROLE_CLERK = 1 << 2,
    SRV_ROLE_REGISTRAR = 1 << 3,
    SRV_ROLE_FUND_MANAGER = 1 << 4,
    SRV_ROLE_AUDITOR = 1 << 5,
    SRV_ROLE_MARKET_OPERATOR = 1 << 6,
    SRV_ROLE_MEMBER = 1 << 7,
};
#define SRV_ROLE_ANY 0xffu

enum srv_body {
    SRV_BODY_NONE = 0, /* no body expected; one sent is ignored */
    SRV_BODY_JSON,     /* application/json, parsed before the handler (400 if malformed) */
    SRV_BODY_RAW_JSON, /* application/json, handed over unparsed (the handler parses strictly) */
    SRV_BODY_CSV,      /* text/csv, unparsed: the handler checks the media type (415) and
                          UTF-8, so that the caller is authorised first */
    SRV_BODY_STREAM,   /* any type, any size, never buffered. The caller is authorised from
                          the headers, before the body is read; then the handler is called with
                          req->chunk NULL and req->stream_started 0 to accept (0) or refuse (the
                          status it answered); then for each chunk as it arrives (req->chunk,
                          chunk_len; 0 to go on, or the status it answered: the rest of the body
                          is dropped and that answer sent at its end); then once more with
                          req->chunk NULL, to answer */
};

struct srv_route {
    const char *method;     /* GET, POST, PUT, DELETE, PATCH; GET also answers HEAD */
    const char *pattern;    /* absolute path with optional :params, no trailing slash */
    srv_handler_fn handler; /* called for a match */
    enum srv_auth auth;     /* who may call */
    enum srv_body body;     /* accepted body */
    unsigned roles;         /* SRV_AUTH_ORG: the enum srv_role bits that may call */
};

#define SRV_MAX_ROUTES 256
#define SRV_MAX_PARAMS 8
#define SRV_PATH_BUF   2048

struct srv_router {
    const struct srv_route *routes[SRV_MAX_ROUTES]; /* borrowed, in order of registration */
    size_t n;                                       /* routes in use */
};

enum srv_match_result {
    SRV_MATCH_OK = 0,       /* m->route set */
    SRV_MATCH_NO_PATH = 1,  /* nothing has this path */
    SRV_MATCH_NO_METHOD = 2 /* the path exists for other methods; m->allow lists them */
};

struct srv_match {
    const struct srv_route *route;      /* the route, borrowed */
    int index;                          /* its position in the table (metrics label) */
    size_t n_params;                    /* parameters captured */
    const char *names[SRV_MAX_PARAMS];  /* parameter names, without ':' (into the pattern) */
    const char *values[SRV_MAX_PARAMS]; /* their values (into buf) */
    char buf[SRV_PATH_BUF];             /* the path, split into segments */
    char allow[64];                     /* "GET, HEAD, POST" for SRV_MATCH_NO_METHOD */
};

/* Appends route (borrowed; must outlive the router). Returns 0, or SRV_EINVAL with a reason in
 * err when the route lacks an auth declaration (or an SRV_AUTH_ORG route names no role), has a
 * malformed pattern, or duplicates one. */
int srv_router_add(struct srv_router *r, const struct srv_route *route, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Matches method and path (already percent-decoded, without query). One trailing slash is
 * ignored; empty segments never match. Fills *m and returns an enum srv_match_result. */
int srv_router_match(const struct srv_router *r, const char *method, const char *path,
                     struct srv_match *m);

/* Returns the value of parameter name in m, or NULL. */
const char *srv_match_param(const struct srv_match *m, const char *name);

#endif
