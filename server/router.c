/*
 * Route matching by segments. Tables are small (tens of routes), so a linear scan is faster
 * and simpler than a trie, and the order of registration settles nothing: patterns may not
 * overlap ambiguously because literal segments are compared before parameters per route.
 */
#include "router.h"
#include "err.h"

#include <stdio.h>
#include <string.h>

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};

static int method_known(const char *m)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(m, methods[i]) == 0)
            return 1;
    return 0;
}

/* A pattern is "/" or "/seg(/seg)*" where seg is non-empty and ":name" has a name. */
static int pattern_valid(const char *p)
{
    size_t params = 0;

    if (p[0] != '/')
        return 0;
    if (p[1] == '\0')
        return 1;
    for (const char *s = p; *s; s++) {
        if (*s != '/')
            continue;
        if (s[1] == '/' || s[1] == '\0')
            return 0;
        if (s[1] == ':' && (s[2] == '/' || s[2] == '\0'))
            return 0;
        if (s[1] == ':' && ++params > SRV_MAX_PARAMS)
            return 0;
    }
    return 1;
}

int srv_router_add(struct srv_router *r, const struct srv_route *route, char *err, size_t errlen)
{
    if (route->auth == SRV_AUTH_UNSET || (route->auth == SRV_AUTH_ORG && route->roles == 0)) {
        snprintf(err, errlen, "route %s %s declares no auth", route->method, route->pattern);
        return SRV_EINVAL;
    }
    if (route->handler == NULL || !method_known(route->method) || !pattern_valid(route->pattern)) {
        snprintf(err, errlen, "route %s %s is malformed", route->method, route->pattern);
        return SRV_EINVAL;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->routes[i]->method, route->method) == 0 &&
            strcmp(r->routes[i]->pattern, route->pattern) == 0) {
            snprintf(err, errlen, "route %s %s is declared twice", route->method, route->pattern);
            return SRV_EINVAL;
        }
    }
    if (r->n == SRV_MAX_ROUTES) {
        snprintf(err, errlen, "too many routes (%d)", SRV_MAX_ROUTES);
        return SRV_EINVAL;
    }
    r->routes[r->n++] = route;
    return 0;
}

/* Splits path into segments in m->buf; returns their count, or -1 if the path is unusable. */
static int split_path(const char *path, struct srv_match *m, char **segs, int cap)
{
    size_t len = strlen(path);
    int n = 0;

    if (path[0] != '/' || len >= sizeof(m->buf))
        return -1;
    if (len > 1 && path[len - 1] == '/')
        len--; /* one trailing slash is ignored */
    memcpy(m->buf, path, len);
    m->buf[len] = '\0';
    if (len == 1)
        return 0;
    for (char *s = m->buf; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (s[1] == '/' || s[1] == '\0' || n == cap)
            return -1;
        segs[n++] = s + 1;
    }
    return n;
}

/* Does pattern match the n segments? Captures parameters into m when it does. */
static int pattern_match(const char *pattern, char **segs, int n, struct srv_match *m)
{
    const char *p = pattern;
    int i = 0;

    m->n_params = 0;
    if (strcmp(p, "/") == 0)
        return n == 0;
    while (*p == '/' && i < n) {
        const char *seg = p + 1, *end = strchr(seg, '/');
        size_t slen = end ? (size_t)(end - seg) : strlen(seg);

        if (seg[0] == ':') {
            m->names[m->n_params] = seg + 1;
            m->values[m->n_params++] = segs[i];
        } else if (strlen(segs[i]) != slen || memcmp(segs[i], seg, slen) != 0) {
            return 0;
        }
        i++;
        p = seg + slen;
    }
    return *p == '\0' && i == n;
}

static void allow_add(char *allow, size_t cap, const char *method)
{
    if (strstr(allow, method) != NULL)
        return;
    if (*allow)
        strncat(allow, ", ", cap - strlen(allow) - 1);
    strncat(allow, method, cap - strlen(allow) - 1);
}

int srv_router_match(const struct srv_router *r, const char *method, const char *path,
                     struct srv_match *m)
{
    char *segs[64];
    int n = split_path(path, m, segs, 64);
    int path_seen = 0;
    int head = strcmp(method, "HEAD") == 0;

    m->route = NULL;
    m->index = -1;
    m->allow[0] = '\0';
    if (n < 0)
        return SRV_MATCH_NO_PATH;
    for (size_t i = 0; i < r->n; i++) {
        const struct srv_route *rt = r->routes[i];

        if (!pattern_match(rt->pattern, segs, n, m))
            continue;
        path_seen = 1;
        if (strcmp(rt->method, method) == 0 || (head && strcmp(rt->method, "GET") == 0)) {
            m->route = rt;
            m->index = (int)i;
            return SRV_MATCH_OK;
        }
    }
    if (!path_seen)
        return SRV_MATCH_NO_PATH;
    /* Second pass to list every method of the path, for 405's Allow header. */
    for (size_t i = 0; i < r->n; i++) {
        if (!pattern_match(r->routes[i]->pattern, segs, n, m))
            continue;
        allow_add(m->allow, sizeof(m->allow), r->routes[i]->method);
        if (strcmp(r->routes[i]->method, "GET") == 0)
            allow_add(m->allow, sizeof(m->allow), "HEAD");
    }
    m->n_params = 0;
    return SRV_MATCH_NO_METHOD;
}

const char *srv_match_param(const struct srv_match *m, const char *name)
{
    for (size_t i = 0; i < m->n_params; i++) {
        const char *nm = m->names[i];
        size_t len = strcspn(nm, "/");

        if (strlen(name) == len && memcmp(nm, name, len) == 0)
            return m->values[i];
    }
    return NULL;
}
