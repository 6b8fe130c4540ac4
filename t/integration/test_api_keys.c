/* Workspace API keys through nginx -> spawn-fcgi -> wsmsd: creation
 * (validation, ADMIN+ only, the key shown once), listing without secrets,
 * the scope matrix (read / write / admin against VIEWER, ADMIN and OWNER
 * routes), refusal on routes without a workspace, on /auth/ routes and on other
 * workspaces, malformed and wrong keys, revocation on the next request,
 * expiry with a clock moved by the test hook (no sleeping), the audit
 * actor apikey:<id>, last_used_at, and the key never in the worker log. */
#include "client.h"
#include "core/util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct key {
    char id[64];
    char key[128];
};

static void create_ws(const struct tc_user *u, char id[64])
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, "POST", "/workspaces", "{\"name\":\"keys\"}"), 0);
    EXPECT(&r, 201, NULL);
    snprintf(id, 64, "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
}

static void new_key(const struct tc_user *u, const char *ws, const char *scopes, int days,
                    struct key *k)
{
    char path[160], body[256];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s/api-keys", ws);
    snprintf(body, sizeof(body), "{\"name\":\"ci key\",\"scopes\":%s,\"expires_in_days\":%d}",
             scopes, days);
    ck_assert_int_eq(tc_as(&r, u, "POST", path, body), 0);
    EXPECT(&r, 201, NULL);
    const char *key = tc_jstr(r.json, "key");
    ck_assert_ptr_nonnull(key);
    ck_assert_msg(strncmp(key, "wsk_", 4) == 0, "key %.8s...", key);
    ck_assert_ptr_nonnull(tc_jstr(r.json, "key_prefix"));
    ck_assert(strstr(key, tc_jstr(r.json, "key_prefix")) != NULL);
    snprintf(k->id, sizeof(k->id), "%s", tc_jstr(r.json, "id"));
    snprintf(k->key, sizeof(k->key), "%s", key);
    tc_free(&r);
}

/* A request with Authorization: ApiKey <key> and an optional extra header. */
static void as_key(struct tresp *r, const char *key, const char *method, const char *path,
                   const char *body, const char *extra)
{
    char authz[256];
    const char *h[4] = {authz, NULL, NULL, NULL};
    int n = 1;
    snprintf(authz, sizeof(authz), "Authorization: ApiKey %s", key);
    if (body)
        h[n++] = "Content-Type: application/json";
    if (extra)
        h[n++] = extra;
    ck_assert_int_eq(tc_request(r, method, path, body, h), 0);
}

static void expect_key(const char *key, const char *method, const char *path, const char *body,
                       long st, const char *code)
{
    struct tresp r;
    as_key(&r, key, method, path, body, NULL);
    EXPECT(&r, st, code);
    tc_free(&r);
}

START_TEST(create_validate_and_list)
{
    struct tc_user o, m;
    char ws[64], path[160], mpath[160];
    struct key k;
    struct tresp r;
    tc_new_user(&o, "keys-owner");
    tc_new_user(&m, "keys-member");
    create_ws(&o, ws);
    snprintf(path, sizeof(path), "/workspaces/%s/api-keys", ws);
    static const char *const bad[] = {
        "{\"scopes\":[\"read\"],\"expires_in_days\":30}",
        "{\"name\":\"\",\"scopes\":[\"read\"],\"expires_in_days\":30}",
        "{\"name\":\"x\",\"scopes\":[],\"expires_in_days\":30}",
        "{\"name\":\"x\",\"scopes\":[\"bogus\"],\"expires_in_days\":30}",
        "{\"name\":\"x\",\"scopes\":[\"read,write\"],\"expires_in_days\":30}",
        "{\"name\":\"x\",\"scopes\":[\"read\"]}",
        "{\"name\":\"x\",\"scopes\":[\"read\"],\"expires_in_days\":0}",
        "{\"name\":\"x\",\"scopes\":[\"read\"],\"expires_in_days\":366}",
        "{\"name\":\"x\",\"scopes\":[\"read\"],\"expires_in_days\":1.5}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(tc_as(&r, &o, "POST", path, bad[i]), 0);
        ck_assert_msg(r.status == 422, "%s: %ld", bad[i], r.status);
        tc_free(&r);
    }
    new_key(&o, ws, "[\"read\",\"write\"]", 365, &k);

    /* a MEMBER may not create or list keys */
    snprintf(mpath, sizeof(mpath), "/workspaces/%s/members", ws);
    char body[256];
    snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"MEMBER\"}", m.email);
    ck_assert_int_eq(tc_as(&r, &o, "POST", mpath, body), 0);
    EXPECT(&r, 201, NULL);
    tc_free(&r);
    ck_assert_int_eq(
        tc_as(&r, &m, "POST", path, "{\"name\":\"x\",\"scopes\":[\"read\"],\"expires_in_days\":1}"),
        0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &m, "GET", path, NULL), 0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);

    /* the list has the key without its secret */
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    cJSON *it = cJSON_GetArrayItem(r.json, 0);
    ck_assert_str_eq(tc_jstr(it, "id"), k.id);
    ck_assert_ptr_null(cJSON_GetObjectItem(it, "key"));
    ck_assert_ptr_null(cJSON_GetObjectItem(it, "secret_hash"));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(it, "scopes")), 2);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(it, "last_used_at")));
    /* wsk_<16 hex>_<secret>: the secret may itself hold '_' */
    const char *secret = k.key + 4 + 16 + 1;
    ck_assert_msg(strstr(r.body, secret) == NULL, "secret in the list");
    tc_free(&r);
    tc_user_free(&o);
    tc_user_free(&m);
}
END_TEST

