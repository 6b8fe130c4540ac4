/* cron: next fire times for a table of expressions (month ends, leap days,
 * day-of-month/day-of-week OR semantics, names, steps, macros) and bad
 * expressions with the message naming the field and the bad part. */
#include "domain/automation/cron.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* "YYYY-MM-DD HH:MM" UTC -> seconds */
static int64_t ts(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    ck_assert_int_eq(
        sscanf(s, "%d-%d-%d %d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min),
        5);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static void fmt(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M", &tm);
}

static const struct {
    const char *expr, *after, *want[3];
} table[] = {
    {"* * * * *", "2026-01-01 00:00", {"2026-01-01 00:01", "2026-01-01 00:02", "2026-01-01 00:03"}},
    {"*/15 * * * *",
     "2026-01-01 00:07",
     {"2026-01-01 00:15", "2026-01-01 00:30", "2026-01-01 00:45"}},
    {"0 0 * * *", "2026-12-31 23:59", {"2027-01-01 00:00", "2027-01-02 00:00", "2027-01-03 00:00"}},
    {"30 2 31 * *",
     "2026-01-31 03:00",
     {"2026-03-31 02:30", "2026-05-31 02:30", "2026-07-31 02:30"}},
    {"0 0 29 2 *",
     "2026-01-01 00:00",
     {"2028-02-29 00:00", "2032-02-29 00:00", "2036-02-29 00:00"}},
    {"0 0 29 2 *",
     "2096-03-01 00:00",
     {"2104-02-29 00:00", "2108-02-29 00:00", "2112-02-29 00:00"}},
    {"0 0 28-31 2 *",
     "2027-02-27 00:00",
     {"2027-02-28 00:00", "2028-02-28 00:00", "2028-02-29 00:00"}},
    /* both restricted: the 13th OR any Friday (2026-02-13 is a Friday) */
    {"0 12 13 * 5",
     "2026-02-01 00:00",
     {"2026-02-06 12:00", "2026-02-13 12:00", "2026-02-20 12:00"}},
    {"0 12 1 * mon",
     "2026-06-01 13:00",
     {"2026-06-08 12:00", "2026-06-15 12:00", "2026-06-22 12:00"}},
    /* day-of-week '*': only the day of month counts */
    {"0 12 13 * *",
     "2026-02-01 00:00",
     {"2026-02-13 12:00", "2026-03-13 12:00", "2026-04-13 12:00"}},
    /* day-of-month '*', day-of-week restricted: only the weekday counts */
    {"0 9 * * MON-FRI",
     "2026-12-04 10:00",
     {"2026-12-07 09:00", "2026-12-08 09:00", "2026-12-09 09:00"}},
    {"0 0 * * 7", "2026-12-01 00:00", {"2026-12-06 00:00", "2026-12-13 00:00", "2026-12-20 00:00"}},
    {"0 0 * * 0", "2026-12-01 00:00", {"2026-12-06 00:00", "2026-12-13 00:00", "2026-12-20 00:00"}},
    {"5,10-12,50/5 3 * * *",
     "2026-05-05 03:10",
     {"2026-05-05 03:11", "2026-05-05 03:12", "2026-05-05 03:50"}},
    {"0 8-18/4 * * *",
     "2026-05-05 08:00",
     {"2026-05-05 12:00", "2026-05-05 16:00", "2026-05-06 08:00"}},
    {"0 0 1 jan,JUL *",
     "2026-01-01 00:00",
     {"2026-07-01 00:00", "2027-01-01 00:00", "2027-07-01 00:00"}},
    {"0 0 1 feb-apr *",
     "2026-12-01 00:00",
     {"2027-02-01 00:00", "2027-03-01 00:00", "2027-04-01 00:00"}},
    {"@hourly", "2026-05-05 03:00", {"2026-05-05 04:00", "2026-05-05 05:00", "2026-05-05 06:00"}},
    {"@daily", "2026-05-05 00:00", {"2026-05-06 00:00", "2026-05-07 00:00", "2026-05-08 00:00"}},
    {"@midnight", "2026-05-05 00:00", {"2026-05-06 00:00", "2026-05-07 00:00", "2026-05-08 00:00"}},
    {"@weekly", "2026-12-01 00:00", {"2026-12-06 00:00", "2026-12-13 00:00", "2026-12-20 00:00"}},
    {"@monthly", "2026-12-15 00:00", {"2027-01-01 00:00", "2027-02-01 00:00", "2027-03-01 00:00"}},
    {"@yearly", "2026-12-15 00:00", {"2027-01-01 00:00", "2028-01-01 00:00", "2029-01-01 00:00"}},
    {"  @annually  ",
     "2026-12-15 00:00",
     {"2027-01-01 00:00", "2028-01-01 00:00", "2029-01-01 00:00"}},
    {" 59  23  31  12  * ",
     "2026-12-31 23:59",
     {"2027-12-31 23:59", "2028-12-31 23:59", "2029-12-31 23:59"}},
};

START_TEST(next_fire_times)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        struct cron c;
        char why[200] = "";
        ck_assert_msg(cron_parse(table[i].expr, &c, why, sizeof(why)) == WSMS_OK, "%s: %s",
                      table[i].expr, why);
        int64_t got[3];
        ck_assert_int_eq((int)cron_next_n(&c, ts(table[i].after), got, 3), 3);
        for (int k = 0; k < 3; k++) {
            char g[32];
            fmt(got[k], g, sizeof(g));
            ck_assert_msg(strcmp(g, table[i].want[k]) == 0, "%s after %s: fire %d is %s, want %s",
                          table[i].expr, table[i].after, k, g, table[i].want[k]);
        }
    }
}
END_TEST

