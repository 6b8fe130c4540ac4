/* Per-identity rate limits through nginx -> spawn-fcgi -> wsmsd on a stack
 * of its own with 4 workers (RATE_LIMIT_PER_MINUTE=60, RATE_LIMIT_BURST=10):
 * one user hammering from 4 parallel clients, answered by several workers,
 * is allowed no more than the burst plus the refill over the elapsed time
 * (so the buckets are the pool's, not each worker's), gets 429
 * RATE_LIMITED with a Retry-After, and is served again after waiting it;
 * another user is unaffected; /health, /status and /metrics are never
 * limited; /metrics counts the refusals. On the shared stack (limits off,
 * the default) nothing is ever refused. */
#include "client.h"
#include "core/util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define RL_STACK "ratelimit"
#define BURST    10
#define CLIENTS  4
#define PER      15 /* requests per client */

static double now_f(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void start_stack(void)
{
    char url[256];
    ck_assert_int_eq(tc_stack_start(RL_STACK, "RATE_LIMIT_PER_MINUTE=60\nRATE_LIMIT_BURST=10\n", 4,
                                    url, sizeof(url)),
                     0);
    setenv("WSMS_URL", url, 1);
}

static void stop_stack(void)
{
    tc_stack_stop(RL_STACK);
}

/* requests_served of every worker in /status, by pid; returns the count */
static int served(int *pids, double *counts, int max)
{
    struct tresp r;
    int n = 0;
    ck_assert_int_eq(tc_request(&r, "GET", "/status", NULL, NULL), 0);
    EXPECT(&r, 200, NULL);
    cJSON *ws = cJSON_GetObjectItem(r.json, "workers");
    cJSON *w;
    cJSON_ArrayForEach(w, ws)
    {
        if (n >= max)
            break;
        pids[n] = (int)cJSON_GetObjectItem(w, "pid")->valuedouble;
        counts[n] = cJSON_GetObjectItem(w, "requests_served")->valuedouble;
        n++;
    }
    tc_free(&r);
    return n;
}

static double count_of(const int *pids, const double *counts, int n, int pid)
{
    for (int i = 0; i < n; i++)
        if (pids[i] == pid)
            return counts[i];
    return 0;
}

static double rate_limited_total(void)
{
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/metrics", NULL, NULL), 0);
    EXPECT(&r, 200, NULL);
    const char *p = strstr(r.body, "\nwsms_rate_limited_total ");
    ck_assert_msg(p != NULL, "no wsms_rate_limited_total in /metrics");
    double v = atof(p + strlen("\nwsms_rate_limited_total "));
    tc_free(&r);
    return v;
}

START_TEST(one_identity_limited_across_workers)
{
    struct tc_user a, b;
    int pids0[16], pids1[16];
    double c0[16], c1[16];
    start_stack();
    tc_new_user(&a, "rl-a");
    tc_new_user(&b, "rl-b");
    int n0 = served(pids0, c0, 16);
    ck_assert_int_eq(n0, 4);
    double limited0 = rate_limited_total();

    int fds[CLIENTS][2];
    double t0 = now_f();
    for (int c = 0; c < CLIENTS; c++) {
        ck_assert_int_eq(pipe(fds[c]), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            int res[2] = {0, 0}; /* 200s, 429s with a good Retry-After */
            for (int i = 0; i < PER; i++) {
                struct tresp r;
                if (tc_as(&r, &a, "GET", "/workspaces", NULL) != 0)
                    _exit(3);
                if (r.status == 200) {
                    res[0]++;
                } else if (r.status == 429 && strcmp(tc_error_code(&r), "RATE_LIMITED") == 0) {
                    const char *ra = tc_header(&r, "Retry-After");
                    long v = ra ? atol(ra) : 0;
                    if (v < 1 || v > 60)
                        _exit(4);
                    res[1]++;
                } else {
                    _exit(5);
                }
                tc_free(&r);
            }
            if (write(fds[c][1], res, sizeof(res)) != (ssize_t)sizeof(res))
                _exit(6);
            _exit(0);
        }
        close(fds[c][1]);
    }
    int ok = 0, limited = 0;
    for (int c = 0; c < CLIENTS; c++) {
        int res[2], st;
        ck_assert_int_eq(read(fds[c][0], res, sizeof(res)), (ssize_t)sizeof(res));
        close(fds[c][0]);
        ok += res[0];
        limited += res[1];
        ck_assert_int_ge(wait(&st), 0);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client exited %d",
                      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    double elapsed = now_f() - t0;
    ck_assert_int_eq(ok + limited, CLIENTS * PER);
    /* shared buckets: the burst plus one a second, not 4 bursts */
    ck_assert_msg(ok >= BURST && ok <= BURST + (int)elapsed + 1,
                  "%d allowed of %d in %.2f s (burst %d)", ok, CLIENTS * PER, elapsed, BURST);
    ck_assert_int_gt(limited, 0);

    /* several workers answered */
    int n1 = served(pids1, c1, 16);
    int busy = 0;
    for (int i = 0; i < n1; i++)
        if (c1[i] - count_of(pids0, c0, n0, pids1[i]) >= 3)
            busy++;
    ck_assert_msg(busy >= 2, "only %d worker(s) answered the clients", busy);

    /* another identity is unaffected; the exempt routes answer A too */
    for (int i = 0; i < 5; i++) {
        struct tresp r;
        ck_assert_int_eq(tc_as(&r, &b, "GET", "/workspaces", NULL), 0);
        EXPECT(&r, 200, NULL);
        tc_free(&r);
        ck_assert_int_eq(tc_as(&r, &a, "GET", "/health", NULL), 0);
        EXPECT(&r, 200, NULL);
        tc_free(&r);
        ck_assert_int_eq(tc_as(&r, &a, "GET", "/status", NULL), 0);
        EXPECT(&r, 200, NULL);
        tc_free(&r);
        ck_assert_int_eq(tc_as(&r, &a, "GET", "/metrics", NULL), 0);
        EXPECT(&r, 200, NULL);
        tc_free(&r);
    }
    /* still limited, and counted */
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, &a, "GET", "/workspaces", NULL), 0);
    long retry = 1;
    if (r.status == 429) {
        EXPECT(&r, 429, "RATE_LIMITED");
        retry = atol(tc_header(&r, "Retry-After"));
        limited++;
    }
    tc_free(&r);
    ck_assert_msg(rate_limited_total() - limited0 >= limited,
                  "wsms_rate_limited_total grew by less than %d", limited);

    /* after Retry-After seconds a token is back */
    ck_assert_int_le(retry, 2);
    sleep((unsigned)retry);
    ck_assert_int_eq(tc_as(&r, &a, "GET", "/workspaces", NULL), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    tc_user_free(&a);
    tc_user_free(&b);
}
END_TEST

START_TEST(off_by_default)
{
    struct tc_user u;
    tc_new_user(&u, "rl-off");
    for (int i = 0; i < 40; i++) {
        struct tresp r;
        ck_assert_int_eq(tc_as(&r, &u, "GET", "/workspaces", NULL), 0);
        EXPECT(&r, 200, NULL);
        tc_free(&r);
    }
    tc_user_free(&u);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *sh = tcase_create("default");
    tcase_add_test(sh, off_by_default);
    suite_add_tcase(s, sh);
    TCase *own = tcase_create("pool");
    tcase_set_timeout(own, 180);
    tcase_add_unchecked_fixture(own, NULL, stop_stack);
    tcase_add_test(own, one_identity_limited_across_workers);
    suite_add_tcase(s, own);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
