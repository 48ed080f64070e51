/*
 * Slow and idle clients. 500 connections each send a request one byte a second (slowloris),
 * from 50 addresses of the loopback range (127.0.0.2 …, 10 each: all of 127.0.0.0/8 is this
 * machine), while a well-behaved client on 127.0.0.1 is served, every request within 1 s.
 * Meanwhile 20 connections from one more address meet a per-address limit of 16: 4 are closed
 * at once, and the 16 others, idle, are closed by the idle timeout (2 s here). The slow ones
 * are not idle, so the idle timeout never closes them: the request header deadline (6 s here,
 * --header-timeout) does, and lianxind's log says so.
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define N_SLOW      500
#define PER_ADDR    10 /* slow connections per address: under the limit */
#define PER_IP      16 /* --per-ip-conns */
#define N_CROWD     20 /* connections from one address: PER_IP kept, the rest closed */
#define IDLE_S      2  /* --timeout */
#define HEADER_S    6  /* --header-timeout */
#define SERVE_MS    1000
#define SLOW_PREFIX "GET /api/health HTTP/1.1\r\nHost: t\r\nX-Slow: "

/* One of our connections and when it was seen closed (ms since the test began, or 0). */
struct conn {
    int fd;
    long long closed_at;
};

/* A connection to s from source address a.b.c.d (host order), or -1. */
static int connect_from(struct lx_server *s, uint32_t src)
{
    struct sockaddr_in me = {0}, to = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    me.sin_family = AF_INET;
    me.sin_addr.s_addr = htonl(src);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)s->port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Has the server closed c (end of stream or reset)? Notes when it was first seen. */
static int is_closed(struct conn *c, long long now)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    char b;

    if (c->closed_at != 0)
        return 1;
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP | POLLERR)) &&
        (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0 || errno == ECONNRESET))
        c->closed_at = now > 0 ? now : 1;
    return c->closed_at != 0;
}

static size_t count_closed(struct conn *cs, size_t n, long long now)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += (size_t)is_closed(&cs[i], now);
    return k;
}

/* The good client: GET path from 127.0.0.1; returns how long it took, failing unless 200. */
static long long good_request(struct lx_server *s, const char *path)
{
    long long t0 = lx_now_ms();
    struct lx_resp r;

    lx_http(s, "GET", path, NULL, 0, NULL, &r);
    ck_assert_msg(r.status == 200, "GET %s beside the slow clients: %ld", path, r.status);
    lx_resp_free(&r);
    return lx_now_ms() - t0;
}

