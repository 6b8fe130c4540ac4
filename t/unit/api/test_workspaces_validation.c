/* Unit tests for the request validation of the workspace and member
 * handlers (api_workspaces_parse_create, api_members_parse_add,
 * api_members_parse_role, api_trim): no server, no database. */
#include "api/api_members.h"
#include "api/api_workspaces.h"
#include "core/arena.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct arena *a;
static struct request rq;
static struct response rs;

static void setup(void)
{
    a = arena_new(0);
    ck_assert_ptr_nonnull(a);
    memset(&rq, 0, sizeof(rq));
    memset(&rs, 0, sizeof(rs));
    rq.arena = a;
}

static void teardown(void)
{
    arena_free(a);
}

static cJSON *body(const char *text)
{
    cJSON *j = arena_json(a, cJSON_Parse(text));
    ck_assert_msg(j != NULL, "bad test JSON %s", text);
    return j;
}

/* True when the details name field. */
static int has_detail(const char *field)
{
    cJSON *it;
    cJSON_ArrayForEach(it, rs.details)
    {
        cJSON *f = cJSON_GetObjectItem(it, "field");
        if (cJSON_IsString(f) && strcmp(f->valuestring, field) == 0)
            return 1;
    }
    return 0;
}

static char *repeat(const char *unit, int n)
{
    size_t ul = strlen(unit);
    char *s = arena_alloc(a, ul * (size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < n; i++)
        memcpy(s + ul * (size_t)i, unit, ul);
    return s;
}

START_TEST(trim)
{
    ck_assert_str_eq(api_trim(a, "  a b \t\r\n"), "a b");
    ck_assert_str_eq(api_trim(a, ""), "");
    ck_assert_str_eq(api_trim(a, " \t "), "");
    ck_assert_str_eq(api_trim(a, "x"), "x");
    /* not ASCII whitespace: kept */
    ck_assert_str_eq(api_trim(a, "\xc2\xa0x"), "\xc2\xa0x");
}
END_TEST

START_TEST(create_ok)
{
    struct ws_new in;
    ck_assert_int_eq(api_workspaces_parse_create(
                         &rq, &rs,
                         body("{\"name\":\"  Team \",\"description\":\" d \",\"provider\":\"snow\","
                              "\"provider_project\":\"  Space 1 \",\"extra\":1}"),
                         &in),
                     WSMS_OK);
    ck_assert(!resp_has_details(&rs));
    ck_assert_str_eq(in.name, "Team");
    ck_assert_str_eq(in.description, " d ");
    ck_assert_str_eq(in.provider, "SNOW");
    ck_assert_str_eq(in.provider_project, "Space 1");
}
END_TEST

START_TEST(create_minimal)
{
    struct ws_new in;
    ck_assert_int_eq(
        api_workspaces_parse_create(&rq, &rs,
                                    body("{\"name\":\"x\",\"description\":null,\"provider\":null,"
                                         "\"provider_project\":\"\"}"),
                                    &in),
        WSMS_OK);
    ck_assert_str_eq(in.name, "x");
    ck_assert_ptr_null(in.description);
    ck_assert_ptr_null(in.provider);
    ck_assert_ptr_null(in.provider_project);
}
END_TEST

START_TEST(create_providers)
{
    static const char *const in_names[] = {"jira", "JIRA", "Ado", "ADO", "snow", "Sp", "sp"};
    static const char *const want[] = {"Jira", "Jira", "ADO", "ADO", "SNOW", "SP", "SP"};
    for (size_t i = 0; i < sizeof(in_names) / sizeof(*in_names); i++) {
        struct ws_new in;
        char text[128];
        memset(&rs, 0, sizeof(rs));
        snprintf(text, sizeof(text),
                 "{\"name\":\"n\",\"provider\":\"%s\",\"provider_project\":\"p\"}", in_names[i]);
        ck_assert_int_eq(api_workspaces_parse_create(&rq, &rs, body(text), &in), WSMS_OK);
        ck_assert_str_eq(in.provider, want[i]);
    }
}
END_TEST

START_TEST(create_name_lengths)
{
    struct ws_new in;
    char text[2048];
    /* 255 two-byte characters are 255 characters */
    snprintf(text, sizeof(text), "{\"name\":\" %s \"}", repeat("\xc3\xa9", 255));
    ck_assert_int_eq(api_workspaces_parse_create(&rq, &rs, body(text), &in), WSMS_OK);
    ck_assert_int_eq((int)strlen(in.name), 510);
    memset(&rs, 0, sizeof(rs));
    snprintf(text, sizeof(text), "{\"name\":\"%s\"}", repeat("\xf0\x9f\x98\x80", 256));
    ck_assert_int_eq(api_workspaces_parse_create(&rq, &rs, body(text), &in), E_VALIDATION_ERROR);
    ck_assert(has_detail("name"));
    ck_assert_int_eq(rs.err, E_VALIDATION_ERROR);
}
END_TEST

START_TEST(create_description_length)
{
    struct ws_new in;
    char *text = arena_printf(a, "{\"name\":\"n\",\"description\":\"%s\"}", repeat("x", 4000));
    ck_assert_int_eq(api_workspaces_parse_create(&rq, &rs, body(text), &in), WSMS_OK);
    memset(&rs, 0, sizeof(rs));
    text = arena_printf(a, "{\"name\":\"n\",\"description\":\"%s\"}", repeat("x", 4001));
    ck_assert_int_eq(api_workspaces_parse_create(&rq, &rs, body(text), &in), E_VALIDATION_ERROR);
    ck_assert(has_detail("description"));
}
END_TEST

static const struct {
    const char *json;
    const char *fields[3];
} create_bad[] = {
    {"{}", {"name"}},
    {"{\"name\":null}", {"name"}},
    {"{\"name\":\"\"}", {"name"}},
    {"{\"name\":\" \\n\\t \"}", {"name"}},
    {"{\"name\":1}", {"name"}},
    {"{\"name\":false}", {"name"}},
    {"{\"name\":[]}", {"name"}},
    {"{\"name\":{}}", {"name"}},
    {"{\"name\":\"n\",\"description\":2}", {"description"}},
    {"{\"name\":\"n\",\"description\":[\"d\"]}", {"description"}},
    {"{\"name\":\"n\",\"provider\":\"Trello\",\"provider_project\":\"p\"}", {"provider"}},
    {"{\"name\":\"n\",\"provider\":\"\",\"provider_project\":\"p\"}", {"provider"}},
    {"{\"name\":\"n\",\"provider\":true,\"provider_project\":\"p\"}", {"provider"}},
    {"{\"name\":\"n\",\"provider\":\"Jira\"}", {"provider_project"}},
    {"{\"name\":\"n\",\"provider\":\"Jira\",\"provider_project\":null}", {"provider_project"}},
    {"{\"name\":\"n\",\"provider\":\"Jira\",\"provider_project\":\"   \"}", {"provider_project"}},
    {"{\"name\":\"n\",\"provider\":\"Jira\",\"provider_project\":{}}", {"provider_project"}},
    {"{\"name\":\"n\",\"provider_project\":\"p\"}", {"provider"}},
    {"{\"name\":\"\",\"description\":7,\"provider\":\"x\"}", {"name", "description", "provider"}},
};

START_TEST(create_rejects)
{
    struct ws_new in;
    memset(&rs, 0, sizeof(rs));
    ck_assert_int_eq(api_workspaces_parse_create(&rq, &rs, body(create_bad[_i].json), &in),
                     E_VALIDATION_ERROR);
    int n = 0;
    for (int k = 0; k < 3 && create_bad[_i].fields[k]; k++, n++)
        ck_assert_msg(has_detail(create_bad[_i].fields[k]), "%s: no detail for %s",
                      create_bad[_i].json, create_bad[_i].fields[k]);
    ck_assert_msg(n <= cJSON_GetArraySize(rs.details), "%s", create_bad[_i].json);
}
END_TEST

START_TEST(create_project_too_long)
{
    struct ws_new in;
    char *text = arena_printf(
        a, "{\"name\":\"n\",\"provider\":\"ADO\",\"provider_project\":\"%s\"}", repeat("p", 256));
    ck_assert_int_eq(api_workspaces_parse_create(&rq, &rs, body(text), &in), E_VALIDATION_ERROR);
    ck_assert(has_detail("provider_project"));
}
END_TEST

START_TEST(create_invalid_utf8)
{
    struct ws_new in;
    cJSON *j = arena_json(a, cJSON_CreateObject());
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(j, "name", "bad \xff byte"));
    ck_assert_int_eq(api_workspaces_parse_create(&rq, &rs, j, &in), E_VALIDATION_ERROR);
    ck_assert(has_detail("name"));
}
END_TEST

