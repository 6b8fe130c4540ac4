/* Workspaces and audit through the real stack: create (validation,
 * atomicity under an injected failure, visibility before commit, 50 in
 * parallel), list (pagination, bounded queries, user_id), get (shape,
 * last_seen_utc, bounded queries, bad ids), delete (soft, then 404
 * everywhere), the audit log, and the role matrix of every workspace route.
 * Some checks read the database directly (the stack's own settings) to
 * prove that nothing was left behind. */
#include "core/arena.h"
#include "client.h"
#include "core/config.h"
#include "data/db.h"
#include "core/util.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void create_body(const struct tc_user *u, const char *body, char id[64])
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, "POST", "/workspaces", body), 0);
    EXPECT(&r, 201, NULL);
    ck_assert_ptr_nonnull(tc_jstr(r.json, "id"));
    snprintf(id, 64, "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
}

static void create_ws(const struct tc_user *u, const char *name, char id[64])
{
    char body[512];
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    create_body(u, body, id);
}

/* Adds email with role to ws as u; the member id into mid (may be NULL). */
static void add_member(const struct tc_user *u, const char *ws, const char *email, const char *role,
                       char mid[64])
{
    char path[256], body[512];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"%s\"}", email, role);
    ck_assert_int_eq(tc_as(&r, u, "POST", path, body), 0);
    EXPECT(&r, 201, NULL);
    if (mid)
        snprintf(mid, 64, "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
}

static long total_of(struct tresp *r)
{
    const char *t = tc_header(r, "X-Total-Count");
    ck_assert_msg(t != NULL, "no X-Total-Count");
    return strtol(t, NULL, 10);
}

static long my_workspace_count(const struct tc_user *u)
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, "GET", "/workspaces?limit=1", NULL), 0);
    EXPECT(&r, 200, NULL);
    long n = total_of(&r);
    tc_free(&r);
    return n;
}

/* The roles claim of a PMA token (payload decoded without verification). */
static cJSON *pma_roles(const char *tok)
{
    const char *a = strchr(tok, '.');
    const char *b = a ? strchr(a + 1, '.') : NULL;
    size_t n;
    ck_assert_ptr_nonnull(b);
    unsigned char *p = b64url_decode(a + 1, (size_t)(b - a - 1), &n);
    ck_assert_ptr_nonnull(p);
    cJSON *claims = cJSON_Parse((const char *)p);
    free(p);
    ck_assert_ptr_nonnull(claims);
    cJSON *roles = cJSON_DetachItemFromObjectCaseSensitive(claims, "roles");
    cJSON_Delete(claims);
    ck_assert(cJSON_IsObject(roles));
    return roles;
}

/* Direct database access with the stack's own settings. */
static struct arena *dba;

static void db_direct(void)
{
    char err[256], path[600];
    const char *dir = getenv("WSMS_STACK_DIR");
    ck_assert_ptr_nonnull(dir);
    snprintf(path, sizeof(path), "%s/wsms.env", dir);
    ck_assert_msg(config_load(CONFIG_MIGRATE, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(db_connect(), WSMS_OK);
    dba = arena_new(0);
    ck_assert_ptr_nonnull(dba);
}

static long long db_count(const char *sql, const char *arg)
{
    struct db_rows rows;
    wsms_err e = arg ? db_query(dba, &rows, sql, "s", arg) : db_query(dba, &rows, sql, "");
    ck_assert_msg(e == WSMS_OK, "query failed: %s", sql);
    return db_val_ll(&rows, 0, 0, -1);
}

/* Workspace schemas; on SQLite, where every workspace shares one set of
 * tables, the tables (a constant five) plus the shared integration rows. */
static long long ws_schema_count(void)
{
    if (strcmp(tc_db_type(), "sqlite") == 0)
        return db_count("SELECT (SELECT COUNT(*) FROM pmassist_master.sqlite_master WHERE type = "
                        "'table' AND name LIKE 'ws!_%' ESCAPE '!') + (SELECT COUNT(*) FROM "
                        "pmassist_master.ws__workspace_integrations)",
                        NULL);
    return db_count("SELECT COUNT(*) FROM information_schema.schemata "
                    "WHERE schema_name LIKE 'ws!_%' ESCAPE '!'",
                    NULL);
}

/* ------------------------------------------------------------------ */

START_TEST(create_full_shape)
{
    struct tc_user u;
    struct tresp r, g;
    char path[128];
    tc_new_user(&u, "shape");
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces",
                           "{\"name\":\"  Alpha  \",\"description\":\"first\","
                           "\"provider\":\"jira\",\"provider_project\":\" PROJ \"}"),
                     0);
    EXPECT(&r, 201, NULL);
    ck_assert_str_eq(tc_header(&r, "Content-Type"), "application/json");
    const char *id = tc_jstr(r.json, "id");
    char norm[GUID_LEN + 1], hex[33], schema[64], blob[80];
    ck_assert_ptr_nonnull(id);
    ck_assert_int_eq(guid_normalize(id, norm), 0);
    ck_assert_str_eq(norm, id);
    guid_hex32(id, hex);
    snprintf(schema, sizeof(schema), "ws_%s", hex);
    snprintf(blob, sizeof(blob), "workspaces/%s", id);
    ck_assert_str_eq(tc_jstr(r.json, "name"), "Alpha");
    ck_assert_str_eq(tc_jstr(r.json, "description"), "first");
    ck_assert_str_eq(tc_jstr(r.json, "created_by"), u.oid);
    ck_assert_str_eq(tc_jstr(r.json, "status"), "Active");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "is_active")));
    ck_assert_str_eq(tc_jstr(r.json, "db_schema_name"), schema);
    ck_assert_str_eq(tc_jstr(r.json, "blob_path"), blob);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "last_seen_utc")));
    const char *ca = tc_jstr(r.json, "created_at");
    ck_assert_ptr_nonnull(ca);
    ck_assert_int_eq((int)strlen(ca), 24);
    ck_assert_int_eq(ca[23], 'Z');
    ck_assert_str_eq(tc_jstr(r.json, "updated_at"), ca);

    cJSON *members = cJSON_GetObjectItem(r.json, "members");
    ck_assert_int_eq(cJSON_GetArraySize(members), 1);
    cJSON *m = cJSON_GetArrayItem(members, 0);
    ck_assert_str_eq(tc_jstr(m, "workspace_id"), id);
    ck_assert_str_eq(tc_jstr(m, "user_id"), u.oid);
    ck_assert_str_eq(tc_jstr(m, "user_email"), u.email);
    ck_assert_str_eq(tc_jstr(m, "display_name"), u.name);
    ck_assert_str_eq(tc_jstr(m, "role"), "OWNER");
    ck_assert_ptr_nonnull(tc_jstr(m, "id"));
    ck_assert_ptr_nonnull(tc_jstr(m, "added_at"));

    cJSON *links = cJSON_GetObjectItem(r.json, "external_links");
    ck_assert_int_eq(cJSON_GetArraySize(links), 1);
    cJSON *l = cJSON_GetArrayItem(links, 0);
    ck_assert_ptr_nonnull(tc_jstr(l, "id"));
    ck_assert_str_eq(tc_jstr(l, "workspace_id"), id);
    ck_assert_str_eq(tc_jstr(l, "provider"), "Jira");
    ck_assert_str_eq(tc_jstr(l, "integration_display_name"), "PROJ");
    ck_assert_str_eq(tc_jstr(l, "connection_status"), "Pending");
    ck_assert_str_eq(tc_jstr(l, "added_by_user_id"), u.oid);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(l, "url")));
    ck_assert_ptr_nonnull(tc_jstr(l, "added_utc"));

    /* the fresh PMA token already names the new workspace */
    const char *pma = tc_jstr(r.json, "pma_token");
    ck_assert_ptr_nonnull(pma);
    cJSON *roles = pma_roles(pma);
    ck_assert_str_eq(tc_jstr(roles, id), "OWNER");
    cJSON_Delete(roles);

    /* GET answers the same object (last_seen_utc aside) */
    snprintf(path, sizeof(path), "/workspaces/%s", id);
    ck_assert_int_eq(tc_as(&g, &u, "GET", path, NULL), 0);
    EXPECT(&g, 200, NULL);
    cJSON_DeleteItemFromObject(r.json, "pma_token");
    cJSON_DeleteItemFromObject(r.json, "last_seen_utc");
    ck_assert_ptr_nonnull(tc_jstr(g.json, "last_seen_utc"));
    cJSON_DeleteItemFromObject(g.json, "last_seen_utc");
    char *a = cJSON_PrintUnformatted(r.json), *b = cJSON_PrintUnformatted(g.json);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    tc_free(&g);
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

