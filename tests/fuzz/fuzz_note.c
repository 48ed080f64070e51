/* fuzz_note.c — C2SP signed notes and block checkpoints (chain/note.c) on arbitrary bytes:
 * chain_note_open against three fixed verifiers (the targets' own key and the two keys of Go's
 * note tests, whose notes are in the seed corpus), chain_checkpoint_parse of the opened text and
 * of the raw input, cosigning, and the key-string parsers. Properties: an opened note's text is a
 * prefix of the note signed by a known key; the strict checkpoint parser round-trips through
 * chain_checkpoint_format byte for byte; a cosigned note opens under the cosigner's key; a key
 * string that parses formats back to itself (but for the case of its hex key hash). */
#include "fuzz.h"

#include <strings.h>

#include "../../chain/note.h"

#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"

static struct chain_note_verifier known[3];
static uint8_t fuzz_sk[crypto_sign_SECRETKEYBYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];

    (void)argc;
    (void)argv;
    fuzz_sodium();
    fuzz_keypair(pk, fuzz_sk);
    if (chain_note_verifier_from_pk(FUZZ_KEY_NAME, pk, &known[0]) != 0 ||
        chain_note_verifier_parse(PETER_VKEY, &known[1]) != 0 ||
        chain_note_verifier_parse(ENOCH_VKEY, &known[2]) != 0)
        abort();
    return 0;
}

/* A body the strict parser takes is exactly what chain_checkpoint_format writes for it. */
static void checkpoint_round_trip(const char *body, size_t len)
{
    struct chain_checkpoint c;
    char *again = NULL;

    if (chain_checkpoint_parse(body, len, &c) != 0)
        return;
    FUZZ_ASSERT(chain_checkpoint_format(&c, &again) == 0);
    FUZZ_ASSERT(strlen(again) == len && memcmp(again, body, len) == 0);
    free(again);
}

static void open_and_parse(const uint8_t *data, size_t size)
{
    struct chain_note_opened o;
    int rc = chain_note_open((const char *)data, size, known, 3, &o);

    FUZZ_ASSERT(rc == 0 || rc == CHAIN_E_BAD_NOTE || rc == CHAIN_E_BAD_SIG ||
                rc == CHAIN_E_UNKNOWN_KEY);
    if (rc != 0)
        return;
    FUZZ_ASSERT(o.text == (const char *)data && o.text_len < size && o.n_valid >= 1);
    FUZZ_ASSERT(o.known_mask != 0 && o.known_mask < 8 && o.text_len >= 1);
    FUZZ_ASSERT(data[o.text_len - 1] == '\n');
    checkpoint_round_trip(o.text, o.text_len);
}

/* Cosigning with the targets' key gives a note that key verifies (unless the note now has too
 * many lines, or a known key's line in it was forged all along). */
static void cosign(const uint8_t *data, size_t size)
{
    struct chain_note_opened o;
    char *signed_note = NULL;
    int rc;

    if (chain_note_add_signature((const char *)data, size, FUZZ_KEY_NAME, fuzz_sk, &signed_note) !=
        0)
        return;
    rc = chain_note_open(signed_note, strlen(signed_note), known, 3, &o);
    FUZZ_ASSERT(rc == 0 || rc == CHAIN_E_BAD_SIG || rc == CHAIN_E_BAD_NOTE);
    if (rc == 0)
        FUZZ_ASSERT(o.known_mask & 1);
    free(signed_note);
}

static void key_strings(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), out[CHAIN_NOTE_SKEY_MAX];
    struct chain_note_verifier v;
    struct chain_note_signer sg;

    /* the key hash may be read in upper case (as Go's x/mod/sumdb/note does); it is written
     * in lower case, so the strings agree but for case */
    if (chain_note_verifier_parse(s, &v) == 0) {
        FUZZ_ASSERT(chain_note_verifier_format(&v, out, sizeof out) == 0);
        FUZZ_ASSERT(strcasecmp(out, s) == 0);
    }
    if (chain_note_signer_parse(s, &sg) == 0) {
        FUZZ_ASSERT(chain_note_signer_format(&sg, out, sizeof out) == 0);
        FUZZ_ASSERT(strcasecmp(out, s) == 0);
    }
    sodium_memzero(&sg, sizeof sg);
    sodium_memzero(out, sizeof out);
    (void)chain_note_name_valid(s);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    open_and_parse(data, size);
    checkpoint_round_trip((const char *)data, size);
    cosign(data, size);
    if (size < 1024)
        key_strings(data, size);
    return 0;
}