START_TEST(member_add_ok)
{
    const char *email, *dn;
    enum role role;
    ck_assert_int_eq(api_members_parse_add(&rq, &rs,
                                           body("{\"user_email\":\" Ann.Lee@Example.COM \","
                                                "\"role\":\"admin\",\"display_name\":\" Ann \"}"),
                                           &email, &role, &dn),
                     WSMS_OK);
    ck_assert_str_eq(email, "ann.lee@example.com");
    ck_assert_int_eq(role, ROLE_ADMIN);
    ck_assert_str_eq(dn, "Ann");
    memset(&rs, 0, sizeof(rs));
    ck_assert_int_eq(
        api_members_parse_add(&rq, &rs,
                              body("{\"user_email\":\"b@example.org\",\"role\":\"OWNER\","
                                   "\"display_name\":null}"),
                              &email, &role, &dn),
        WSMS_OK);
    ck_assert_int_eq(role, ROLE_OWNER);
    ck_assert_ptr_null(dn);
}
END_TEST

static const struct {
    const char *json;
    wsms_err want;
    const char *field;
} add_bad[] = {
    {"{\"role\":\"VIEWER\"}", E_VALIDATION_ERROR, "user_email"},
    {"{\"user_email\":\"nope\",\"role\":\"VIEWER\"}", E_VALIDATION_ERROR, "user_email"},
    {"{\"user_email\":\"a@b\",\"role\":\"VIEWER\"}", E_VALIDATION_ERROR, "user_email"},
    {"{\"user_email\":\"a b@c.de\",\"role\":\"VIEWER\"}", E_VALIDATION_ERROR, "user_email"},
    {"{\"user_email\":true,\"role\":\"VIEWER\"}", E_VALIDATION_ERROR, "user_email"},
    {"{\"user_email\":\"a@c.de\"}", E_VALIDATION_ERROR, "role"},
    {"{\"user_email\":\"a@c.de\",\"role\":1}", E_VALIDATION_ERROR, "role"},
    {"{\"user_email\":\"a@c.de\",\"role\":\"ROOT\"}", E_INVALID_ROLE, "role"},
    {"{\"user_email\":\"a@c.de\",\"role\":\"NONE\"}", E_INVALID_ROLE, "role"},
    {"{\"user_email\":\"a@c.de\",\"role\":\"\"}", E_INVALID_ROLE, "role"},
    {"{\"user_email\":\"a@c.de\",\"role\":\"VIEWER\",\"display_name\":[]}", E_VALIDATION_ERROR,
     "display_name"},
    {"{\"user_email\":\"nope\",\"role\":\"ROOT\"}", E_VALIDATION_ERROR, "role"},
};

