/* Bad input through nginx -> wsmsd: NUL and other control characters in
 * JSON string fields and query parameters (422 naming the field, nothing
 * stored), duplicate JSON keys (400), and the JSON error shape of every
 * status nginx answers itself (414 request line, its own 404). */
#include "client.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long my_total(const struct tc_user *u)
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, "GET", "/workspaces?limit=1", NULL), 0);
    EXPECT(&r, 200, NULL);
    const char *t = tc_header(&r, "X-Total-Count");
    ck_assert_ptr_nonnull(t);
    long n = strtol(t, NULL, 10);
    tc_free(&r);
    return n;
}

/* The first validation detail's field of an error body, or "". */
static const char *detail_field(const struct tresp *r)
{
    const char *f =
        tc_jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "details"), 0), "field");
    return f ? f : "";
}

static void expect_422_field(const struct tc_user *u, const char *method, const char *path,
                             const char *body, const char *field)
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, method, path, body), 0);
    ck_assert_msg(r.status == 422, "%s %s %s: want 422, got %ld: %s", method, path,
                  body ? body : "", r.status, r.body);
    ck_assert_str_eq(tc_error_code(&r), "VALIDATION_ERROR");
    ck_assert_msg(strcmp(detail_field(&r), field) == 0, "%s: want field %s: %s", body ? body : path,
                  field, r.body);
    tc_free(&r);
}

START_TEST(control_chars_in_body_422)
{
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"name\":\"a\\u0000b\"}", "name"},
        {"{\"name\":\"a\\u0000\"}", "name"},
        {"{\"name\":\"\\u0000\"}", "name"},
        {"{\"name\":\"a\\u0001b\"}", "name"},
        {"{\"name\":\"a\\u001fb\"}", "name"},
        {"{\"name\":\"a\\u007fb\"}", "name"},
        {"{\"name\":\"a\\u0085b\"}", "name"},
        {"{\"name\":\"a\\rb\"}", "name"},
        {"{\"name\":\"a\\nb\"}", "name"},
        {"{\"name\":\"a\\tb\"}", "name"},
        {"{\"name\":\"ok\",\"description\":\"x\\u0000y\"}", "description"},
        {"{\"name\":\"ok\",\"description\":\"x\\u0007y\"}", "description"},
        {"{\"name\":\"ok\",\"provider\":\"Jira\",\"provider_project\":\"P\\u0000Q\"}",
         "provider_project"},
        {"{\"name\":\"ok\",\"provider\":\"Ji\\u0000ra\",\"provider_project\":\"P\"}", "provider"},
        /* fields the route does not read are checked too */
        {"{\"name\":\"ok\",\"extra\":{\"deep\":[\"fine\",\"b\\u0000d\"]}}", "extra.deep[1]"},
        {"{\"name\":\"ok\",\"k\\u0000ey\":1}", "body"},
        /* a raw (unescaped) control character is no better than an escaped one */
        {"{\"name\":\"a\x01b\"}", "name"},
    };
    struct tc_user u;
    tc_new_user(&u, "ctl");
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        expect_422_field(&u, "POST", "/workspaces", cases[i].body, cases[i].field);
    /* nothing was stored, not even truncated */
    ck_assert_int_eq(my_total(&u), 0);
    tc_user_free(&u);
}
END_TEST

START_TEST(allowed_whitespace_and_escaped_backslash)
{
    struct tc_user u;
    struct tresp r;
    char path[128];
    tc_new_user(&u, "ws");
    /* tab and newline are allowed in the description, kept as sent */
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces",
                           "{\"name\":\"tabs\",\"description\":\"line1\\nline2\\tend\"}"),
                     0);
    EXPECT(&r, 201, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "description"), "line1\nline2\tend");
    snprintf(path, sizeof(path), "/workspaces/%s", tc_jstr(r.json, "id"));
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "description"), "line1\nline2\tend");
    tc_free(&r);
    /* an escaped backslash followed by the text u0000 is no NUL */
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces", "{\"name\":\"a\\\\u0000b\"}"), 0);
    EXPECT(&r, 201, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "name"), "a\\u0000b");
    tc_free(&r);
    /* non-ASCII letters are not control characters */
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces", "{\"name\":\"caf\\u00e9 \xc3\xa9\"}"), 0);
    EXPECT(&r, 201, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "name"), "caf\xc3\xa9 \xc3\xa9");
    tc_free(&r);
    ck_assert_int_eq(my_total(&u), 3);
    tc_user_free(&u);
}
END_TEST