START_TEST(slow_and_idle_clients_do_not_block_others)
{
    static const char *const args[] = {
        "--per-ip-conns", "16",   "--timeout", "2", "--header-timeout", "6",
        "--max-conns",    "1024", NULL};
    static struct conn slow[N_SLOW], crowd[N_CROWD];
    struct lx_server s;
    long long t0, worst = 0, sum = 0;
    size_t served = 0, sent = 1, crowd_cut, slow_open_at_3s = 0;
    char *log;

    memset(&s, 0, sizeof(s));
    lx_server_start(&s, args);
    t0 = lx_now_ms();
    for (size_t i = 0; i < N_SLOW; i++) {
        /* 127.0.0.2 … 127.0.0.51, PER_ADDR each */
        slow[i].fd = connect_from(&s, 0x7f000002u + (uint32_t)(i / PER_ADDR));
        ck_assert_msg(slow[i].fd >= 0, "slow connection %zu: %s", i, strerror(errno));
        ck_assert_int_eq(send(slow[i].fd, SLOW_PREFIX, 1, MSG_NOSIGNAL), 1);
    }
    for (size_t i = 0; i < N_CROWD; i++) {
        crowd[i].fd = connect_from(&s, 0x7f000101u); /* 127.0.1.1 */
        ck_assert_int_ge(crowd[i].fd, 0);
    }
    /* One byte a second on each slow connection, the good client served meanwhile. */
    while (lx_now_ms() - t0 < (HEADER_S + 3) * 1000 &&
           count_closed(slow, N_SLOW, lx_now_ms() - t0) < N_SLOW) {
        long long tick = lx_now_ms();

        count_closed(crowd, N_CROWD, tick - t0);

        for (int k = 0; k < 4; k++) {
            long long ms = good_request(&s, k % 2 ? "/api/chain/checkpoint" : "/api/health");

            worst = ms > worst ? ms : worst;
            sum += ms;
            served++;
            ck_assert_msg(ms < SERVE_MS, "the good client waited %lld ms beside %zu slow ones", ms,
                          N_SLOW - count_closed(slow, N_SLOW, lx_now_ms() - t0));
        }
        if (lx_now_ms() - t0 > 3000 && slow_open_at_3s == 0)
            slow_open_at_3s = N_SLOW - count_closed(slow, N_SLOW, lx_now_ms() - t0);
        while (lx_now_ms() - tick < 1000) {
            count_closed(crowd, N_CROWD, lx_now_ms() - t0);
            usleep(20000);
        }
        for (size_t i = 0; i < N_SLOW; i++)
            if (!is_closed(&slow[i], lx_now_ms() - t0))
                (void)send(slow[i].fd, SLOW_PREFIX + sent % (sizeof(SLOW_PREFIX) - 1), 1,
                           MSG_NOSIGNAL); /* never a blank line: the headers never end */
        sent++;
    }
    /* The per-address limit cut the crowd at once; the rest, idle, went at the idle timeout. */
    crowd_cut = 0;
    for (size_t i = 0; i < N_CROWD; i++) {
        ck_assert_msg(is_closed(&crowd[i], lx_now_ms() - t0), "idle connection %zu never closed",
                      i);
        crowd_cut += crowd[i].closed_at < 1000;
        /* closed by the idle timeout, well before the header deadline */
        ck_assert_msg(crowd[i].closed_at < 1000 || (crowd[i].closed_at >= (IDLE_S - 1) * 1000 &&
                                                    crowd[i].closed_at < (HEADER_S - 1) * 1000),
                      "an idle connection was closed after %lld ms", crowd[i].closed_at);
    }
    ck_assert_msg(crowd_cut == N_CROWD - PER_IP,
                  "%zu of %d connections from one address closed at once (limit %d)", crowd_cut,
                  N_CROWD, PER_IP);
    /* The slow ones outlived the idle timeout (they were sending), then met the deadline. */
    ck_assert_msg(slow_open_at_3s == N_SLOW, "only %zu slow connections were open after 3 s",
                  slow_open_at_3s);
    for (size_t i = 0; i < N_SLOW; i++) {
        ck_assert_msg(is_closed(&slow[i], lx_now_ms() - t0), "slow connection %zu still open", i);
        ck_assert_msg(slow[i].closed_at >= (HEADER_S - 1) * 1000,
                      "slow connection %zu closed after %lld ms", i, slow[i].closed_at);
        close(slow[i].fd);
    }
    for (size_t i = 0; i < N_CROWD; i++)
        close(crowd[i].fd);
    good_request(&s, "/api/health");
    log = lx_read_file(s.err);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, "sent no complete request headers within 6 s") != NULL,
                  "no log line about the slow clients:\n%s", log);
    free(log);
    ck_assert_int_eq(lx_server_stop(&s), 0);
    printf("slowloris: %d slow connections (1 byte/s from %d addresses) open %zu of them at 3 s, "
           "closed by the %d s header deadline; %zu good requests, slowest %lld ms, mean %.1f ms; "
           "%zu of %d from one address refused at once (limit %d), the others closed idle\n",
           N_SLOW, N_SLOW / PER_ADDR, slow_open_at_3s, HEADER_S, served, worst,
           (double)sum / (double)served, crowd_cut, N_CROWD, PER_IP);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slowloris");
    TCase *tc = tcase_create("slow");
    struct rlimit rl;
    SRunner *sr;
    int failed;

    /* 520 sockets here and as many in lianxind (which inherits this limit) */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < 1200)
            fprintf(stderr, "slowloris: open file limit %llu is too low\n",
                    (unsigned long long)rl.rlim_cur);
    }
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, slow_and_idle_clients_do_not_block_others);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