START_TEST(create_providers_canonical)
{
    static const char *const in[] = {"jira", "ado", "Snow", "sP", "JIRA"};
    static const char *const want[] = {"Jira", "ADO", "SNOW", "SP", "Jira"};
    struct tc_user u;
    tc_new_user(&u, "prov");
    for (size_t i = 0; i < sizeof(in) / sizeof(*in); i++) {
        char body[256];
        struct tresp r;
        snprintf(body, sizeof(body),
                 "{\"name\":\"p%zu\",\"provider\":\"%s\",\"provider_project\":\"X\"}", i, in[i]);
        ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces", body), 0);
        EXPECT(&r, 201, NULL);
        cJSON *l = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "external_links"), 0);
        ck_assert_str_eq(tc_jstr(l, "provider"), want[i]);
        tc_free(&r);
    }
    /* no provider: no link; null fields count as absent */
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces",
                           "{\"name\":\"none\",\"description\":null,\"provider\":null,"
                           "\"provider_project\":null}"),
                     0);
    EXPECT(&r, 201, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "external_links")), 0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "description")));
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

static char *repeat(const char *unit, int n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * (size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < n; i++)
        memcpy(s + ul * (size_t)i, unit, ul);
    s[ul * (size_t)n] = '\0';
    return s;
}

START_TEST(create_validation)
{
    char *n255 = repeat("\xc3\xa9", 255), *n256 = repeat("a", 256), *d4001 = repeat("d", 4001),
         *d4000 = repeat("\xe2\x82\xac", 4000), *p256 = repeat("p", 256);
    char b255[1024], b256[1024], bd4001[8192], bd4000[16384], bp256[1024];
    snprintf(b255, sizeof(b255), "{\"name\":\"%s\"}", n255);
    snprintf(b256, sizeof(b256), "{\"name\":\"%s\"}", n256);
    snprintf(bd4001, sizeof(bd4001), "{\"name\":\"x\",\"description\":\"%s\"}", d4001);
    snprintf(bd4000, sizeof(bd4000), "{\"name\":\"x\",\"description\":\"%s\"}", d4000);
    snprintf(bp256, sizeof(bp256),
             "{\"name\":\"x\",\"provider\":\"SP\",\"provider_project\":\"%s\"}", p256);
    struct {
        const char *body;
        int status;
        const char *code, *field;
    } cases[] = {
        {"{\"name\":\"\"}", 422, "VALIDATION_ERROR", "name"},
        {"{\"name\":\"   \\t \"}", 422, "VALIDATION_ERROR", "name"},
        {b256, 422, "VALIDATION_ERROR", "name"},
        {b255, 201, NULL, NULL},
        {"{}", 422, "VALIDATION_ERROR", "name"},
        {"{\"name\":null}", 422, "VALIDATION_ERROR", "name"},
        {"{\"name\":5}", 422, "VALIDATION_ERROR", "name"},
        {"{\"name\":true}", 422, "VALIDATION_ERROR", "name"},
        {"{\"name\":[\"a\"]}", 422, "VALIDATION_ERROR", "name"},
        {"{\"name\":{\"a\":1}}", 422, "VALIDATION_ERROR", "name"},
        {"{\"name\":\"x\",\"description\":5}", 422, "VALIDATION_ERROR", "description"},
        {"{\"name\":\"x\",\"description\":false}", 422, "VALIDATION_ERROR", "description"},
        {bd4001, 422, "VALIDATION_ERROR", "description"},
        {bd4000, 201, NULL, NULL},
        {"{\"name\":\"x\",\"provider\":\"GitHub\",\"provider_project\":\"p\"}", 422,
         "VALIDATION_ERROR", "provider"},
        {"{\"name\":\"x\",\"provider\":\"\",\"provider_project\":\"p\"}", 422, "VALIDATION_ERROR",
         "provider"},
        {"{\"name\":\"x\",\"provider\":7,\"provider_project\":\"p\"}", 422, "VALIDATION_ERROR",
         "provider"},
        {"{\"name\":\"x\",\"provider\":\"Jira\"}", 422, "VALIDATION_ERROR", "provider_project"},
        {"{\"name\":\"x\",\"provider\":\"Jira\",\"provider_project\":\"  \"}", 422,
         "VALIDATION_ERROR", "provider_project"},
        {"{\"name\":\"x\",\"provider\":\"Jira\",\"provider_project\":3}", 422, "VALIDATION_ERROR",
         "provider_project"},
        {"{\"name\":\"x\",\"provider_project\":\"p\"}", 422, "VALIDATION_ERROR", "provider"},
        {bp256, 422, "VALIDATION_ERROR", "provider_project"},
        {"[]", 400, "INVALID_REQUEST", NULL},
        {"[{\"name\":\"x\"}]", 400, "INVALID_REQUEST", NULL},
        {"\"name\"", 400, "INVALID_REQUEST", NULL},
        {"{\"name\":", 400, "INVALID_REQUEST", NULL},
        {"not json", 400, "INVALID_REQUEST", NULL},
    };
    struct tc_user u;
    tc_new_user(&u, "valid");
    long before = my_workspace_count(&u);
    long created = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct tresp r;
        ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces", cases[i].body), 0);
        ck_assert_msg(r.status == cases[i].status, "case %zu: want %d got %ld: %s", i,
                      cases[i].status, r.status, r.body);
        if (cases[i].status == 201)
            created++;
        if (cases[i].code)
            ck_assert_str_eq(tc_error_code(&r), cases[i].code);
        if (cases[i].code)
            ck_assert(cJSON_IsString(cJSON_GetObjectItem(r.json, "message")));
        if (cases[i].field) {
            cJSON *d = cJSON_GetObjectItem(r.json, "details");
            int found = 0;
            ck_assert_msg(cJSON_IsArray(d), "case %zu: no details", i);
            for (int k = 0; k < cJSON_GetArraySize(d); k++) {
                cJSON *it = cJSON_GetArrayItem(d, k);
                ck_assert(cJSON_IsString(cJSON_GetObjectItem(it, "message")));
                if (tc_jstr(it, "field") && strcmp(tc_jstr(it, "field"), cases[i].field) == 0)
                    found = 1;
            }
            ck_assert_msg(found, "case %zu: no detail for %s: %s", i, cases[i].field, r.body);
        }
        tc_free(&r);
    }
    /* two problems, two details */
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces", "{\"name\":\"\",\"description\":1}"), 0);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "details")), 2);
    tc_free(&r);
    ck_assert_int_eq(my_workspace_count(&u), before + created);
    free(n255);
    free(n256);
    free(d4001);
    free(d4000);
    free(p256);
    tc_user_free(&u);
}
END_TEST

