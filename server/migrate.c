/* Migration runner; see migrate.h. */
#include "migrate.h"
#include "db.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Arbitrary constant: the advisory lock that keeps two lianxind from migrating at once. */
#define MIGRATE_LOCK "7411160201"

static int current_version(PGconn *c, int *version, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    int rc = 0;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "cannot read schema_migrations: %s", PQerrorMessage(c));
        rc = SRV_EDB;
    } else {
        *version = atoi(PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    return rc;
}

static int apply_one(PGconn *c, const struct srv_migration *m, char *err, size_t errlen)
{
    char version[16], msg[512];
    const char *params[2] = {version, m->name};
    PGresult *r = NULL;
    int rc = SRV_EDB;

    snprintf(version, sizeof(version), "%d", m->version);
    if (db_exec(c, "BEGIN", msg, sizeof(msg)) != 0)
        goto out;
    if (db_exec(c, m->sql, msg, sizeof(msg)) != 0)
        goto out;
    r = PQexecParams(c, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2, NULL,
                     params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
        goto out;
    }
    if (db_exec(c, "COMMIT", msg, sizeof(msg)) != 0)
        goto out;
    rc = 0;
out:
    PQclear(r);
    if (rc != 0) {
        PGresult *rb = PQexec(c, "ROLLBACK");

        PQclear(rb);
        snprintf(err, errlen, "migration %s failed: %s", m->name, msg);
    }
    return rc;
}

int srv_migrate(PGconn *c, int *applied, char *err, size_t errlen)
{
    int version = 0, count = 0, rc;
    int newest = srv_n_migrations ? srv_migrations[srv_n_migrations - 1].version : 0;
    char msg[256];

    if (db_exec(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", err, errlen) != 0)
        return SRV_EDB;
    rc = db_exec(c,
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 " version integer PRIMARY KEY, name text NOT NULL,"
                 " applied_at timestamptz NOT NULL DEFAULT now())",
                 err, errlen);
    if (rc == 0)
        rc = current_version(c, &version, err, errlen);
    if (rc == 0 && version > newest) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this lianxind (%d); "
                 "run a newer lianxind or restore a matching backup",
                 version, newest);
        rc = SRV_ESCHEMA;
    }
    for (size_t i = 0; rc == 0 && i < srv_n_migrations; i++) {
        if (srv_migrations[i].version <= version)
            continue;
        rc = apply_one(c, &srv_migrations[i], err, errlen);
        if (rc == 0)
            count++;
    }
    if (db_exec(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")", msg, sizeof(msg)) != 0 &&
        rc == 0) {
        snprintf(err, errlen, "%s", msg);
        rc = SRV_EDB;
    }
    if (applied)
        *applied = count;
    return rc;
}
