/* fuzz_router.c — request routing on arbitrary paths: the real route table of lianxind
 * (srv_routes_build: the server's routes and every module's) through srv_router_match, and the
 * static-file path checks of server/static.c. Properties: a match names a route of the table for
 * this method (or GET for HEAD) whose pattern, with the captured parameters put back, is the
 * path; a 405 lists the methods; a path srv_static_normalize accepts is relative, inside the web
 * root (no segment starting with a dot, no empty segment, no control character or backslash) and
 * fits the buffer. */
#include "fuzz.h"

#include "../../server/router.h"
#include "../../server/srv.h"
#include "../../server/static.h"

static struct srv_router router;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];

    (void)argc;
    (void)argv;
    if (srv_routes_build(&router, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_router: %s\n", err);
        abort();
    }
    return 0;
}

/* The pattern of a matched route with its parameters substituted is the path. */
static void check_rebuilt(const struct srv_match *m, const char *path)
{
    char out[SRV_PATH_BUF + 64];
    size_t o = 0, len = strlen(path), k = 0;
    const char *p = m->route->pattern;

    if (len > 1 && path[len - 1] == '/')
        len--;
    while (*p) {
        FUZZ_ASSERT(o < SRV_PATH_BUF);
        if (p[0] == ':' && p[-1] == '/') {
            const char *v = m->values[k++];

            FUZZ_ASSERT(*v != '\0' && strchr(v, '/') == NULL);
            FUZZ_ASSERT(o + strlen(v) < sizeof out);
            memcpy(out + o, v, strlen(v));
            o += strlen(v);
            p += strcspn(p, "/");
            continue;
        }
        out[o++] = *p++;
    }
    FUZZ_ASSERT(k == m->n_params);
    FUZZ_ASSERT(o == len && memcmp(out, path, len) == 0);
    for (size_t i = 0; i < m->n_params; i++) {
        char name[64];
        size_t n = strcspn(m->names[i], "/");

        FUZZ_ASSERT(n > 0 && n < sizeof name);
        memcpy(name, m->names[i], n);
        name[n] = '\0';
        FUZZ_ASSERT(srv_match_param(m, name) != NULL);
    }
}

static void route(const char *method, const char *path)
{
    static struct srv_match m;
    int rc = srv_router_match(&router, method, path, &m);

    if (rc == SRV_MATCH_OK) {
        FUZZ_ASSERT(m.index >= 0 && (size_t)m.index < router.n);
        FUZZ_ASSERT(router.routes[m.index] == m.route);
        FUZZ_ASSERT(strcmp(m.route->method, method) == 0 ||
                    (strcmp(method, "HEAD") == 0 && strcmp(m.route->method, "GET") == 0));
        check_rebuilt(&m, path);
        return;
    }
    FUZZ_ASSERT(m.route == NULL && m.index == -1);
    if (rc == SRV_MATCH_NO_METHOD)
        FUZZ_ASSERT(m.allow[0] != '\0' && strstr(m.allow, method) == NULL);
    else
        FUZZ_ASSERT(rc == SRV_MATCH_NO_PATH);
}

static void normalize(const char *path, size_t cap)
{
    char out[SRV_PATH_BUF];
    const char *seg;

    if (srv_static_normalize(path, out, cap) != 0)
        return;
    FUZZ_ASSERT(strlen(out) < cap && out[0] != '/');
    for (seg = out; *seg; seg += strcspn(seg, "/"), seg += *seg == '/') {
        FUZZ_ASSERT(seg[0] != '.');
        FUZZ_ASSERT(seg[0] != '/');
    }
    for (const char *c = out; *c; c++)
        FUZZ_ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f && *c != '\\');
    FUZZ_ASSERT(srv_mime_type(out) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET",    "HEAD",  "POST",    "PUT",
                                          "DELETE", "PATCH", "OPTIONS", "get"};
    char *path;

    if (size == 0 || size > 4 * SRV_PATH_BUF)
        return 0;
    path = fuzz_cstr(data + 1, size - 1);
    route(methods[data[0] % 8], path);
    normalize(path, SRV_PATH_BUF);
    normalize(path, 1 + data[0] % 64);
    (void)srv_etag_matches(path, "\"1f-5e0a1b2c3d\"");
    free(path);
    return 0;
}
