/*
 * Who is calling and may they: the one place where routes' declarations (router.h) are
 * enforced. A caller is identified by a session cookie (then writes need the session's CSRF
 * token) or by a bearer API token (scoped to one org and role). Secrets are stored only as
 * hashes: passwords with Argon2id, session ids and tokens with SHA-256 of 32 random bytes.
 */
#ifndef LX_SERVER_AUTH_H
#define LX_SERVER_AUTH_H

#include "db.h"
#include "router.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

struct srv;
struct srv_req;

#define SRV_SESSION_COOKIE "lx_session"
#define SRV_IDLE_MINUTES   30
#define SRV_SESSION_HOURS  12

/* Fills r->who from the request's credentials; answers 401 for a credential that is wrong,
 * expired or revoked, 403 for a cookie write without the right X-CSRF-Token, 503 when the
 * database is down. Returns 0 (r->who may be anonymous) or the status it answered. Routes
 * declared SRV_AUTH_PUBLIC are not identified at all. */
unsigned srv_auth_identify(struct srv_req *r);

/* Applies the route's declaration to r->who (after srv_auth_identify and body parsing): 401
 * anonymous, 403 not allowed, 400 no org named. Sets r->who.acting_org/acting_role. Returns 0
 * or the status it answered. */
unsigned srv_auth_authorise(struct srv_req *r);

/* The enum srv_role bit of a role name, or 0 for an unknown name. */
unsigned srv_role_bit(const char *name);

/* Does user_id hold one of roles (bits) in org? Returns 1, 0, or -1 on a database error. */
int srv_auth_has_role(PGconn *c, int64_t user_id, const char *org, unsigned roles);

/* Password hashing (Argon2id, interactive limits). Returns 0 or -1. out: crypto_pwhash_STRBYTES */
int srv_password_hash(const char *password, char *out);
/* Returns 1 when password matches hash. A NULL hash burns the same time and returns 0, so an
 * unknown user cannot be told apart by timing. */
int srv_password_check(const char *hash, const char *password);

/* Login brute-force limiter: 5 failures per (user, address) within 60 s lock that pair until
 * the oldest failure is a minute old. LIANXIN_LOGIN_WINDOW_S (read once) changes the 60 s. */
int srv_login_locked(const char *user, const char *ip, unsigned *retry_after_s);
void srv_login_failed(const char *user, const char *ip);
void srv_login_succeeded(const char *user, const char *ip);

/* Makes a random secret: 32 bytes, base64url without padding, into out (cap >= 44), and its
 * SHA-256 into hash. */
void srv_secret_new(char *out, size_t cap, uint8_t hash[32]);
/* SHA-256 of a presented secret. */
void srv_secret_hash(const char *secret, uint8_t hash[32]);

/* The CSRF token of the session whose cookie is cookie: base64url of SHA-256 of a tag and the
 * cookie. Derived, not stored, so the database holds no usable secret of a session (only the
 * cookie's hash); a page learns it from the sign-in answer or GET /api/auth/me. */
#define SRV_CSRF_LEN 43
void srv_csrf_of(const char *cookie, char out[SRV_CSRF_LEN + 1]);

/* The prepared statements auth uses (gathered into the pool's list by srv.c). */
extern const struct db_stmt srv_auth_stmts[];
extern const size_t srv_n_auth_stmts;

/* The /api/auth/ routes and their statements (auth_api.c). */
extern const struct srv_route srv_auth_routes[];
extern const size_t srv_n_auth_routes;
extern const struct db_stmt srv_auth_api_stmts[];
extern const size_t srv_n_auth_api_stmts;

/* First start: creates the admin account (password LIANXIN_ADMIN_PASSWORD, or a random one
 * printed once on stderr). Returns 0 or -1 with err. */
int srv_auth_bootstrap(PGconn *c, char *err, size_t errlen);

/* The client's address as text ("127.0.0.1"), into out. */
void srv_req_client(struct srv_req *r, char *out, size_t cap);

#endif
