/*
 * The leaf copy of leafstore.h, and the follower thread that keeps it in step with txs.
 *
 * leaves.idx is linear probing over 8-byte slots: the low 40 bits hold the leaf index plus one
 * (0 is an empty slot), the high 24 bits a tag from the hash, so a probe rarely reads a leaf it
 * does not want. The table is kept at most half full and rebuilt at twice the size when it would
 * pass that; a rebuild writes a new file through a shared mapping, renames it over the old one
 * and swaps descriptors under a lock that lookups hold only for their few preads. It is rebuilt
 * at every start too, from the leaves that pass the check, so it never has to survive a crash.
 *
 * Inserting each new leaf into the file cost a pread per probe and a pwrite, about 10 µs of a core
 * per tx on this kind of machine. So the leaves appended since the last rebuild or merge live in a
 * small table in memory (the same slots, up to RECENT_MAX leaves, 512 KiB) that lookups probe
 * first; when it is full they are merged into the file in the order of their slots, a run of pages
 * per pread and pwrite, and the memory table is emptied. A lookup that misses the memory table
 * after it was emptied finds the leaf in the file, which was written first.
 */
#include "leafstore.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "nodes.h"
#include "server.h"

#define HASH          CHAIN_HASH_LEN
#define MIN_SLOTS     (UINT64_C(1) << 16)
#define INDEX_BITS    40u /* leaf index + 1 below, the hash's tag above */
#define INDEX_MASK    ((UINT64_C(1) << INDEX_BITS) - 1)
#define MAX_LEAVES    (INDEX_MASK - 1)
#define CHUNK_LEAVES  65536u /* leaves per query and per pread while checking or rebuilding */
#define RETRY_SECONDS 1      /* after a failure; doubled while failures go on */
#define RETRY_MAX_S   64     /* a full disk or a database down is not retried faster than this */
#define PROBE_READ    8u     /* slots per pread of a lookup */
#define MAX_OFFERED   65536u /* leaves handed over and not yet written (2 MiB); more are dropped */
#define RECENT_MAX    32768u /* leaves kept in the memory table before a merge into the file */
#define RECENT_SLOTS  (2u * RECENT_MAX)
#define PAGE_SLOTS    512u               /* slots per 4 KiB page of leaves.idx */
#define RUN_SLOTS     (64u * PAGE_SLOTS) /* at most this many slots per pread and pwrite of a merge */

struct lx_leafstore {
    char leaves_path[PATH_MAX], index_path[PATH_MAX], tmp_path[PATH_MAX];
    int leaves_fd;
    pthread_rwlock_t index_mu; /* index_fd and slots: shared by lookups, taken for a swap */
    int index_fd;
    uint64_t slots;   /* a power of two, 0 before the first build */
    uint64_t held;    /* leaves in leaves.bin (writer) */
    uint64_t indexed; /* leaves [0, indexed) are in leaves.idx, the rest in recent (writer) */
    _Atomic uint64_t *recent; /* RECENT_SLOTS slots of leaves [indexed, held), probed first */
    _Atomic uint64_t size;    /* leaves readers may use */
    _Atomic uint64_t gen;     /* bumped when readable leaves are dropped */
    _Atomic uint64_t damaged; /* the gen a failed proof reported, 0 for none */
    struct db_pool *pool;     /* the follower's, borrowed */
    int read_db;              /* the follower read from txs since it last trimmed (follower) */
    const struct lx_nodecache *nc;
    pthread_t thread;
    int following;
    pthread_mutex_t mu; /* kicked, stopping, offers */
    pthread_cond_t wake;
    int kicked, stopping;
    struct offer *offers, **offers_end; /* blocks the sequencer handed over, oldest first */
    size_t offered;                     /* leaves in them */
};

/* The leaves of a committed block, as the sequencer handed them over. */
struct offer {
    struct offer *next;
    uint64_t first;
    size_t n;
    uint8_t hash[][HASH];
};

