/*
 * The evidence module: judicial evidence preservation (README.md). This file holds the module
 * table — routes and prepared statements — and the ledger rules of its three txs:
 *
 *   item.preserve {"item_id","sha256","kind","size","mime"}                 by a court, notary
 *                                                                           office or law firm
 *   item.custody  {"item_id","sha256","event"[,"from","to"][,"report_sha256"]}  idem
 *   anchor        {"sha256","label"}                                        by any admitted org
 *
 * None carries a case: case numbers, titles, parties and item descriptions stay in PostgreSQL.
 * Anchors are the fast path (10,000 in one request): apply only buffers them, and block_end
 * writes the whole block's rows with one COPY.
 */
#include "../../chain/chain.h"
#include "../../chain/tx.h"
#include "../../server/db.h"
#include "../../server/err.h"
#include "../module.h"
#include "evidence_int.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct srv_route routes[] = {
    {"POST", "/api/evidence/cases", ev_case_create, SRV_AUTH_ORG, SRV_BODY_JSON,
     SRV_ROLE_CLERK | SRV_ROLE_ORG_ADMIN},
    {"GET", "/api/evidence/cases", ev_case_list, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"GET", "/api/evidence/cases/:id", ev_case_get, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"POST", "/api/evidence/cases/:id/grants", ev_case_grant, SRV_AUTH_USER, SRV_BODY_JSON, 0},
    {"POST", "/api/evidence/items", ev_item_create, SRV_AUTH_USER, SRV_BODY_JSON, 0},
    {"GET", "/api/evidence/items", ev_item_list, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"GET", "/api/evidence/items/:id", ev_item_get, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"POST", "/api/evidence/items/:id/custody", ev_custody_add, SRV_AUTH_USER, SRV_BODY_JSON, 0},
    {"GET", "/api/evidence/items/:id/certificate", ev_certificate, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"POST", "/api/evidence/items/:id/copy", ev_copy_upload, SRV_AUTH_USER, SRV_BODY_STREAM, 0},
    {"GET", "/api/evidence/items/:id/copy", ev_copy_download, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"POST", "/api/evidence/verify", ev_verify, SRV_AUTH_PUBLIC, SRV_BODY_JSON, 0},
    {"POST", "/api/evidence/anchors", ev_anchor, SRV_AUTH_ORG, SRV_BODY_JSON, SRV_ROLE_ANY},
};

/* Who sees a case: everyone ($1 = 'all': regulator, administrator), the court's members, and
 * the users it was granted to ($2 the user id). c is evidence_cases. */
#define EV_VISIBLE_SQL                                                                             \
    "($1 = 'all' OR c.court IN (SELECT org FROM roles WHERE user_id = $2::bigint) OR c.id IN "     \
    "(SELECT case_id FROM evidence_grants WHERE user_id = $2::bigint))"

