/*
 * Lianxin load generator: pre-signs txs (signing is not timed), then drives lianxind over
 * keep-alive HTTP/1.1 connections and checks every answer — a refused or wrong answer counts as
 * an error, never as throughput. Prints one JSON line of results.
 *
 *   loadgen --port P --mode batch  --conns 8  --batch 1000 --seconds 30
 *   loadgen --port P --mode single --conns 64 --seconds 30
 *   loadgen --port P --mode rate   --conns 32 --rate 10000 --seconds 20   (latency at a rate)
 *   loadgen --port P --mode proof  --conns 8  --seconds 10 --ids FILE     (GET proofs)
 *   loadgen --port P --mode get    --conns 8  --seconds 10 --path /api/health (HTTP ceiling)
 *   loadgen --port P --mode post   --conns 8  --seconds 10 --path P --body FILE --expect STR
 *   --txs N caps how many txs are signed beforehand (signing is slow: keep it proportionate)
 *   --text jcs|compact: each tx's text as `lianxin sign` prints it (JCS, the default) or as
 *   Jansson writes it in the order it was built (the node then writes the leaf itself)
 *
 * Txs are self-registrations (core principal.register), each with its own key: the heaviest
 * core tx for the database (a principal row and a key row each), so the figures are honest.
 */
#define _GNU_SOURCE
#include "../../chain/chain.h"
#include "../../chain/jcs.h"
#include "../../chain/merkle.h"
#include "../../chain/note.h"
#include "../../chain/tx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct opts {
    unsigned port, conns, batch, seconds, rate, txs, progress;
    const char *mode, *ids, *origin, *save_ids, *path, *body, *expect, *text;
};

static struct opts o = {
    0,    8,    1000, 10, 0, 0, 0, "batch", NULL, "lianxin.local/dev", NULL, "/api/health",
    NULL, NULL, "jcs"};

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Sleeps until the monotonic clock reads at_us: one sleep, where polling with usleep(50) woke
 * each of 64 threads 20,000 times a second and took CPU from the node being measured. */
static void sleep_until_us(uint64_t at_us)
{
    struct timespec ts = {(time_t)(at_us / 1000000u), (long)(at_us % 1000000u) * 1000L};

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a minimal keep-alive HTTP/1.1 client -------------------------------------------------- */

struct conn {
    int fd;
    char *buf; /* response buffer */
    size_t cap;
};

static int conn_open(struct conn *c)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o.port)};
    int one = 1;

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (c->buf == NULL) {
        c->cap = 1 << 22;
        c->buf = malloc(c->cap);
    }
    return 0;
}

/* Writes the head and the body with one writev: two writes were two TCP segments, so the
 * server read most requests in two wake-ups, and both sides paid a syscall more. */
