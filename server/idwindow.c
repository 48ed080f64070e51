/* idwindow.c — the ids of the newest committed blocks (idwindow.h). */
#include "idwindow.h"

#include <stdlib.h>
#include <string.h>

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, CHAIN_HASH_LEN);
}

static void drop_oldest(struct lx_idwindow *w)
{
    w->n_ids -= w->block[0].n;
    free(w->block[0].id);
    memmove(w->block, w->block + 1, --w->n_blocks * sizeof(w->block[0]));
}

void lx_idwindow_clear(struct lx_idwindow *w)
{
    while (w->n_blocks > 0)
        drop_oldest(w);
}

void lx_idwindow_add(struct lx_idwindow *w, uint64_t first, const uint8_t (*id)[CHAIN_HASH_LEN],
                     size_t n)
{
    const struct lx_idblock *last = w->n_blocks > 0 ? &w->block[w->n_blocks - 1] : NULL;
    struct lx_idblock b = {first, n, NULL};

    if (last != NULL && last->first + last->n != first)
        lx_idwindow_clear(w); /* not the next block: start again from this one */
    if (n > LX_IDWINDOW_IDS || (b.id = malloc(n > 0 ? n * CHAIN_HASH_LEN : 1)) == NULL) {
        lx_idwindow_clear(w);
        return;
    }
    memcpy(b.id, id, n * CHAIN_HASH_LEN);
    qsort(b.id, n, CHAIN_HASH_LEN, cmp_id);
    while (w->n_blocks > 0 && (w->n_blocks == LX_IDWINDOW_BLOCKS || w->n_ids + n > LX_IDWINDOW_IDS))
        drop_oldest(w);
    w->block[w->n_blocks++] = b;
    w->n_ids += n;
}

int lx_idwindow_covers(struct lx_idwindow *w, uint64_t from, uint64_t to)
{
    const struct lx_idblock *last;

    while (w->n_blocks > 0 && w->block[0].first + w->block[0].n <= from)
        drop_oldest(w);
    if (from >= to)
        return 1;
    if (w->n_blocks == 0)
        return 0;
    last = &w->block[w->n_blocks - 1];
    return w->block[0].first <= from && last->first + last->n >= to;
}

int lx_idwindow_has(const struct lx_idwindow *w, const uint8_t id[CHAIN_HASH_LEN])
{
    for (size_t i = 0; i < w->n_blocks; i++)
        if (bsearch(id, w->block[i].id, w->block[i].n, CHAIN_HASH_LEN, cmp_id) != NULL)
            return 1;
    return 0;
}
