/*
 * Reading credentials: the list (searchable, scoped to who asks), one credential, its bundle, its
 * public revocation status, and the public view of a share link. Reads go straight to
 * PostgreSQL through the pool, like every read.
 */
#define _GNU_SOURCE
#include "../../chain/jcs.h"
#include "../../server/auth.h"
#include "../../server/server.h"
#include "../core/bundle.h"
#include "edu_int.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 50
#define LIST_MAX     200

unsigned edu_db_down(struct srv_req *r)
{
    return srv_reply_error(r, 503, "db_down", "the database did not answer", NULL);
}

static PGconn *acquire(struct srv_req *r)
{
    return db_acquire(r->srv->pool, 1000, NULL);
}

int edu_record_load(PGconn *c, const char *id, struct edu_record *rec)
{
    const char *params[1] = {id};
    PGresult *res;

    memset(rec, 0, sizeof(*rec));
    if (!edu_uuid_valid(id))
        return 0;
    res = PQexecPrepared(c, "edu_record", 1, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    snprintf(rec->id, sizeof(rec->id), "%s", id);
    snprintf(rec->org, sizeof(rec->org), "%s", PQgetvalue(res, 0, 0));
    snprintf(rec->kind, sizeof(rec->kind), "%s", PQgetvalue(res, 0, 1));
    snprintf(rec->student, sizeof(rec->student), "%s", PQgetvalue(res, 0, 2));
    rec->erased = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
    rec->anchored = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
    snprintf(rec->tx_id, sizeof(rec->tx_id), "%s", PQgetvalue(res, 0, 5));
    rec->revoked = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
    rec->revoked_ms = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
    snprintf(rec->reason, sizeof(rec->reason), "%s", PQgetvalue(res, 0, 8));
    snprintf(rec->hash_b64, sizeof(rec->hash_b64), "%s", PQgetvalue(res, 0, 9));
    PQclear(res);
    return 1;
}

int edu_may_read(struct srv_req *r, PGconn *c, const struct edu_record *rec)
{
    const struct srv_who *w = &r->who;

    if (strcmp(w->node_role, "admin") == 0 || strcmp(w->node_role, "regulator") == 0)
        return 1;
    if (w->principal[0] && rec->student[0] && strcmp(w->principal, rec->student) == 0)
        return 1;
    if (w->via_token)
        return strcmp(w->token_org, rec->org) == 0;
    return srv_auth_has_role(c, w->user_id, rec->org, SRV_ROLE_ANY);
}

/* Loads the credential named by the route's :id that the caller may read. Returns 0 with rec
 * filled, or the status answered (404 also for one the caller may not see: no probing). */
static unsigned load_readable(struct srv_req *r, PGconn *c, struct edu_record *rec)
{
    int rc = edu_record_load(c, srv_req_param(r, "id"), rec);

    if (rc < 0)
        return edu_db_down(r);
    if (rc == 0)
        return srv_reply_error(r, 404, "not_found", "no such credential", NULL);
    rc = edu_may_read(r, c, rec);
    if (rc < 0)
        return edu_db_down(r);
    if (rc == 0)
        return srv_reply_error(r, 404, "not_found", "no such credential", NULL);
    return 0;
}

/* The stored document of id, unsealed and parsed (new), or NULL (erased, or damaged: *damaged). */
static json_t *document_load(struct srv *s, PGconn *c, const char *id, int *damaged)
{
    const char *params[1] = {id};
    unsigned char key[crypto_secretbox_KEYBYTES];
    PGresult *res = PQexecPrepared(c, "edu_document", 1, params, NULL, NULL, 1 /* binary */);
    const unsigned char *sealed;
    unsigned char *text = NULL;
    size_t n;
    json_t *doc = NULL;

    *damaged = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        *damaged = PQresultStatus(res) != PGRES_TUPLES_OK;
        PQclear(res);
        return NULL;
    }
    sealed = (const unsigned char *)PQgetvalue(res, 0, 0);
    n = (size_t)PQgetlength(res, 0, 0);
    edu_doc_key(s, key);
    if (n < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES || (text = malloc(n)) == NULL ||
        crypto_secretbox_open_easy(text, sealed + crypto_secretbox_NONCEBYTES,
                                   n - crypto_secretbox_NONCEBYTES, sealed, key) != 0 ||
        chain_jcs_parse((const char *)text,
                        n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, &doc) != 0) {
        *damaged = 1;
        doc = NULL;
    }
    sodium_memzero(key, sizeof(key));
    free(text);
    PQclear(res);
    return doc;
}

