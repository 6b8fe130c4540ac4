/* http: request helpers (headers, query, pagination, JSON bodies) and the
 * response helpers, on requests built in memory. */
#include "core/arena.h"
#include "http/http.h"

#include <check.h>
#include <string.h>

static struct arena *a;
static struct request rq;
static struct response rs;
static char *params[8];

static void setup(const char *query, const char *body)
{
    a = arena_new(0);
    memset(&rq, 0, sizeof(rq));
    memset(&rs, 0, sizeof(rs));
    params[0] = "HTTP_AUTHORIZATION=Bearer abc";
    params[1] = "HTTP_X_PMA_TOKEN=pma";
    params[2] = "HTTP_X_AUTHORIZATION_EXTRA=no";
    params[3] = NULL;
    rq.arena = a;
    rq.params = params;
    rq.query = query;
    rq.body = body;
    rq.body_len = body ? strlen(body) : 0;
}

START_TEST(headers_by_name)
{
    setup("", NULL);
    ck_assert_str_eq(req_header(&rq, "Authorization"), "Bearer abc");
    ck_assert_str_eq(req_header(&rq, "x-pma-token"), "pma");
    ck_assert_ptr_null(req_header(&rq, "X-Missing"));
    arena_free(a);
}
END_TEST

START_TEST(query_decoding)
{
    setup("a=1&name=J%C3%BCrgen+X&empty&action=MEMBER_ADDED&bad=%zz", NULL);
    ck_assert_str_eq(req_query(&rq, "a"), "1");
    ck_assert_str_eq(req_query(&rq, "name"), "J\xc3\xbcrgen X");
    ck_assert_str_eq(req_query(&rq, "empty"), "");
    ck_assert_str_eq(req_query(&rq, "action"), "MEMBER_ADDED");
    ck_assert_ptr_null(req_query(&rq, "bad"));
    ck_assert_ptr_null(req_query(&rq, "nope"));
    ck_assert_ptr_null(http_decode_path(a, "/a%00b", 6));
    ck_assert_str_eq(http_decode_path(a, "/a%2Fb", 6), "/a/b");
    arena_free(a);
}
END_TEST

START_TEST(pagination)
{
    long limit, offset;
    setup("", NULL);
    ck_assert_int_eq(req_pagination(&rq, &rs, &limit, &offset), WSMS_OK);
    ck_assert_int_eq(limit, 50);
    ck_assert_int_eq(offset, 0);
    arena_free(a);
    setup("limit=200&offset=7", NULL);
    ck_assert_int_eq(req_pagination(&rq, &rs, &limit, &offset), WSMS_OK);
    ck_assert_int_eq(limit, 200);
    ck_assert_int_eq(offset, 7);
    arena_free(a);
    static const char *bad[] = {"limit=0",   "limit=201",  "limit=-1",
                                "limit=abc", "offset=-5",  "limit=99999999999999999999",
                                "limit=",    "offset=1.5", NULL};
    for (int i = 0; bad[i]; i++) {
        setup(bad[i], NULL);
        ck_assert_int_eq(req_pagination(&rq, &rs, &limit, &offset), E_VALIDATION_ERROR);
        ck_assert(resp_has_details(&rs));
        arena_free(a);
    }
}
END_TEST

START_TEST(json_bodies)
{
    cJSON *j;
    setup("", "{\"name\":\"x\"}");
    ck_assert_int_eq(req_json_object(&rq, &rs, &j), WSMS_OK);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "name")->valuestring, "x");
    arena_free(a);
    static const char *bad[] = {"[1,2]", "{\"a\":", "{} x", "\"str\"", "", "null", NULL};
    for (int i = 0; bad[i]; i++) {
        setup("", *bad[i] ? bad[i] : NULL);
        ck_assert_int_eq(req_json_object(&rq, &rs, &j), E_INVALID_REQUEST);
        arena_free(a);
    }
}
END_TEST

START_TEST(responses)
{
    setup("", NULL);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "k", "v");
    ck_assert_int_eq(resp_json(&rq, &rs, 201, o), WSMS_OK);
    ck_assert_int_eq(rs.status, 201);
    ck_assert_str_eq(rs.body, "{\"k\":\"v\"}");
    for (int i = 0; i < RESP_MAX_HEADERS; i++)
        ck_assert_int_eq(resp_header(&rq, &rs, "X-N", "1"), 0);
    ck_assert_int_eq(resp_header(&rq, &rs, "X-N", "1"), -1);
    ck_assert_int_eq(resp_error(&rs, E_LAST_OWNER, NULL), E_LAST_OWNER);
    ck_assert_int_eq(err_status(E_LAST_OWNER), 409);
    ck_assert_str_eq(err_code(E_LAST_OWNER), "LAST_OWNER");
    ck_assert_int_eq(err_status(E_DATABASE_CONNECTION_ERROR), 503);
    ck_assert_int_eq(role_parse("owner"), ROLE_OWNER);
    ck_assert_int_eq(role_parse("GOD"), ROLE_NONE);
    ck_assert_str_eq(role_name(ROLE_VIEWER), "VIEWER");
    arena_free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_add_test(tc, headers_by_name);
    tcase_add_test(tc, query_decoding);
    tcase_add_test(tc, pagination);
    tcase_add_test(tc, json_bodies);
    tcase_add_test(tc, responses);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
