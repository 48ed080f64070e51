/* keys.h — keys as the lianxin tool reads them: lists of validator verifier keys (a file or a
 * node's GET /api/chain/keys, one key per line) and a signer's private key file (one line in the
 * signed-note private key format, as `lianxin keygen` and lianxind write it). */
#ifndef LX_CLI_KEYS_H
#define LX_CLI_KEYS_H

#include <stddef.h>

#include "../chain/note.h"
#include "cli.h"

#define CLI_KEYS_MAX CHAIN_NOTE_MAX_KNOWN /* most validator keys taken at once */

/* Parses text[0..len): one verifier key per line; blank lines and lines starting with '#' are
 * skipped, a trailing "\r" is ignored, a key listed twice is kept once. Fills out[0..*n) (room
 * for cap). Returns 0, or -1 with a reason (naming the line) in why[0..why_cap) for a malformed
 * key or more than cap keys. Borrows text. */
int cli_keys_parse(const char *text, size_t len, struct chain_note_verifier *out, size_t cap,
                   size_t *n, char *why, size_t why_cap) CLI_WUR;

/* Loads validator keys from spec: a URL (http:// or https://, the node's base URL) is fetched as
 * spec + "/api/chain/keys"; anything else is a file name. Returns 0 with at least one key in
 * out[0..*n), or -1 with the reason on stderr. Borrows spec. */
int cli_keys_load(const char *spec, struct chain_note_verifier *out, size_t cap, size_t *n) CLI_WUR;

/* Reads the private key file path into *out. Returns 0, or -1 with the reason on stderr. Every
 * copy of the secret but *out is wiped; the caller wipes *out (sodium_memzero). */
int cli_signer_load(const char *path, struct chain_note_signer *out) CLI_WUR;

#endif