static int write_request(int fd, const char *head, size_t hlen, const char *body, size_t blen)
{
    struct iovec v[2] = {{(void *)head, hlen}, {(void *)body, blen}};
    struct iovec *p = v;
    int n = blen > 0 ? 2 : 1;

    while (n > 0) {
        ssize_t w = writev(fd, p, n);

        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return -1;
        }
        for (; n > 0 && (size_t)w >= p->iov_len; p++, n--)
            w -= (ssize_t)p->iov_len;
        if (n > 0) { /* part of *p went */
            p->iov_base = (char *)p->iov_base + w;
            p->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* Sends a request whose body is JSON (or empty). */
static int send_request(struct conn *c, const char *method, const char *path, const char *body,
                        size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     method, path, len);

    return write_request(c->fd, head, (size_t)n, body, len);
}

/* Looks at the first have bytes of an answer in c->buf (NUL-terminated there): returns 1 once it
 * is whole, with *hlen and *need set; 0 while more must be read. */
static int answer_whole(struct conn *c, size_t have, size_t *hlen, size_t *need)
{
    char *end;

    if (*hlen == 0 && (end = strstr(c->buf, "\r\n\r\n")) != NULL) {
        char *cl = strcasestr(c->buf, "\r\nContent-Length:");

        *hlen = (size_t)(end - c->buf) + 4;
        *need = *hlen + (cl && cl < end ? strtoull(cl + 17, NULL, 10) : 0);
    }
    return *hlen > 0 && have >= *need;
}

/* Sends one request and reads the answer; returns the status (0 on a broken connection) and
 * points *body at the body inside c->buf. */
static int http(struct conn *c, const char *method, const char *path, const char *body, size_t len,
                const char **out)
{
    size_t have = 0, need = 0, hlen = 0;

    if (send_request(c, method, path, body, len) != 0)
        return 0;
    for (;;) {
        ssize_t r = read(c->fd, c->buf + have, c->cap - have - 1);

        if (r <= 0)
            return 0;
        have += (size_t)r;
        c->buf[have] = '\0';
        if (answer_whole(c, have, &hlen, &need)) {
            *out = c->buf + hlen;
            return atoi(c->buf + 9);
        }
        if (have + 1 >= c->cap)
            return 0;
    }
}

/* ---- pre-signed txs ------------------------------------------------------------------------ */

static char **txs; /* compact JSON of each tx */
static size_t n_txs;
static atomic_size_t next_tx;

struct sign_job {
    size_t from, to;
    unsigned seed;
};

static void *sign_range(void *arg)
{
    struct sign_job *j = arg;
    char id[48], pub[64];

    for (size_t i = j->from; i < j->to; i++) {
        uint8_t pk[32], sk[64];
        json_t *env;

        crypto_sign_keypair(pk, sk);
        snprintf(id, sizeof(id), "b%u-%zu", j->seed, i);
        if (chain_b64_encode(pk, 32, pub, sizeof(pub)) != 0)
            abort();
        env = chain_tx_build(o.origin, "core", "principal.register", id, pk, wall_ms(),
                             json_pack("{s:s,s:s,s:s}", "id", id, "type", "student", "key", pub));
        if (env == NULL || chain_tx_sign(env, sk) != 0)
            abort();
        /* as `lianxin sign` prints a tx (JCS), or with the members in the order they were
         * built (--text compact), which the node must canonicalise */
        if (strcmp(o.text, "compact") == 0)
            txs[i] = json_dumps(env, JSON_COMPACT);
        else if (chain_jcs_dump(env, &txs[i], NULL) != 0)
            txs[i] = NULL;
        if (txs[i] == NULL)
            abort();
        json_decref(env);
    }
    return NULL;
}

static void presign(size_t n)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    pthread_t th[64];
    struct sign_job jobs[64];
    unsigned seed = (unsigned)(now_us() ^ (uint64_t)getpid());

    n_txs = n;
    txs = calloc(n, sizeof(*txs));
    if (cores < 1 || cores > 64)
        cores = 2;
    for (long t = 0; t < cores; t++) {
        jobs[t] = (struct sign_job){n * (size_t)t / (size_t)cores,
                                    n * (size_t)(t + 1) / (size_t)cores, seed};
        pthread_create(&th[t], NULL, sign_range, &jobs[t]);
    }
    for (long t = 0; t < cores; t++)
        pthread_join(th[t], NULL);
}

/* ---- workers ------------------------------------------------------------------------------- */

static atomic_ullong ok_txs, errors;
static uint64_t deadline_us;
static uint64_t *lat; /* latencies (us) of single/rate requests */
static atomic_size_t n_lat;
static FILE *ids_out;
static pthread_mutex_t ids_mu = PTHREAD_MUTEX_INITIALIZER;

/* The answer's items with their tx ids, through Jansson: for --save-ids. Every item counted
 * must carry a leaf_index. */
