-- A session's CSRF token is derived from its cookie (server/auth.h, srv_csrf_of) instead of
-- stored: the database then holds nothing of a session an attacker could use, only the
-- cookie's hash. Pages holding a token of an older session read the new one from
-- GET /api/auth/me.
ALTER TABLE sessions DROP COLUMN csrf;
