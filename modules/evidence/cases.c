/*
 * Cases and who may work on them. A case lives in PostgreSQL only: a court's clerk opens it and
 * grants it to the parties' lawyers (accounts in a law_firm org) and to notaries; the court's
 * members, those grantees, the regulator and the administrator see it.
 */
#include "../../server/auth.h"
#include "../../server/server.h"
#include "evidence_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned ev_db_down(struct srv_req *r)
{
    return srv_reply_error(r, 503, "db_down", "the database did not answer", NULL);
}

static PGconn *acquire(struct srv_req *r)
{
    return db_acquire(r->srv->pool, 2000, NULL);
}

static int overseer(const struct srv_req *r)
{
    return strcmp(r->who.node_role, "admin") == 0 || strcmp(r->who.node_role, "regulator") == 0;
}

int ev_case_access(struct srv_req *r, PGconn *c, const char *case_id, enum ev_access *level,
                   char *org, char *court)
{
    char uid[24];
    const char *p1[1] = {case_id}, *p2[2] = {case_id, uid};
    PGresult *res;
    char court_id[72];
    int has;

    *level = EV_NONE;
    if (org != NULL)
        org[0] = '\0';
    if (!ev_uuid_valid(case_id))
        return 0;
    res = PQexecPrepared(c, "ev_case_court", 1, p1, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    snprintf(court_id, sizeof(court_id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (court != NULL)
        snprintf(court, 72, "%s", court_id);
    if (r->who.via_token) { /* a token acts for its org only */
        if (strcmp(r->who.token_org, court_id) == 0) {
            *level = EV_WRITE;
            if (org != NULL)
                snprintf(org, 72, "%s", court_id);
        }
        return 1;
    }
    has = srv_auth_has_role(c, r->who.user_id, court_id, SRV_ROLE_ANY);
    if (has < 0)
        return -1;
    if (has) {
        *level = EV_WRITE;
        if (org != NULL)
            snprintf(org, 72, "%s", court_id);
        return 1;
    }
    snprintf(uid, sizeof(uid), "%" PRId64, r->who.user_id);
    res = PQexecPrepared(c, "ev_grant_of", 2, p2, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 1) {
        *level = EV_WRITE;
        if (org != NULL)
            snprintf(org, 72, "%s", PQgetvalue(res, 0, 0));
    } else if (overseer(r)) {
        *level = EV_READ;
    }
    PQclear(res);
    return 1;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* POST /api/evidence/cases {"org","number","title","parties"?:[…]} by the court's clerk. */
unsigned ev_case_create(struct srv_req *r)
{
    const json_t *b = r->json;
    const char *number = jstr(b, "number"), *title = jstr(b, "title");
    const json_t *parties = json_object_get(b, "parties");
    const char *org = r->who.acting_org;
    char id[EV_ID_LEN + 1], ms[24], *ptext = NULL;
    const char *p1[1] = {org}, *p7[7];
    PGconn *c = NULL;
    PGresult *res = NULL;
    unsigned status;

    if (!ev_text_ok(number, EV_MAX_SHORT, 0))
        return srv_reply_error(r, 422, "invalid_body", "give the case number", "number");
    if (!ev_text_ok(title, EV_MAX_SHORT, 0))
        return srv_reply_error(r, 422, "invalid_body", "give the case title", "title");
    if (parties != NULL) {
        size_t i;
        json_t *v;

        if (!json_is_array(parties) || json_array_size(parties) > 50)
            return srv_reply_error(r, 422, "invalid_body", "parties is a list of names", "parties");
        json_array_foreach(
            parties, i, v) if (!ev_text_ok(json_string_value(v), EV_MAX_SHORT,
                                           0)) return srv_reply_error(r, 422, "invalid_body",
                                                                      "parties is a list of names",
                                                                      "parties");
    }
    ptext = parties ? json_dumps(parties, JSON_COMPACT) : strdup("[]");
    if (ptext == NULL)
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    if ((c = acquire(r)) == NULL) {
        status = ev_db_down(r);
        goto out;
    }
    res = PQexecPrepared(c, "ev_court", 1, p1, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        status = ev_db_down(r);
        goto out;
    }
    if (PQntuples(res) == 0) {
        status = srv_reply_error(r, 422, "not_a_court", "only a court opens cases", "org");
        goto out;
    }
    PQclear(res);
    ev_uuid(id);
    snprintf(ms, sizeof(ms), "%" PRId64, ev_now_ms());
    p7[0] = id;
    p7[1] = org;
    p7[2] = number;
    p7[3] = title;
    p7[4] = ptext;
    p7[5] = r->who.username;
    p7[6] = ms;
    res = PQexecPrepared(c, "ev_case_add", 7, p7, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        status = ev_db_down(r);
        goto out;
    }
    if (strcmp(PQcmdTuples(res), "1") != 0) {
        status = srv_reply_error(r, 409, "duplicate_case", "this court has a case with this number",
                                 "number");
        goto out;
    }
    status = srv_reply_json(r, 201,
                            json_pack("{s:s, s:s, s:s, s:s}", "id", id, "court", org, "number",
                                      number, "title", title));
out:
    PQclear(res);
    if (c != NULL)
        db_release(r->srv->pool, c);
    free(ptext);
    return status;
}

static json_t *case_json(PGresult *res, int i, int base)
{
    json_t *parties = json_loads(PQgetvalue(res, i, base + 5), 0, NULL);

    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:I}", "id", PQgetvalue(res, i, base),
                     "court", PQgetvalue(res, i, base + 1), "court_name",
                     PQgetvalue(res, i, base + 2), "number", PQgetvalue(res, i, base + 3), "title",
                     PQgetvalue(res, i, base + 4), "parties", parties ? parties : json_array(),
                     "created_by", PQgetvalue(res, i, base + 6), "created_ms",
                     (json_int_t)strtoll(PQgetvalue(res, i, base + 7), NULL, 10));
}

int ev_digits_ok(const char *s)
{
    size_t n = strspn(s, "0123456789");

    return n >= 1 && n <= 18 && s[n] == '\0';
}

unsigned ev_list_limits(struct srv_req *r, char before[24], char limit[24])
{
    const char *b = srv_req_query(r, "before"), *l = srv_req_query(r, "limit");
    long long lb = 0, ll = 50;

    if ((b != NULL && !ev_digits_ok(b)) || (l != NULL && (!ev_digits_ok(l) || atoll(l) < 1)))
        return srv_reply_error(r, 400, "bad_parameter",
                               "limit is a positive number and before a cursor", NULL);
    if (b != NULL)
        lb = atoll(b);
    if (l != NULL)
        ll = atoll(l);
    snprintf(before, 24, "%lld", lb > 0 ? lb : (long long)INT64_MAX);
    snprintf(limit, 24, "%lld", ll > 200 ? 200 : ll);
    return 0;
}

/* GET /api/evidence/cases?q=&court=&limit=&before= */
unsigned ev_case_list(struct srv_req *r)
{
    char uid[24], before[24], limit[24];
    const char *q = srv_req_query(r, "q"), *court = srv_req_query(r, "court");
    const char *p[6] = {overseer(r) ? "all" : "mine", uid,  before, q ? q : "",
                        court ? court : "",           limit};
    PGconn *c;
    PGresult *res;
    json_t *list;
    unsigned status;
    int n;

    if ((status = ev_list_limits(r, before, limit)) != 0)
        return status;
    if ((c = acquire(r)) == NULL)
        return ev_db_down(r);
    snprintf(uid, sizeof(uid), "%" PRId64, r->who.user_id);
    res = PQexecPrepared(c, "ev_case_list", 6, p, NULL, NULL, 0);
    db_release(r->srv->pool, c);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return ev_db_down(r);
    }
    list = json_array();
    n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        json_t *o = case_json(res, i, 1);

        json_object_set_new(o, "items", json_integer(strtoll(PQgetvalue(res, i, 9), NULL, 10)));
        json_object_set_new(o, "seq", json_integer(strtoll(PQgetvalue(res, i, 0), NULL, 10)));
        json_array_append_new(list, o);
    }
    PQclear(res);
    return srv_reply_json(r, 200, json_pack("{s:o}", "cases", list));
}

