/* util.c — file helpers of the lianxin tool: read a whole file or standard input, replace a
 * file atomically (for the checkpoint monitor's state). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *cli_read_file(const char *path, size_t *len)
{
    FILE *f = NULL;
    char *buf = NULL, *nb;
    size_t used = 0, cap = 0, got;
    int is_stdin = strcmp(path, "-") == 0;

    f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "lianxin: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - used < 65536) {
            if (cap > CLI_FILE_MAX) {
                fprintf(stderr, "lianxin: %s is too large (over %u bytes)\n", path, CLI_FILE_MAX);
                goto fail;
            }
            cap = cap == 0 ? 131072 : cap * 2;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                fprintf(stderr, "lianxin: out of memory reading %s\n", path);
                goto fail;
            }
            buf = nb;
        }
        got = fread(buf + used, 1, cap - used, f);
        used += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "lianxin: cannot read %s: %s\n", path, strerror(errno));
        goto fail;
    }
    if (!is_stdin)
        fclose(f);
    buf[used] = '\0';
    if (len != NULL)
        *len = used;
    return buf;

fail:
    if (!is_stdin)
        fclose(f);
    free(buf);
    return NULL;
}

int cli_write_file_atomic(const char *path, const char *data, size_t len)
{
    char *tmp = NULL;
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    int fd = -1, rc = -1, created = 0;
    size_t off = 0;

    tmp = malloc(dir_len + 32);
    if (tmp == NULL) {
        fprintf(stderr, "lianxin: out of memory\n");
        goto out;
    }
    memcpy(tmp, path, dir_len);
    memcpy(tmp + dir_len, ".lianxin-tmp.XXXXXX", sizeof(".lianxin-tmp.XXXXXX"));
    fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "lianxin: cannot create a temporary file next to %s: %s\n", path,
                strerror(errno));
        goto out;
    }
    created = 1;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "lianxin: cannot write %s: %s\n", tmp, strerror(errno));
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        fprintf(stderr, "lianxin: cannot write %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "lianxin: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
        goto out;
    }
    rc = 0;

out:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && created)
        unlink(tmp);
    free(tmp);
    return rc;
}

int cli_is_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}
