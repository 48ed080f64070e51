/*
 * Configuration parsing. Settings are a table, so --help, the environment and the flags can
 * never disagree about a name or a default.
 */
#define _DEFAULT_SOURCE
#include "config.h"
#include "err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_kind { OPT_LISTEN, OPT_STRING, OPT_UINT, OPT_SIZE, OPT_ORIGIN };

struct opt {
    const char *flag;            /* without the leading "--" */
    const char *env;             /* environment variable, or NULL */
    enum opt_kind kind;          /* how the value is parsed */
    size_t off;                  /* field in struct srv_config */
    size_t cap;                  /* field size, for strings */
    const char *def;             /* default, as text */
    unsigned long long min, max; /* bounds for numbers */
    const char *help;            /* one line for --help */
};

#define STR(f) offsetof(struct srv_config, f), sizeof(((struct srv_config *)0)->f)
#define NUM(f) offsetof(struct srv_config, f), 0

static const struct opt opts[] = {
    {"listen", "LIANXIN_LISTEN", OPT_LISTEN, STR(listen_host), "127.0.0.1:8080", 0, 0,
     "address and port to serve HTTP on (port 0 picks a free one)"},
    {"db", "LIANXIN_DB", OPT_STRING, STR(db), "dbname=lianxin", 0, 0,
     "libpq connection string of the PostgreSQL database"},
    {"data", "LIANXIN_DATA", OPT_STRING, STR(data_dir), "var", 0, 0,
     "data directory: node key, master key"},
    {"web", "LIANXIN_WEB", OPT_STRING, STR(web_dir), "web", 0, 0,
     "folder of static files to serve"},
    {"log", "LIANXIN_LOG", OPT_STRING, STR(log), "-", 0, 0,
     "access log: - for stdout, off, or a file to append to"},
    {"origin", "LIANXIN_ORIGIN", OPT_ORIGIN, STR(origin), "lianxin.local/dev", 0, 0,
     "chain origin, the first line of every checkpoint"},
    {"threads", "LIANXIN_THREADS", OPT_UINT, NUM(threads), "0", 0, 256,
     "HTTP worker threads (0 = one per core)"},
    {"pool", "LIANXIN_POOL", OPT_UINT, NUM(pool_size), "0", 0, 1000,
     "database connections (0 = 2 x threads + 2)"},
    {"max-conns", "LIANXIN_MAX_CONNS", OPT_UINT, NUM(max_conns), "1024", 1, 65535,
     "simultaneous connections"},
    {"per-ip-conns", "LIANXIN_PER_IP_CONNS", OPT_UINT, NUM(per_ip_conns), "256", 1, 65535,
     "simultaneous connections from one IP address"},
    {"timeout", "LIANXIN_TIMEOUT", OPT_UINT, NUM(timeout_s), "30", 1, 3600,
     "seconds before an idle connection is closed"},
    {"header-timeout", "LIANXIN_HEADER_TIMEOUT", OPT_UINT, NUM(header_timeout_s), "10", 1, 3600,
     "seconds a connection has to send a request's headers (from its opening or its last "
     "answer); slower ones are closed"},
    {"max-body", "LIANXIN_MAX_BODY", OPT_SIZE, NUM(max_body), "16777216", 1024, 1073741824ULL,
     "largest request body in bytes; larger ones get 413"},
    {"block-txs", "LIANXIN_BLOCK_TXS", OPT_UINT, NUM(block_txs), "5000", 1, 100000,
     "cut a block when this many txs wait"},
    {"block-ms", "LIANXIN_BLOCK_MS", OPT_UINT, NUM(block_ms), "0", 0, 10000,
     "let a block wait this many ms for more txs (0: cut when the sequencer is free)"},
    {"port-file", NULL, OPT_STRING, STR(port_file), "", 0, 0,
     "write the bound port to this file once listening"},
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static const char *const commands[] = {"serve", "migrate", "audit", "routes", "version", "help"};

/* Parses "a.b.c.d:port" (or "localhost:port") into the listen fields. */
static int parse_listen(struct srv_config *c, const char *v)
{
    const char *colon = strrchr(v, ':');
    char host[64];
    size_t hlen;
    struct in_addr a;
    char *end;
    unsigned long port;

    if (colon == NULL || colon == v)
        return -1;
    hlen = (size_t)(colon - v);
    if (hlen >= sizeof(host))
        return -1;
    memcpy(host, v, hlen);
    host[hlen] = '\0';
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a) != 1)
        return -1;
    if (colon[1] < '0' || colon[1] > '9')
        return -1;
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || port > 65535)
        return -1;
    memcpy(c->listen_host, host, hlen + 1);
    c->listen_port = (unsigned)port;
    return 0;
}

