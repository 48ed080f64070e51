/* test_par.c — the loop spread over the cores (server/par.h): every index is run exactly once,
 * for any count and chunk, with or without helpers; loops started by several threads at once
 * each end with their own indices done; the helpers really do take part; a pool of no helpers
 * runs every loop on its caller. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "../../server/par.h"

struct counts {
    atomic_int *hits;
    pthread_t *who; /* the thread that ran each index; NULL when not recorded */
    int nap_us;     /* each call sleeps this long */
};

static void count(void *arg, size_t i)
{
    struct counts *c = arg;

    atomic_fetch_add(&c->hits[i], 1);
    if (c->who != NULL)
        c->who[i] = pthread_self();
    if (c->nap_us > 0) {
        struct timespec ts = {0, c->nap_us * 1000L};

        nanosleep(&ts, NULL);
    }
}

/* par_for over n indices in chunks of chunk; each must have been run once. */
static void once_each(struct par *p, size_t n, size_t chunk)
{
    struct counts c = {calloc(n ? n : 1, sizeof(atomic_int)), NULL, 0};

    ck_assert_ptr_nonnull(c.hits);
    par_for(p, n, chunk, count, &c);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(c.hits[i] == 1, "n %zu chunk %zu: index %zu run %d times", n, chunk, i,
                      (int)c.hits[i]);
    free(c.hits);
}

START_TEST(every_index_once)
{
    static const size_t sizes[] = {0, 1, 2, 15, 16, 17, 32, 33, 1000, 10007};
    static const size_t chunks[] = {0, 1, 16, 1000, 20000};
    static const unsigned helpers[] = {0, 1, 3};

    for (size_t h = 0; h < sizeof(helpers) / sizeof(helpers[0]); h++) {
        struct par *p;

        ck_assert_int_eq(par_open(helpers[h], &p), 0);
        ck_assert(helpers[h] == 0 ? p == NULL : p != NULL);
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
            for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++)
                once_each(p, sizes[s], chunks[k]);
        par_close(p);
    }
}
END_TEST

struct caller {
    struct par *p;
    unsigned seed;
    int failures;
};

static void *call_many(void *arg)
{
    struct caller *c = arg;

    for (int round = 0; round < 300; round++) {
        size_t n = 1 + (size_t)(rand_r(&c->seed) % 400),
               chunk = 1 + (size_t)(rand_r(&c->seed) % 40);
        struct counts k = {calloc(n, sizeof(atomic_int)), NULL, 0};

        if (k.hits == NULL)
            abort();
        par_for(c->p, n, chunk, count, &k);
        for (size_t i = 0; i < n; i++)
            c->failures += k.hits[i] != 1;
        free(k.hits);
    }
    return NULL;
}

/* Six threads run loops on one pool of two helpers at once, as HTTP workers do: each loop's
 * indices are all run once, and every par_for returns. */
START_TEST(callers_at_once)
{
    struct par *p;
    struct caller c[6];
    pthread_t t[6];

    ck_assert_int_eq(par_open(2, &p), 0);
    for (unsigned i = 0; i < 6; i++) {
        c[i] = (struct caller){p, 17u * i + 1u, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, call_many, &c[i]), 0);
    }
    for (unsigned i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(c[i].failures, 0);
    }
    par_close(p);
}
END_TEST

/* A loop of slow calls is shared: the caller does not run every chunk itself. (Without the
 * helpers taking part a batch's signatures were checked on one core.) */
START_TEST(helpers_take_part)
{
    enum { N = 64 };
    struct par *p;
    pthread_t who[N];
    struct counts c = {calloc(N, sizeof(atomic_int)), who, 2000};
    size_t mine = 0;

    ck_assert_ptr_nonnull(c.hits);
    ck_assert_int_eq(par_open(2, &p), 0);
    par_for(p, N, 1, count, &c);
    for (size_t i = 0; i < N; i++) {
        ck_assert_int_eq(c.hits[i], 1);
        mine += pthread_equal(who[i], pthread_self()) != 0;
    }
    ck_assert_msg(mine < N, "the caller ran all %d calls itself", N);
    par_close(p);
    free(c.hits);
}
END_TEST

/* No pool: par_for runs the loop on its caller, in order. */
START_TEST(no_pool_runs_inline)
{
    enum { N = 50 };
    pthread_t who[N];
    struct counts c = {calloc(N, sizeof(atomic_int)), who, 0};

    ck_assert_ptr_nonnull(c.hits);
    par_for(NULL, N, 7, count, &c);
    for (size_t i = 0; i < N; i++) {
        ck_assert_int_eq(c.hits[i], 1);
        ck_assert(pthread_equal(who[i], pthread_self()));
    }
    par_close(NULL);
    free(c.hits);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("par");
    TCase *tc = tcase_create("loops");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_index_once);
    tcase_add_test(tc, callers_at_once);
    tcase_add_test(tc, helpers_take_part);
    tcase_add_test(tc, no_pool_runs_inline);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