START_TEST(create_needs_tokens)
{
    struct tresp r;
    const char *h[] = {"Content-Type: application/json", NULL};
    ck_assert_int_eq(tc_request(&r, "POST", "/workspaces", "{\"name\":\"x\"}", h), 0);
    ck_assert_int_eq(r.status, 401);
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "GET", "/workspaces", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 401);
    tc_free(&r);
}
END_TEST

START_TEST(list_pagination_and_order)
{
    struct tc_user u, other;
    char ids[3][64], foreign[64];
    struct tresp r;
    tc_new_user(&u, "list");
    tc_new_user(&other, "other");
    create_ws(&other, "not mine", foreign);
    create_body(&u, "{\"name\":\"one\",\"provider\":\"ADO\",\"provider_project\":\"P1\"}", ids[0]);
    create_ws(&u, "two", ids[1]);
    create_body(&u, "{\"name\":\"three\",\"provider\":\"SNOW\",\"provider_project\":\"P3\"}",
                ids[2]);
    ck_assert_int_eq(tc_as(&r, &u, "GET", "/workspaces", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 3);
    ck_assert(cJSON_IsArray(r.json));
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 3);
    /* newest first, each with its own external_links */
    for (int i = 0; i < 3; i++) {
        cJSON *w = cJSON_GetArrayItem(r.json, i);
        ck_assert_str_eq(tc_jstr(w, "id"), ids[2 - i]);
        cJSON *links = cJSON_GetObjectItem(w, "external_links");
        ck_assert(cJSON_IsArray(links));
        ck_assert_int_eq(cJSON_GetArraySize(links), i == 1 ? 0 : 1);
        if (i != 1)
            ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(links, 0), "workspace_id"), ids[2 - i]);
        ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(w, "is_active")));
    }
    ck_assert_str_eq(
        tc_jstr(cJSON_GetArrayItem(
                    cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 0), "external_links"), 0),
                "provider"),
        "SNOW");
    tc_free(&r);

    ck_assert_int_eq(tc_as(&r, &u, "GET", "/workspaces?limit=2&offset=0", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 3);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 1), "id"), ids[1]);
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &u, "GET", "/workspaces?limit=2&offset=2", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "id"), ids[0]);
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &u, "GET", "/workspaces?offset=10", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 0);
    ck_assert_int_eq(total_of(&r), 3);
    tc_free(&r);

    static const char *const bad[] = {
        "limit=0",   "limit=-1",  "limit=201", "limit=99999999999999999999",
        "limit=abc", "offset=-1", "limit=",    "offset=1.5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char path[128];
        snprintf(path, sizeof(path), "/workspaces?%s", bad[i]);
        ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
        ck_assert_msg(r.status == 422, "%s: %ld", bad[i], r.status);
        ck_assert_str_eq(tc_error_code(&r), "VALIDATION_ERROR");
        ck_assert(cJSON_IsArray(cJSON_GetObjectItem(r.json, "details")));
        tc_free(&r);
    }
    ck_assert_int_eq(tc_as(&r, &u, "GET", "/workspaces?limit=200", NULL), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    tc_user_free(&u);
    tc_user_free(&other);
}
END_TEST

START_TEST(list_user_id_param)
{
    struct tc_user u, other;
    char path[256];
    struct tresp r;
    tc_new_user(&u, "uid");
    tc_new_user(&other, "uid2");
    snprintf(path, sizeof(path), "/workspaces?user_id=%s", other.oid);
    ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
    EXPECT(&r, 403, "PERMISSION_DENIED");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces?user_id=%s", u.oid);
    ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    tc_user_free(&u);
    tc_user_free(&other);
}
END_TEST

/* Statements of the cheapest of several identical requests, so a worker's
 * first connection does not count. */
static long min_statements(const struct tc_user *u, const char *path)
{
    long best = -1;
    for (int i = 0; i < 8; i++) {
        struct tresp r;
        ck_assert_int_eq(tc_as(&r, u, "GET", path, NULL), 0);
        EXPECT(&r, 200, NULL);
        long n = tc_db_statements(&r);
        ck_assert_msg(n > 0, "no X-DB-Statements header");
        if (best < 0 || n < best)
            best = n;
        tc_free(&r);
    }
    return best;
}

START_TEST(bounded_queries)
{
    struct tc_user a, b;
    char id[64], small[64], big[64], path[128];
    tc_new_user(&a, "few");
    tc_new_user(&b, "many");
    create_body(&a, "{\"name\":\"a0\",\"provider\":\"Jira\",\"provider_project\":\"J\"}", id);
    create_ws(&a, "a1", id);
    for (int i = 0; i < 20; i++) {
        char body[128];
        if (i % 2)
            snprintf(body, sizeof(body), "{\"name\":\"b%d\"}", i);
        else
            snprintf(body, sizeof(body),
                     "{\"name\":\"b%d\",\"provider\":\"SP\",\"provider_project\":\"S%d\"}", i, i);
        create_body(&b, body, id);
    }
    long n2 = min_statements(&a, "/workspaces"), n20 = min_statements(&b, "/workspaces");
    ck_assert_msg(n2 == n20, "GET /workspaces: %ld statements for 2, %ld for 20", n2, n20);

    create_ws(&a, "one member", small);
    create_body(&a, "{\"name\":\"five\",\"provider\":\"ADO\",\"provider_project\":\"A\"}", big);
    for (int i = 0; i < 4; i++) {
        char email[64];
        snprintf(email, sizeof(email), "m%d-%.8s@example.com", i, big);
        add_member(&a, big, email, "VIEWER", NULL);
    }
    snprintf(path, sizeof(path), "/workspaces/%s", small);
    long m1 = min_statements(&a, path);
    snprintf(path, sizeof(path), "/workspaces/%s", big);
    long m5 = min_statements(&a, path);
    ck_assert_msg(m1 == m5, "GET /workspaces/{id}: %ld statements for 1 member, %ld for 5", m1, m5);
    tc_user_free(&a);
    tc_user_free(&b);
}
END_TEST

START_TEST(get_bad_ids)
{
    struct tc_user u;
    char id[64], upper[64], path[160];
    struct tresp r;
    tc_new_user(&u, "ids");
    create_ws(&u, "ids", id);
    static const char *const bad[] = {"not-a-guid", "123", "00000000-0000-0000-0000-00000000000g",
                                      "00000000000000000000000000000000",
                                      "5f0c1b2e-1111-4222-8333-444455556666"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        snprintf(path, sizeof(path), "/workspaces/%s", bad[i]);
        ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
        ck_assert_msg(r.status == 404, "%s: %ld", bad[i], r.status);
        ck_assert_str_eq(tc_error_code(&r), "WORKSPACE_NOT_FOUND");
        tc_free(&r);
        snprintf(path, sizeof(path), "/workspaces/%s/members", bad[i]);
        ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
        EXPECT(&r, 404, "WORKSPACE_NOT_FOUND");
        tc_free(&r);
    }
    /* any case is accepted */
    for (size_t i = 0; id[i]; i++)
        upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 : id[i]);
    upper[strlen(id)] = '\0';
    snprintf(path, sizeof(path), "/workspaces/%s", upper);
    ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "id"), id);
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

