/* run_state: exactly the documented transitions are allowed; every other
 * pair is refused; names round-trip; retry backoff doubles and is capped. */
#include "domain/automation/run_state.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

START_TEST(transition_matrix)
{
    static const char *const ok[] = {
        "PENDING>RUNNING", "PENDING>CANCELLED", "PENDING>SKIPPED",   "RUNNING>SUCCEEDED",
        "RUNNING>FAILED",  "RUNNING>TIMED_OUT", "RUNNING>CANCELLED",
    };
    int allowed = 0;
    for (int f = 0; f < RUN_STATE__COUNT; f++)
        for (int t = 0; t < RUN_STATE__COUNT; t++) {
            char pair[40];
            snprintf(pair, sizeof(pair), "%s>%s", run_state_name(f), run_state_name(t));
            int want = 0;
            for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
                want |= strcmp(pair, ok[i]) == 0;
            ck_assert_msg(run_transition_allowed(f, t) == (want != 0), "%s", pair);
            allowed += want;
        }
    ck_assert_int_eq(allowed, 7);
    ck_assert(!run_transition_allowed(RUN_STATE__COUNT, RUN_PENDING));
    ck_assert(!run_transition_allowed(RUN_PENDING, RUN_STATE__COUNT));
    ck_assert(!run_transition_allowed((enum run_state) - 1, RUN_RUNNING));
}
END_TEST

START_TEST(names_and_finals)
{
    for (int s = 0; s < RUN_STATE__COUNT; s++) {
        enum run_state back;
        ck_assert_int_eq(run_state_parse(run_state_name(s), &back), 0);
        ck_assert_int_eq(back, s);
    }
    enum run_state x;
    ck_assert_int_eq(run_state_parse("running", &x), -1);
    ck_assert_int_eq(run_state_parse(NULL, &x), -1);
    ck_assert_str_eq(run_state_name(RUN_STATE__COUNT), "?");
    ck_assert(!run_state_final(RUN_PENDING));
    ck_assert(!run_state_final(RUN_RUNNING));
    for (int s = RUN_SUCCEEDED; s < RUN_STATE__COUNT; s++)
        ck_assert(run_state_final(s));
    ck_assert(run_state_retryable(RUN_FAILED));
    ck_assert(run_state_retryable(RUN_TIMED_OUT));
    ck_assert(!run_state_retryable(RUN_CANCELLED));
    ck_assert(!run_state_retryable(RUN_SUCCEEDED));
}
END_TEST

START_TEST(backoff)
{
    ck_assert_int_eq((int)run_retry_delay_seconds(2), 30);
    ck_assert_int_eq((int)run_retry_delay_seconds(3), 60);
    ck_assert_int_eq((int)run_retry_delay_seconds(4), 120);
    ck_assert_int_eq((int)run_retry_delay_seconds(8), 1920);
    ck_assert_int_eq((int)run_retry_delay_seconds(9), 3600);
    ck_assert_int_eq((int)run_retry_delay_seconds(1000), 3600);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("run_state");
    TCase *tc = tcase_create("run_state");
    tcase_add_test(tc, transition_matrix);
    tcase_add_test(tc, names_and_finals);
    tcase_add_test(tc, backoff);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