static const struct db_stmt stmts[] = {
    /* ledger rules (sequencer connection, inside the block) */
    {"ev_preserve",
     "INSERT INTO evidence_ledger_items (item_id, sha256, org, kind, tx_id, leaf_index, height, "
     "anchored_ms, state, state_leaf) SELECT $1, decode($2, 'hex'), $3, $4, decode($5, 'hex'), "
     "$6, $7, $8, 'preserved', $6 WHERE EXISTS (SELECT 1 FROM principals WHERE id = $3 AND "
     "kind = 'org' AND type IN ('court', 'notary', 'law_firm')) ON CONFLICT DO NOTHING"},
    {"ev_preserve_why", "SELECT (SELECT type FROM principals WHERE id = $1 AND kind = 'org'), "
                        "EXISTS (SELECT 1 FROM evidence_ledger_items WHERE item_id = $2)"},
    {"ev_item_state", "SELECT state, encode(sha256, 'hex'), encode(tx_id, 'hex') FROM "
                      "evidence_ledger_items WHERE item_id = $1"},
    {"ev_org_type", "SELECT type FROM principals WHERE id = $1 AND kind = 'org'"},
    {"ev_custody",
     "INSERT INTO evidence_events (item_id, event, org, from_holder, to_holder, report_sha256, "
     "tx_id, leaf_index, height, at_ms) VALUES ($1, $2, $3, nullif($4, ''), nullif($5, ''), "
     "decode(nullif($6, ''), 'hex'), decode($7, 'hex'), $8, $9, $10)"},
    {"ev_state_set",
     "UPDATE evidence_ledger_items SET state = $2, state_leaf = $3 WHERE item_id = $1"},
    {"ev_anchor_one",
     "INSERT INTO evidence_anchors (sha256, label, org, tx_id, leaf_index, height, "
     "anchored_ms) VALUES (decode($1, 'hex'), $2, $3, decode($4, 'hex'), $5, $6, "
     "$7)"},
    /* cases and access */
    {"ev_court", "SELECT name FROM principals WHERE id = $1 AND kind = 'org' AND type = 'court'"},
    {"ev_case_add",
     /* NOT EXISTS first: ON CONFLICT alone would draw seq's next value for a refused
      * duplicate; ON CONFLICT stays for the race between two clerks */
     "INSERT INTO evidence_cases (id, court, number, title, parties, created_by, created_ms) "
     "SELECT $1::uuid, $2, $3, $4, $5::jsonb, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM "
     "evidence_cases WHERE court = $2 AND number = $3) ON CONFLICT (court, number) DO NOTHING"},
    {"ev_case_court", "SELECT court FROM evidence_cases WHERE id = $1::uuid"},
    {"ev_grant_of",
     "SELECT org FROM evidence_grants WHERE case_id = $1::uuid AND user_id = $2::bigint"},
    {"ev_case_get",
     "SELECT c.id, c.court, coalesce(p.name, ''), c.number, c.title, c.parties::text, "
     "c.created_by, c.created_ms FROM evidence_cases c LEFT JOIN principals p ON p.id = c.court "
     "WHERE c.id = $1::uuid"},
    {"ev_case_list",
     "SELECT c.seq, c.id, c.court, coalesce(p.name, ''), c.number, c.title, c.parties::text, "
     "c.created_by, c.created_ms, (SELECT count(*) FROM evidence_items i WHERE i.case_id = c.id) "
     "FROM evidence_cases c LEFT JOIN principals p ON p.id = c.court WHERE c.seq < $3 AND "
     "" EV_VISIBLE_SQL " AND ($4 = '' OR c.number ILIKE '%' || $4 || '%' OR c.title ILIKE '%' || "
     "$4 || '%') AND ($5 = '' OR c.court = $5) ORDER BY c.seq DESC LIMIT $6"},
    {"ev_grants",
     "SELECT u.username, g.org, coalesce(p.name, ''), coalesce(p.type, ''), g.party, "
     "g.granted_by, g.granted_ms FROM evidence_grants g JOIN users u ON u.id = g.user_id "
     "LEFT JOIN principals p ON p.id = g.org WHERE g.case_id = $1::uuid ORDER BY g.granted_ms"},
    {"ev_user_firm",
     "SELECT u.id, r.org, p.type FROM users u JOIN roles r ON r.user_id = u.id JOIN principals p "
     "ON p.id = r.org AND p.type IN ('law_firm', 'notary') WHERE u.username = $1 "
     "ORDER BY r.org LIMIT 1"},
    {"ev_grant_add",
     "INSERT INTO evidence_grants (case_id, user_id, org, party, granted_by, granted_ms) VALUES "
     "($1::uuid, $2::bigint, $3, $4, $5, $6) ON CONFLICT (case_id, user_id) DO UPDATE SET "
     "org = EXCLUDED.org, party = EXCLUDED.party"},
    /* items */
    {"ev_item_add",
     "INSERT INTO evidence_items (id, case_id, org, title, kind, original_name, size, mime, "
     "captured_ms, capture_method, description, created_by, created_ms) VALUES ($1::uuid, "
     "$2::uuid, $3, $4, $5, $6, $7::bigint, $8, nullif($9, '')::bigint, $10, $11, $12, $13)"},
    {"ev_item_get",
     "SELECT i.id, i.case_id, i.org, coalesce(p.name, ''), i.title, i.kind, i.original_name, "
     "i.size, i.mime, coalesce(i.captured_ms, 0), i.capture_method, i.description, i.created_by, "
     "i.created_ms, encode(l.sha256, 'hex'), encode(l.tx_id, 'hex'), l.leaf_index, l.height, "
     "l.anchored_ms, l.state, c.number, c.title FROM evidence_items i JOIN evidence_ledger_items "
     "l ON l.item_id = 'urn:uuid:' || i.id JOIN evidence_cases c ON c.id = i.case_id "
     "LEFT JOIN principals p ON p.id = i.org WHERE i.id = $1::uuid"},
    {"ev_events",
     "SELECT e.event, e.org, coalesce(p.name, ''), coalesce(e.from_holder, ''), "
     "coalesce(e.to_holder, ''), coalesce(encode(e.report_sha256, 'hex'), ''), "
     "encode(e.tx_id, 'hex'), e.leaf_index, e.height, e.at_ms FROM evidence_events e LEFT JOIN "
     "principals p ON p.id = e.org WHERE e.item_id = $1 ORDER BY e.leaf_index"},
    {"ev_item_list",
     "SELECT i.seq, i.id, i.case_id, c.number, i.title, i.kind, i.size, i.mime, i.original_name, "
     "encode(l.sha256, 'hex'), encode(l.tx_id, 'hex'), l.height, l.anchored_ms, l.state, i.org "
     "FROM evidence_items i JOIN evidence_ledger_items l ON l.item_id = 'urn:uuid:' || i.id "
     "JOIN evidence_cases c ON c.id = i.case_id WHERE i.seq < $3 AND " EV_VISIBLE_SQL
     " AND ($4 = '' OR i.case_id::text = lower($4)) AND ($5 = '' OR i.kind = $5) AND "
     "($6 = '' OR l.anchored_ms >= $6::bigint) AND ($7 = '' OR l.anchored_ms < $7::bigint) AND "
     "($8 = '' OR i.title ILIKE '%' || $8 || '%' OR i.original_name ILIKE '%' || $8 || '%' OR "
     "encode(l.sha256, 'hex') = lower($8)) ORDER BY i.seq DESC LIMIT $9"},
    /* stored copies */
    {"ev_copy_add",
     "INSERT INTO evidence_copies (item_id, size, stored_by, stored_ms) VALUES ($1::uuid, "
     "$2::bigint, $3, $4::bigint) ON CONFLICT (item_id) DO UPDATE SET size = EXCLUDED.size, "
     "stored_by = EXCLUDED.stored_by, stored_ms = EXCLUDED.stored_ms"},
    {"ev_copy_get", "SELECT size, stored_by, stored_ms FROM evidence_copies WHERE item_id = "
                    "$1::uuid"},
    /* public */
    {"ev_verify",
     "SELECT l.anchored_ms, l.height, encode(l.tx_id, 'hex'), l.org, coalesce(p.name, ''), "
     "'item', l.kind FROM evidence_ledger_items l LEFT JOIN principals p ON p.id = l.org "
     "WHERE l.sha256 = decode($1, 'hex') UNION ALL SELECT a.anchored_ms, a.height, "
     "encode(a.tx_id, 'hex'), a.org, coalesce(p.name, ''), 'anchor', '' FROM evidence_anchors a "
     "LEFT JOIN principals p ON p.id = a.org WHERE a.sha256 = decode($1, 'hex') "
     "ORDER BY 1, 3 LIMIT 20"},
};

