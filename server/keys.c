/* Key files; see keys.h. */
#define _DEFAULT_SOURCE
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_new(const char *path, const struct chain_note_signer *k, char *err, size_t errlen)
{
    char line[CHAIN_NOTE_SKEY_MAX + 1];
    size_t n;
    int fd, rc = -1;

    if (chain_note_signer_format(k, line, sizeof(line) - 1) != 0) {
        snprintf(err, errlen, "cannot format key %s", path);
        return -1;
    }
    n = strlen(line);
    line[n++] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    if (write(fd, line, n) != (ssize_t)n || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        goto out;
    }
    close(fd);
    rc = 0;
out:
    sodium_memzero(line, sizeof(line));
    return rc;
}

static int read_key(const char *path, struct chain_note_signer *k, char *err, size_t errlen)
{
    char line[CHAIN_NOTE_SKEY_MAX + 2];
    struct stat st;
    FILE *f = fopen(path, "r");
    int rc = -1;

    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
        fprintf(stderr, "lianxind: warning: %s is readable by others; chmod 600 it\n", path);
    if (fgets(line, sizeof(line), f) == NULL) {
        snprintf(err, errlen, "%s is empty", path);
        goto out;
    }
    line[strcspn(line, "\r\n")] = '\0';
    if (chain_note_signer_parse(line, k) != 0) {
        snprintf(err, errlen, "%s does not hold a valid key", path);
        goto out;
    }
    rc = 0;
out:
    sodium_memzero(line, sizeof(line));
    fclose(f);
    return rc;
}

struct chain_note_signer *srv_key_load(const char *path, const char *name, int create, int *created,
                                       char *err, size_t errlen)
{
    struct chain_note_signer *k = sodium_malloc(sizeof(*k));
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    int made = 0;

    if (k == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (access(path, F_OK) != 0 && errno == ENOENT && create) {
        crypto_sign_keypair(pk, sk);
        if (chain_note_signer_from_sk(name, sk, k) != 0) {
            snprintf(err, errlen, "invalid key name '%s'", name);
            goto fail;
        }
        if (write_new(path, k, err, errlen) != 0)
            goto fail;
        made = 1;
    } else if (read_key(path, k, err, errlen) != 0) {
        goto fail;
    }
    sodium_memzero(sk, sizeof(sk));
    if (created)
        *created = made;
    return k;
fail:
    sodium_memzero(sk, sizeof(sk));
    sodium_free(k);
    return NULL;
}

void srv_key_free(struct chain_note_signer *k)
{
    if (k != NULL)
        sodium_free(k); /* sodium_free wipes before unmapping */
}

const unsigned char *srv_key_pub(const struct chain_note_signer *k)
{
    return k->sk + crypto_sign_SEEDBYTES; /* libsodium secret keys are seed || public key */
}
