/*
 * lianxind's configuration: built-in defaults, overridden by LIANXIN_* environment variables,
 * overridden by command-line flags. Parsing is pure (the environment comes through a callback)
 * so that every invalid case is unit-tested.
 */
#ifndef LX_SERVER_CONFIG_H
#define LX_SERVER_CONFIG_H

#include <stddef.h>

#define SRV_PATH_MAX 1024

struct srv_config {
    char command[16];             /* serve (default), migrate, audit, version, help */
    char listen_host[64];         /* IPv4 address to bind, from LIANXIN_LISTEN */
    unsigned listen_port;         /* 0 picks a free port (tests) */
    char db[SRV_PATH_MAX];        /* libpq connection string */
    char data_dir[SRV_PATH_MAX];  /* node key, master key */
    char web_dir[SRV_PATH_MAX];   /* static files root */
    char log[SRV_PATH_MAX];       /* access log: "-" stdout, "off", or a file to append to */
    char port_file[SRV_PATH_MAX]; /* if set, the bound port is written here once listening */
    char origin[256];             /* chain origin, first line of every checkpoint */
    unsigned threads;             /* HTTP worker threads; 0 = number of cores */
    unsigned pool_size;           /* database connections; 0 = 2 * threads + 2 */
    unsigned max_conns;           /* simultaneous connections, all clients */
    unsigned per_ip_conns;        /* simultaneous connections from one IP address */
    unsigned timeout_s;           /* idle connection timeout */
    unsigned header_timeout_s;    /* time to send a request's headers (slow clients) */
    unsigned block_txs;           /* cut a block when this many txs wait */
    unsigned block_ms;            /* ... or this long after the first one arrived */
    size_t max_body;              /* request bodies larger than this get 413 */
};

typedef const char *(*srv_getenv_fn)(const char *name);

/*
 * Fills *c from defaults, then the environment (through getenv_fn, may be NULL for none), then
 * argv[1..argc-1]. Flags are "--name value" or "--name=value"; a bare word is the command.
 * Returns 0, or SRV_EINVAL with one line naming the offending setting in err (errlen bytes).
 */
int srv_config_load(struct srv_config *c, int argc, char **argv, srv_getenv_fn getenv_fn, char *err,
                    size_t errlen) __attribute__((warn_unused_result));

/* Writes the usage text, every setting with its flag, variable and default, to f (a FILE *). */
void srv_config_usage(void *f);

#endif