/* GET /workspaces/{id} sorts its members and integrations itself (the
 * statement has no ORDER BY): oldest first, as the member and
 * integration lists order them */
START_TEST(get_orders_members_and_links)
{
    struct tc_user u;
    struct tresp r, l;
    char ws[64], path[160], body[256];
    tc_new_user(&u, "getord");
    create_body(&u, "{\"name\":\"ordered\",\"provider\":\"Jira\",\"provider_project\":\"ORD\"}",
                ws);
    for (int i = 0; i < 5; i++) {
        char email[200];
        snprintf(email, sizeof(email), "ord-%d-%s", i, u.email);
        add_member(&u, ws, email, i % 2 ? "VIEWER" : "MEMBER", NULL);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "/workspaces/%s/integrations", ws);
        snprintf(body, sizeof(body),
                 "{\"provider\":\"ADO\",\"display_name\":\"ado %d\",\"external_id\":\"ORD-%d\"}", i,
                 i);
        ck_assert_int_eq(tc_as(&r, &u, "POST", path, body), 0);
        EXPECT(&r, 201, NULL);
        tc_free(&r);
    }
    snprintf(path, sizeof(path), "/workspaces/%s", ws);
    ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    static const char *const lists[][3] = {{"members", "members", "added_at"},
                                           {"external_links", "integrations", "added_utc"}};
    for (int k = 0; k < 2; k++) {
        cJSON *got = cJSON_GetObjectItem(r.json, lists[k][0]);
        int n = cJSON_GetArraySize(got);
        ck_assert_int_eq(n, k == 0 ? 6 : 4);
        snprintf(path, sizeof(path), "/workspaces/%s/%s", ws, lists[k][1]);
        ck_assert_int_eq(tc_as(&l, &u, "GET", path, NULL), 0);
        EXPECT(&l, 200, NULL);
        ck_assert_int_eq(cJSON_GetArraySize(l.json), n);
        for (int i = 0; i < n; i++) {
            cJSON *a = cJSON_GetArrayItem(got, i), *b = cJSON_GetArrayItem(l.json, i);
            ck_assert_str_eq(tc_jstr(a, "id"), tc_jstr(b, "id"));
            if (i > 0)
                ck_assert_int_le(strcmp(tc_jstr(cJSON_GetArrayItem(got, i - 1), lists[k][2]),
                                        tc_jstr(a, lists[k][2])),
                                 0);
        }
        tc_free(&l);
    }
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "members"), 0), "role"),
                     "OWNER");
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

START_TEST(get_last_seen_once_a_minute)
{
    struct tc_user u;
    char id[64], path[128], first[64];
    struct tresp r;
    tc_new_user(&u, "seen");
    create_ws(&u, "seen", id);
    snprintf(path, sizeof(path), "/workspaces/%s", id);
    ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_ptr_nonnull(tc_jstr(r.json, "last_seen_utc"));
    snprintf(first, sizeof(first), "%s", tc_jstr(r.json, "last_seen_utc"));
    tc_free(&r);
    usleep(50 * 1000);
    ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "last_seen_utc"), first);
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

START_TEST(delete_archives)
{
    struct tc_user u;
    char id[64], keep[64], path[128];
    struct tresp r;
    tc_new_user(&u, "del");
    create_ws(&u, "doomed", id);
    create_ws(&u, "kept", keep);
    snprintf(path, sizeof(path), "/workspaces/%s", id);
    ck_assert_int_eq(tc_as(&r, &u, "DELETE", path, NULL), 0);
    EXPECT(&r, 204, NULL);
    ck_assert_str_eq(r.body, "");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
    EXPECT(&r, 404, "WORKSPACE_NOT_FOUND");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &u, "DELETE", path, NULL), 0);
    EXPECT(&r, 404, "WORKSPACE_NOT_FOUND");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &u, "GET", "/workspaces", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 1);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "id"), keep);
    tc_free(&r);
    /* the fresh token no longer names it */
    ck_assert_int_eq(tc_user_refresh_pma(&u), 0);
    cJSON *roles = pma_roles(u.pma);
    ck_assert_ptr_null(cJSON_GetObjectItem(roles, id));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(roles, keep));
    cJSON_Delete(roles);
    /* soft: row, schema and the WORKSPACE_DELETED entry stay */
    db_direct();
    ck_assert_int_eq(db_count("SELECT COUNT(*) FROM pmassist_master.Workspace WHERE id = ? AND "
                              "is_active = 0 AND status = 'Archived'",
                              id),
                     1);
    ck_assert_int_eq(db_count("SELECT COUNT(*) FROM pmassist_master.AuditLog WHERE "
                              "workspace_id = ? AND action = 'WORKSPACE_DELETED'",
                              id),
                     1);
    tc_user_free(&u);
}
END_TEST

static long long db_totals(long long out[4])
{
    out[0] = db_count("SELECT COUNT(*) FROM pmassist_master.Workspace", NULL);
    out[1] = db_count("SELECT COUNT(*) FROM pmassist_master.WorkspaceMember", NULL);
    out[2] = db_count("SELECT COUNT(*) FROM pmassist_master.AuditLog", NULL);
    out[3] = ws_schema_count();
    return out[0];
}

START_TEST(create_failure_leaves_nothing)
{
    struct tc_user u;
    struct tresp r;
    long long before[4], after[4];
    char id[64];
    tc_new_user(&u, "fail");
    db_direct();
    long n = my_workspace_count(&u);
    db_totals(before);
    ck_assert_int_eq(
        tc_as_hdr(&r, &u, "POST", "/workspaces",
                  "{\"name\":\"fails\",\"provider\":\"Jira\",\"provider_project\":\"P\"}",
                  "X-Test-Fail: ws.schema"),
        0);
    EXPECT(&r, 500, "DB_QUERY_FAILED");
    ck_assert_ptr_null(strstr(r.body, "INSERT"));
    ck_assert_ptr_null(strstr(r.body, "pmassist"));
    tc_free(&r);
    ck_assert_int_eq(my_workspace_count(&u), n);
    db_totals(after);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(before[i] == after[i], "count %d changed: %lld -> %lld", i, before[i],
                      after[i]);
    create_body(&u, "{\"name\":\"works\",\"provider\":\"Jira\",\"provider_project\":\"P\"}", id);
    ck_assert_int_eq(my_workspace_count(&u), n + 1);
    db_totals(after);
    ck_assert_int_eq(after[0], before[0] + 1);
    /* one schema more; on SQLite no table more, one shared integration row */
    ck_assert_int_eq(after[3], before[3] + 1);
    ck_assert_int_eq(tc_as(&r, &u, "GET", "/db/status", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "status"), "connected");
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

START_TEST(create_invisible_until_commit)
{
    struct tc_user u;
    tc_new_user(&u, "pause");
    long n = my_workspace_count(&u);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct tresp r;
        int ok = tc_as_hdr(&r, &u, "POST", "/workspaces", "{\"name\":\"slow\"}",
                           "X-Test-Pause: ws.before_commit:1500") == 0 &&
                 r.status == 201;
        _exit(ok ? 0 : 1);
    }
    usleep(600 * 1000);
    ck_assert_int_eq(my_workspace_count(&u), n);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_int_eq(my_workspace_count(&u), n + 1);
    tc_user_free(&u);
}
END_TEST

