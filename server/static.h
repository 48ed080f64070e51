/*
 * Static files from the web root: which URL paths may be served, their MIME type, and an
 * ETag. Path checks are pure (unit-tested); srv_static_open adds the file-system checks that
 * only the real tree can answer (symlinks that leave the root, folders, special files).
 */
#ifndef LX_SERVER_STATIC_H
#define LX_SERVER_STATIC_H

#include <stddef.h>
#include <sys/stat.h>

/* Returns the MIME type for path's extension (with charset for text), or
 * "application/octet-stream". The result is static. */
const char *srv_mime_type(const char *path);

/* Turns a decoded URL path into a path relative to the web root. Refuses (returns -1) control
 * characters (a %00 included), backslashes, empty segments, and any segment that starts with a
 * dot ("..", ".", ".git", ".env"). "/" becomes "" (the root folder). Returns 0 on success. */
int srv_static_normalize(const char *url_path, char *out, size_t cap);

/* Opens rel (from srv_static_normalize) under root_real (a realpath). A folder serves its
 * index.html. The resolved file must be a regular file inside root_real, so a symlink out of
 * the root is refused. Returns an fd opened O_RDONLY (caller closes) and fills *st and
 * mime (static string), or -1 when there is nothing to serve. */
int srv_static_open(const char *root_real, const char *rel, struct stat *st, const char **mime);

/* Writes a strong ETag ("size-mtime_ns" in hex, quoted) for st into out (cap >= 48). */
void srv_static_etag(const struct stat *st, char *out, size_t cap);

/* Does an If-None-Match header value (a list, or "*") match etag? W/ prefixes are ignored,
 * as RFC 9110 §13.1.2 asks for the weak comparison. */
int srv_etag_matches(const char *if_none_match, const char *etag);

#endif