static size_t count_ok_saving_ids(const char *body)
{
    json_t *doc = json_loads(body, 0, NULL);
    size_t ok = 0;

    for (size_t i = 0; i < json_array_size(doc); i++) {
        json_t *it = json_array_get(doc, i);

        if (json_is_integer(json_object_get(it, "leaf_index"))) {
            ok++;
            pthread_mutex_lock(&ids_mu);
            fprintf(ids_out, "%s\n", json_string_value(json_object_get(it, "tx_id")));
            pthread_mutex_unlock(&ids_mu);
        }
    }
    if (json_is_object(doc) && json_is_integer(json_object_get(doc, "leaf_index")))
        ok = 1;
    json_decref(doc);
    return ok;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Steps over the JSON string that starts at p (its opening quote): the byte after its closing
 * quote, or NULL when it does not end. */
static const char *skip_string(const char *p)
{
    for (p++; *p != '\0'; p++) {
        if (*p == '\\' && *++p == '\0')
            return NULL;
        if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Scans one item of an answer at *pp, an object, and moves *pp past it: 1 when it is a
 * committed tx (a member "leaf_index" whose value is an integer), 0 when not (a refusal), -1
 * when it is not an object that ends. Strings are stepped over with their escapes, so nothing
 * inside one is taken for a key or a bracket. */
static int scan_item(const char **pp)
{
    const char *p = *pp;
    int depth = 0, committed = 0;

    if (*p != '{')
        return -1;
    do {
        if (*p == '"') {
            const char *e = skip_string(p), *q;

            if (e == NULL)
                return -1;
            if (depth == 1 && e - p == 12 && memcmp(p, "\"leaf_index\"", 12) == 0 && *e == ':') {
                for (q = e + 1; *q >= '0' && *q <= '9'; q++)
                    ;
                committed = q > e + 1 && (*q == ',' || *q == '}');
            }
            p = e;
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']')
            depth--;
        else if (*p == '\0')
            return -1;
        p++;
    } while (depth > 0);
    *pp = p;
    return committed;
}

/* Counts the committed items of an answer (an object, or an array of them): every one must
 * carry a leaf_index; more than expect, or an answer that is not of that shape, counts none.
 * A scan instead of a Jansson tree: parsing a thousand answers a second cost the machine 2 % of
 * its time in batch runs. */
static size_t count_ok(const char *body, size_t expect)
{
    const char *p = skip_ws(body);
    size_t ok = 0;
    int r;

    if (ids_out != NULL)
        ok = count_ok_saving_ids(body);
    else if (*p != '[') {
        if ((r = scan_item(&p)) < 0 || *skip_ws(p) != '\0')
            return 0;
        ok = (size_t)r;
    } else {
        p = skip_ws(p + 1);
        while (*p != ']') {
            if ((r = scan_item(&p)) < 0)
                return 0;
            ok += (size_t)r;
            p = skip_ws(p);
            if (*p == ']')
                break;
            if (*p != ',' || *(p = skip_ws(p + 1)) == ']')
                return 0; /* not a separator, or one before the end */
        }
        if (*skip_ws(p + 1) != '\0')
            return 0;
    }
    return ok <= expect ? ok : 0;
}

static void *batch_worker(void *arg)
{
    struct conn c = {0};
    size_t cap = 1 << 20;
    char *body = malloc(cap);

    (void)arg;
    if (conn_open(&c) != 0) {
        atomic_fetch_add(&errors, 1);
        return NULL;
    }
    while (now_us() < deadline_us) {
        size_t first = atomic_fetch_add(&next_tx, o.batch), len = 1;
        const char *resp;

        if (first + o.batch > n_txs)
            break;
        body[0] = '[';
        for (size_t i = 0; i < o.batch; i++) {
            size_t l = strlen(txs[first + i]);

            if (len + l + 2 > cap) {
                cap *= 2;
                body = realloc(body, cap);
            }
            memcpy(body + len, txs[first + i], l);
            len += l;
            body[len++] = i + 1 < o.batch ? ',' : ']';
        }
        if (http(&c, "POST", "/api/chain/tx", body, len, &resp) == 200) {
            size_t ok = count_ok(resp, o.batch);

            atomic_fetch_add(&ok_txs, ok);
            atomic_fetch_add(&errors, o.batch - ok);
        } else {
            atomic_fetch_add(&errors, o.batch);
            close(c.fd);
            if (conn_open(&c) != 0)
                break;
        }
    }
    close(c.fd);
    free(c.buf);
    free(body);
    return NULL;
}

static char **proof_ids;
static size_t n_proof_ids;

/* The base64 of a 32-byte hash (43 symbols and one '='), strictly: a table instead of
 * libsodium's constant-time decoder, which was a fifth of the load generator's CPU. */
static int hash_b64(const char *s, uint8_t out[CHAIN_HASH_LEN])
{
    static int8_t val[256];
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;

    if (val[0] == 0) { /* racing first calls write the same table */
        memset(val, -1, sizeof(val));
        for (int i = 0; i < 64; i++)
            val[(unsigned char)abc[i]] = (int8_t)i;
    }
    if (s == NULL || strlen(s) != 44 || s[43] != '=')
        return -1;
    for (int i = 0; i < 43; i++) {
        int v = val[(unsigned char)s[i]];

        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (acc & ((1u << bits) - 1)) == 0 ? 0 : -1; /* the unused low bits must be zero */
}

/* The last checkpoint a worker parsed: a run's proofs name one or a few. */
struct cp_memo {
    char *note;
    struct chain_checkpoint cp;
};

/* The value after "name": in a flat JSON object's text (names are not escaped in answers). */
static const char *member(const char *text, const char *name)
{
    char key[32];
    const char *at;

    snprintf(key, sizeof(key), "\"%s\":", name);
    at = strstr(text, key);
    return at ? at + strlen(key) : NULL;
}

/* The JSON string at p (after its opening quote) into out, with the escapes an answer may hold;
 * NULL for anything else. Returns the end of the string. */
static const char *json_str(const char *p, char *out, size_t cap)
{
    size_t n = 0;

    for (; *p != '"'; p++) {
        char ch = *p;

        if (ch == '\0' || (unsigned char)ch < 0x20 || n + 1 >= cap)
            return NULL;
        if (ch == '\\') {
            p++;
            ch = *p == 'n' ? '\n' : *p == '"' ? '"' : *p == '\\' ? '\\' : *p == '/' ? '/' : 0;
            if (ch == 0)
                return NULL;
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    return p + 1;
}

/* Does the answer hold an inclusion proof of tx id_hex that leads to the root of its checkpoint?
 * (The checkpoint's signature is not checked here: every proof of a run names one of a few.)
 * The answer is read with a scanner for its flat shape rather than Jansson, which was a third of
 * the load generator's CPU at 20,000 proofs/s; the integration tests parse it with Jansson.
 * Anything unexpected fails. */
static int proof_ok(const char *resp, const char *id_hex, struct cp_memo *memo)
{
    const char *li = member(resp, "leaf_index"), *ts = member(resp, "tree_size");
    const char *lh = member(resp, "leaf_hash"), *pa = member(resp, "path");
    const char *cp = member(resp, "checkpoint");
    uint8_t hash[CHAIN_HASH_LEN], id[CHAIN_HASH_LEN], p[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN];
    char b64[64], note[2048], *end;
    uint64_t leaf, size;
    size_t n = 0;

    if (li == NULL || ts == NULL || lh == NULL || pa == NULL || cp == NULL || *lh != '"' ||
        *pa != '[' || *cp != '"' || json_str(lh + 1, b64, sizeof(b64)) == NULL ||
        hash_b64(b64, hash) != 0 || chain_hex_decode(id_hex, strlen(id_hex), id, sizeof(id)) != 0 ||
        memcmp(hash, id, sizeof(id)) != 0 || json_str(cp + 1, note, sizeof(note)) == NULL)
        return 0;
    leaf = strtoull(li, &end, 10);
    if (end == li || (*end != ',' && *end != '}'))
        return 0;
    size = strtoull(ts, &end, 10);
    if (end == ts || (*end != ',' && *end != '}'))
        return 0;
    for (pa++; *pa != ']'; n++) {
        if (n == CHAIN_MERKLE_MAX_PATH || *pa != '"' ||
            (pa = json_str(pa + 1, b64, sizeof(b64))) == NULL || hash_b64(b64, p[n]) != 0 ||
            (*pa != ',' && *pa != ']'))
            return 0;
        if (*pa == ',')
            pa++;
    }
    if (memo->note == NULL || strcmp(memo->note, note) != 0) {
        const char *blank = strstr(note, "\n\n");

        free(memo->note);
        memo->note = NULL;
        if (blank == NULL ||
            chain_checkpoint_parse(note, (size_t)(blank - note) + 1, &memo->cp) != 0 ||
            (memo->note = strdup(note)) == NULL)
            return 0;
    }
    return size == memo->cp.size &&
           chain_merkle_inclusion_verify(leaf, size, hash, (const uint8_t(*)[CHAIN_HASH_LEN])p, n,
                                         memo->cp.root) == 0;
}

/* ---- one tx per request, and proofs: a thread's connections in one epoll loop ---------------
 *
 * A thread per connection woke once for every answer: with 64 of them the load generator cost
 * the machine 28-33 µs per tx, taken from the node being measured. One loop per 64 connections
 * takes the answers of a block in a few wake-ups: 16-21 µs. In rate mode each connection's
 * turns are timers of the loop (epoll_pwait2 waits to the microsecond). Proof mode runs in the
 * same loop, each connection asking for the proof of a random committed tx. */

#define CONNS_PER_LOOP 64

/* A connection of the single, rate and proof modes and its request in flight. */
struct flight {
    struct conn c;
    size_t have, hlen, need; /* of the answer being read */
    uint64_t due;            /* rate mode: when its next request is to start */
    uint64_t t0;             /* when the request in flight was due (or sent): latency's start */
    const char *id;          /* proof mode: the tx whose proof was asked for */
    int busy;                /* a request is in flight */
    int done;                /* out of txs, or the connection could not be opened again */
};

struct loop_job {
    unsigned first, step; /* the connections first, first + step, … */
    unsigned seed;        /* proof mode: for picking txs */
    struct cp_memo memo;  /* proof mode: the last checkpoint seen */
};

static int proof_mode;

static uint64_t rate_interval; /* rate mode: µs between two requests of one connection */

/* Sends f's next request; -1 (counted as an error) when it could not be sent. */
static int flight_send(struct flight *f, const char *method, const char *path, const char *body,
                       size_t len)
{
    f->have = f->hlen = f->need = 0;
    if (send_request(&f->c, method, path, body, len) != 0) {
        atomic_fetch_add(&errors, 1);
        return -1;
    }
    f->busy = 1;
    return 0;
}

/* Starts the next request on an idle connection: the proof of a random committed tx, or the
 * next tx; -1 when no tx is left or it could not be sent. */
static int flight_start(struct flight *f, struct loop_job *job, uint64_t now)
{
    char path[128];
    size_t i;

    if (proof_mode) {
        f->id = proof_ids[rand_r(&job->seed) % n_proof_ids];
        snprintf(path, sizeof(path), "/api/chain/proof/%s", f->id);
        return flight_send(f, "GET", path, NULL, 0);
    }
    if ((i = atomic_fetch_add(&next_tx, 1)) >= n_txs)
        return -1;
    if (rate_interval) { /* open loop: latency counts from the scheduled start */
        f->t0 = f->due;
        f->due += rate_interval;
    } else {
        f->t0 = now;
    }
    return flight_send(f, "POST", "/api/chain/tx", txs[i], strlen(txs[i]));
}

/* A broken connection: its tx counts as an error; it is opened again. */
static void flight_reopen(int ep, struct flight *f)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = f};

    atomic_fetch_add(&errors, 1);
    f->busy = 0;
    close(f->c.fd);
    if (conn_open(&f->c) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, f->c.fd, &ev) != 0)
        f->done = 1;
}

/* Is f's whole answer right: a committed tx, or the proof asked for? */
static int answer_ok(struct flight *f, struct loop_job *job)
{
    const char *body = f->c.buf + f->hlen;

    if (atoi(f->c.buf + 9) != 200)
        return 0;
    return proof_mode ? proof_ok(body, f->id, &job->memo) : count_ok(body, 1) == 1;
}

/* Reads what has come of f's answer; when it is whole, checks and counts it. */
static void flight_read(int ep, struct flight *f, struct loop_job *job)
{
    ssize_t r = recv(f->c.fd, f->c.buf + f->have, f->c.cap - f->have - 1, MSG_DONTWAIT);

    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0 || !f->busy || f->have + (size_t)r + 1 >= f->c.cap) {
        flight_reopen(ep, f);
        return;
    }
    f->have += (size_t)r;
    f->c.buf[f->have] = '\0';
    if (!answer_whole(&f->c, f->have, &f->hlen, &f->need))
        return;
    f->busy = 0;
    if (answer_ok(f, job)) {
        if (!proof_mode)
            lat[atomic_fetch_add(&n_lat, 1)] = now_us() - f->t0;
        atomic_fetch_add(&ok_txs, 1);
    } else {
        atomic_fetch_add(&errors, 1);
    }
}

/* Starts a request on every idle connection whose turn it is; returns when the next one is due
 * (UINT64_MAX: none) and sets *busy to the number in flight. */
static uint64_t start_due(struct flight *fl, unsigned n, struct loop_job *job, uint64_t now,
                          unsigned *busy)
{
    uint64_t wake = UINT64_MAX;

    *busy = 0;
    for (unsigned i = 0; i < n; i++) {
        struct flight *f = &fl[i];

        if (!f->busy && !f->done && now < deadline_us) {
            if (f->due <= now) {
                if (flight_start(f, job, now) != 0)
                    f->done = 1;
            } else if (f->due < wake) {
                wake = f->due;
            }
        }
        *busy += (unsigned)f->busy;
    }
    return wake;
}

static void *loop_main(void *arg)
{
    struct loop_job *job = arg;
    struct flight fl[CONNS_PER_LOOP];
    struct epoll_event evs[CONNS_PER_LOOP];
    uint64_t start = now_us();
    unsigned n = 0;
    int ep = epoll_create1(0);

    memset(fl, 0, sizeof(fl));
    for (unsigned i = job->first; i < o.conns && n < CONNS_PER_LOOP; i += job->step, n++) {
        struct flight *f = &fl[n];
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = f};

        f->due = start + i * (rate_interval / o.conns); /* spread the connections' turns */
        if (ep < 0 || conn_open(&f->c) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, f->c.fd, &ev) != 0) {
            atomic_fetch_add(&errors, 1);
            f->done = 1;
        }
    }
    for (;;) {
        unsigned busy;
        uint64_t now = now_us(), wake = start_due(fl, n, job, now, &busy);
        /* wait for answers, or until the next turn or the end of the run */
        uint64_t until = wake < deadline_us ? wake : deadline_us;
        struct timespec ts = {1, 0};
        int k;

        if (busy == 0 && (wake == UINT64_MAX || now >= deadline_us))
            break;
        if (until > now && until - now < 1000000u)
            ts = (struct timespec){0, (long)(until - now) * 1000L};
        k = epoll_pwait2(ep, evs, CONNS_PER_LOOP, &ts, NULL);
        for (int e = 0; e < k; e++)
            flight_read(ep, evs[e].data.ptr, job);
    }
    for (unsigned i = 0; i < n; i++) {
        if (fl[i].c.fd > 0)
            close(fl[i].c.fd);
        free(fl[i].c.buf);
    }
    if (ep >= 0)
        close(ep);
    free(job->memo.note);
    return NULL;
}