START_TEST(create_50_parallel)
{
    enum { N = 50 };
    struct tc_user u;
    pid_t pids[N];
    struct tresp r;
    tc_new_user(&u, "par");
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            char body[64];
            struct tresp cr;
            snprintf(body, sizeof(body), "{\"name\":\"parallel %d\"}", i);
            int ok = tc_as(&cr, &u, "POST", "/workspaces", body) == 0 && cr.status == 201;
            if (!ok)
                fprintf(stderr, "parallel create %d: %ld %s\n", i, cr.status, cr.body);
            _exit(ok ? 0 : 1);
        }
    }
    int failed = 0;
    for (int i = 0; i < N; i++) {
        int st;
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed++;
    }
    ck_assert_int_eq(failed, 0);
    ck_assert_int_eq(tc_as(&r, &u, "GET", "/workspaces?limit=200", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), N);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), N);
    for (int i = 0; i < N; i++) {
        const char *id = tc_jstr(cJSON_GetArrayItem(r.json, i), "id");
        char path[160];
        struct tresp g;
        for (int k = 0; k < i; k++)
            ck_assert_str_ne(tc_jstr(cJSON_GetArrayItem(r.json, k), "id"), id);
        snprintf(path, sizeof(path), "/workspaces/%s", id);
        ck_assert_int_eq(tc_as(&g, &u, "GET", path, NULL), 0);
        EXPECT(&g, 200, NULL);
        cJSON *m = cJSON_GetObjectItem(g.json, "members");
        ck_assert_int_eq(cJSON_GetArraySize(m), 1);
        ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(m, 0), "role"), "OWNER");
        ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(m, 0), "user_id"), u.oid);
        tc_free(&g);
        snprintf(path, sizeof(path), "/workspaces/%s/audit", id);
        ck_assert_int_eq(tc_as(&g, &u, "GET", path, NULL), 0);
        EXPECT(&g, 200, NULL);
        ck_assert_int_eq(total_of(&g), 1);
        ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(g.json, 0), "action"), "WORKSPACE_CREATED");
        tc_free(&g);
    }
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

START_TEST(audit_log)
{
    struct tc_user o;
    char a[64], b[64], mid[64], path[256], email[96];
    struct tresp r;
    tc_new_user(&o, "audit");
    create_ws(&o, "A", a);
    create_ws(&o, "B", b);
    snprintf(email, sizeof(email), "Audited-%.8s@Example.com", a);
    add_member(&o, a, email, "VIEWER", mid);
    add_member(&o, b, "someone@example.com", "MEMBER", NULL);
    snprintf(path, sizeof(path), "/workspaces/%s/members/%s", a, mid);
    ck_assert_int_eq(tc_as(&r, &o, "PATCH", path, "{\"role\":\"admin\"}"), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &o, "DELETE", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);

    snprintf(path, sizeof(path), "/workspaces/%s/audit", a);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 4);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 4);
    static const char *const order[] = {"MEMBER_REMOVED", "MEMBER_ROLE_UPDATED", "MEMBER_ADDED",
                                        "WORKSPACE_CREATED"};
    const char *prev = NULL;
    int seen[4] = {0};
    for (int i = 0; i < 4; i++) {
        cJSON *e = cJSON_GetArrayItem(r.json, i);
        ck_assert_ptr_nonnull(tc_jstr(e, "id"));
        ck_assert_str_eq(tc_jstr(e, "workspace_id"), a);
        ck_assert_str_eq(tc_jstr(e, "actor_id"), o.oid);
        ck_assert(cJSON_IsObject(cJSON_GetObjectItem(e, "details")));
        const char *ts = tc_jstr(e, "timestamp");
        ck_assert_ptr_nonnull(ts);
        if (prev)
            ck_assert_msg(strcmp(prev, ts) >= 0, "not newest first: %s then %s", prev, ts);
        prev = ts;
        for (int k = 0; k < 4; k++)
            if (strcmp(tc_jstr(e, "action"), order[k]) == 0)
                seen[k]++;
        /* distinct timestamps: the order is exact */
        if (i > 0 && strcmp(tc_jstr(cJSON_GetArrayItem(r.json, i - 1), "timestamp"), ts) != 0)
            ck_assert_str_eq(tc_jstr(e, "action"), order[i]);
        if (strcmp(tc_jstr(e, "action"), "MEMBER_ROLE_UPDATED") == 0) {
            cJSON *d = cJSON_GetObjectItem(e, "details");
            ck_assert_str_eq(tc_jstr(d, "member_id"), mid);
            ck_assert_ptr_nonnull(tc_jstr(d, "user_email"));
            ck_assert_ptr_null(strchr(tc_jstr(d, "user_email"), 'E'));
            ck_assert_str_eq(tc_jstr(d, "old_role"), "VIEWER");
            ck_assert_str_eq(tc_jstr(d, "new_role"), "ADMIN");
        }
    }
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(seen[k], 1);
    tc_free(&r);

    snprintf(path, sizeof(path), "/workspaces/%s/audit?action=MEMBER_ADDED", a);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 1);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "action"), "MEMBER_ADDED");
    ck_assert_str_eq(tc_jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 0), "details"), "role"),
                     "VIEWER");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/audit?action=NOTHING_LIKE_THIS", a);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 0);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/audit?limit=2&offset=1", a);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 4);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/audit?limit=500", a);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    tc_free(&r);
    /* B's log holds only B */
    snprintf(path, sizeof(path), "/workspaces/%s/audit", b);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 2);
    for (int i = 0; i < cJSON_GetArraySize(r.json); i++)
        ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, i), "workspace_id"), b);
    tc_free(&r);
    tc_user_free(&o);
}
END_TEST

/* The role matrix: every workspace route for OWNER, ADMIN, MEMBER, VIEWER,
 * a non-member and (as OWNER) an archived workspace. */
enum { C_OWNER, C_ADMIN, C_MEMBER, C_VIEWER, C_NONE, C_ARCHIVED, C_N };

struct expect {
    int status;
    const char *code;
};

#define OK(s)                                                                                      \
    {                                                                                              \
        s, NULL                                                                                    \
    }
#define UNA                                                                                        \
    {                                                                                              \
        403, "USER_NOT_AUTHORIZED"                                                                 \
    }
#define INS                                                                                        \
    {                                                                                              \
        403, "INSUFFICIENT_PERMISSIONS"                                                            \
    }
#define GONE                                                                                       \
    {                                                                                              \
        404, "WORKSPACE_NOT_FOUND"                                                                 \
    }

