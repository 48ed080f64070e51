/*
 * Evidence items: preserving a file's hash (item.preserve), its chain of custody
 * (item.custody), reading them, and the preservation certificate — the item tx, every custody
 * tx, each with its offline bundle (modules/core/bundle.h), which `lianxin verify CERT --file
 * ORIGINAL` checks.
 */
#include "../../chain/tx.h"
#include "../../server/custody.h"
#include "../../server/server.h"
#include "../core/bundle.h"
#include "../module.h"
#include "evidence_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CERT_TYPE "LianxinEvidenceCertificate"

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *opt(const json_t *o, const char *k)
{
    const char *s = jstr(o, k);

    return s ? s : "";
}

/* Loads item id (a uuid) with its ledger row; *res is new (PQclear). Returns 1, 0, -1. */
static int item_load(PGconn *c, const char *id, PGresult **res)
{
    const char *p[1] = {id};

    *res = NULL;
    if (!ev_uuid_valid(id))
        return 0;
    *res = PQexecPrepared(c, "ev_item_get", 1, p, NULL, NULL, 0);
    if (PQresultStatus(*res) != PGRES_TUPLES_OK)
        return -1;
    return PQntuples(*res) == 1;
}

/* Refuses a body member that is not a string of 0..max bytes (absent is fine). */
static int field_bad(const json_t *b, const char *k, size_t max, char msg[120])
{
    const json_t *v = json_object_get(b, k);

    if (v != NULL && !ev_text_ok(json_string_value(v), max, 1)) {
        snprintf(msg, 120, "%s must be text of at most %zu bytes", k, max);
        return 1;
    }
    return 0;
}

static const char *refuse(char msg[120], const char *field, const char *why)
{
    snprintf(msg, 120, "%s", why);
    return field;
}

const char *ev_item_body_check(const json_t *b, char msg[120])
{
    static const char *const texts[] = {"original_name", "mime", "capture_method", "description"};
    const json_t *size = json_object_get(b, "size"), *cap = json_object_get(b, "captured_ms");

    if (!ev_uuid_valid(jstr(b, "case")))
        return refuse(msg, "case", "name the case by its id");
    if (!ev_hex64(jstr(b, "sha256")))
        return refuse(msg, "sha256", "sha256 must be the file's SHA-256 in lowercase hex");
    if (!ev_text_ok(jstr(b, "title"), EV_MAX_SHORT, 0))
        return refuse(msg, "title", "give the item a title");
    if (!ev_kind_valid(jstr(b, "kind")))
        return refuse(msg, "kind",
                      "kind must be document, image, audio, video, web_capture, chat_log, email, "
                      "device_log or other");
    if (!json_is_integer(size) || json_integer_value(size) < 0 ||
        json_integer_value(size) > EV_MAX_SIZE)
        return refuse(msg, "size", "size is the file's length in bytes");
    if (cap != NULL && (!json_is_integer(cap) || json_integer_value(cap) < 0))
        return refuse(msg, "captured_ms", "captured_ms is a Unix time in ms");
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (field_bad(b, texts[i], i == 3 ? EV_MAX_TEXT : EV_MAX_SHORT, msg))
            return texts[i];
    return NULL;
}

/* POST /api/evidence/items {"case","sha256","title","kind","size", "original_name"?, "mime"?,
 * "captured_ms"?, "capture_method"?, "description"?} → 201 {"id","tx_id","certificate_url",
 * "certificate_number"} once the item.preserve tx is committed. */