START_TEST(strictly_after_and_mid_minute)
{
    struct cron c;
    char why[200];
    ck_assert_int_eq(cron_parse("0 * * * *", &c, why, sizeof(why)), WSMS_OK);
    int64_t t;
    ck_assert_int_eq(cron_next(&c, ts("2026-05-05 03:00"), &t), 0);
    ck_assert(t == ts("2026-05-05 04:00"));
    ck_assert_int_eq(cron_next(&c, ts("2026-05-05 02:59") + 59, &t), 0); /* 02:59:59 */
    ck_assert(t == ts("2026-05-05 03:00"));
}
END_TEST

static const struct {
    const char *expr, *why;
} bad[] = {
    {"", "expected 5 fields (minute hour day-of-month month day-of-week), got 0"},
    {"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
    {"* * * * * *",
     "expected 5 fields (minute hour day-of-month month day-of-week), got more than 5"},
    {"60 * * * *", "minute field \"60\": 60 is out of range 0-59"},
    {"0 24 * * *", "hour field \"24\": 24 is out of range 0-23"},
    {"0 0 0 * *", "day-of-month field \"0\": 0 is out of range 1-31"},
    {"0 0 32 * *", "day-of-month field \"32\": 32 is out of range 1-31"},
    {"0 0 * 13 *", "month field \"13\": 13 is out of range 1-12"},
    {"0 0 * * 8", "day-of-week field \"8\": 8 is out of range 0-7"},
    {"0 0 * * 1-9", "day-of-week field \"1-9\": 9 is out of range 0-7"},
    {"5-1 * * * *", "minute field \"5-1\": range 5-1 runs backwards"},
    {"*/0 * * * *", "minute field \"*/0\": step must be a number of at least 1"},
    {"*/x * * * *", "minute field \"*/x\": step must be a number of at least 1"},
    {"1,,2 * * * *", "minute field \"1,,2\": \"\" is not a number"},
    {"1, * * * *", "minute field \"1,\": empty list item"},
    {"a * * * *", "minute field \"a\": \"a\" is not a number"},
    {"0 0 * foo *", "month field \"foo\": \"foo\" is not a number or name"},
    {"0 0 * * sunday", "day-of-week field \"sunday\": \"sunday\" is not a number or name"},
    {"0 0 * jan-xyz *", "month field \"jan-xyz\": \"jan-xyz\" is not a number or name"},
    {"1-2-3 * * * *", "minute field \"1-2-3\": unexpected '-'"},
    {"0 0 30 2 *", "\"0 0 30 2 *\" never fires (no such day in the months it names)"},
    {"0 0 31 4,6,9,11 *", "\"0 0 31 4,6,9,11 *\" never fires (no such day in the months it names)"},
    {"@reboot", "\"@reboot\" is not a known macro (@yearly, @annually, @monthly, @weekly, @daily, "
                "@midnight, @hourly)"},
    {"@daily 5", "\"@daily\" is not a known macro (@yearly, @annually, @monthly, @weekly, @daily, "
                 "@midnight, @hourly)"},
};

START_TEST(bad_expressions)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cron c;
        char why[200] = "";
        ck_assert_msg(cron_parse(bad[i].expr, &c, why, sizeof(why)) == E_VALIDATION_ERROR,
                      "%s was accepted", bad[i].expr);
        ck_assert_msg(strcmp(why, bad[i].why) == 0, "%s: got <%s>, want <%s>", bad[i].expr, why,
                      bad[i].why);
    }
    struct cron c;
    char why[200];
    ck_assert_int_eq(cron_parse(NULL, &c, why, sizeof(why)), E_VALIDATION_ERROR);
    char longx[300];
    memset(longx, '1', sizeof(longx) - 1);
    longx[sizeof(longx) - 1] = '\0';
    ck_assert_int_eq(cron_parse(longx, &c, why, sizeof(why)), E_VALIDATION_ERROR);
    ck_assert_str_eq(why, "expression is longer than 127 characters");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cron");
    TCase *tc = tcase_create("cron");
    tcase_add_test(tc, next_fire_times);
    tcase_add_test(tc, strictly_after_and_mid_minute);
    tcase_add_test(tc, bad_expressions);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
