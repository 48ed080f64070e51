/*
 * The node's key files in LIANXIN_DATA: node.key (signs checkpoints; named after the chain
 * origin) and admin.key (the consortium admin key that admits organisations). One line each,
 * in the signed-note private key format; mode 0600; kept in sodium_malloc memory once loaded.
 */
#ifndef LX_SERVER_KEYS_H
#define LX_SERVER_KEYS_H

#include "../chain/note.h"

#include <stddef.h>

/* Loads the key at path; if the file does not exist and create is set, makes a new key named
 * name and writes it (0600, never overwriting). Returns a key in guarded memory (free with
 * srv_key_free) or NULL with a reason in err. *created (may be NULL) tells which happened. */
struct chain_note_signer *srv_key_load(const char *path, const char *name, int create, int *created,
                                       char *err, size_t errlen);

/* Wipes and frees a key from srv_key_load. NULL is fine. */
void srv_key_free(struct chain_note_signer *k);

/* The public half of k. */
const unsigned char *srv_key_pub(const struct chain_note_signer *k);

#endif