unsigned ev_item_create(struct srv_req *r)
{
    const json_t *b = r->json;
    const char *case_id = jstr(b, "case"), *sha = jstr(b, "sha256"), *kind = jstr(b, "kind");
    const json_t *size = json_object_get(b, "size"), *cap = json_object_get(b, "captured_ms");
    char id[EV_ID_LEN + 1], urn[48], org[72], err[160], size_s[24], cap_s[24], ms[24];
    char number[40], url[128], msg[120];
    const char *bad;
    enum ev_access level;
    PGconn *c = NULL;
    PGresult *res = NULL;
    json_t *env = NULL;
    struct chain_tx *tx = NULL;
    unsigned status;
    int found;

    if ((bad = ev_item_body_check(b, msg)) != NULL)
        return srv_reply_error(r, 422, "invalid_body", msg, bad);
    if ((c = db_acquire(r->srv->pool, 2000, NULL)) == NULL)
        return ev_db_down(r);
    found = ev_case_access(r, c, case_id, &level, org, NULL);
    if (found < 0) {
        status = ev_db_down(r);
        goto out;
    }
    if (found == 0) {
        status = srv_reply_error(r, 404, "not_found", "no such case", "case");
        goto out;
    }
    if (level != EV_WRITE) {
        status =
            srv_reply_error(r, 403, "forbidden", "you may not add evidence to this case", "case");
        goto out;
    }
    ev_uuid(id);
    snprintf(urn, sizeof(urn), "urn:uuid:%s", id);
    env = srv_custody_sign(r->srv, c, org, "evidence", EV_TX_PRESERVE,
                           json_pack("{s:s, s:s, s:s, s:I, s:s}", "item_id", urn, "sha256", sha,
                                     "kind", kind, "size", json_integer_value(size), "mime",
                                     opt(b, "mime")),
                           err, sizeof(err));
    if (env == NULL || chain_tx_from_json(env, &tx) != 0) {
        status = srv_reply_error(r, 503, "no_key", "the institution's key cannot sign", err);
        goto out;
    }
    snprintf(size_s, sizeof(size_s), "%" JSON_INTEGER_FORMAT, json_integer_value(size));
    if (cap != NULL)
        snprintf(cap_s, sizeof(cap_s), "%" JSON_INTEGER_FORMAT, json_integer_value(cap));
    else
        cap_s[0] = '\0';
    snprintf(ms, sizeof(ms), "%" PRId64, ev_now_ms());
    {
        const char *p[13] = {id,
                             case_id,
                             org,
                             jstr(b, "title"),
                             kind,
                             opt(b, "original_name"),
                             size_s,
                             opt(b, "mime"),
                             cap_s,
                             opt(b, "capture_method"),
                             opt(b, "description"),
                             r->who.username,
                             ms};

        res = PQexecPrepared(c, "ev_item_add", 13, p, NULL, NULL, 0);
    }
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        status = ev_db_down(r);
        goto out;
    }
    db_release(r->srv->pool, c);
    c = NULL;
    ev_cert_number(tx->id_hex, number);
    snprintf(url, sizeof(url), "/api/evidence/items/%s/certificate", id);
    status = srv_ledger_submit_reply(r, env, 201,
                                     json_pack("{s:s, s:s, s:s}", "id", id, "certificate_url", url,
                                               "certificate_number", number));
    env = NULL;
out:
    chain_tx_free(tx);
    json_decref(env);
    PQclear(res);
    if (c != NULL)
        db_release(r->srv->pool, c);
    return status;
}

static json_t *events_json(PGconn *c, const char *urn, int *failed)
{
    const char *p[1] = {urn};
    PGresult *res = PQexecPrepared(c, "ev_events", 1, p, NULL, NULL, 0);
    json_t *list = json_array();

    *failed = PQresultStatus(res) != PGRES_TUPLES_OK;
    for (int i = 0; !*failed && i < PQntuples(res); i++) {
        json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "event", PQgetvalue(res, i, 0),
                              "org", PQgetvalue(res, i, 1), "org_name", PQgetvalue(res, i, 2),
                              "tx_id", PQgetvalue(res, i, 6), "leaf_index",
                              (json_int_t)strtoll(PQgetvalue(res, i, 7), NULL, 10), "height",
                              (json_int_t)strtoll(PQgetvalue(res, i, 8), NULL, 10), "at_ms",
                              (json_int_t)strtoll(PQgetvalue(res, i, 9), NULL, 10));

        if (*PQgetvalue(res, i, 3))
            json_object_set_new(e, "from", json_string(PQgetvalue(res, i, 3)));
        if (*PQgetvalue(res, i, 4))
            json_object_set_new(e, "to", json_string(PQgetvalue(res, i, 4)));
        if (*PQgetvalue(res, i, 5))
            json_object_set_new(e, "report_sha256", json_string(PQgetvalue(res, i, 5)));
        json_array_append_new(list, e);
    }
    PQclear(res);
    return list;
}