const struct lx_module mod_evidence = {
    .name = "evidence",
    .routes = routes,
    .n_routes = sizeof(routes) / sizeof(routes[0]),
    .stmts = stmts,
    .n_stmts = sizeof(stmts) / sizeof(stmts[0]),
    .check = ev_check,
    .apply = ev_apply,
    .block_begin = ev_block_begin,
    .block_end = ev_block_end,
};

/* ---- small shared helpers ----------------------------------------------------------------- */

static const char *const kinds[] = {"document", "image", "audio",      "video", "web_capture",
                                    "chat_log", "email", "device_log", "other", NULL};
static const char *const events[] = {"collected", "sealed",   "transferred", "examined",
                                     "presented", "returned", "destroyed",   NULL};

static int in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; s != NULL && list[i] != NULL; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

int ev_kind_valid(const char *kind)
{
    return in_list(kind, kinds);
}

int ev_event_valid(const char *event)
{
    return in_list(event, events);
}

int ev_hex64(const char *s)
{
    if (s == NULL || strlen(s) != 64)
        return 0;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int ev_text_ok(const char *s, size_t max, int empty_ok)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strlen(s);
    if ((n == 0 && !empty_ok) || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f)
            return 0;
    return 1;
}

void ev_cert_number(const char *tx_hex, char out[40])
{
    size_t k = 0;

    k += (size_t)snprintf(out, 40, "LXE");
    for (size_t i = 0; i < 16 && tx_hex[i]; i++) {
        char c = tx_hex[i];

        if (i % 4 == 0)
            out[k++] = '-';
        out[k++] = (char)(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
    }
    out[k] = '\0';
}

void ev_uuid(char out[EV_ID_LEN + 1])
{
    uint8_t b[16];

    randombytes_buf(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, EV_ID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

int ev_uuid_valid(const char *id)
{
    if (id == NULL || strlen(id) != EV_ID_LEN)
        return 0;
    for (size_t i = 0; i < EV_ID_LEN; i++) {
        char c = id[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

int64_t ev_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- stateless rules ------------------------------------------------------------------------ */

static const char *str(const json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

static int bad(struct lx_reject *why, const char *field, const char *what)
{
    char msg[160];

    snprintf(msg, sizeof(msg), "body field '%s' %s", field, what);
    return lx_reject(why, 422, "invalid_body", msg);
}

/* Every member of body is one of allowed. */
static const char *unexpected(const json_t *body, const char *const *allowed)
{
    const char *key;
    const json_t *v;

    json_object_foreach((json_t *)body, key, v)
    {
        (void)v;
        if (!in_list(key, allowed))
            return key;
    }
    return NULL;
}

static int urn_valid(const char *s)
{
    return s != NULL && strncmp(s, "urn:uuid:", 9) == 0 && ev_uuid_valid(s + 9);
}

int ev_check(const struct chain_tx *tx, struct lx_reject *why)
{
    static const char *const preserve[] = {"item_id", "sha256", "kind", "size", "mime", NULL};
    static const char *const custody[] = {"item_id", "sha256", "event",         "from",
                                          "to",      "note",   "report_sha256", NULL};
    static const char *const anchor[] = {"sha256", "label", NULL};
    const json_t *b = tx->body;
    const char *f;

    if (strcmp(tx->type, EV_TX_ANCHOR) == 0) {
        if ((f = unexpected(b, anchor)) != NULL)
            return bad(why, f, "is not expected");
        if (!ev_hex64(str(b, "sha256")))
            return bad(why, "sha256", "must be 64 lowercase hex digits");
        if (!ev_text_ok(str(b, "label"), EV_MAX_LABEL, 1) || strchr(str(b, "label"), '\n') ||
            strchr(str(b, "label"), '\t'))
            return bad(why, "label", "must be a string of at most 64 bytes on one line");
        return 0;
    }
    if (!urn_valid(str(b, "item_id")))
        return bad(why, "item_id", "must be urn:uuid: and a lowercase uuid");
    if (!ev_hex64(str(b, "sha256")))
        return bad(why, "sha256", "must be 64 lowercase hex digits");
    if (strcmp(tx->type, EV_TX_PRESERVE) == 0) {
        json_int_t size = json_integer_value(json_object_get(b, "size"));

        if ((f = unexpected(b, preserve)) != NULL)
            return bad(why, f, "is not expected");
        if (!ev_kind_valid(str(b, "kind")))
            return bad(why, "kind", "is not an evidence kind");
        if (!json_is_integer(json_object_get(b, "size")) || size < 0 || size > EV_MAX_SIZE)
            return bad(why, "size", "must be a whole number of bytes");
        if (!ev_text_ok(str(b, "mime"), EV_MAX_SHORT, 1))
            return bad(why, "mime", "must be a short string");
        return 0;
    }
    if (strcmp(tx->type, EV_TX_CUSTODY) == 0) {
        const char *ev = str(b, "event");

        if ((f = unexpected(b, custody)) != NULL)
            return bad(why, f, "is not expected");
        if (!ev_event_valid(ev))
            return bad(why, "event", "is not a custody event");
        if (strcmp(ev, "transferred") == 0) {
            if (!ev_text_ok(str(b, "from"), EV_MAX_HOLDER, 0))
                return bad(why, "from", "must name who handed the item over");
            if (!ev_text_ok(str(b, "to"), EV_MAX_HOLDER, 0))
                return bad(why, "to", "must name who received the item");
        } else if (json_object_get(b, "from") || json_object_get(b, "to")) {
            return bad(why, "from", "belongs to a transfer only");
        }
        if (strcmp(ev, "examined") == 0) {
            if (!ev_hex64(str(b, "report_sha256")))
                return bad(why, "report_sha256", "must be the report's SHA-256 in hex");
        } else if (json_object_get(b, "report_sha256")) {
            return bad(why, "report_sha256", "belongs to an examination only");
        }
        if (json_object_get(b, "note") && !ev_text_ok(str(b, "note"), EV_MAX_SHORT, 1))
            return bad(why, "note", "must be a short string");
        return 0;
    }
    return lx_reject(why, 422, "unknown_type", "evidence has no such tx type");
}

/* ---- stateful rules ------------------------------------------------------------------------ */

static int preserve(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    const json_t *b = tx->body;
    char leaf[24], height[24], ms[24];
    const char *p[8] = {
        str(b, "item_id"), str(b, "sha256"), tx->org, str(b, "kind"), tx->id_hex, leaf, height, ms};
    const char *q[2] = {tx->org, p[0]};
    PGresult *r;
    int inserted, rc;

    snprintf(leaf, sizeof(leaf), "%" PRIu64, ctx->leaf_index);
    snprintf(height, sizeof(height), "%" PRIu64, ctx->height);
    snprintf(ms, sizeof(ms), "%" PRId64, ctx->block_time_ms);
    r = PQexecPrepared(ctx->db, "ev_preserve", 8, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        PQclear(r);
        return SRV_EDB;
    }
    inserted = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    if (inserted)
        return 0;
    r = PQexecPrepared(ctx->db, "ev_preserve_why", 2, q, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return SRV_EDB;
    }
    if (strcmp(PQgetvalue(r, 0, 1), "t") == 0)
        rc = lx_reject(why, 409, "duplicate_item", "this item id is anchored already");
    else
        rc = lx_reject(why, 409, "not_a_preserver",
                       "only a court, a notary office or a law firm preserves evidence");
    PQclear(r);
    return rc;
}

/* May event follow state? Nothing follows destroyed; collected comes first or not at all;
 * returned follows a hand-over. */
static int transition_ok(const char *state, const char *event)
{
    if (strcmp(event, "collected") == 0)
        return strcmp(state, "preserved") == 0;
    if (strcmp(event, "returned") == 0)
        return strcmp(state, "transferred") == 0 || strcmp(state, "examined") == 0 ||
               strcmp(state, "presented") == 0;
    if (strcmp(event, "sealed") == 0)
        return strcmp(state, "sealed") != 0;
    return 1;
}

static int custody(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    const json_t *b = tx->body;
    const char *id = str(b, "item_id"), *ev = str(b, "event");
    const char *p1[1] = {id}, *po[1] = {tx->org};
    char leaf[24], height[24], ms[24], target[80], state[24];
    const char *pe[10] = {id,
                          ev,
                          tx->org,
                          str(b, "from") ? str(b, "from") : "",
                          str(b, "to") ? str(b, "to") : "",
                          str(b, "report_sha256") ? str(b, "report_sha256") : "",
                          tx->id_hex,
                          leaf,
                          height,
                          ms};
    const char *ps[3] = {id, ev, leaf};
    PGresult *r = PQexecPrepared(ctx->db, "ev_item_state", 1, p1, NULL, NULL, 0);
    int rc = 0;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return SRV_EDB;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return lx_reject(why, 409, "unknown_item", "no evidence item with this id is anchored");
    }
    snprintf(state, sizeof(state), "%s", PQgetvalue(r, 0, 0));
    snprintf(target, sizeof(target), "tx:%s", PQgetvalue(r, 0, 2));
    if (strcmp(PQgetvalue(r, 0, 1), str(b, "sha256")) != 0)
        rc = lx_reject(why, 409, "hash_mismatch", "the hash is not the item's anchored hash");
    else if (strcmp(state, "destroyed") == 0)
        rc = lx_reject(why, 409, "item_destroyed", "the item was destroyed; no event may follow");
    else if (!transition_ok(state, ev))
        rc = lx_reject(why, 409, "invalid_transition", "this event cannot follow the last one");
    PQclear(r);
    if (rc != 0)
        return rc;
    r = PQexecPrepared(ctx->db, "ev_org_type", 1, po, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return SRV_EDB;
    }
    if (PQntuples(r) == 0 ||
        !in_list(PQgetvalue(r, 0, 0), (const char *const[]){"court", "notary", "law_firm", NULL}))
        rc = lx_reject(why, 409, "not_a_preserver",
                       "only a court, a notary office or a law firm records custody");
    PQclear(r);
    if (rc != 0)
        return rc;
    if ((rc = lx_refuse_frozen(ctx->db, target, why)) != 0)
        return rc;
    snprintf(leaf, sizeof(leaf), "%" PRIu64, ctx->leaf_index);
    snprintf(height, sizeof(height), "%" PRIu64, ctx->height);
    snprintf(ms, sizeof(ms), "%" PRId64, ctx->block_time_ms);
    r = PQexecPrepared(ctx->db, "ev_custody", 10, pe, NULL, NULL, 0);
    rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : SRV_EDB;
    PQclear(r);
    if (rc != 0)
        return rc;
    r = PQexecPrepared(ctx->db, "ev_state_set", 3, ps, NULL, NULL, 0);
    rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : SRV_EDB;
    PQclear(r);
    return rc;
}

/* An anchor: one INSERT without block state (which cannot happen), else one COPY text row in
 * the block's buffer (ctx->state, a struct db_buf), written by ev_block_end. */
static int anchor(struct lx_apply_ctx *ctx, const struct chain_tx *tx)
{
    const json_t *b = tx->body;
    struct db_buf *rows = ctx->state;
    char nums[72];

    if (rows == NULL) {
        char leaf[24], height[24], ms[24];
        const char *p[7] = {
            str(b, "sha256"), str(b, "label"), tx->org, tx->id_hex, leaf, height, ms};
        PGresult *r;
        int rc;

        snprintf(leaf, sizeof(leaf), "%" PRIu64, ctx->leaf_index);
        snprintf(height, sizeof(height), "%" PRIu64, ctx->height);
        snprintf(ms, sizeof(ms), "%" PRId64, ctx->block_time_ms);
        r = PQexecPrepared(ctx->db, "ev_anchor_one", 7, p, NULL, NULL, 0);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : SRV_EDB;
        PQclear(r);
        return rc;
    }
    /* sha256 is hex (check refused anything else); the label and org are escaped for COPY */
    db_buf_puts(rows, "\\\\x");
    db_buf_puts(rows, str(b, "sha256"));
    db_buf_put(rows, "\t", 1);
    db_buf_text(rows, str(b, "label"));
    db_buf_put(rows, "\t", 1);
    db_buf_text(rows, tx->org);
    db_buf_puts(rows, "\t\\\\x");
    db_buf_puts(rows, tx->id_hex);
    snprintf(nums, sizeof(nums), "\t%" PRIu64 "\t%" PRIu64 "\t%" PRId64 "\n", ctx->leaf_index,
             ctx->height, ctx->block_time_ms);
    db_buf_puts(rows, nums);
    return rows->failed ? SRV_ENOMEM : 0;
}

int ev_apply(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    if (strcmp(tx->type, EV_TX_ANCHOR) == 0)
        return anchor(ctx, tx);
    if (strcmp(tx->type, EV_TX_PRESERVE) == 0)
        return preserve(ctx, tx, why);
    return custody(ctx, tx, why);
}

int ev_block_begin(struct lx_apply_ctx *ctx, void **state, const struct chain_tx *const *txs,
                   size_t n)
{
    size_t anchors = 0;

    (void)ctx;
    *state = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(txs[i]->module, "evidence") == 0 && strcmp(txs[i]->type, EV_TX_ANCHOR) == 0)
            anchors++;
    if (anchors == 0)
        return 0;
    if ((*state = calloc(1, sizeof(struct db_buf))) == NULL)
        return SRV_ENOMEM;
    return 0;
}

int ev_block_end(struct lx_apply_ctx *ctx, void *state, int commit)
{
    static const char copy[] = "COPY evidence_anchors (sha256, label, org, tx_id, leaf_index, "
                               "height, anchored_ms) FROM STDIN";
    struct db_buf *rows = state;
    int rc = 0;

    if (rows == NULL)
        return 0;
    if (commit && rows->failed)
        rc = SRV_ENOMEM;
    else if (commit && ctx->chain != NULL) /* with the block's rows, as one of its COPYs */
        db_chain_add(ctx->chain, copy, rows, 0, 1);
    else if (commit) /* the anchors of the whole block in one COPY */
        rc = db_copy_in(ctx->db, copy, rows->p, rows->len);
    free(rows->p);
    free(rows);
    return rc;
}