static int pread_all(int fd, void *p, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t r = pread(fd, p, len, (off_t)off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO; /* shorter than it should be */
            return -1;
        }
        p = (char *)p + r;
        len -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

static int pwrite_all(int fd, const void *p, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t r = pwrite(fd, p, len, (off_t)off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        p = (const char *)p + r;
        len -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Leaf hashes are SHA-256 outputs, so their first bytes serve as the hash of the table. */
static uint64_t home(const uint8_t h[HASH], uint64_t slots)
{
    uint64_t v;

    memcpy(&v, h, sizeof(v));
    return v & (slots - 1);
}

static uint64_t tag(const uint8_t h[HASH])
{
    return (uint64_t)h[8] | (uint64_t)h[9] << 8 | (uint64_t)h[10] << 16;
}

static uint64_t slot_value(const uint8_t h[HASH], uint64_t index)
{
    return tag(h) << INDEX_BITS | (index + 1);
}

/* Puts want in the first empty slot from s on, with a pread per probe and a pwrite. */
static int insert_value(int fd, uint64_t slots, uint64_t s, uint64_t want)
{
    uint64_t v;

    for (uint64_t probes = 0; probes < slots; probes++, s = (s + 1) & (slots - 1)) {
        if (pread_all(fd, &v, sizeof(v), s * sizeof(v)) != 0)
            return -1;
        if (v == 0)
            return pwrite_all(fd, &want, sizeof(want), s * sizeof(want));
    }
    errno = ENOSPC;
    return -1;
}

/* ---- the memory table of the newest leaves ---- */

static void recent_insert(struct lx_leafstore *ls, const uint8_t h[HASH], uint64_t index)
{
    uint64_t s = home(h, RECENT_SLOTS);

    /* Relaxed: readers look for a leaf only after the release store of the size that shows it. */
    while (atomic_load_explicit(&ls->recent[s], memory_order_relaxed) != 0)
        s = (s + 1) & (RECENT_SLOTS - 1);
    atomic_store_explicit(&ls->recent[s], slot_value(h, index), memory_order_relaxed);
}

static int recent_find(struct lx_leafstore *ls, const uint8_t h[HASH], uint64_t limit,
                       uint64_t *index)
{
    uint64_t want = tag(h), s = home(h, RECENT_SLOTS), v;

    for (uint64_t probes = 0; probes < RECENT_SLOTS; probes++, s = (s + 1) & (RECENT_SLOTS - 1)) {
        v = atomic_load_explicit(&ls->recent[s], memory_order_relaxed);
        if (v == 0)
            return 0;
        if (v >> INDEX_BITS == want && (v & INDEX_MASK) - 1 < limit) {
            *index = (v & INDEX_MASK) - 1;
            return 1;
        }
    }
    return 0;
}

/* Called once leaves [0, n) are all in leaves.idx. */
static void recent_clear(struct lx_leafstore *ls, uint64_t n)
{
    for (uint64_t s = 0; s < RECENT_SLOTS; s++)
        atomic_store_explicit(&ls->recent[s], 0, memory_order_relaxed);
    ls->indexed = n;
}

/* ---- merging into leaves.idx ---- */

struct pending {
    uint64_t pos;   /* where its probe goes on from */
    uint64_t value; /* the slot */
};

static int by_pos(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;

    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Places e[0, k), sorted by pos, into the table of fd through buf (RUN_SLOTS slots): each run
 * covers the pages of the next entries, one pread and one pwrite (slots, a power of two of at
 * least MIN_SLOTS, is a whole number of pages). An entry whose probe reaches the run's end goes
 * on at the start of the next run; one that reaches the table's end is inserted alone from
 * slot 0. */
static int place_sorted(int fd, uint64_t slots, struct pending *e, size_t k, uint64_t *buf)
{
    size_t i = 0;

    while (i < k) {
        uint64_t r0 = e[i].pos & ~(uint64_t)(PAGE_SLOTS - 1), r1 = r0 + PAGE_SLOTS;
        size_t j = i, carried = 0;
        int changed = 0;

        while (j < k && e[j].pos < r1) {
            j++;
            if (j < k && e[j].pos >= r1 && e[j].pos < r1 + PAGE_SLOTS && r1 - r0 < RUN_SLOTS &&
                r1 < slots)
                r1 += PAGE_SLOTS; /* the next entry is on the next page: one run */
        }
        if (pread_all(fd, buf, (r1 - r0) * sizeof(*buf), r0 * sizeof(*buf)) != 0)
            return -1;
        for (size_t t = i; t < j; t++) {
            uint64_t s = e[t].pos;

            while (s < r1 && buf[s - r0] != 0)
                s++;
            if (s < r1) {
                buf[s - r0] = e[t].value;
                changed = 1;
            } else { /* goes on at r1 (gathered where placed entries were) */
                e[i + carried++] = (struct pending){r1, e[t].value};
            }
        }
        if (changed && pwrite_all(fd, buf, (r1 - r0) * sizeof(*buf), r0 * sizeof(*buf)) != 0)
            return -1;
        /* the carried go just before e[j], which they still precede */
        memmove(e + j - carried, e + i, carried * sizeof(*e));
        i = j - carried;
        if (r1 == slots) /* wrapped: rare; from the start of the table, one slot at a time */
            for (; i < j; i++)
                if (insert_value(fd, slots, 0, e[i].value) != 0)
                    return -1;
    }
    return 0;
}

/* Inserts leaves [indexed, end) into leaves.idx and empties the memory table. */
static int merge_index(struct lx_leafstore *ls, uint64_t end)
{
    size_t k = (size_t)(end - ls->indexed);
    struct pending *e = malloc(k * sizeof(*e));
    uint8_t(*h)[HASH] = malloc(k * HASH);
    uint64_t *buf = malloc(RUN_SLOTS * sizeof(*buf));
    int rc = -1;

    if (e != NULL && h != NULL && buf != NULL &&
        pread_all(ls->leaves_fd, h, k * HASH, ls->indexed * HASH) == 0) {
        for (size_t i = 0; i < k; i++)
            e[i] = (struct pending){home(h[i], ls->slots), slot_value(h[i], ls->indexed + i)};
        qsort(e, k, sizeof(*e), by_pos);
        rc = place_sorted(ls->index_fd, ls->slots, e, k, buf);
    } else if (e == NULL || h == NULL || buf == NULL) {
        errno = ENOMEM;
    }
    if (rc == 0)
        recent_clear(ls, end);
    free(e);
    free(h);
    free(buf);
    return rc;
}

/* Builds a table of `slots` slots for leaves [0, n) in a new file, then swaps it in. The
 * mapping is resident only while the build runs. */
static int build_index(struct lx_leafstore *ls, uint64_t n, uint64_t slots)
{
    uint8_t(*buf)[HASH] = malloc((size_t)CHUNK_LEAVES * HASH);
    uint64_t *map = MAP_FAILED;
    size_t bytes = (size_t)slots * sizeof(uint64_t);
    int fd = open(ls->tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), old, rc = -1;

    if (buf == NULL || fd < 0 || ftruncate(fd, (off_t)bytes) != 0)
        goto out;
    map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        goto out;
    for (uint64_t first = 0; first < n; first += CHUNK_LEAVES) {
        size_t k = n - first < CHUNK_LEAVES ? (size_t)(n - first) : CHUNK_LEAVES;

        if (pread_all(ls->leaves_fd, buf, k * HASH, first * HASH) != 0)
            goto out;
        for (size_t i = 0; i < k; i++) {
            uint64_t s = home(buf[i], slots);

            while (map[s] != 0)
                s = (s + 1) & (slots - 1);
            map[s] = slot_value(buf[i], first + i);
        }
    }
    if (rename(ls->tmp_path, ls->index_path) != 0)
        goto out;
    pthread_rwlock_wrlock(&ls->index_mu);
    old = ls->index_fd;
    ls->index_fd = fd;
    ls->slots = slots;
    pthread_rwlock_unlock(&ls->index_mu);
    recent_clear(ls, n);
    fd = old; /* closed below */
    rc = 0;
out:
    if (map != MAP_FAILED)
        munmap(map, bytes);
    if (rc != 0)
        unlink(ls->tmp_path);
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

static uint64_t slots_for(uint64_t n)
{
    uint64_t slots = MIN_SLOTS;

    while (slots < 2 * n)
        slots *= 2;
    return slots;
}

struct lx_leafstore *lx_leafstore_open(const char *dir, char *err, size_t errlen)
{
    struct lx_leafstore *ls = calloc(1, sizeof(*ls));
    struct stat st;

    if (ls == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ls->index_fd = -1;
    ls->offers_end = &ls->offers;
    ls->recent = calloc(RECENT_SLOTS, sizeof(*ls->recent));
    if (ls->recent == NULL) {
        snprintf(err, errlen, "out of memory");
        free(ls);
        return NULL;
    }
    atomic_init(&ls->gen, 1);
    pthread_rwlock_init(&ls->index_mu, NULL);
    pthread_mutex_init(&ls->mu, NULL);
    pthread_cond_init(&ls->wake, NULL);
    snprintf(ls->leaves_path, sizeof(ls->leaves_path), "%s/leaves.bin", dir);
    snprintf(ls->index_path, sizeof(ls->index_path), "%s/leaves.idx", dir);
    snprintf(ls->tmp_path, sizeof(ls->tmp_path), "%s/leaves.idx.new", dir);
    ls->leaves_fd = open(ls->leaves_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (ls->leaves_fd < 0 || fstat(ls->leaves_fd, &st) != 0) {
        snprintf(err, errlen, "cannot open %s: %s", ls->leaves_path, strerror(errno));
        lx_leafstore_close(ls);
        return NULL;
    }
    ls->held = (uint64_t)st.st_size / HASH; /* a torn last hash is cut off by the first truncate */
    return ls;
}

void lx_leafstore_offer(struct lx_leafstore *ls, uint64_t first,
                        const uint8_t (*hash)[CHAIN_HASH_LEN], size_t n)
{
    struct offer *o;

    if (ls == NULL || n == 0)
        return;
    pthread_mutex_lock(&ls->mu);
    if (ls->offered + n <= MAX_OFFERED && (o = malloc(sizeof(*o) + n * HASH)) != NULL) {
        o->next = NULL;
        o->first = first;
        o->n = n;
        memcpy(o->hash, hash, n * HASH);
        *ls->offers_end = o;
        ls->offers_end = &o->next;
        ls->offered += n;
    } /* else the follower is far behind, and reads these from txs when it gets there */
    ls->kicked = 1;
    pthread_cond_signal(&ls->wake);
    pthread_mutex_unlock(&ls->mu);
}

static struct offer *take_offers(struct lx_leafstore *ls)
{
    struct offer *o;

    pthread_mutex_lock(&ls->mu);
    o = ls->offers;
    ls->offers = NULL;
    ls->offers_end = &ls->offers;
    ls->offered = 0;
    pthread_mutex_unlock(&ls->mu);
    return o;
}

static void free_offers(struct offer *o)
{
    while (o != NULL) {
        struct offer *next = o->next;

        free(o);
        o = next;
    }
}

void lx_leafstore_close(struct lx_leafstore *ls)
{
    if (ls == NULL)
        return;
    if (ls->following) {
        pthread_mutex_lock(&ls->mu);
        ls->stopping = 1;
        pthread_cond_signal(&ls->wake);
        pthread_mutex_unlock(&ls->mu);
        pthread_join(ls->thread, NULL);
    }
    free_offers(take_offers(ls));
    if (ls->leaves_fd >= 0)
        close(ls->leaves_fd);
    if (ls->index_fd >= 0)
        close(ls->index_fd);
    pthread_rwlock_destroy(&ls->index_mu);
    pthread_mutex_destroy(&ls->mu);
    pthread_cond_destroy(&ls->wake);
    free(ls->recent);
    free(ls);
}

void lx_leafstore_view(const struct lx_leafstore *ls, uint64_t *size, uint64_t *gen)
{
    /* gen first: a truncation bumps it after lowering size, so (size, gen) never pairs a size
     * from before a drop with the gen from after it */
    *gen = atomic_load_explicit(&ls->gen, memory_order_acquire);
    *size = atomic_load_explicit(&ls->size, memory_order_acquire);
}

uint64_t lx_leafstore_held(const struct lx_leafstore *ls)
{
    return ls->held;
}

int lx_leafstore_find(struct lx_leafstore *ls, const uint8_t hash[CHAIN_HASH_LEN], uint64_t limit,
                      uint64_t *index)
{
    uint64_t want = tag(hash), v[PROBE_READ], s, probes = 0;
    int found = 0, end = 0;

    if (recent_find(ls, hash, limit, index))
        return 1;
    pthread_rwlock_rdlock(&ls->index_mu);
    if (ls->index_fd >= 0) {
        s = home(hash, ls->slots);
        /* a probe chain at half load is short: read a few slots per pread, not one */
        while (!found && !end && probes < ls->slots) {
            size_t k = ls->slots - s < PROBE_READ ? (size_t)(ls->slots - s) : PROBE_READ;

            if (pread_all(ls->index_fd, v, k * sizeof(v[0]), s * sizeof(v[0])) != 0)
                break;
            for (size_t i = 0; i < k && !found && !end; i++, probes++) {
                if (v[i] == 0) {
                    end = 1;
                } else if (v[i] >> INDEX_BITS == want && (v[i] & INDEX_MASK) - 1 < limit) {
                    *index = (v[i] & INDEX_MASK) - 1;
                    found = 1;
                }
            }
            s = (s + k) & (ls->slots - 1);
        }
    }
    pthread_rwlock_unlock(&ls->index_mu);
    return found;
}

int lx_leafstore_read(struct lx_leafstore *ls, uint64_t first, size_t n,
                      uint8_t (*out)[CHAIN_HASH_LEN])
{
    return pread_all(ls->leaves_fd, out, n * HASH, first * HASH);
}

void lx_leafstore_damaged(struct lx_leafstore *ls, uint64_t gen)
{
    atomic_store(&ls->damaged, gen);
    lx_leafstore_kick(ls);
}

int lx_leafstore_append(struct lx_leafstore *ls, uint64_t first,
                        const uint8_t (*hash)[CHAIN_HASH_LEN], size_t n)
{
    uint64_t end = first + n;

    if (first != ls->held || ls->index_fd < 0 || end > MAX_LEAVES) {
        errno = EINVAL;
        return -1;
    }
    if (pwrite_all(ls->leaves_fd, hash, n * HASH, first * HASH) != 0)
        return -1;
    ls->held = end;
    if (2 * end > ls->slots) {
        if (build_index(ls, end, slots_for(end)) != 0)
            return -1;
    } else if (end - ls->indexed > RECENT_MAX) {
        if (merge_index(ls, end) != 0)
            return -1;
    } else {
        for (size_t i = 0; i < n; i++)
            recent_insert(ls, hash[i], first + i);
    }
    atomic_store_explicit(&ls->size, end, memory_order_release);
    return 0;
}

int lx_leafstore_truncate(struct lx_leafstore *ls, uint64_t n)
{
    if (n > ls->held)
        n = ls->held;
    if (n > MAX_LEAVES) {
        errno = EINVAL;
        return -1;
    }
    if (n < atomic_load(&ls->size)) {
        atomic_store(&ls->size, n);
        atomic_fetch_add(&ls->gen, 1);
    }
    if (ftruncate(ls->leaves_fd, (off_t)(n * HASH)) != 0)
        return -1;
    ls->held = n;
    if (build_index(ls, n, slots_for(n)) != 0)
        return -1;
    atomic_store_explicit(&ls->size, n, memory_order_release);
    return 0;
}

/* ---- the follower ---- */

void lx_leafstore_kick(struct lx_leafstore *ls)
{
    if (ls == NULL)
        return;
    pthread_mutex_lock(&ls->mu);
    ls->kicked = 1;
    pthread_cond_signal(&ls->wake);
    pthread_mutex_unlock(&ls->mu);
}

/* How many of the leaves the files hold agree with the committed tree: whole tiles whose root is
 * the stored level-6 node. A partial last tile has no stored node, so it is read again. */
static uint64_t checked_prefix(struct lx_leafstore *ls, uint8_t (*buf)[HASH])
{
    uint64_t size = lx_nodecache_size(ls->nc), n = ls->held < size ? ls->held : size;

    n -= n % LX_NODES_TILE;
    for (uint64_t first = 0; first < n; first += CHUNK_LEAVES) {
        size_t k = n - first < CHUNK_LEAVES ? (size_t)(n - first) : CHUNK_LEAVES;

        if (pread_all(ls->leaves_fd, buf, k * HASH, first * HASH) != 0)
            return first;
        for (size_t t = 0; t < k; t += LX_NODES_TILE) {
            uint8_t root[HASH], want[HASH];

            if (chain_merkle_root((const uint8_t(*)[HASH])buf[t], LX_NODES_TILE, root) != 0 ||
                lx_nodecache_get(ls->nc, LX_NODES_STORED_LEVEL, (first + t) / LX_NODES_TILE,
                                 want) != 0 ||
                memcmp(root, want, HASH) != 0)
                return first + t;
        }
    }
    return n;
}

/* Copies leaves [from, to) of txs into the files: one query. 0; -1 when the database did not
 * answer (nothing changed); -2 when the files could not be written. */
static int copy_from_db(struct lx_leafstore *ls, uint64_t from, uint64_t to, uint8_t (*buf)[HASH])
{
    char a[24], b[24];
    const char *params[2] = {a, b}, *why = NULL;
    PGconn *c = db_acquire(ls->pool, 1000, &why);
    PGresult *res;
    int n, rc = -1;

    if (c == NULL) {
        srv_log_error("leaf copy: %s", why);
        return -1;
    }
    snprintf(a, sizeof(a), "%" PRIu64, from);
    snprintf(b, sizeof(b), "%" PRIu64, to);
    res = PQexecParams(c,
                       "SELECT tx_id FROM txs WHERE leaf_index >= $1 AND leaf_index < $2"
                       " ORDER BY leaf_index",
                       2, NULL, params, NULL, NULL, 1);
    n = PQntuples(res);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        srv_log_error("leaf copy: %s", PQerrorMessage(c));
    } else if ((uint64_t)n != to - from) {
        srv_log_error("leaf copy: txs holds %d of leaves %" PRIu64 "..%" PRIu64, n, from, to - 1);
    } else {
        rc = 0;
        for (int i = 0; i < n && rc == 0; i++) {
            if (PQgetlength(res, i, 0) != HASH)
                rc = -1;
            else
                memcpy(buf[i], PQgetvalue(res, i, 0), HASH);
        }
    }
    PQclear(res);
    db_release(ls->pool, c);
    ls->read_db = 1;
    if (rc == 0 && lx_leafstore_append(ls, from, (const uint8_t(*)[HASH])buf, (size_t)n) != 0) {
        srv_log_error("leaf copy: cannot write %s: %s", ls->leaves_path, strerror(errno));
        rc = -2;
    }
    return rc;
}

static int stopping(struct lx_leafstore *ls);

/* Reads leaves [held, to) from txs. 0 when done, or copy_from_db's failure. */
static int catch_up(struct lx_leafstore *ls, uint64_t to, uint8_t (*buf)[HASH])
{
    while (ls->held < to) {
        uint64_t end = to - ls->held > CHUNK_LEAVES ? ls->held + CHUNK_LEAVES : to;
        int rc = stopping(ls) ? -1 : copy_from_db(ls, ls->held, end, buf);

        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Appends the blocks the sequencer handed over, reading from txs any gap before one (blocks
 * dropped while the follower was behind). 0, or copy_from_db's failure. */
static int write_offers(struct lx_leafstore *ls, const struct offer *o, uint8_t (*buf)[HASH])
{
    for (; o != NULL; o = o->next) {
        int rc = catch_up(ls, o->first, buf);
        uint64_t skip = ls->held - o->first; /* what the copy already holds */

        if (rc != 0)
            return rc;
        if (skip < o->n && lx_leafstore_append(ls, ls->held, (const uint8_t(*)[HASH])o->hash + skip,
                                               o->n - (size_t)skip) != 0) {
            srv_log_error("leaf copy: cannot write %s: %s", ls->leaves_path, strerror(errno));
            return -2;
        }
    }
    return 0;
}

/* Waits for a kick (unless only a stop may end the wait: after a failure), a stop, or
 * `seconds`; returns whether to stop. *kicked (may be NULL) says whether a kick ended it. */
static int wait_kick(struct lx_leafstore *ls, int seconds, int kicks_wake, int *kicked)
{
    struct timespec until;
    int stop;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    pthread_mutex_lock(&ls->mu);
    while (!(ls->kicked && kicks_wake) && !ls->stopping)
        if (pthread_cond_timedwait(&ls->wake, &ls->mu, &until) != 0)
            break;
    if (kicked != NULL)
        *kicked = ls->kicked && kicks_wake;
    ls->kicked = 0;
    stop = ls->stopping;
    pthread_mutex_unlock(&ls->mu);
    return stop;
}

static int stopping(struct lx_leafstore *ls)
{
    int stop;

    pthread_mutex_lock(&ls->mu);
    stop = ls->stopping;
    pthread_mutex_unlock(&ls->mu);
    return stop;
}

/* Drops what failed a check and rebuilds the index; returns whether it went well. */
static int restart_from(struct lx_leafstore *ls, uint64_t keep)
{
    if (lx_leafstore_truncate(ls, keep) == 0)
        return 1;
    srv_log_error("leaf copy: cannot rebuild %s: %s", ls->index_path, strerror(errno));
    return 0;
}

static void *follow_main(void *arg)
{
    struct lx_leafstore *ls = arg;
    uint8_t(*buf)[HASH] = malloc((size_t)CHUNK_LEAVES * HASH);
    uint64_t held = ls->held, good;
    int ready, ok, retry_s = RETRY_SECONDS;

    if (buf == NULL)
        return NULL;
    good = checked_prefix(ls, buf);
    if (good + LX_NODES_TILE <= held)
        srv_log_error("leaf copy: %" PRIu64 " of the %" PRIu64 " leaves in %s agree with the"
                      " ledger; the rest is read again",
                      good, held, ls->leaves_path);
    ready = restart_from(ls, good);
    for (;;) {
        /* the target first: a block published after it was read is offered by then */
        uint64_t target = lx_nodecache_size(ls->nc), dmg = atomic_exchange(&ls->damaged, 0);
        struct offer *offers = take_offers(ls);
        int rc = 0;

        if (dmg != 0 && dmg == atomic_load(&ls->gen)) {
            srv_log_error("leaf copy: %s disagreed with the ledger (a proof built from it did"
                          " not lead to the checkpoint's root, or it missed a tx id); the copy"
                          " is read again",
                          ls->leaves_path);
            ready = restart_from(ls, 0);
        }
        if (!ready)
            ready = restart_from(ls, 0);
        if (ready) {
            rc = write_offers(ls, offers, buf);
            if (rc == 0)
                rc = catch_up(ls, target, buf);
            if (rc == -2)
                ready = restart_from(ls, atomic_load(&ls->size));
        }
        free_offers(offers);
        ok = ready && rc == 0;
        if (ok && ls->read_db) {
            /* A catch-up from txs (the sequencer ran ahead) reads 65,536 ids per query: a few
             * MiB of libpq results, freed into this thread's malloc arena. Given back after a
             * second without a block, as the sequencer gives back its own. */
            int kicked;

            if (wait_kick(ls, 1, 1, &kicked))
                break;
            if (kicked)
                continue;
            ls->read_db = 0;
            malloc_trim(0);
        }
        if (wait_kick(ls, ok ? 60 : retry_s, ok, NULL))
            break;
        retry_s = ok ? RETRY_SECONDS : retry_s * 2 < RETRY_MAX_S ? retry_s * 2 : RETRY_MAX_S;
    }
    free(buf);
    return NULL;
}

int lx_leafstore_follow(struct lx_leafstore *ls, struct db_pool *pool,
                        const struct lx_nodecache *nc)
{
    ls->pool = pool;
    ls->nc = nc;
    if (pthread_create(&ls->thread, NULL, follow_main, ls) != 0)
        return -1;
    ls->following = 1;
    return 0;
}