static json_int_t col_int(PGresult *res, int col)
{
    return (json_int_t)strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

/* The item row of res as JSON (new). */
static json_t *item_json(PGresult *res)
{
    char number[40], url[128];

    ev_cert_number(PQgetvalue(res, 0, 15), number);
    snprintf(url, sizeof(url), "/api/evidence/items/%s/certificate", PQgetvalue(res, 0, 0));
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:I, "
        "s:I, s:I, s:s, s:s, s:s, s:s, s:s}",
        "id", PQgetvalue(res, 0, 0), "case", PQgetvalue(res, 0, 1), "org", PQgetvalue(res, 0, 2),
        "org_name", PQgetvalue(res, 0, 3), "title", PQgetvalue(res, 0, 4), "kind",
        PQgetvalue(res, 0, 5), "original_name", PQgetvalue(res, 0, 6), "size", col_int(res, 7),
        "mime", PQgetvalue(res, 0, 8), "captured_ms", col_int(res, 9), "capture_method",
        PQgetvalue(res, 0, 10), "description", PQgetvalue(res, 0, 11), "created_by",
        PQgetvalue(res, 0, 12), "created_ms", col_int(res, 13), "sha256", PQgetvalue(res, 0, 14),
        "tx_id", PQgetvalue(res, 0, 15), "leaf_index", col_int(res, 16), "height", col_int(res, 17),
        "anchored_ms", col_int(res, 18), "state", PQgetvalue(res, 0, 19), "case_number",
        PQgetvalue(res, 0, 20), "case_title", PQgetvalue(res, 0, 21), "certificate_number", number,
        "certificate_url", url);
}

unsigned ev_item_open(struct srv_req *r, PGconn *c, enum ev_access need, PGresult **res,
                      char org[72])
{
    enum ev_access level;
    int found = item_load(c, srv_req_param(r, "id"), res);

    if (found < 0)
        return ev_db_down(r);
    if (found == 0)
        return srv_reply_error(r, 404, "not_found", "no such evidence item", NULL);
    found = ev_case_access(r, c, PQgetvalue(*res, 0, 1), &level, org, NULL);
    if (found < 0)
        return ev_db_down(r);
    if (level == EV_NONE)
        return srv_reply_error(r, 403, "forbidden", "this case is not yours to see", NULL);
    if (level < need)
        return srv_reply_error(r, 403, "forbidden", "you may not change this item", NULL);
    return 0;
}

/* GET /api/evidence/items/:id: the item, its ledger record and its custody timeline. */
unsigned ev_item_get(struct srv_req *r)
{
    PGconn *c = db_acquire(r->srv->pool, 2000, NULL);
    PGresult *res = NULL;
    char org[72], urn[48];
    json_t *doc;
    unsigned status;
    int failed;

    if (c == NULL)
        return ev_db_down(r);
    if ((status = ev_item_open(r, c, EV_READ, &res, org)) != 0)
        goto out;
    doc = item_json(res);
    snprintf(urn, sizeof(urn), "urn:uuid:%s", PQgetvalue(res, 0, 0));
    json_object_set_new(doc, "custody", events_json(c, urn, &failed));
    json_object_set_new(doc, "may_write", json_boolean(org[0] != '\0'));
    {
        const char *p[1] = {PQgetvalue(res, 0, 0)};
        PGresult *cp = PQexecPrepared(c, "ev_copy_get", 1, p, NULL, NULL, 0);

        failed |= PQresultStatus(cp) != PGRES_TUPLES_OK;
        if (!failed && PQntuples(cp) == 1)
            json_object_set_new(doc, "copy",
                                json_pack("{s:I, s:s, s:I}", "size",
                                          (json_int_t)strtoll(PQgetvalue(cp, 0, 0), NULL, 10),
                                          "stored_by", PQgetvalue(cp, 0, 1), "stored_ms",
                                          (json_int_t)strtoll(PQgetvalue(cp, 0, 2), NULL, 10)));
        PQclear(cp);
    }
    if (failed) {
        json_decref(doc);
        status = ev_db_down(r);
        goto out;
    }
    status = srv_reply_json(r, 200, doc);
out:
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}