/* path: "/workspaces/<id>" + sub [+ "<member id>" + tail when on a member] */
static const struct {
    const char *method, *sub, *tail, *body;
    bool member;
    struct expect want[C_N];
} matrix[] = {
    {"GET", "", "", NULL, false, {OK(200), OK(200), OK(200), OK(200), UNA, GONE}},
    {"GET", "/members", "", NULL, false, {OK(200), OK(200), OK(200), OK(200), UNA, GONE}},
    {"POST", "/members", "", "new", false, {OK(201), OK(201), INS, INS, UNA, GONE}},
    {"PATCH",
     "/members/",
     "",
     "{\"role\":\"MEMBER\"}",
     true,
     {OK(200), OK(200), INS, INS, UNA, GONE}},
    {"PATCH",
     "/members/",
     "/role",
     "{\"role\":\"MEMBER\"}",
     true,
     {OK(200), OK(200), INS, INS, UNA, GONE}},
    {"DELETE", "/members/", "", NULL, true, {OK(200), OK(200), INS, INS, UNA, GONE}},
    {"GET", "/audit", "", NULL, false, {OK(200), OK(200), INS, INS, UNA, GONE}},
    {"PATCH", "", "", "{\"description\":\"d\"}", false, {OK(200), OK(200), INS, INS, UNA, GONE}},
    {"DELETE", "", "", NULL, false, {OK(204), INS, INS, INS, UNA, GONE}},
    /* after the DELETE above both workspaces are archived: OWNER only */
    {"POST", "/restore", "", NULL, false, {OK(200), INS, INS, INS, UNA, OK(200)}},
};

START_TEST(role_matrix)
{
    struct tc_user users[C_ARCHIVED];
    static const char *const roles[] = {"OWNER", "ADMIN", "MEMBER", "VIEWER"};
    static const char *const names[] = {"OWNER",  "ADMIN",      "MEMBER",
                                        "VIEWER", "non-member", "archived"};
    char ws[64], arch[64], arch_member[64];
    tc_new_user(&users[C_OWNER], "mx-owner");
    for (int c = C_ADMIN; c <= C_NONE; c++)
        tc_new_user(&users[c], "mx");
    create_ws(&users[C_OWNER], "matrix", ws);
    create_ws(&users[C_OWNER], "archived", arch);
    for (int c = C_ADMIN; c <= C_VIEWER; c++) {
        add_member(&users[C_OWNER], ws, users[c].email, roles[c], NULL);
        add_member(&users[C_OWNER], arch, users[c].email, roles[c], arch_member);
    }
    char path[256];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s", arch);
    ck_assert_int_eq(tc_as(&r, &users[C_OWNER], "DELETE", path, NULL), 0);
    EXPECT(&r, 204, NULL);
    tc_free(&r);

    /* the owner's DELETE of the workspace comes last */
    static const int order[] = {C_ADMIN, C_MEMBER, C_VIEWER, C_NONE, C_ARCHIVED, C_OWNER};
    for (size_t i = 0; i < sizeof(matrix) / sizeof(*matrix); i++) {
        for (size_t k = 0; k < sizeof(order) / sizeof(*order); k++) {
            int c = order[k];
            const struct tc_user *u = &users[c == C_ARCHIVED ? C_OWNER : c];
            const char *w = c == C_ARCHIVED ? arch : ws;
            char target[64] = "", body[256];
            const char *b = matrix[i].body;
            if (matrix[i].member) {
                if (c == C_ARCHIVED) {
                    snprintf(target, sizeof(target), "%s", arch_member);
                } else {
                    char email[96], g[GUID_LEN + 1];
                    ck_assert_int_eq(guid_new(g), 0);
                    snprintf(email, sizeof(email), "target-%.12s@example.com", g);
                    add_member(&users[C_OWNER], ws, email, "VIEWER", target);
                }
            }
            if (b && strcmp(b, "new") == 0) {
                char g[GUID_LEN + 1];
                ck_assert_int_eq(guid_new(g), 0);
                snprintf(body, sizeof(body),
                         "{\"user_email\":\"new-%.12s@example.com\",\"role\":\"VIEWER\"}", g);
                b = body;
            }
            snprintf(path, sizeof(path), "/workspaces/%s%s%s%s", w, matrix[i].sub, target,
                     matrix[i].tail);
            ck_assert_int_eq(tc_as(&r, u, matrix[i].method, path, b), 0);
            const struct expect *x = &matrix[i].want[c];
            ck_assert_msg(r.status == x->status, "%s %s as %s: want %d, got %ld: %s",
                          matrix[i].method, path, names[c], x->status, r.status, r.body);
            if (x->code)
                ck_assert_msg(strcmp(tc_error_code(&r), x->code) == 0,
                              "%s %s as %s: want %s, got %s", matrix[i].method, path, names[c],
                              x->code, r.body);
            tc_free(&r);
        }
    }
    for (int c = C_OWNER; c <= C_NONE; c++)
        tc_user_free(&users[c]);
}
END_TEST

START_TEST(blob_failure_is_audited)
{
    char url[256], env[512], old[256], id[64] = "", path[160];
    const char *cur = getenv("WSMS_URL");
    struct tc_user u;
    struct tresp r;
    int created = 0, status = 0, has_reason = 0;
    long n = -1;
    ck_assert_ptr_nonnull(cur);
    snprintf(old, sizeof(old), "%s", cur);
    /* blob storage configured on a port where nothing listens */
    snprintf(env, sizeof(env),
             "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;"
             "AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ"
             "6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
             "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1\n"
             "AZURE_STORAGE_CONTAINER_NAME=wsms-test\n");
    ck_assert_int_eq(tc_stack_start("blobfail", env, 1, url, sizeof(url)), 0);
    setenv("WSMS_URL", url, 1);
    memset(&u, 0, sizeof(u));
    /* no assertion until the stack is stopped */
    if (tc_user_new(&u, "blob") == 0 &&
        tc_as(&r, &u, "POST", "/workspaces", "{\"name\":\"blob\"}") == 0) {
        created = r.status == 201 && tc_jstr(r.json, "id");
        if (created)
            snprintf(id, sizeof(id), "%s", tc_jstr(r.json, "id"));
        tc_free(&r);
    }
    snprintf(path, sizeof(path), "/workspaces/%s/audit?action=BLOB_FOLDERS_FAILED", id);
    if (created && tc_as(&r, &u, "GET", path, NULL) == 0) {
        status = (int)r.status;
        const char *t = tc_header(&r, "X-Total-Count");
        n = t ? strtol(t, NULL, 10) : -1;
        cJSON *d = cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 0), "details");
        has_reason = tc_jstr(d, "reason") != NULL;
        tc_free(&r);
    }
    tc_user_free(&u);
    setenv("WSMS_URL", old, 1);
    tc_stack_stop("blobfail");
    ck_assert_msg(created, "create failed with blob storage down");
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(n, 1);
    ck_assert(has_reason);
}
END_TEST

/* The ETag header of a response (copied into out). */
static void etag_of(struct tresp *r, char out[64])
{
    const char *t = tc_header(r, "ETag");
    ck_assert_msg(t != NULL, "no ETag: %s", r->headers);
    ck_assert_msg(t[0] == '"' && strlen(t) > 2 && t[strlen(t) - 1] == '"', "not a strong tag: %s",
                  t);
    snprintf(out, 64, "%s", t);
}