json_t *edu_bundle_make(struct srv_req *r, PGconn *c, const struct edu_record *rec,
                        unsigned *status)
{
    json_t *vc, *ledger = NULL, *b;
    int damaged, rc;

    if (rec->erased) {
        *status = srv_reply_error(r, 410, "erased",
                                  "the personal data of this credential was erased; the student's "
                                  "own copy still verifies",
                                  NULL);
        return NULL;
    }
    if (!rec->anchored) {
        *status = srv_reply_error(r, 409, "not_anchored",
                                  "the credential is not on the ledger (yet)", NULL);
        return NULL;
    }
    vc = document_load(r->srv, c, rec->id, &damaged);
    if (vc == NULL) {
        *status = damaged
                      ? srv_reply_error(r, 500, "internal", "the stored document is damaged", NULL)
                      : srv_reply_error(r, 410, "erased", "the document was erased", NULL);
        return NULL;
    }
    rc = core_bundle_build(c, rec->tx_id, &ledger);
    if (rc != 0) {
        json_decref(vc);
        *status = rc == -1 ? edu_db_down(r)
                           : srv_reply_error(r, 500, "internal", "ledger data is missing", NULL);
        return NULL;
    }
    b = json_pack("{s:o, s:o}", "credential", vc, "ledger", ledger);
    if (b == NULL)
        *status = srv_reply_error(r, 503, "busy", "out of memory", NULL);
    return b;
}

/* ---- GET /api/edu/credentials/:id, /bundle ------------------------------------------------ */

unsigned edu_get(struct srv_req *r)
{
    struct edu_record rec;
    PGconn *c = acquire(r);
    json_t *body, *vc = NULL;
    unsigned status;
    int damaged = 0;

    if (c == NULL)
        return edu_db_down(r);
    if ((status = load_readable(r, c, &rec)) != 0)
        goto out;
    if (!rec.erased)
        vc = document_load(r->srv, c, rec.id, &damaged);
    body = json_pack("{s:s, s:s+, s:s, s:s, s:s, s:b, s:s, s:o}", "id", rec.id, "credential_id",
                     "urn:uuid:", rec.id, "org", rec.org, "kind", rec.kind, "status",
                     !rec.anchored ? "pending"
                     : rec.revoked ? "revoked"
                                   : "valid",
                     "erased", rec.erased, "student", rec.student, "credential",
                     vc ? vc : json_null());
    if (body != NULL && rec.anchored) {
        json_object_set_new(body, "tx_id", json_string(rec.tx_id));
        json_object_set_new(body, "hash", json_string(rec.hash_b64));
    }
    if (body != NULL && rec.revoked)
        json_object_set_new(
            body, "revoked",
            json_pack("{s:I, s:s}", "at_ms", (json_int_t)rec.revoked_ms, "reason", rec.reason));
    status = body ? srv_reply_json(r, 200, body) : srv_reply_error(r, 503, "busy", "oom", NULL);
out:
    db_release(r->srv->pool, c);
    return status;
}

unsigned edu_get_bundle(struct srv_req *r)
{
    struct edu_record rec;
    PGconn *c = acquire(r);
    json_t *b;
    unsigned status;

    if (c == NULL)
        return edu_db_down(r);
    if ((status = load_readable(r, c, &rec)) == 0 &&
        (b = edu_bundle_make(r, c, &rec, &status)) != NULL)
        status = srv_reply_json(r, 200, b);
    db_release(r->srv->pool, c);
    return status;
}

/* ---- GET /api/edu/credentials/:id/status (public) ---------------------------------------- */