/* POST /api/evidence/items/:id/custody {"event", "from"?, "to"?, "report_sha256"?, "note"?} */
unsigned ev_custody_add(struct srv_req *r)
{
    const json_t *b = r->json;
    const char *event = jstr(b, "event");
    PGconn *c = db_acquire(r->srv->pool, 2000, NULL);
    PGresult *res = NULL;
    char org[72], urn[48], err[160];
    json_t *body = NULL, *env;
    unsigned status;

    if (c == NULL)
        return ev_db_down(r);
    if ((status = ev_item_open(r, c, EV_WRITE, &res, org)) != 0)
        goto out;
    if (!ev_event_valid(event)) {
        status = srv_reply_error(r, 422, "invalid_body",
                                 "event must be collected, sealed, transferred, examined, "
                                 "presented, returned or destroyed",
                                 "event");
        goto out;
    }
    snprintf(urn, sizeof(urn), "urn:uuid:%s", PQgetvalue(res, 0, 0));
    body = json_pack("{s:s, s:s, s:s}", "item_id", urn, "sha256", PQgetvalue(res, 0, 14), "event",
                     event);
    if (strcmp(event, "transferred") == 0) {
        json_object_set_new(body, "from", json_string(opt(b, "from")));
        json_object_set_new(body, "to", json_string(opt(b, "to")));
    }
    if (strcmp(event, "examined") == 0)
        json_object_set_new(body, "report_sha256", json_string(opt(b, "report_sha256")));
    if (jstr(b, "note") != NULL && *jstr(b, "note"))
        json_object_set_new(body, "note", json_string(jstr(b, "note")));
    if (json_object_size(body) == 0) {
        status = srv_reply_error(r, 503, "busy", "out of memory", NULL);
        goto out;
    }
    {
        /* the stateless rules answer 422 here, before a signature is spent */
        struct chain_tx probe = {0};
        struct lx_reject why = {0};

        probe.type = EV_TX_CUSTODY;
        probe.body = body;
        if (ev_check(&probe, &why) != 0) {
            status = srv_reply_error(r, why.status, why.code, why.message, NULL);
            goto out;
        }
    }
    env = srv_custody_sign(r->srv, c, org, "evidence", EV_TX_CUSTODY, body, err, sizeof(err));
    body = NULL;
    if (env == NULL) {
        status = srv_reply_error(r, 503, "no_key", "the institution's key cannot sign", err);
        goto out;
    }
    PQclear(res);
    res = NULL;
    db_release(r->srv->pool, c);
    c = NULL;
    status = srv_ledger_submit_reply(r, env, 201, json_pack("{s:s}", "event", event));
out:
    json_decref(body);
    PQclear(res);
    if (c != NULL)
        db_release(r->srv->pool, c);
    return status;
}

/* GET /api/evidence/items?case=&kind=&from=&to=&q=&limit=&before= */
unsigned ev_item_list(struct srv_req *r)
{
    char uid[24], before[24], limit[24];
    const char *cs = srv_req_query(r, "case"), *kind = srv_req_query(r, "kind");
    const char *from = srv_req_query(r, "from"), *to = srv_req_query(r, "to");
    const char *q = srv_req_query(r, "q");
    int all = strcmp(r->who.node_role, "admin") == 0 || strcmp(r->who.node_role, "regulator") == 0;
    const char *p[9] = {
        all ? "all" : "mine", uid,          before,     cs ? cs : "", kind ? kind : "",
        from ? from : "",     to ? to : "", q ? q : "", limit};
    PGconn *c;
    PGresult *res;
    json_t *list;
    unsigned status;

    /* at most 18 digits: a longer number would fail the statement's bigint cast (a 503) */
    if ((from && *from && !ev_digits_ok(from)) || (to && *to && !ev_digits_ok(to)))
        return srv_reply_error(r, 400, "bad_parameter", "from and to are Unix times in ms", "from");
    if ((status = ev_list_limits(r, before, limit)) != 0)
        return status;
    snprintf(uid, sizeof(uid), "%" PRId64, r->who.user_id);
    if ((c = db_acquire(r->srv->pool, 2000, NULL)) == NULL)
        return ev_db_down(r);
    res = PQexecPrepared(c, "ev_item_list", 9, p, NULL, NULL, 0);
    db_release(r->srv->pool, c);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return ev_db_down(r);
    }
    list = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        char number[40];

        ev_cert_number(PQgetvalue(res, i, 10), number);
        json_array_append_new(
            list,
            json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s, "
                      "s:s, s:s}",
                      "seq", (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10), "id",
                      PQgetvalue(res, i, 1), "case", PQgetvalue(res, i, 2), "case_number",
                      PQgetvalue(res, i, 3), "title", PQgetvalue(res, i, 4), "kind",
                      PQgetvalue(res, i, 5), "size",
                      (json_int_t)strtoll(PQgetvalue(res, i, 6), NULL, 10), "mime",
                      PQgetvalue(res, i, 7), "original_name", PQgetvalue(res, i, 8), "sha256",
                      PQgetvalue(res, i, 9), "tx_id", PQgetvalue(res, i, 10), "height",
                      (json_int_t)strtoll(PQgetvalue(res, i, 11), NULL, 10), "anchored_ms",
                      (json_int_t)strtoll(PQgetvalue(res, i, 12), NULL, 10), "state",
                      PQgetvalue(res, i, 13), "org", PQgetvalue(res, i, 14), "certificate_number",
                      number));
    }
    PQclear(res);
    return srv_reply_json(r, 200, json_pack("{s:o}", "items", list));
}