START_TEST(patch_with_etag)
{
    struct tc_user o, adm, mem;
    struct tresp r;
    char id[64], path[160], hdr[128], e0[64], e1[64], e2[64];
    tc_new_user(&o, "patch");
    tc_new_user(&adm, "patch-adm");
    tc_new_user(&mem, "patch-mem");
    ck_assert_int_eq(tc_as(&r, &o, "POST", "/workspaces", "{\"name\":\"before\"}"), 0);
    EXPECT(&r, 201, NULL);
    snprintf(id, sizeof(id), "%s", tc_jstr(r.json, "id"));
    etag_of(&r, e0);
    tc_free(&r);
    add_member(&o, id, adm.email, "ADMIN", NULL);
    add_member(&o, id, mem.email, "MEMBER", NULL);
    snprintf(path, sizeof(path), "/workspaces/%s", id);
    /* GET answers the same tag as the creation */
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    etag_of(&r, e1);
    ck_assert_str_eq(e0, e1);
    tc_free(&r);
    /* matching If-Match: renamed, new tag */
    snprintf(hdr, sizeof(hdr), "If-Match: %s", e0);
    ck_assert_int_eq(tc_as_hdr(&r, &adm, "PATCH", path, "{\"name\":\"  after  \"}", hdr), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "name"), "after");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(r.json, "members"));
    etag_of(&r, e1);
    ck_assert_str_ne(e0, e1);
    tc_free(&r);
    /* the old tag no longer matches: 412, nothing changed */
    ck_assert_int_eq(tc_as_hdr(&r, &o, "PATCH", path, "{\"name\":\"lost update\"}", hdr), 0);
    EXPECT(&r, 412, "PRECONDITION_FAILED");
    tc_free(&r);
    ck_assert_int_eq(tc_as_hdr(&r, &o, "PATCH", path, "{\"name\":\"weak\"}", "If-Match: W/\"x\""),
                     0);
    EXPECT(&r, 412, "PRECONDITION_FAILED");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    ck_assert_str_eq(tc_jstr(r.json, "name"), "after");
    etag_of(&r, e2);
    ck_assert_str_eq(e1, e2);
    tc_free(&r);
    /* a list of tags, one of them current; then "*" */
    snprintf(hdr, sizeof(hdr), "If-Match: \"nope\", %s", e1);
    ck_assert_int_eq(tc_as_hdr(&r, &o, "PATCH", path, "{\"description\":\"d1\\nline 2\"}", hdr), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "description"), "d1\nline 2");
    tc_free(&r);
    ck_assert_int_eq(tc_as_hdr(&r, &o, "PATCH", path, "{\"description\":null}", "If-Match: *"), 0);
    EXPECT(&r, 200, NULL);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "description")));
    ck_assert_str_eq(tc_jstr(r.json, "name"), "after");
    tc_free(&r);
    /* without If-Match the last writer wins */
    ck_assert_int_eq(tc_as(&r, &o, "PATCH", path, "{\"name\":\"final\"}"), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    /* the create rules */
    static const char *const bad[] = {
        "{}",           "{\"name\":\"\"}",      "{\"name\":\"   \"}", "{\"name\":null}",
        "{\"name\":7}", "{\"name\":\"a\\nb\"}", "{\"description\":5}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        ck_assert_int_eq(tc_as(&r, &o, "PATCH", path, bad[i]), 0);
        ck_assert_msg(r.status == 422, "%s: %ld %s", bad[i], r.status, r.body);
        tc_free(&r);
    }
    char longname[300];
    memset(longname, 'n', 256);
    longname[256] = '\0';
    char body[400];
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", longname);
    ck_assert_int_eq(tc_as(&r, &o, "PATCH", path, body), 0);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &mem, "PATCH", path, "{\"name\":\"member\"}"), 0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    ck_assert_str_eq(tc_jstr(r.json, "name"), "final");
    tc_free(&r);
    /* audited with old and new values, newest first */
    snprintf(path, sizeof(path), "/workspaces/%s/audit?action=WORKSPACE_UPDATED", id);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 4);
    cJSON *first = NULL, *e;
    cJSON_ArrayForEach(e, r.json)
    {
        cJSON *d = cJSON_GetObjectItem(e, "details");
        cJSON *nw = cJSON_GetObjectItem(d, "new");
        if (tc_jstr(nw, "name") && strcmp(tc_jstr(nw, "name"), "after") == 0)
            first = d;
    }
    ck_assert_ptr_nonnull(first);
    ck_assert_str_eq(tc_jstr(cJSON_GetObjectItem(first, "old"), "name"), "before");
    /* only the fields sent are in the details */
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "old"), "description"));
    tc_free(&r);
    tc_user_free(&o);
    tc_user_free(&adm);
    tc_user_free(&mem);
}
END_TEST

