/* fuzz_core.c — the core module's ledger rules (core_check: org.register, principal.register,
 * key.add, key.revoke, and the oversight txs audit.anchor, freeze, unfreeze) on a tx whose body
 * and org come from the input: the first line of the input is the org, the rest the body. Every
 * verdict must be accept or a 4xx refusal with a code and a message; the node-made genesis and
 * unknown types are always refused. */
#include "fuzz.h"
#include "txmake.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_sodium();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {
        "org.register", "principal.register", "key.add", "key.revoke", "audit.anchor",
        "freeze",       "unfreeze",           "genesis", "org.delete"};
    const uint8_t *nl = memchr(data, '\n', size < 80 ? size : 80);
    char org[81] = "";
    size_t skip = 0;

    if (nl != NULL) {
        skip = (size_t)(nl - data) + 1;
        memcpy(org, data, skip - 1);
        org[skip - 1] = '\0';
    }
    struct chain_tx *tx = fuzz_tx_make("core", types[0], org, data + skip, size - skip);

    if (tx == NULL)
        return 0;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        tx->type = types[t]; /* one envelope per type would only repeat the parse */
        if (fuzz_check("core", tx) == 0)
            FUZZ_ASSERT(t < 7);
    }
    chain_tx_free(tx);
    return 0;
}
