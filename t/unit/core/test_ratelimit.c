/* ratelimit: token bucket arithmetic (burst, refill, Retry-After), off by
 * default, identities independent, lowered limits, a clock going back, and
 * more identities than the table holds (private table: no WSMS_RUN_DIR). */
#include "core/ratelimit.h"

#include <check.h>
#include <stdio.h>

START_TEST(off_by_default)
{
    long after = -1;
    ratelimit_configure(0, 0);
    ck_assert(!ratelimit_enabled());
    for (int i = 0; i < 1000; i++)
        ck_assert(ratelimit_take("u:off", 1000, &after));
    ck_assert_int_eq(after, 0);
}
END_TEST

START_TEST(burst_refill_retry_after)
{
    long after = 0;
    ratelimit_configure(60, 5); /* one token a second, five at once */
    ck_assert(ratelimit_enabled());
    int64_t t = 1000000;
    for (int i = 0; i < 5; i++)
        ck_assert(ratelimit_take("u:burst", t, &after));
    ck_assert(!ratelimit_take("u:burst", t, &after));
    ck_assert_int_eq(after, 1);
    /* another identity is unaffected */
    ck_assert(ratelimit_take("u:other", t, &after));
    /* 999 ms later still none; at 1000 ms one */
    ck_assert(!ratelimit_take("u:burst", t + 999, &after));
    ck_assert_int_eq(after, 1);
    ck_assert(ratelimit_take("u:burst", t + 1000, &after));
    ck_assert(!ratelimit_take("u:burst", t + 1000, &after));
    /* a long pause refills to the burst, not beyond */
    t += 3600 * 1000;
    for (int i = 0; i < 5; i++)
        ck_assert(ratelimit_take("u:burst", t, &after));
    ck_assert(!ratelimit_take("u:burst", t, &after));
    /* a clock going back refills nothing and breaks nothing */
    ck_assert(!ratelimit_take("u:burst", t - 50000, &after));
    ck_assert_int_ge(after, 1);
}
END_TEST

START_TEST(slow_rate_retry_after_rounds_up)
{
    long after = 0;
    ratelimit_configure(1, 1); /* one a minute */
    ck_assert(ratelimit_take("u:slow", 5000, &after));
    ck_assert(!ratelimit_take("u:slow", 5000, &after));
    ck_assert_int_eq(after, 60);
    ck_assert(!ratelimit_take("u:slow", 5000 + 30000, &after));
    ck_assert_int_eq(after, 30);
    ck_assert(ratelimit_take("u:slow", 5000 + 60000, &after));
    /* burst 0 means per_minute */
    ratelimit_configure(3, 0);
    for (int i = 0; i < 3; i++)
        ck_assert(ratelimit_take("u:dflt", 9000, &after));
    ck_assert(!ratelimit_take("u:dflt", 9000, &after));
}
END_TEST

START_TEST(more_identities_than_the_table)
{
    char key[64];
    long after = 0;
    ratelimit_configure(60, 2);
    for (int i = 0; i < RATELIMIT_MAX_KEYS * 3; i++) {
        snprintf(key, sizeof(key), "u:many-%d", i);
        ck_assert(ratelimit_take(key, 7000000 + i, &after));
    }
    /* the newest identities are still tracked */
    snprintf(key, sizeof(key), "u:many-%d", RATELIMIT_MAX_KEYS * 3 - 1);
    ck_assert(ratelimit_take(key, 7000000 + RATELIMIT_MAX_KEYS * 3, &after));
    ck_assert(!ratelimit_take(key, 7000000 + RATELIMIT_MAX_KEYS * 3, &after));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("ratelimit");
    tcase_add_test(tc, off_by_default);
    tcase_add_test(tc, burst_refill_retry_after);
    tcase_add_test(tc, slow_rate_retry_after_rounds_up);
    tcase_add_test(tc, more_identities_than_the_table);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
