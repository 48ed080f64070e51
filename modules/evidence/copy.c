/*
 * Stored copies: the evidence file itself, kept encrypted at rest for the people of the case.
 * The upload is a streamed body (SRV_BODY_STREAM): each chunk is hashed and appended to a
 * crypto_secretstream (XChaCha20-Poly1305) file as it arrives, so the server's memory does not
 * grow with the file; at the end the SHA-256 and size must be the anchored ones or the file is
 * deleted and the upload refused. A download decrypts as libmicrohttpd sends, and is written to
 * the audit log. Each file has its own key: BLAKE2b keyed with a crypto_kdf subkey of the node
 * master key, of the item id.
 */
#define _GNU_SOURCE
#include "../../server/server.h"
#include "evidence_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK   (64 * 1024) /* plaintext bytes per secretstream message */
#define COPY_RECORD  (COPY_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)
#define COPY_KEY_ID  1
#define COPY_KEY_CTX "lxevcopy"
#define COPY_MAX_DEF (2LL << 30) /* default cap: 2 GiB (LIANXIN_EVIDENCE_COPY_MAX) */

/* The most bytes a stored copy may have. */
static long long copy_max(void)
{
    const char *v = getenv("LIANXIN_EVIDENCE_COPY_MAX");
    long long n = v ? atoll(v) : 0;

    return n > 0 ? n : COPY_MAX_DEF;
}

static void copy_key(struct srv *s, const char *item_id, unsigned char key[32])
{
    unsigned char sub[32];

    crypto_kdf_derive_from_key(sub, sizeof(sub), COPY_KEY_ID, COPY_KEY_CTX, s->master_key);
    crypto_generichash(key, 32, (const unsigned char *)item_id, strlen(item_id), sub, sizeof(sub));
    sodium_memzero(sub, sizeof(sub));
}

static void copy_path(struct srv *s, const char *item_id, const char *suffix, char *out, size_t cap)
{
    snprintf(out, cap, "%s/evidence/%s%s", s->cfg.data_dir, item_id, suffix);
}

/* ---- upload ------------------------------------------------------------------------------ */

struct upload {
    int fd;                                                 /* the .part file, or -1 */
    char part[SRV_PATH_MAX + 64], final[SRV_PATH_MAX + 64]; /* its path, and the stored copy's */
    char item[EV_ID_LEN + 1];                               /* item id */
    char sha[65];                                           /* the anchored hash */
    uint64_t expected, total;                               /* the anchored size, bytes so far */
    crypto_hash_sha256_state hash;                          /* of the plain bytes */
    crypto_secretstream_xchacha20poly1305_state st;         /* the encryption */
    unsigned char *buf;                                     /* COPY_CHUNK plain bytes waiting */
    size_t fill;                                            /* bytes in buf */
    unsigned char *rec;                                     /* one encrypted record */
};