/* One fixed request over and over: GET --path (the HTTP ceiling), or POST --path with the
 * JSON body of the file --body; only a 200 whose answer holds --expect (if given) counts. */
static void usage(void);
static char *post_body;
static size_t post_len;

static void *fixed_worker(void *arg)
{
    struct conn c = {0};
    const char *resp;
    const char *method = post_body ? "POST" : "GET";

    (void)arg;
    if (conn_open(&c) != 0) {
        atomic_fetch_add(&errors, 1);
        return NULL;
    }
    while (now_us() < deadline_us) {
        if (http(&c, method, o.path, post_body, post_len, &resp) == 200 &&
            (o.expect == NULL || strstr(resp, o.expect) != NULL))
            atomic_fetch_add(&ok_txs, 1);
        else
            atomic_fetch_add(&errors, 1);
    }
    close(c.fd);
    free(c.buf);
    return NULL;
}

static void load_body(void)
{
    FILE *f = o.body ? fopen(o.body, "rb") : NULL;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET))
        usage();
    post_body = malloc((size_t)n + 1);
    post_len = fread(post_body, 1, (size_t)n, f);
    fclose(f);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void load_ids(void)
{
    FILE *f = fopen(o.ids, "r");
    char line[128];
    size_t cap = 1024;

    proof_ids = malloc(cap * sizeof(*proof_ids));
    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strlen(line) != 64)
            continue;
        if (n_proof_ids == cap)
            proof_ids = realloc(proof_ids, (cap *= 2) * sizeof(*proof_ids));
        proof_ids[n_proof_ids++] = strdup(line);
    }
    if (f)
        fclose(f);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen --port P --mode batch|single|rate|proof|get|post [--conns N] "
            "[--batch N] [--seconds S] [--rate R] [--ids FILE] [--save-ids FILE] [--path P] "
            "[--body FILE] [--expect STR] [--progress 1] [--text jcs|compact]\n");
    exit(2);
}