/* GET /api/evidence/cases/:id: the case, its grants, and what the caller may do. */
unsigned ev_case_get(struct srv_req *r)
{
    const char *id = srv_req_param(r, "id");
    const char *p1[1] = {id};
    enum ev_access level;
    char org[72];
    PGconn *c = acquire(r);
    PGresult *res = NULL;
    json_t *doc = NULL, *grants;
    unsigned status;
    int found;

    if (c == NULL)
        return ev_db_down(r);
    found = ev_case_access(r, c, id, &level, org, NULL);
    if (found < 0) {
        status = ev_db_down(r);
        goto out;
    }
    if (found == 0) {
        status = srv_reply_error(r, 404, "not_found", "no such case", NULL);
        goto out;
    }
    if (level == EV_NONE) {
        status = srv_reply_error(r, 403, "forbidden", "this case is not yours to see", NULL);
        goto out;
    }
    res = PQexecPrepared(c, "ev_case_get", 1, p1, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        status = ev_db_down(r);
        goto out;
    }
    doc = case_json(res, 0, 0);
    PQclear(res);
    res = PQexecPrepared(c, "ev_grants", 1, p1, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        status = ev_db_down(r);
        goto out;
    }
    grants = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(
            grants, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "username",
                              PQgetvalue(res, i, 0), "org", PQgetvalue(res, i, 1), "org_name",
                              PQgetvalue(res, i, 2), "org_type", PQgetvalue(res, i, 3), "party",
                              PQgetvalue(res, i, 4), "granted_by", PQgetvalue(res, i, 5),
                              "granted_ms", (json_int_t)strtoll(PQgetvalue(res, i, 6), NULL, 10)));
    json_object_set_new(doc, "grants", grants);
    json_object_set_new(doc, "may_write", json_boolean(level == EV_WRITE));
    json_object_set_new(doc, "acting_org", json_string(org));
    status = srv_reply_json(r, 200, doc);
    doc = NULL;
