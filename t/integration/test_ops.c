/* Operations: the systemd units verify, and a worker started the way
 * systemd starts it (socket activation, LISTEN_FDS) serves through nginx. */
#include "client.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(systemd_units_verify)
{
    /* point ExecStart at the built binary so verify can check it exists */
    char cmd[2048];
    const char *tmp = getenv("WSMS_TMP");
    snprintf(cmd, sizeof(cmd),
             "rm -rf %s/units && mkdir -p %s/units && cp systemd/* %s/units/ && "
             "sed -i 's#/usr/local/sbin/wsmsd#%s#' %s/units/*.service && "
             "systemd-analyze verify %s/units/wsms@1.socket %s/units/wsms@1.service "
             "%s/units/wsms.target %s/units/wsms-migrate.service > %s/units/verify.out 2>&1",
             tmp, tmp, tmp, getenv("WSMS_WSMSD"), tmp, tmp, tmp, tmp, tmp, tmp);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof(cmd), "cat %s/units/verify.out", tmp);
        ck_assert_int_eq(system(cmd), 0);
    }
    ck_assert_int_eq(rc, 0);
    /* the service hands the socket over on stdin and is hardened */
    ck_assert_int_eq(system("grep -q '^StandardInput=socket' systemd/wsms@.service && "
                            "grep -q '^ListenStream=/run/wsms/%i.sock' systemd/wsms@.socket && "
                            "grep -q '^NoNewPrivileges=yes' systemd/wsms@.service && "
                            "grep -q '^CapabilityBoundingSet=$' systemd/wsms@.service"),
                     0);
    /* nginx's production upstream lists the same sockets */
    ck_assert_int_eq(system("grep -q 'server unix:/run/wsms/1.sock' nginx/wsms.conf"), 0);
}
END_TEST

START_TEST(socket_activated_worker_serves)
{
    char url[256];
    ck_assert_int_eq(tc_stack_start("sockact", "", 0, url, sizeof(url)), 0);
    setenv("WSMS_URL", url, 1);
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "GET", "/db/status", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    tc_free(&r);
    tc_stack_stop("sockact");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("systemd");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, systemd_units_verify);
    tcase_add_test(tc, socket_activated_worker_serves);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
