/*
 * Schema migrations: the numbered files of sql/ are compiled into the binary (build/gen/
 * migrations.c), applied in order, each in its own transaction, and recorded in
 * schema_migrations. A database that has a migration this binary does not know is refused.
 */
#ifndef LX_SERVER_MIGRATE_H
#define LX_SERVER_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

struct srv_migration {
    int version;      /* NNN of sql/NNN_name.sql */
    const char *name; /* file name */
    const char *sql;  /* file contents */
};

extern const struct srv_migration srv_migrations[]; /* sorted by version */
extern const size_t srv_n_migrations;

/* Applies every migration newer than the database's. Returns 0 (and *applied, may be NULL,
 * the count applied), SRV_ESCHEMA when the database is newer than this binary, or SRV_EDB;
 * err says what, naming the migration. Serialised across processes by an advisory lock. */
int srv_migrate(PGconn *c, int *applied, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