/* Parses a plain decimal number within [min, max]; no sign, no suffix, no spaces. */
static int parse_number(const char *v, unsigned long long min, unsigned long long max,
                        unsigned long long *out)
{
    char *end;
    unsigned long long n;

    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

/* A C2SP origin: non-empty printable ASCII without spaces or '+' (it names keys too). */
static int origin_valid(const char *v)
{
    if (*v == '\0')
        return 0;
    for (; *v; v++)
        if (*v <= ' ' || *v >= 0x7f || *v == '+')
            return 0;
    return 1;
}

static int apply_opt(struct srv_config *c, const struct opt *o, const char *v, const char *from,
                     char *err, size_t errlen)
{
    char *base = (char *)c;
    unsigned long long n;

    switch (o->kind) {
    case OPT_LISTEN:
        if (parse_listen(c, v) == 0)
            return 0;
        snprintf(err, errlen, "invalid %s '%s': expected IPv4-address:port", from, v);
        return SRV_EINVAL;
    case OPT_ORIGIN:
        if (!origin_valid(v)) {
            snprintf(err, errlen, "invalid %s '%s': expected printable ASCII, no spaces or '+'",
                     from, v);
            return SRV_EINVAL;
        }
        /* fall through */
    case OPT_STRING:
        if (strlen(v) >= o->cap) {
            snprintf(err, errlen, "invalid %s: longer than %zu bytes", from, o->cap - 1);
            return SRV_EINVAL;
        }
        memcpy(base + o->off, v, strlen(v) + 1);
        return 0;
    case OPT_UINT:
    case OPT_SIZE:
        if (parse_number(v, o->min, o->max, &n) != 0) {
            snprintf(err, errlen, "invalid %s '%s': expected a whole number from %llu to %llu",
                     from, v, o->min, o->max);
            return SRV_EINVAL;
        }
        if (o->kind == OPT_UINT)
            *(unsigned *)(void *)(base + o->off) = (unsigned)n;
        else
            *(size_t *)(void *)(base + o->off) = (size_t)n;
        return 0;
    }
    return SRV_EINVAL;
}

static const struct opt *find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (strlen(opts[i].flag) == len && memcmp(opts[i].flag, name, len) == 0)
            return &opts[i];
    return NULL;
}

static int set_command(struct srv_config *c, const char *word, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(word, commands[i]) == 0) {
            strcpy(c->command, word);
            return 0;
        }
    }
    snprintf(err, errlen,
             "unknown command '%s' (expected serve, migrate, audit, routes or version)", word);
    return SRV_EINVAL;
}

/* Applies argv; separate from srv_config_load to keep each short. */
static int load_args(struct srv_config *c, int argc, char **argv, char *err, size_t errlen)
{
    int rc;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq, *v;
        const struct opt *o;
        char from[80];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            strcpy(c->command, "help");
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            strcpy(c->command, "version");
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            if ((rc = set_command(c, a, err, errlen)) != 0)
                return rc;
            continue;
        }
        eq = strchr(a + 2, '=');
        o = find_flag(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
        if (o == NULL) {
            snprintf(err, errlen, "unknown option '%s' (see --help)", a);
            return SRV_EINVAL;
        }
        if (eq != NULL) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            snprintf(err, errlen, "option --%s needs a value", o->flag);
            return SRV_EINVAL;
        }
        snprintf(from, sizeof(from), "--%s", o->flag);
        if ((rc = apply_opt(c, o, v, from, err, errlen)) != 0)
            return rc;
    }
    return 0;
}

int srv_config_load(struct srv_config *c, int argc, char **argv, srv_getenv_fn getenv_fn, char *err,
                    size_t errlen)
{
    int rc;

    memset(c, 0, sizeof(*c));
    strcpy(c->command, "serve");
    for (size_t i = 0; i < N_OPTS; i++) {
        rc = apply_opt(c, &opts[i], opts[i].def, "default", err, errlen);
        if (rc != 0)
            return rc; /* a broken default is a programmer error, but say so */
    }
    for (size_t i = 0; getenv_fn != NULL && i < N_OPTS; i++) {
        const char *v = opts[i].env ? getenv_fn(opts[i].env) : NULL;

        if (v != NULL && (rc = apply_opt(c, &opts[i], v, opts[i].env, err, errlen)) != 0)
            return rc;
    }
    return load_args(c, argc, argv, err, errlen);
}

void srv_config_usage(void *fp)
{
    FILE *f = fp;

    fprintf(f, "usage: lianxind [serve|migrate|audit|version] [--option value ...]\n\n"
               "  serve    apply migrations, then serve HTTP (default)\n"
               "  migrate  apply migrations and exit\n"
               "  audit    recompute the ledger from the database and report the first fault\n"
               "  routes   print the route table with who may call each route (JSON lines)\n"
               "  version  print the version\n\n"
               "options (flag, environment variable, default):\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        fprintf(f, "  --%-13s %-21s %s\n  %37s %s\n", opts[i].flag, opts[i].env ? opts[i].env : "",
                *opts[i].def ? opts[i].def : "(none)", "", opts[i].help);
    }
}