static void upload_free(void *p)
{
    struct upload *u = p;

    if (u == NULL)
        return;
    if (u->fd >= 0) { /* not finished: nothing half-written is kept */
        close(u->fd);
        unlink(u->part);
    }
    sodium_memzero(&u->st, sizeof(u->st));
    free(u->buf);
    free(u->rec);
    free(u);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Encrypts buf[0..fill) as one message (tag: 0 or FINAL) and appends it. */
static int flush(struct upload *u, unsigned char tag)
{
    unsigned long long clen = 0;

    crypto_secretstream_xchacha20poly1305_push(&u->st, u->rec, &clen, u->buf, u->fill, NULL, 0,
                                               tag);
    u->fill = 0;
    return write_all(u->fd, u->rec, (size_t)clen);
}

/* First call: may r store a copy of this item? Opens the file. Returns 0 or the status. */
static unsigned upload_begin(struct srv_req *r)
{
    PGconn *c = db_acquire(r->srv->pool, 2000, NULL);
    PGresult *res = NULL;
    unsigned char key[32], header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    char org[72], dir[SRV_PATH_MAX + 16];
    struct upload *u = NULL;
    unsigned status;

    if (c == NULL)
        return ev_db_down(r);
    if ((status = ev_item_open(r, c, EV_WRITE, &res, org)) != 0)
        goto out;
    if (strtoll(PQgetvalue(res, 0, 7), NULL, 10) > copy_max()) {
        status = srv_reply_error(r, 413, "too_large",
                                 "the file is larger than stored copies may be", NULL);
        goto out;
    }
    if ((u = calloc(1, sizeof(*u))) == NULL || (u->buf = malloc(COPY_CHUNK)) == NULL ||
        (u->rec = malloc(COPY_RECORD)) == NULL) {
        status = srv_reply_error(r, 503, "busy", "out of memory", NULL);
        goto out;
    }
    u->fd = -1;
    snprintf(u->item, sizeof(u->item), "%s", PQgetvalue(res, 0, 0));
    snprintf(u->sha, sizeof(u->sha), "%s", PQgetvalue(res, 0, 14));
    u->expected = strtoull(PQgetvalue(res, 0, 7), NULL, 10);
    snprintf(dir, sizeof(dir), "%s/evidence", r->srv->cfg.data_dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        status = srv_reply_error(r, 503, "storage", "cannot store copies here", NULL);
        goto out;
    }
    copy_path(r->srv, u->item, ".part", u->part, sizeof(u->part));
    copy_path(r->srv, u->item, ".enc", u->final, sizeof(u->final));
    u->fd = open(u->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (u->fd < 0) {
        status = srv_reply_error(r, 503, "storage", "cannot store copies here", NULL);
        goto out;
    }
    copy_key(r->srv, u->item, key);
    crypto_secretstream_xchacha20poly1305_init_push(&u->st, header, key);
    sodium_memzero(key, sizeof(key));
    crypto_hash_sha256_init(&u->hash);
    if (write_all(u->fd, header, sizeof(header)) != 0) {
        status = srv_reply_error(r, 503, "storage", "cannot write the copy", NULL);
        goto out;
    }
    r->user = u;
    r->user_free = upload_free;
    u = NULL;
out:
    upload_free(u);
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}

/* The end: checks hash and size, keeps or deletes the file, answers. */
static unsigned upload_end(struct srv_req *r, struct upload *u)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[65], size[24], ms[24];
    const char *p[4] = {u->item, size, r->who.username, ms};
    PGconn *c;
    PGresult *res;
    int ok;

    crypto_hash_sha256_final(&u->hash, h);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    if (u->total != u->expected || strcmp(hex, u->sha) != 0)
        return srv_reply_error(r, 422, "hash_mismatch",
                               "the uploaded bytes are not the preserved file", "sha256");
    if (flush(u, crypto_secretstream_xchacha20poly1305_TAG_FINAL) != 0 || fsync(u->fd) != 0)
        return srv_reply_error(r, 503, "storage", "cannot write the copy", NULL);
    close(u->fd);
    u->fd = -1;
    if (rename(u->part, u->final) != 0) {
        unlink(u->part);
        return srv_reply_error(r, 503, "storage", "cannot store the copy", NULL);
    }
    snprintf(size, sizeof(size), "%" PRIu64, u->total);
    snprintf(ms, sizeof(ms), "%" PRId64, ev_now_ms());
    if ((c = db_acquire(r->srv->pool, 2000, NULL)) == NULL)
        return ev_db_down(r);
    res = PQexecPrepared(c, "ev_copy_add", 4, p, NULL, NULL, 0);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    db_release(r->srv->pool, c);
    if (!ok)
        return ev_db_down(r);
    return srv_reply_json(r, 201,
                          json_pack("{s:s, s:I, s:s, s:b}", "id", u->item, "size",
                                    (json_int_t)u->total, "sha256", hex, "stored", 1));
}

/* POST /api/evidence/items/:id/copy, the file's bytes as the body (any media type). */
unsigned ev_copy_upload(struct srv_req *r)
{
    struct upload *u;

    if (!r->stream_started) /* before the body: may r store a copy of this item? */
        return upload_begin(r);
    u = r->user;
    if (r->chunk == NULL)
        return upload_end(r, u);
    u->total += r->chunk_len;
    if (u->total > u->expected) /* more than the preserved file: stop reading now */
        return srv_reply_error(r, 422, "hash_mismatch",
                               "the upload is longer than the preserved file", "size");
    crypto_hash_sha256_update(&u->hash, (const unsigned char *)r->chunk, r->chunk_len);
    for (size_t at = 0; at < r->chunk_len;) {
        size_t n =
            r->chunk_len - at < COPY_CHUNK - u->fill ? r->chunk_len - at : COPY_CHUNK - u->fill;

        memcpy(u->buf + u->fill, r->chunk + at, n);
        u->fill += n;
        at += n;
        if (u->fill == COPY_CHUNK && flush(u, 0) != 0)
            return srv_reply_error(r, 503, "storage", "cannot write the copy", NULL);
    }
    return 0;
}

/* ---- download ---------------------------------------------------------------------------- */

struct download {
    int fd;
    crypto_secretstream_xchacha20poly1305_state st;
    unsigned char *rec; /* one encrypted record */
    unsigned char *buf; /* its plain bytes */
    size_t have, at;    /* bytes in buf, bytes of buf sent */
    int done;           /* the FINAL message was read */
};

static void download_free(void *p)
{
    struct download *d = p;

    if (d == NULL)
        return;
    if (d->fd >= 0)
        close(d->fd);
    sodium_memzero(&d->st, sizeof(d->st));
    free(d->rec);
    free(d->buf);
    free(d);
}

static ssize_t download_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct download *d = cls;

    (void)pos; /* libmicrohttpd reads in order */
    if (d->at == d->have) {
        unsigned long long mlen = 0;
        unsigned char tag = 0;
        ssize_t n;

        if (d->done)
            return -1;
        do
            n = read(d->fd, d->rec, COPY_RECORD);
        while (n < 0 && errno == EINTR);
        if (n <= 0 || crypto_secretstream_xchacha20poly1305_pull(
                          &d->st, d->buf, &mlen, &tag, d->rec, (unsigned long long)n, NULL, 0) != 0)
            return -1; /* damaged or truncated: the client sees a cut connection */
        d->have = (size_t)mlen;
        d->at = 0;
        d->done = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
        if (d->have == 0)
            return -1;
    }
    if (max > d->have - d->at)
        max = d->have - d->at;
    memcpy(out, d->buf + d->at, max);
    d->at += max;
    return (ssize_t)max;
}