static int list_ids(const struct tc_user *u, const char *query, char ids[][64], int max,
                    long *total)
{
    struct tresp r;
    char path[256];
    snprintf(path, sizeof(path), "/workspaces%s", query);
    ck_assert_int_eq(tc_as(&r, u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    *total = total_of(&r);
    int n = cJSON_GetArraySize(r.json);
    ck_assert_int_le(n, max);
    for (int i = 0; i < n; i++)
        snprintf(ids[i], 64, "%s", tc_jstr(cJSON_GetArrayItem(r.json, i), "id"));
    tc_free(&r);
    return n;
}

START_TEST(restore_archived)
{
    struct tc_user o, adm;
    struct tresp r;
    char id[64], keep[64], path[160], ids[8][64];
    long total;
    tc_new_user(&o, "restore");
    tc_new_user(&adm, "restore-adm");
    create_ws(&o, "to restore", id);
    create_ws(&o, "stays", keep);
    add_member(&o, id, adm.email, "ADMIN", NULL);
    snprintf(path, sizeof(path), "/workspaces/%s/restore", id);
    /* an active workspace cannot be restored */
    ck_assert_int_eq(tc_as(&r, &o, "POST", path, NULL), 0);
    EXPECT(&r, 404, "WORKSPACE_NOT_FOUND");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s", id);
    ck_assert_int_eq(tc_as(&r, &o, "DELETE", path, NULL), 0);
    EXPECT(&r, 204, NULL);
    tc_free(&r);
    /* archived: listed for its owner only */
    ck_assert_int_eq(list_ids(&o, "?status=Archived", ids, 8, &total), 1);
    ck_assert_int_eq(total, 1);
    ck_assert_str_eq(ids[0], id);
    ck_assert_int_eq(list_ids(&o, "?status=archived", ids, 8, &total), 1);
    ck_assert_int_eq(list_ids(&o, "", ids, 8, &total), 1);
    ck_assert_str_eq(ids[0], keep);
    ck_assert_int_eq(list_ids(&o, "?status=Active", ids, 8, &total), 1);
    ck_assert_int_eq(list_ids(&adm, "?status=Archived", ids, 8, &total), 0);
    ck_assert_int_eq(total, 0);
    ck_assert_int_eq(tc_as(&r, &o, "GET", "/workspaces?status=Deleted", NULL), 0);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/restore", id);
    ck_assert_int_eq(tc_as(&r, &adm, "POST", path, NULL), 0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &o, "POST", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "status"), "Active");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "is_active")));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "members")), 2);
    ck_assert_ptr_nonnull(tc_header(&r, "ETag"));
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &o, "POST", path, NULL), 0);
    EXPECT(&r, 404, "WORKSPACE_NOT_FOUND");
    tc_free(&r);
    ck_assert_int_eq(list_ids(&o, "", ids, 8, &total), 2);
    ck_assert_int_eq(list_ids(&o, "?status=Archived", ids, 8, &total), 0);
    /* the admin sees it again; the restore is audited */
    snprintf(path, sizeof(path), "/workspaces/%s", id);
    ck_assert_int_eq(tc_as(&r, &adm, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/audit?action=WORKSPACE_RESTORED", id);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 1);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "actor_id"), o.oid);
    tc_free(&r);
    tc_user_free(&o);
    tc_user_free(&adm);
}
END_TEST

START_TEST(list_search_and_sort)
{
    struct tc_user u;
    struct tresp r;
    char id[4][64], ids[8][64], path[160];
    long total;
    static const char *const names[] = {"beta Two", "Alpha one", "gamma 100%", "alphabet"};
    tc_new_user(&u, "sort");
    for (int i = 0; i < 4; i++) {
        create_ws(&u, names[i], id[i]);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL); /* distinct created_at */
    }
    /* q: name contains, case-insensitive, LIKE characters literal */
    ck_assert_int_eq(list_ids(&u, "?q=ALPHA&sort=name", ids, 8, &total), 2);
    ck_assert_int_eq(total, 2);
    ck_assert_str_eq(ids[0], id[1]);
    ck_assert_str_eq(ids[1], id[3]);
    ck_assert_int_eq(list_ids(&u, "?q=%25", ids, 8, &total), 1);
    ck_assert_str_eq(ids[0], id[2]);
    ck_assert_int_eq(list_ids(&u, "?q=_", ids, 8, &total), 0);
    ck_assert_int_eq(list_ids(&u, "?q=a%20o", ids, 8, &total), 1);
    ck_assert_str_eq(ids[0], id[1]);
    ck_assert_int_eq(list_ids(&u, "?q=", ids, 8, &total), 4);
    /* sorts, with pagination totals */
    ck_assert_int_eq(list_ids(&u, "?sort=name", ids, 8, &total), 4);
    ck_assert_str_eq(ids[0], id[1]);
    ck_assert_str_eq(ids[1], id[3]);
    ck_assert_str_eq(ids[2], id[0]);
    ck_assert_str_eq(ids[3], id[2]);
    ck_assert_int_eq(list_ids(&u, "?sort=-name&limit=2&offset=1", ids, 8, &total), 2);
    ck_assert_int_eq(total, 4);
    ck_assert_str_eq(ids[0], id[0]);
    ck_assert_str_eq(ids[1], id[3]);
    ck_assert_int_eq(list_ids(&u, "?sort=created_at", ids, 8, &total), 4);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(ids[i], id[i]);
    ck_assert_int_eq(list_ids(&u, "?sort=-created_at", ids, 8, &total), 4);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(ids[i], id[3 - i]);
    ck_assert_int_eq(list_ids(&u, "", ids, 8, &total), 4);
    ck_assert_str_eq(ids[0], id[3]);
    /* last_seen_utc: never-seen workspaces last in both directions */
    snprintf(path, sizeof(path), "/workspaces/%s", id[2]);
    ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    ck_assert_int_eq(list_ids(&u, "?sort=last_seen_utc", ids, 8, &total), 4);
    ck_assert_str_eq(ids[0], id[2]);
    ck_assert_int_eq(list_ids(&u, "?sort=-last_seen_utc", ids, 8, &total), 4);
    ck_assert_str_eq(ids[0], id[2]);
    ck_assert_int_eq(list_ids(&u, "?q=alpha&sort=-name&limit=1", ids, 8, &total), 1);
    ck_assert_int_eq(total, 2);
    ck_assert_str_eq(ids[0], id[3]);
    static const char *const bad[] = {"?sort=size", "?sort=--name", "?sort=name%20", "?status=x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        snprintf(path, sizeof(path), "/workspaces%s", bad[i]);
        ck_assert_int_eq(tc_as(&r, &u, "GET", path, NULL), 0);
        EXPECT(&r, 422, "VALIDATION_ERROR");
        tc_free(&r);
    }
    tc_user_free(&u);
}
END_TEST

START_TEST(members_search_and_role)
{
    struct tc_user o;
    struct tresp r;
    char ws[64], path[200], body[256];
    tc_new_user(&o, "msearch");
    create_ws(&o, "members search", ws);
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    static const struct {
        const char *email, *role, *name;
    } m[] = {{"ann.smith@example.com", "ADMIN", "Ann Smith"},
             {"bob@example.org", "VIEWER", "Bob Jones"},
             {"carl@example.com", "VIEWER", "Carl SMITHERS"}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(body, sizeof(body),
                 "{\"user_email\":\"%s\",\"role\":\"%s\",\"display_name\":\"%s\"}", m[i].email,
                 m[i].role, m[i].name);
        ck_assert_int_eq(tc_as(&r, &o, "POST", path, body), 0);
        EXPECT(&r, 201, NULL);
        tc_free(&r);
    }
    static const struct {
        const char *query;
        long n;
    } cases[] = {{"", 4},
                 {"?q=smith", 2},
                 {"?q=SMITH&role=viewer", 1},
                 {"?q=example.org", 1},
                 {"?role=VIEWER", 2},
                 {"?role=OWNER", 1},
                 {"?q=nobody", 0},
                 {"?q=%25", 0},
                 {"?role=VIEWER&limit=1", 2}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char p2[256];
        snprintf(p2, sizeof(p2), "%s%s", path, cases[i].query);
        ck_assert_int_eq(tc_as(&r, &o, "GET", p2, NULL), 0);
        EXPECT(&r, 200, NULL);
        ck_assert_msg(total_of(&r) == cases[i].n, "%s: want %ld: %s", cases[i].query, cases[i].n,
                      r.body);
        if (strstr(cases[i].query, "limit=1"))
            ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
        else
            ck_assert_int_eq(cJSON_GetArraySize(r.json), cases[i].n);
        if (strcmp(cases[i].query, "?q=SMITH&role=viewer") == 0)
            ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "user_email"), m[2].email);
        tc_free(&r);
    }
    snprintf(body, sizeof(body), "%s?role=KING", path);
    ck_assert_int_eq(tc_as(&r, &o, "GET", body, NULL), 0);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    tc_free(&r);
    tc_user_free(&o);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("workspaces");
    TCase *t = tcase_create("api");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, create_full_shape);
    tcase_add_test(t, create_providers_canonical);
    tcase_add_test(t, create_validation);
    tcase_add_test(t, create_needs_tokens);
    tcase_add_test(t, list_pagination_and_order);
    tcase_add_test(t, list_user_id_param);
    tcase_add_test(t, bounded_queries);
    tcase_add_test(t, get_bad_ids);
    tcase_add_test(t, get_orders_members_and_links);
    tcase_add_test(t, get_last_seen_once_a_minute);
    tcase_add_test(t, delete_archives);
    tcase_add_test(t, create_failure_leaves_nothing);
    tcase_add_test(t, create_invisible_until_commit);
    tcase_add_test(t, create_50_parallel);
    tcase_add_test(t, audit_log);
    tcase_add_test(t, role_matrix);
    tcase_add_test(t, blob_failure_is_audited);
    tcase_add_test(t, patch_with_etag);
    tcase_add_test(t, restore_archived);
    tcase_add_test(t, list_search_and_sort);
    tcase_add_test(t, members_search_and_role);
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