/* The bundle of tx_hex, or NULL with *status answered. */
static json_t *bundle_of(struct srv_req *r, PGconn *c, const char *tx_hex, unsigned *status)
{
    json_t *b = NULL;
    int rc = core_bundle_build(c, tx_hex, &b);

    if (rc == 0)
        return b;
    if (rc == -1)
        *status = ev_db_down(r);
    else
        *status = srv_reply_error(r, 500, "ledger_damaged", "the ledger rows of a tx are missing",
                                  tx_hex);
    return NULL;
}

/* GET /api/evidence/items/:id/certificate: the preservation certificate (docs/API.md). */
unsigned ev_certificate(struct srv_req *r)
{
    PGconn *c = db_acquire(r->srv->pool, 2000, NULL);
    PGresult *res = NULL;
    char org[72], urn[48];
    json_t *doc = NULL, *item, *events = NULL, *bundles, *ib;
    unsigned status = 0;
    int failed;

    if (c == NULL)
        return ev_db_down(r);
    if ((status = ev_item_open(r, c, EV_READ, &res, org)) != 0)
        goto out;
    item = item_json(res);
    snprintf(urn, sizeof(urn), "urn:uuid:%s", PQgetvalue(res, 0, 0));
    events = events_json(c, urn, &failed);
    if (failed) {
        json_decref(item);
        status = ev_db_down(r);
        goto out;
    }
    doc = json_pack("{s:s, s:i, s:O, s:s, s:{s:s, s:s}, s:O, s:O, s:O, s:O, s:O}", "type",
                    CERT_TYPE, "version", 1, "number", json_object_get(item, "certificate_number"),
                    "item_id", urn, "institution", "id", PQgetvalue(res, 0, 2), "name",
                    PQgetvalue(res, 0, 3), "anchored_ms", json_object_get(item, "anchored_ms"),
                    "height", json_object_get(item, "height"), "tx_id",
                    json_object_get(item, "tx_id"), "sha256", json_object_get(item, "sha256"),
                    "state", json_object_get(item, "state"));
    json_object_set_new(doc, "record", item);
    json_object_set(doc, "custody", events);
    if ((ib = bundle_of(r, c, PQgetvalue(res, 0, 15), &status)) == NULL)
        goto out;
    bundles = json_array();
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *eb = bundle_of(
            r, c, json_string_value(json_object_get(json_array_get(events, i), "tx_id")), &status);

        if (eb == NULL) {
            json_decref(bundles);
            json_decref(ib);
            goto out;
        }
        json_array_append_new(bundles, eb);
    }
    json_object_set_new(doc, "ledger", json_pack("{s:o, s:o}", "item", ib, "custody", bundles));
    status = srv_reply_json(r, 200, doc);
    doc = NULL;
out:
    json_decref(events);
    json_decref(doc);
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}