unsigned edu_status(struct srv_req *r)
{
    const char *id = srv_req_param(r, "id");
    char urn[EDU_URN_LEN + 1], date[16];
    const char *params[1] = {urn};
    PGconn *c;
    PGresult *res;
    json_t *body;

    if (!edu_uuid_valid(id))
        return srv_reply_error(r, 400, "bad_parameter", "a credential id is a lowercase uuid",
                               "id");
    snprintf(urn, sizeof(urn), "urn:uuid:%s", id);
    if ((c = acquire(r)) == NULL)
        return edu_db_down(r);
    res = PQexecPrepared(c, "edu_status", 1, params, NULL, NULL, 0);
    db_release(r->srv->pool, c);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return edu_db_down(r);
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return srv_reply_error(r, 404, "not_found", "no credential with this id is anchored", NULL);
    }
    body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "credential_id", urn, "status",
                     PQgetisnull(res, 0, 5) ? "valid" : "revoked", "org", PQgetvalue(res, 0, 0),
                     "org_name", PQgetvalue(res, 0, 8), "tx_id", PQgetvalue(res, 0, 2),
                     "leaf_index", (json_int_t)strtoll(PQgetvalue(res, 0, 3), NULL, 10),
                     "issued_at_ms", (json_int_t)strtoll(PQgetvalue(res, 0, 4), NULL, 10));
    if (body != NULL && !PQgetisnull(res, 0, 5)) {
        int64_t at = strtoll(PQgetvalue(res, 0, 5), NULL, 10);

        edu_date_of_ms(at, date, sizeof(date));
        json_object_set_new(body, "revoked",
                            json_pack("{s:I, s:s, s:s, s:s}", "at_ms", (json_int_t)at, "date", date,
                                      "reason", PQgetvalue(res, 0, 6), "tx_id",
                                      PQgetvalue(res, 0, 7)));
    }
    PQclear(res);
    return body ? srv_reply_json(r, 200, body) : srv_reply_error(r, 503, "busy", "oom", NULL);
}

/* ---- GET /api/edu/credentials ---------------------------------------------------------------- */

/* s with LIKE's \, % and _ escaped, into out. */
static void like_escape(const char *s, char *out, size_t cap)
{
    size_t n = 0;

    for (; *s && n + 2 < cap; s++) {
        if (*s == '\\' || *s == '%' || *s == '_')
            out[n++] = '\\';
        out[n++] = *s;
    }
    out[n] = '\0';
}

static json_t *list_row(const PGresult *res, int i)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:s}", "id",
                          PQgetvalue(res, i, 1), "org", PQgetvalue(res, i, 2), "org_name",
                          PQgetvalue(res, i, 15), "kind", PQgetvalue(res, i, 3), "name",
                          PQgetvalue(res, i, 4), "student_number", PQgetvalue(res, i, 5),
                          "created_ms", (json_int_t)strtoll(PQgetvalue(res, i, 7), NULL, 10),
                          "erased", strcmp(PQgetvalue(res, i, 8), "t") == 0, "status",
                          PQgetvalue(res, i, 9), "student", PQgetvalue(res, i, 6));

    if (o == NULL)
        return NULL;
    if (strcmp(PQgetvalue(res, i, 9), "pending") != 0) {
        json_object_set_new(o, "tx_id", json_string(PQgetvalue(res, i, 10)));
        json_object_set_new(o, "leaf_index",
                            json_integer((json_int_t)strtoll(PQgetvalue(res, i, 11), NULL, 10)));
        json_object_set_new(o, "issued_ms",
                            json_integer((json_int_t)strtoll(PQgetvalue(res, i, 12), NULL, 10)));
    }
    if (strcmp(PQgetvalue(res, i, 9), "revoked") == 0)
        json_object_set_new(o, "revoked",
                            json_pack("{s:I, s:s}", "at_ms",
                                      (json_int_t)strtoll(PQgetvalue(res, i, 13), NULL, 10),
                                      "reason", PQgetvalue(res, i, 14)));
    return o;
}

static int parse_uint(const char *s, long long max, long long *out)
{
    char *end;
    long long v;

    if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 18)
        return -1;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