START_TEST(control_chars_in_members_422)
{
    struct tc_user u;
    struct tresp r;
    char path[128];
    tc_new_user(&u, "mem");
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces", "{\"name\":\"members\"}"), 0);
    EXPECT(&r, 201, NULL);
    snprintf(path, sizeof(path), "/workspaces/%s/members", tc_jstr(r.json, "id"));
    tc_free(&r);
    expect_422_field(&u, "POST", path,
                     "{\"user_email\":\"a@example.com\\u0000x\",\"role\":\"VIEWER\"}",
                     "user_email");
    expect_422_field(&u, "POST", path,
                     "{\"user_email\":\"a@example.com\",\"role\":\"VIEWER\","
                     "\"display_name\":\"A\\u0000B\"}",
                     "display_name");
    expect_422_field(&u, "POST", path,
                     "{\"user_email\":\"a@example.com\",\"role\":\"VIEWER\","
                     "\"display_name\":\"A\\nB\"}",
                     "display_name");
    expect_422_field(&u, "POST", path,
                     "{\"user_email\":\"a@example.com\",\"role\":\"VIEWER\\u0000\"}", "role");
    ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "1");
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

START_TEST(duplicate_keys_400)
{
    static const char *const bodies[] = {
        "{\"name\":\"first\",\"name\":\"second\"}",
        "{\"name\":\"x\",\"description\":\"a\",\"description\":\"b\"}",
        "{\"name\":\"x\",\"extra\":{\"k\":1,\"k\":2}}",
        "{\"name\":\"x\",\"extra\":[{\"k\":1},{\"a\":1,\"k\":2,\"k\":3}]}",
    };
    struct tc_user u;
    struct tresp r;
    tc_new_user(&u, "dup");
    for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
        ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces", bodies[i]), 0);
        ck_assert_msg(r.status == 400, "%s: want 400, got %ld: %s", bodies[i], r.status, r.body);
        ck_assert_str_eq(tc_error_code(&r), "INVALID_REQUEST");
        tc_free(&r);
    }
    /* the same key in different objects is fine */
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces",
                           "{\"name\":\"x\",\"extra\":{\"name\":1,\"a\":{\"name\":2}}}"),
                     0);
    EXPECT(&r, 201, NULL);
    tc_free(&r);
    ck_assert_int_eq(my_total(&u), 1);
    tc_user_free(&u);
}
END_TEST

START_TEST(control_chars_in_query_422)
{
    struct tc_user u;
    struct tresp r;
    char path[160];
    tc_new_user(&u, "q");
    expect_422_field(&u, "GET", "/workspaces?limit=%00", NULL, "limit");
    expect_422_field(&u, "GET", "/workspaces?limit=1%00", NULL, "limit");
    expect_422_field(&u, "GET", "/workspaces?user_id=%01", NULL, "user_id");
    expect_422_field(&u, "GET", "/workspaces?x=%zz", NULL, "x");
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces", "{\"name\":\"audit\"}"), 0);
    EXPECT(&r, 201, NULL);
    snprintf(path, sizeof(path), "/workspaces/%s/audit?action=WORKSPACE_CREATED%%00x",
             tc_jstr(r.json, "id"));
    tc_free(&r);
    expect_422_field(&u, "GET", path, NULL, "action");
    tc_user_free(&u);
}
END_TEST

static void expect_nginx_json(const struct tresp *r, long status, const char *code)
{
    ck_assert_msg(r->status == status, "want %ld, got %ld: %.200s", status, r->status, r->body);
    ck_assert_msg(r->json != NULL, "not JSON: %.200s", r->body);
    ck_assert_str_eq(tc_error_code(r), code);
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(r->json, "message")));
}

START_TEST(nginx_own_errors_are_json)
{
    /* 5,000 query parameters: over nginx's request line limit */
    size_t n = 5000, cap = 16 + n * 8, used;
    char *path = malloc(cap);
    struct tresp r;
    ck_assert_ptr_nonnull(path);
    used = (size_t)snprintf(path, cap, "/health?");
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(path + used, cap - used, "p%zu=1&", i % 1000);
        ck_assert(w > 0 && (size_t)w < cap - used);
        used += (size_t)w;
    }
    ck_assert_int_eq(tc_request(&r, "GET", path, NULL, NULL), 0);
    free(path);
    expect_nginx_json(&r, 414, "INVALID_REQUEST");
    ck_assert_str_eq(tc_header(&r, "Content-Type"), "application/json");
    ck_assert_ptr_nonnull(tc_header(&r, "X-Request-Id"));
    tc_free(&r);
    /* nginx's own 404 (its internal error locations) */
    ck_assert_int_eq(tc_request(&r, "GET", "/__wsms_error/400", NULL, NULL), 0);
    expect_nginx_json(&r, 404, "NOT_FOUND");
    tc_free(&r);
    /* nginx keeps serving */
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    tc_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("input");
    TCase *t = tcase_create("bad input");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, control_chars_in_body_422);
    tcase_add_test(t, allowed_whitespace_and_escaped_backslash);
    tcase_add_test(t, control_chars_in_members_422);
    tcase_add_test(t, duplicate_keys_400);
    tcase_add_test(t, control_chars_in_query_422);
    tcase_add_test(t, nginx_own_errors_are_json);
    suite_add_tcase(s, t);
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
