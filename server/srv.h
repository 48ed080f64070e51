/* Building and tearing down the server object of server.h. */
#ifndef LX_SERVER_SRV_H
#define LX_SERVER_SRV_H

#include "server.h"

#include <stddef.h>

/* With s->cfg loaded: opens the access log, resolves the web root, creates the data folder,
 * builds the route table (refusing a route without an auth declaration), the metrics and the
 * database pool. Returns 0, or a negative srv_err with one line in err. Undo with srv_fini
 * (also after a failure). */
int srv_init(struct srv *s, char *err, size_t errlen) __attribute__((warn_unused_result));
void srv_fini(struct srv *s);

/* Fills router with every route: the server's own and each module's. Returns 0, or SRV_EINVAL
 * with the offending route in err (an undeclared auth, a duplicate). */
int srv_routes_build(struct srv_router *router, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Every module's prepared statements, for connections outside the pool (the sequencer).
 * The array is static; *n gets its length. */
const struct db_stmt *srv_stmts(size_t *n);

#endif
