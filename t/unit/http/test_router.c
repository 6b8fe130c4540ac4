/* router: the route table's matching, captures, 404 and 405 + Allow. */
#include "core/arena.h"
#include "http/router.h"
#include "server/routes.h"

#include <check.h>
#include <string.h>

static struct arena *a;

static const struct route *m(const char *method, const char *path, const char *cap[2], wsms_err *e,
                             char *allow)
{
    size_t n;
    const struct route *t = routes_table(&n);
    return router_match(t, n, a, method, path, cap, e, allow, 64);
}

START_TEST(exact_and_captures)
{
    const char *cap[2];
    wsms_err e;
    char allow[64];
    a = arena_new(0);
    const struct route *r = m("GET", "/health", cap, &e, allow);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->name, "health");
    r = m("GET", "/workspaces/abc/members", cap, &e, allow);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(cap[0], "abc");
    ck_assert_ptr_null(cap[1]);
    ck_assert_int_eq(r->auth, AUTH_WORKSPACE_READ);
    r = m("PATCH", "/workspaces/w1/members/m2/role", cap, &e, allow);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(cap[0], "w1");
    ck_assert_str_eq(cap[1], "m2");
    arena_free(a);
}
END_TEST

START_TEST(not_found_and_method_not_allowed)
{
    const char *cap[2];
    wsms_err e;
    char allow[64];
    a = arena_new(0);
    ck_assert_ptr_null(m("GET", "/nope", cap, &e, allow));
    ck_assert_int_eq(e, E_NOT_FOUND);
    ck_assert_ptr_null(m("GET", "/workspaces//members", cap, &e, allow));
    ck_assert_int_eq(e, E_NOT_FOUND);
    ck_assert_ptr_null(m("GET", "/healthz", cap, &e, allow));
    ck_assert_int_eq(e, E_NOT_FOUND);
    ck_assert_ptr_null(m("PUT", "/workspaces/x", cap, &e, allow));
    ck_assert_int_eq(e, E_METHOD_NOT_ALLOWED);
    ck_assert_ptr_nonnull(strstr(allow, "GET"));
    ck_assert_ptr_nonnull(strstr(allow, "DELETE"));
    ck_assert_ptr_null(m("DELETE", "/health", cap, &e, allow));
    ck_assert_int_eq(e, E_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow, "GET");
    arena_free(a);
}
END_TEST

START_TEST(table_is_sane)
{
    size_t n;
    const struct route *t = routes_table(&n);
    ck_assert_int_gt((int)n, 10);
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_nonnull(t[i].handler);
        ck_assert(t[i].pattern[0] == '/');
        /* every workspace route checks membership; restore, of an archived
         * one; reads (GET only) in their one statement (auth/roles.h) */
        if (strstr(t[i].pattern, "/workspaces/{id}"))
            ck_assert_int_eq(t[i].auth, strstr(t[i].pattern, "/restore")   ? AUTH_ARCHIVED
                                        : t[i].auth == AUTH_WORKSPACE_READ ? AUTH_WORKSPACE_READ
                                                                           : AUTH_WORKSPACE);
        if (t[i].auth == AUTH_WORKSPACE_READ || t[i].auth == AUTH_USER_READ)
            ck_assert_str_eq(t[i].method, "GET");
        for (size_t k = i + 1; k < n; k++)
            ck_assert_msg(strcmp(t[i].method, t[k].method) || strcmp(t[i].pattern, t[k].pattern),
                          "duplicate route %s %s", t[i].method, t[i].pattern);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("router");
    tcase_add_test(tc, exact_and_captures);
    tcase_add_test(tc, not_found_and_method_not_allowed);
    tcase_add_test(tc, table_is_sane);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