START_TEST(scope_matrix)
{
    struct tc_user o, other;
    char ws[64], ows[64], p_ws[160], p_mem[160], p_audit[160], p_keys[160], p_other[160];
    struct key rd, wr, ad;
    tc_new_user(&o, "matrix");
    tc_new_user(&other, "matrix-other");
    create_ws(&o, ws);
    create_ws(&other, ows);
    new_key(&o, ws, "[\"read\"]", 30, &rd);
    new_key(&o, ws, "[\"write\"]", 30, &wr);
    new_key(&o, ws, "[\"admin\"]", 30, &ad);
    snprintf(p_ws, sizeof(p_ws), "/workspaces/%s", ws);
    snprintf(p_mem, sizeof(p_mem), "/workspaces/%s/members", ws);
    snprintf(p_audit, sizeof(p_audit), "/workspaces/%s/audit", ws);
    snprintf(p_keys, sizeof(p_keys), "/workspaces/%s/api-keys", ws);
    snprintf(p_other, sizeof(p_other), "/workspaces/%s", ows);

    const struct key *all[] = {&rd, &wr, &ad};
    for (int i = 0; i < 3; i++) {
        /* VIEWER routes: every scope */
        expect_key(all[i]->key, "GET", p_ws, NULL, 200, NULL);
        expect_key(all[i]->key, "GET", p_mem, NULL, 200, NULL);
        /* OWNER routes: no key */
        expect_key(all[i]->key, "DELETE", p_ws, NULL, 403, "INSUFFICIENT_PERMISSIONS");
        /* not on routes without a workspace, /auth/..., other workspaces */
        expect_key(all[i]->key, "GET", "/workspaces", NULL, 401, "INVALID_API_KEY");
        expect_key(all[i]->key, "POST", "/me/sessions/revoke", NULL, 401, "INVALID_API_KEY");
        expect_key(all[i]->key, "POST", "/auth/validate", NULL, 401, "TOKEN_VALIDATION_FAILED");
        expect_key(all[i]->key, "POST", "/auth/refresh", NULL, 401, NULL);
        expect_key(all[i]->key, "GET", p_other, NULL, 401, "INVALID_API_KEY");
    }
    /* ADMIN routes: admin only */
    char body[160];
    snprintf(body, sizeof(body), "{\"user_email\":\"k-%.8s@example.com\",\"role\":\"VIEWER\"}", ws);
    expect_key(rd.key, "POST", p_mem, body, 403, "INSUFFICIENT_PERMISSIONS");
    expect_key(wr.key, "POST", p_mem, body, 403, "INSUFFICIENT_PERMISSIONS");
    expect_key(ad.key, "POST", p_mem, body, 201, NULL);
    expect_key(rd.key, "GET", p_audit, NULL, 403, "INSUFFICIENT_PERMISSIONS");
    expect_key(wr.key, "GET", p_keys, NULL, 403, "INSUFFICIENT_PERMISSIONS");
    expect_key(ad.key, "GET", p_keys, NULL, 200, NULL);

    /* the key is the actor in the audit */
    struct tresp r;
    char actor[80], want[256];
    snprintf(actor, sizeof(actor), "apikey:%s", ad.id);
    snprintf(want, sizeof(want), "%s?action=MEMBER_ADDED", p_audit);
    as_key(&r, ad.key, "GET", want, NULL, NULL);
    EXPECT(&r, 200, NULL);
    cJSON *entries = cJSON_IsArray(r.json) ? r.json : cJSON_GetObjectItem(r.json, "items");
    int found = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        const char *a = tc_jstr(e, "actor_id");
        found += a && strcmp(a, actor) == 0;
    }
    ck_assert_msg(found == 1, "audit actor %s not found: %s", actor, r.body);
    tc_free(&r);

    /* malformed, wrong secret, wrong scheme spelling */
    expect_key("nonsense", "GET", p_ws, NULL, 401, "INVALID_API_KEY");
    char wrong[128];
    snprintf(wrong, sizeof(wrong), "%s", rd.key);
    size_t n = strlen(wrong);
    wrong[n - 1] = wrong[n - 1] == 'A' ? 'B' : 'A';
    expect_key(wrong, "GET", p_ws, NULL, 401, "INVALID_API_KEY");
    tc_user_free(&o);
    tc_user_free(&other);
}
END_TEST

