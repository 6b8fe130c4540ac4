/* GET /docs: the interactive API documentation (Swagger UI from the pinned
 * npm package, served by nginx) loads in a real headless Chromium and lists
 * every route of the route table, each with its method. */
#include "browser.h"
#include "client.h"
#include "server/routes.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(docs_served_by_nginx)
{
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/docs", NULL, NULL), 0);
    ck_assert_msg(r.status == 200,
                  "GET /docs: %ld (is Swagger UI installed? sh t/lib/swagger.sh install)",
                  r.status);
    const char *ct = tc_header(&r, "Content-Type");
    ck_assert_msg(ct && strstr(ct, "text/html"), "Content-Type %s", ct ? ct : "(none)");
    ck_assert(r.body && strstr(r.body, "/docs/swagger-ui-bundle.js"));
    ck_assert(strstr(r.body, "/openapi.json"));
    ck_assert(!strstr(r.body, "http://") && !strstr(r.body, "https://")); /* no CDN */
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "GET", "/docs/swagger-ui-bundle.js", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(r.body && strstr(r.body, "SwaggerUIBundle"));
    tc_free(&r);
}
END_TEST

START_TEST(docs_list_every_route_in_chromium)
{
    char url[512], why[512] = "", want[600];
    snprintf(url, sizeof(url), "%s/docs", getenv("WSMS_URL"));
    char *dom = tb_dom(url, why, sizeof(why));
    ck_assert_msg(dom != NULL, "%s", why);
    size_t n;
    const struct route *t = routes_table(&n);
    for (size_t i = 0; i < n; i++) {
        /* one operation block per method + path: class opblock-<method>
         * holding data-path="<pattern>" */
        char m[16];
        size_t k = 0;
        for (; t[i].method[k] && k < sizeof(m) - 1; k++)
            m[k] = (char)(t[i].method[k] | 0x20);
        m[k] = '\0';
        snprintf(want, sizeof(want), "data-path=\"%s\"", t[i].pattern);
        int found = 0;
        for (const char *p = strstr(dom, want); p && !found; p = strstr(p + 1, want)) {
            /* the block's opening tag comes before its path */
            const char *open = p;
            while (open > dom && strncmp(open, "class=\"opblock opblock-", 23) != 0)
                open--;
            found = strncmp(open + 23, m, k) == 0 && (open[23 + k] == '"' || open[23 + k] == ' ');
        }
        ck_assert_msg(found, "%s %s is not listed on /docs", t[i].method, t[i].pattern);
    }
    free(dom);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("docs");
    TCase *tc = tcase_create("docs");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, docs_served_by_nginx);
    tcase_add_test(tc, docs_list_every_route_in_chromium);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
