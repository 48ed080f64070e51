/*
 * The administration endpoints: organisations (admission, keys, rotation), people (sign-up,
 * invitations, regulators) and roles per organisation. Writes that reach the ledger are built
 * and signed here with the admin key or an organisation's custodial key (custody.h); the
 * request is answered once the block holding them has committed.
 */
#ifndef LX_SERVER_ADMIN_API_H
#define LX_SERVER_ADMIN_API_H

#include "db.h"
#include "router.h"

#include <stddef.h>

/* The routes (borrowed by the router) and the statements they prepare (gathered by srv.c). */
extern const struct srv_route srv_admin_routes[];
extern const size_t srv_n_admin_routes;
extern const struct db_stmt srv_admin_stmts[];
extern const size_t srv_n_admin_stmts;

#endif