START_TEST(member_add_rejects)
{
    const char *email, *dn;
    enum role role;
    memset(&rs, 0, sizeof(rs));
    ck_assert_int_eq(api_members_parse_add(&rq, &rs, body(add_bad[_i].json), &email, &role, &dn),
                     add_bad[_i].want);
    ck_assert_int_eq(rs.err, add_bad[_i].want);
    ck_assert_msg(has_detail(add_bad[_i].field), "%s", add_bad[_i].json);
}
END_TEST

START_TEST(member_role)
{
    enum role role;
    ck_assert_int_eq(api_members_parse_role(&rq, &rs, body("{\"role\":\"viewer\"}"), &role),
                     WSMS_OK);
    ck_assert_int_eq(role, ROLE_VIEWER);
    memset(&rs, 0, sizeof(rs));
    ck_assert_int_eq(api_members_parse_role(&rq, &rs, body("{\"role\":\"x\"}"), &role),
                     E_INVALID_ROLE);
    memset(&rs, 0, sizeof(rs));
    ck_assert_int_eq(api_members_parse_role(&rq, &rs, body("{}"), &role), E_VALIDATION_ERROR);
    memset(&rs, 0, sizeof(rs));
    ck_assert_int_eq(api_members_parse_role(&rq, &rs, body("{\"role\":[\"ADMIN\"]}"), &role),
                     E_VALIDATION_ERROR);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("workspaces_validation");
    TCase *t = tcase_create("validation");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, trim);
    tcase_add_test(t, create_ok);
    tcase_add_test(t, create_minimal);
    tcase_add_test(t, create_providers);
    tcase_add_test(t, create_name_lengths);
    tcase_add_test(t, create_description_length);
    tcase_add_loop_test(t, create_rejects, 0, (int)(sizeof(create_bad) / sizeof(*create_bad)));
    tcase_add_test(t, create_project_too_long);
    tcase_add_test(t, create_invalid_utf8);
    tcase_add_test(t, member_add_ok);
    tcase_add_loop_test(t, member_add_rejects, 0, (int)(sizeof(add_bad) / sizeof(*add_bad)));
    tcase_add_test(t, member_role);
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