unsigned edu_list(struct srv_req *r)
{
    const struct srv_who *w = &r->who;
    const char *org = srv_req_query(r, "org"), *q = srv_req_query(r, "q");
    const char *kind = srv_req_query(r, "kind"), *state = srv_req_query(r, "status");
    const char *lq = srv_req_query(r, "limit"), *bq = srv_req_query(r, "before");
    char uid[24], like[300], before_s[24], limit_s[24];
    const char *scope;
    long long limit = LIST_DEFAULT, before = INT64_MAX;
    const char *params[10];
    PGconn *c;
    PGresult *res;
    json_t *list, *next;
    int n;

    if ((lq && (parse_uint(lq, 100000, &limit) != 0 || limit == 0)) ||
        (bq && parse_uint(bq, INT64_MAX, &before) != 0))
        return srv_reply_error(r, 400, "bad_parameter",
                               "limit must be a positive number and before a cursor", NULL);
    if (limit > LIST_MAX)
        limit = LIST_MAX;
    if (kind && *kind && edu_kind_type(kind) == NULL)
        return srv_reply_error(r, 400, "bad_parameter", "unknown kind", "kind");
    if (state && *state && strcmp(state, "valid") && strcmp(state, "revoked") &&
        strcmp(state, "pending"))
        return srv_reply_error(r, 400, "bad_parameter", "status is valid, revoked or pending",
                               "status");
    if (q && strlen(q) > 200)
        return srv_reply_error(r, 400, "bad_parameter", "the search text is too long", "q");
    /* who sees what: admin and regulator everything, a token its org, a student their own,
     * everyone else the universities they hold a role in; ?org= narrows that down (to nothing
     * for an org the caller may not see) */
    if (strcmp(w->node_role, "admin") == 0 || strcmp(w->node_role, "regulator") == 0) {
        scope = "all";
    } else if (w->via_token) {
        scope = "all";
        if (org && *org && strcmp(org, w->token_org) != 0)
            scope = "none";
        org = w->token_org;
    } else {
        scope = w->principal[0] ? "student" : "orgs";
    }
    if (strcmp(scope, "none") == 0)
        return srv_reply_json(r, 200, json_pack("{s:[], s:n}", "credentials", "next_before"));
    if ((c = acquire(r)) == NULL)
        return edu_db_down(r);
    snprintf(uid, sizeof(uid), "%" PRId64, w->user_id);
    like_escape(q ? q : "", like, sizeof(like));
    snprintf(before_s, sizeof(before_s), "%lld", before);
    snprintf(limit_s, sizeof(limit_s), "%lld", limit + 1);
    params[0] = scope;
    params[1] = uid;
    params[2] = w->principal;
    params[3] = org ? org : "";
    params[4] = like;
    params[5] = q ? q : "";
    params[6] = kind ? kind : "";
    params[7] = before_s;
    params[8] = state ? state : "";
    params[9] = limit_s;
    res = PQexecPrepared(c, "edu_list", 10, params, NULL, NULL, 0);
    db_release(r->srv->pool, c);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        srv_log_error("edu_list: %s", PQresultErrorMessage(res));
        PQclear(res);
        return edu_db_down(r);
    }
    n = PQntuples(res);
    list = json_array();
    for (int i = 0; list != NULL && i < n && i < limit; i++)
        json_array_append_new(list, list_row(res, i));
    next = n > limit
               ? json_integer((json_int_t)strtoll(PQgetvalue(res, (int)limit - 1, 0), NULL, 10))
               : json_null();
    PQclear(res);
    return srv_reply_json(r, 200,
                          json_pack("{s:o, s:o}", "credentials", list, "next_before", next));
}

/* ---- GET /api/edu/share/:token (public) ---------------------------------------------------- */

unsigned edu_share_view(struct srv_req *r)
{
    const char *token = srv_req_param(r, "token");
    uint8_t hash[32];
    char hex[65], id[EDU_ID_LEN + 1];
    const char *params[1] = {hex};
    struct edu_record rec;
    PGconn *c;
    PGresult *res;
    int64_t expires, withdrawn;
    json_t *bundle, *verdict;
    unsigned status;
    int rc;

    if (token == NULL || strlen(token) < 20 || strlen(token) > 100)
        return srv_reply_error(r, 404, "not_found", "no such share link", NULL);
    srv_secret_hash(token, hash);
    chain_hex_encode(hash, sizeof(hash), hex);
    if ((c = acquire(r)) == NULL)
        return edu_db_down(r);
    res = PQexecPrepared(c, "edu_share_get", 1, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        status = edu_db_down(r);
        goto out;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        status = srv_reply_error(r, 404, "not_found", "no such share link", NULL);
        goto out;
    }
    snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    expires = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    withdrawn = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    if (withdrawn != 0) {
        status = srv_reply_error(r, 410, "withdrawn", "the link was withdrawn", NULL);
        goto out;
    }
    if (expires <= edu_now_ms()) {
        status = srv_reply_error(r, 410, "expired", "the link has expired", NULL);
        goto out;
    }
    rc = edu_record_load(c, id, &rec);
    if (rc <= 0) {
        status = rc < 0 ? edu_db_down(r)
                        : srv_reply_error(r, 404, "not_found", "no such share link", NULL);
        goto out;
    }
    if ((bundle = edu_bundle_make(r, c, &rec, &status)) == NULL)
        goto out;
    verdict = edu_verify_bundle(r->srv, c, bundle);
    status = srv_reply_json(r, 200,
                            json_pack("{s:s+, s:I, s:o, s:o}", "credential_id", "urn:uuid:", id,
                                      "expires_at_ms", (json_int_t)expires, "bundle", bundle,
                                      "verification", verdict ? verdict : json_null()));
out:
    db_release(r->srv->pool, c);
    return status;
}
