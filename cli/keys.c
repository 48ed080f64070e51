/* keys.c — `lianxin keygen`, and reading keys: validator verifier key lists (file or URL) and a
 * signer's private key file. Private key bytes never pass through stdio buffers or realloc: they
 * are read with read(2) into one fixed buffer that is wiped on every path. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "http.h"

int cli_keys_parse(const char *text, size_t len, struct chain_note_verifier *out, size_t cap,
                   size_t *n, char *why, size_t why_cap)
{
    char line[CHAIN_NOTE_VKEY_MAX + 2];
    size_t pos = 0, lineno = 0;

    *n = 0;
    while (pos < len) {
        const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - start) : len - pos;
        struct chain_note_verifier v;
        int dup = 0;

        pos += llen + (nl ? 1 : 0);
        lineno++;
        if (llen > 0 && start[llen - 1] == '\r')
            llen--;
        if (llen == 0 || start[0] == '#')
            continue;
        if (llen >= sizeof(line) || memchr(start, '\0', llen) != NULL) {
            snprintf(why, why_cap, "line %zu is not a verifier key", lineno);
            return -1;
        }
        memcpy(line, start, llen);
        line[llen] = '\0';
        if (chain_note_verifier_parse(line, &v) != 0) {
            snprintf(why, why_cap, "line %zu is not a verifier key (want name+hash+key)", lineno);
            return -1;
        }
        for (size_t i = 0; i < *n; i++)
            dup |= out[i].key_hash == v.key_hash && strcmp(out[i].name, v.name) == 0 &&
                   memcmp(out[i].pubkey, v.pubkey, sizeof(v.pubkey)) == 0;
        if (dup)
            continue;
        if (*n == cap) {
            snprintf(why, why_cap, "more than %zu keys", cap);
            return -1;
        }
        out[(*n)++] = v;
    }
    return 0;
}

int cli_keys_load(const char *spec, struct chain_note_verifier *out, size_t cap, size_t *n)
{
    struct cli_http_resp resp = {0};
    char *url = NULL, *text = NULL, why[128];
    const char *from = spec;
    size_t len = 0;
    int rc = -1;

    if (cli_is_url(spec)) {
        url = cli_url_join(spec, "/api/chain/keys");
        if (url == NULL) {
            fprintf(stderr, "lianxin: out of memory\n");
            goto out;
        }
        from = url;
        if (cli_http_get(url, &resp) != 0) {
            fprintf(stderr, "lianxin: cannot fetch %s: %s\n", url, resp.err);
            goto out;
        }
        if (resp.status != 200) {
            fprintf(stderr, "lianxin: %s answered HTTP %ld\n", url, resp.status);
            goto out;
        }
        text = resp.body;
        len = resp.len;
        resp.body = NULL;
    } else {
        text = cli_read_file(spec, &len);
        if (text == NULL)
            goto out;
    }
    if (cli_keys_parse(text, len, out, cap, n, why, sizeof(why)) != 0) {
        fprintf(stderr, "lianxin: bad validator keys from %s: %s\n", from, why);
        goto out;
    }
    if (*n == 0) {
        fprintf(stderr, "lianxin: no validator keys in %s\n", from);
        goto out;
    }
    rc = 0;

out:
    free(text);
    free(url);
    cli_http_resp_free(&resp);
    return rc;
}

int cli_signer_load(const char *path, struct chain_note_signer *out)
{
    char buf[CHAIN_NOTE_SKEY_MAX + 4];
    size_t used = 0;
    int fd = -1, rc = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "lianxin: cannot open key file %s: %s\n", path, strerror(errno));
        goto out;
    }
    while (used < sizeof(buf) - 1) {
        ssize_t got = read(fd, buf + used, sizeof(buf) - 1 - used);

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf(stderr, "lianxin: cannot read key file %s: %s\n", path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        used += (size_t)got;
    }
    buf[used] = '\0';
    /* one line, optionally ended by "\n" (or "\r\n") and nothing else */
    if (used > 0 && buf[used - 1] == '\n')
        buf[--used] = '\0';
    if (used > 0 && buf[used - 1] == '\r')
        buf[--used] = '\0';
    if (used == 0 || strlen(buf) != used || strchr(buf, '\n') != NULL ||
        chain_note_signer_parse(buf, out) != 0) {
        fprintf(stderr, "lianxin: %s is not a private key file (PRIVATE+KEY+name+hash+key)\n",
                path);
        goto out;
    }
    rc = 0;

out:
    sodium_memzero(buf, sizeof(buf));
    if (fd >= 0)
        close(fd);
    return rc;
}

static void keygen_usage(FILE *f)
{
    fputs("usage: lianxin keygen --out FILE [--name NAME]\n"
          "\n"
          "Makes a new Ed25519 key and writes it to FILE (created with mode 0600, never\n"
          "overwritten) in the signed-note private key format. Prints the public key (base64)\n"
          "and the verifier key string. NAME defaults to \"lianxin\".\n",
          f);
}

/* Writes line[0..len) to a new file path with mode 0600; refuses an existing path (or a
 * symlink). Returns 0, or -1 with the reason on stderr (a partly written file is removed). */
static int write_new_secret_file(const char *path, const char *line, size_t len)
{
    size_t off = 0;
    int fd, ok = 1;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            fprintf(stderr, "lianxin: %s exists; not overwriting a key\n", path);
        else
            fprintf(stderr, "lianxin: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0600) != 0) /* the umask may have removed owner bits */
        ok = 0;
    while (ok && off < len) {
        ssize_t n = write(fd, line + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            ok = 0;
        else
            off += (size_t)n;
    }
    if (ok && fsync(fd) != 0)
        ok = 0;
    if (close(fd) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "lianxin: cannot write %s: %s\n", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

int cli_cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    struct chain_note_signer signer;
    struct chain_note_verifier ver;
    char line[CHAIN_NOTE_SKEY_MAX + 1], vkey[CHAIN_NOTE_VKEY_MAX], pk_b64[CHAIN_B64_LEN(32) + 1];
    const char *out = NULL, *name = "lianxin";
    int c, rc = CLI_EXIT_USAGE;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'h':
            keygen_usage(stdout);
            return CLI_EXIT_OK;
        default:
            keygen_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (out == NULL || optind != argc) {
        keygen_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!chain_note_name_valid(name)) {
        fprintf(stderr, "lianxin: %s is not a valid key name (no spaces, no '+')\n", name);
        return CLI_EXIT_USAGE;
    }
    crypto_sign_keypair(pk, sk);
    if (chain_note_signer_from_sk(name, sk, &signer) != 0 ||
        chain_note_signer_format(&signer, line, sizeof(line) - 1) != 0 ||
        chain_note_verifier_from_pk(name, pk, &ver) != 0 ||
        chain_note_verifier_format(&ver, vkey, sizeof(vkey)) != 0 ||
        chain_b64_encode(pk, sizeof(pk), pk_b64, sizeof(pk_b64)) != 0) {
        fprintf(stderr, "lianxin: cannot format the key\n");
        goto out;
    }
    strcat(line, "\n");
    if (write_new_secret_file(out, line, strlen(line)) != 0)
        goto out;
    printf("public key: %s\nverifier key: %s\n", pk_b64, vkey);
    rc = CLI_EXIT_OK;

out:
    sodium_memzero(sk, sizeof(sk));
    sodium_memzero(&signer, sizeof(signer));
    sodium_memzero(line, sizeof(line));
    return rc;
}