static void parse(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];

        if (!strcmp(k, "--port"))
            o.port = (unsigned)atoi(v);
        else if (!strcmp(k, "--mode"))
            o.mode = v;
        else if (!strcmp(k, "--conns"))
            o.conns = (unsigned)atoi(v);
        else if (!strcmp(k, "--batch"))
            o.batch = (unsigned)atoi(v);
        else if (!strcmp(k, "--seconds"))
            o.seconds = (unsigned)atoi(v);
        else if (!strcmp(k, "--rate"))
            o.rate = (unsigned)atoi(v);
        else if (!strcmp(k, "--ids"))
            o.ids = v;
        else if (!strcmp(k, "--txs"))
            o.txs = (unsigned)atoi(v);
        else if (!strcmp(k, "--save-ids"))
            o.save_ids = v;
        else if (!strcmp(k, "--path"))
            o.path = v;
        else if (!strcmp(k, "--body"))
            o.body = v;
        else if (!strcmp(k, "--expect"))
            o.expect = v;
        else if (!strcmp(k, "--origin"))
            o.origin = v;
        else if (!strcmp(k, "--progress"))
            o.progress = (unsigned)atoi(v);
        else if (!strcmp(k, "--text"))
            o.text = v;
        else
            usage();
    }
    if (o.port == 0 || o.conns == 0 || o.conns > 1024 || o.batch == 0 || o.batch > 10000 ||
        (strcmp(o.text, "jcs") != 0 && strcmp(o.text, "compact") != 0))
        usage();
}

