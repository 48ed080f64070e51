/* Static file serving helpers; see static.h for the rules. */
#define _DEFAULT_SOURCE
#include "static.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *ext;
    const char *type;
} mime_table[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"webmanifest", "application/manifest+json"},
};

const char *srv_mime_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');

    if (dot == NULL)
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++)
        if (strcasecmp(dot + 1, mime_table[i].ext) == 0)
            return mime_table[i].type;
    return "application/octet-stream";
}

int srv_static_normalize(const char *url_path, char *out, size_t cap)
{
    size_t len = strlen(url_path), o = 0;

    if (url_path[0] != '/' || len >= cap)
        return -1;
    for (size_t i = 1; i <= len; i++) {
        unsigned char ch = (unsigned char)url_path[i];

        if (ch != '\0' && (ch < 0x20 || ch == 0x7f || ch == '\\'))
            return -1;
        /* At the start of each segment: no empty segment (except a final slash), no dot. */
        if (url_path[i - 1] == '/') {
            if (ch == '.')
                return -1;
            if (ch == '/')
                return -1;
        }
        out[o++] = (char)ch;
    }
    return 0;
}

int srv_static_open(const char *root_real, const char *rel, struct stat *st, const char **mime)
{
    char want[PATH_MAX], real[PATH_MAX];
    size_t rootlen = strlen(root_real);
    int fd;

    if (snprintf(want, sizeof(want), "%s/%s", root_real, rel) >= (int)sizeof(want))
        return -1;
    if (realpath(want, real) == NULL)
        return -1;
    if (strncmp(real, root_real, rootlen) != 0 || (real[rootlen] != '/' && real[rootlen] != '\0'))
        return -1; /* a symlink led out of the web root */
    if (stat(real, st) != 0)
        return -1;
    if (S_ISDIR(st->st_mode)) {
        size_t l = strlen(real);

        if (l + sizeof("/index.html") > sizeof(real))
            return -1;
        memcpy(real + l, "/index.html", sizeof("/index.html"));
        /* index.html itself may not be a symlink out either */
        if (realpath(real, want) == NULL || strncmp(want, root_real, rootlen) != 0 ||
            want[rootlen] != '/')
            return -1;
        memcpy(real, want, strlen(want) + 1);
    }
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    *mime = srv_mime_type(real);
    return fd;
}

void srv_static_etag(const struct stat *st, char *out, size_t cap)
{
    unsigned long long ns = (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL +
                            (unsigned long long)st->st_mtim.tv_nsec;

    snprintf(out, cap, "\"%llx-%llx\"", (unsigned long long)st->st_size, ns);
}

int srv_etag_matches(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = inm;

    while (*p) {
        size_t n;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        n = strcspn(p, ", \t");
        if (n == elen && memcmp(p, etag, elen) == 0)
            return 1;
        p += n;
    }
    return 0;
}