out:
    json_decref(doc);
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}

/* POST /api/evidence/cases/:id/grants {"username","party"?}: by a member of the case's court;
 * the user must hold a role in a law_firm or notary org. */
unsigned ev_case_grant(struct srv_req *r)
{
    const char *id = srv_req_param(r, "id"), *user = jstr(r->json, "username");
    const char *party = jstr(r->json, "party");
    enum ev_access level;
    char org[72], court[72], ms[24];
    PGconn *c;
    PGresult *res = NULL;
    unsigned status;
    int found;

    if (!ev_text_ok(user, 64, 0))
        return srv_reply_error(r, 422, "invalid_body", "name the account", "username");
    if (party != NULL && !ev_text_ok(party, EV_MAX_SHORT, 1))
        return srv_reply_error(r, 422, "invalid_body", "party is a short name", "party");
    if ((c = acquire(r)) == NULL)
        return ev_db_down(r);
    found = ev_case_access(r, c, id, &level, org, court);
    if (found < 0) {
        status = ev_db_down(r);
        goto out;
    }
    if (found == 0) {
        status = srv_reply_error(r, 404, "not_found", "no such case", NULL);
        goto out;
    }
    if (level != EV_WRITE || strcmp(org, court) != 0) {
        status = srv_reply_error(r, 403, "forbidden", "only the case's court grants access", NULL);
        goto out;
    }
    {
        const char *p1[1] = {user};

        res = PQexecPrepared(c, "ev_user_firm", 1, p1, NULL, NULL, 0);
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        status = ev_db_down(r);
        goto out;
    }
    if (PQntuples(res) == 0) {
        status =
            srv_reply_error(r, 422, "not_a_lawyer_or_notary",
                            "the account holds no role in a law firm or notary office", "username");
        goto out;
    }
    {
        char uid[24], firm[72], type[24];
        const char *p6[6] = {id, uid, firm, party ? party : "", r->who.username, ms};

        snprintf(uid, sizeof(uid), "%s", PQgetvalue(res, 0, 0));
        snprintf(firm, sizeof(firm), "%s", PQgetvalue(res, 0, 1));
        snprintf(type, sizeof(type), "%s", PQgetvalue(res, 0, 2));
        PQclear(res);
        snprintf(ms, sizeof(ms), "%" PRId64, ev_now_ms());
        res = PQexecPrepared(c, "ev_grant_add", 6, p6, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            status = ev_db_down(r);
            goto out;
        }
        status = srv_reply_json(r, 201,
                                json_pack("{s:s, s:s, s:s, s:s}", "case", id, "username", user,
                                          "org", firm, "org_type", type));
    }
out:
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}