START_TEST(revoke_expiry_last_used_and_log)
{
    struct tc_user o;
    char ws[64], p_ws[160], p_keys[160], p_del[224];
    struct key k, day;
    struct tresp r;
    tc_new_user(&o, "revoke-key");
    create_ws(&o, ws);
    new_key(&o, ws, "[\"read\"]", 30, &k);
    new_key(&o, ws, "[\"read\"]", 1, &day);
    snprintf(p_ws, sizeof(p_ws), "/workspaces/%s", ws);
    snprintf(p_keys, sizeof(p_keys), "/workspaces/%s/api-keys", ws);
    snprintf(p_del, sizeof(p_del), "/workspaces/%s/api-keys/%s", ws, k.id);

    /* last_used_at: set on first use, not rewritten within the minute */
    expect_key(k.key, "GET", p_ws, NULL, 200, NULL);
    ck_assert_int_eq(tc_as(&r, &o, "GET", p_keys, NULL), 0);
    char last[64] = "";
    cJSON *it;
    cJSON_ArrayForEach(it, r.json)
    {
        if (strcmp(tc_jstr(it, "id"), k.id) == 0 && tc_jstr(it, "last_used_at"))
            snprintf(last, sizeof(last), "%s", tc_jstr(it, "last_used_at"));
    }
    tc_free(&r);
    ck_assert_msg(last[0], "last_used_at not set");
    for (int i = 0; i < 4; i++)
        expect_key(k.key, "GET", p_ws, NULL, 200, NULL);
    ck_assert_int_eq(tc_as(&r, &o, "GET", p_keys, NULL), 0);
    cJSON_ArrayForEach(it, r.json)
    {
        if (strcmp(tc_jstr(it, "id"), k.id) == 0)
            ck_assert_str_eq(tc_jstr(it, "last_used_at"), last);
    }
    tc_free(&r);

    /* expiry, with the clock moved by the test hook */
    as_key(&r, day.key, "GET", p_ws, NULL, "X-Test-Clock-Offset: 86000");
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    as_key(&r, day.key, "GET", p_ws, NULL, "X-Test-Clock-Offset: 86401");
    EXPECT(&r, 401, "INVALID_API_KEY");
    tc_free(&r);

    /* revocation takes effect on the next request, on every worker */
    ck_assert_int_eq(tc_as(&r, &o, "DELETE", p_del, NULL), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    for (int i = 0; i < 8; i++)
        expect_key(k.key, "GET", p_ws, NULL, 401, "INVALID_API_KEY");
    ck_assert_int_eq(tc_as(&r, &o, "DELETE", p_del, NULL), 0);
    EXPECT(&r, 404, "RESOURCE_NOT_FOUND");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &o, "GET", p_keys, NULL), 0);
    cJSON_ArrayForEach(it, r.json)
    {
        if (strcmp(tc_jstr(it, "id"), k.id) == 0)
            ck_assert_ptr_nonnull(tc_jstr(it, "revoked_at"));
    }
    tc_free(&r);

    /* neither key nor secret in the worker log */
    char cmd[512];
    const char *dir = getenv("WSMS_STACK_DIR");
    ck_assert_ptr_nonnull(dir);
    const char *keys[] = {k.key, k.key + 21, day.key, day.key + 21};
    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof(cmd), "grep -qF -- '%s' '%s/wsmsd.log'", keys[i], dir);
        ck_assert_msg(system(cmd) != 0, "API key material in the worker log");
    }
    tc_user_free(&o);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("api_keys");
    TCase *tc = tcase_create("api_keys");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, create_validate_and_list);
    tcase_add_test(tc, scope_matrix);
    tcase_add_test(tc, revoke_expiry_last_used_and_log);
    suite_add_tcase(s, tc);
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