/* GET /api/evidence/items/:id/copy: the stored file, decrypted; each download is audit-logged. */
unsigned ev_copy_download(struct srv_req *r)
{
    PGconn *c = db_acquire(r->srv->pool, 2000, NULL);
    PGresult *res = NULL, *cp = NULL;
    unsigned char key[32], header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    char org[72], path[SRV_PATH_MAX + 64], mime[EV_MAX_SHORT + 1], disp[120];
    struct download *d = NULL;
    uint64_t size;
    unsigned status;

    if (c == NULL)
        return ev_db_down(r);
    r->audit_read = 1; /* who looked at the file is on record, even when refused */
    if ((status = ev_item_open(r, c, EV_READ, &res, org)) != 0)
        goto out;
    {
        const char *p[1] = {PQgetvalue(res, 0, 0)};

        cp = PQexecPrepared(c, "ev_copy_get", 1, p, NULL, NULL, 0);
    }
    if (PQresultStatus(cp) != PGRES_TUPLES_OK) {
        status = ev_db_down(r);
        goto out;
    }
    if (PQntuples(cp) == 0) {
        status = srv_reply_error(r, 404, "no_copy", "no copy of this file is stored", NULL);
        goto out;
    }
    size = strtoull(PQgetvalue(cp, 0, 0), NULL, 10);
    snprintf(mime, sizeof(mime), "%s",
             *PQgetvalue(res, 0, 8) ? PQgetvalue(res, 0, 8) : "application/octet-stream");
    snprintf(disp, sizeof(disp), "attachment; filename=\"evidence-%s\"", PQgetvalue(res, 0, 0));
    copy_path(r->srv, PQgetvalue(res, 0, 0), ".enc", path, sizeof(path));
    if ((d = calloc(1, sizeof(*d))) == NULL || (d->rec = malloc(COPY_RECORD)) == NULL ||
        (d->buf = malloc(COPY_CHUNK)) == NULL) {
        status = srv_reply_error(r, 503, "busy", "out of memory", NULL);
        goto out;
    }
    d->fd = open(path, O_RDONLY | O_CLOEXEC);
    copy_key(r->srv, PQgetvalue(res, 0, 0), key);
    if (d->fd < 0 || read(d->fd, header, sizeof(header)) != (ssize_t)sizeof(header) ||
        crypto_secretstream_xchacha20poly1305_init_pull(&d->st, header, key) != 0) {
        sodium_memzero(key, sizeof(key));
        status = srv_reply_error(r, 500, "storage", "the stored copy cannot be read", NULL);
        goto out;
    }
    sodium_memzero(key, sizeof(key));
    status = srv_reply_stream(r, 200, mime, size, download_read, d, download_free);
    d = NULL;
    if (r->resp != NULL)
        MHD_add_response_header(r->resp, "Content-Disposition", disp);
out:
    download_free(d);
    PQclear(cp);
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}