/* The machine's busy CPU time so far, in microseconds (all cores, all processes: the server,
 * PostgreSQL and this load generator), from /proc/stat; 0 when it cannot be read. */
static uint64_t machine_busy_us(void)
{
    unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal;
    FILE *f = fopen("/proc/stat", "r");
    int n;

    if (f == NULL)
        return 0;
    n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle, &iowait,
               &irq, &softirq, &steal);
    fclose(f);
    if (n != 8)
        return 0;
    return (uint64_t)(user + nice + sys + irq + softirq + steal) * 1000000u /
           (uint64_t)sysconf(_SC_CLK_TCK);
}

/* --progress 1: the txs acknowledged in each second of the run, on stderr, so a run's stalls
 * show (its average alone hides them). */
static void *progress_main(void *arg)
{
    uint64_t t0 = *(const uint64_t *)arg, last = 0;

    for (unsigned s = 1; t0 + (uint64_t)s * 1000000u <= deadline_us; s++) {
        unsigned long long ok;

        sleep_until_us(t0 + (uint64_t)s * 1000000u);
        ok = atomic_load(&ok_txs);
        fprintf(stderr, "%s%llu", s == 1 ? "per second:" : " ", (ok - last) / 1000);
        last = ok;
    }
    fprintf(stderr, " (thousands)\n");
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th[1025];
    struct loop_job jobs[1024 / CONNS_PER_LOOP];
    unsigned n_threads;
    void *(*worker)(void *);
    size_t want;
    uint64_t t0, t1, busy0, busy1;
    double secs;

    parse(argc, argv);
    if (sodium_init() < 0)
        return 1;
    n_threads = o.conns;
    if (!strcmp(o.mode, "get")) {
        worker = fixed_worker;
    } else if (!strcmp(o.mode, "post")) {
        load_body();
        worker = fixed_worker;
    } else if (!strcmp(o.mode, "proof")) {
        load_ids();
        if (n_proof_ids == 0)
            usage();
        worker = loop_main;
        proof_mode = 1;
    } else {
        /* enough txs for the run at a generous rate, signed before the clock starts */
        want = !strcmp(o.mode, "batch") ? (size_t)o.seconds * 40000
               : o.rate                 ? (size_t)o.seconds * o.rate + 1000
                                        : (size_t)o.seconds * 20000;
        if (o.txs > 0 && o.txs < want)
            want = o.txs; /* a run that uses them all up ends early; the rate stays right */
        presign(want);
        lat = calloc(want, sizeof(*lat));
        worker = !strcmp(o.mode, "batch") ? batch_worker : loop_main;
    }
    if (worker == loop_main) {
        n_threads = (o.conns + CONNS_PER_LOOP - 1) / CONNS_PER_LOOP;
        rate_interval = o.rate ? (uint64_t)o.conns * 1000000u / o.rate : 0;
    }
    for (unsigned i = 0; worker == loop_main && i < n_threads; i++) /* at most 1024 / 64 */
        jobs[i] = (struct loop_job){.first = i, .step = n_threads, .seed = i * 7919u + 17u};
    if (o.save_ids)
        ids_out = fopen(o.save_ids, "w");
    busy0 = machine_busy_us();
    t0 = now_us();
    deadline_us = t0 + (uint64_t)o.seconds * 1000000u;
    for (unsigned i = 0; i < n_threads; i++)
        pthread_create(&th[i], NULL, worker,
                       worker == loop_main ? (void *)&jobs[i] : (void *)(uintptr_t)i);
    if (o.progress)
        pthread_create(&th[n_threads], NULL, progress_main, &t0);
    for (unsigned i = 0; i < n_threads; i++)
        pthread_join(th[i], NULL);
    t1 = now_us();
    busy1 = machine_busy_us();
    if (o.progress)
        pthread_join(th[n_threads], NULL);
    secs = (double)(t1 - t0) / 1e6;
    if (ids_out)
        fclose(ids_out);
    printf("{\"mode\":\"%s\",\"conns\":%u,\"seconds\":%.2f,\"ok\":%llu,\"errors\":%llu,"
           "\"per_s\":%.0f",
           o.mode, o.conns, secs, (unsigned long long)ok_txs, (unsigned long long)errors,
           (double)ok_txs / secs);
    if (ok_txs > 0 && busy0 > 0 && busy1 > busy0) /* the run's CPU cost per acknowledged item */
        printf(",\"cpu_us_per_ok\":%.1f", (double)(busy1 - busy0) / (double)ok_txs);
    if (n_lat > 0) {
        size_t n = n_lat;

        qsort(lat, n, sizeof(*lat), cmp_u64);
        printf(",\"p50_ms\":%.2f,\"p99_ms\":%.2f", (double)lat[n / 2] / 1000.0,
               (double)lat[(size_t)((double)n * 0.99)] / 1000.0);
    }
    printf("}\n");
    return errors == 0 ? 0 : 1;
}
