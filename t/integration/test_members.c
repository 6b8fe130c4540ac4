/* Members through the real stack: add (validation, duplicates, who may add
 * an OWNER, 20 parallel adds of one email), role changes and removals (who
 * may touch whom, the last OWNER under concurrency, revocation on the very
 * next request whatever the PMA token says), members of another workspace
 * through this one's URL, and people added by email signing in later. */
#include "client.h"
#include "core/util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void create_ws(const struct tc_user *u, const char *name, char id[64])
{
    char body[256];
    struct tresp r;
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    ck_assert_int_eq(tc_as(&r, u, "POST", "/workspaces", body), 0);
    EXPECT(&r, 201, NULL);
    snprintf(id, 64, "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
}

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

/* A user who is a member of ws with role (added by owner), and the member id. */
static void member_user(struct tc_user *u, const struct tc_user *owner, const char *ws,
                        const char *role, char mid[64])
{
    tc_new_user(u, "m");
    add_member(owner, ws, u->email, role, mid);
}

static long total_of(struct tresp *r)
{
    const char *t = tc_header(r, "X-Total-Count");
    ck_assert_msg(t != NULL, "no X-Total-Count");
    return strtol(t, NULL, 10);
}

/* The member row of ws with this email (from GET members as u), or NULL;
 * the caller deletes *holder. */
static cJSON *find_member(const struct tc_user *u, const char *ws, const char *email,
                          cJSON **holder)
{
    char path[256];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s/members?limit=200", ws);
    ck_assert_int_eq(tc_as(&r, u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    *holder = r.json;
    r.json = NULL;
    tc_free(&r);
    cJSON *m;
    cJSON_ArrayForEach(m, *holder)
    {
        if (tc_jstr(m, "user_email") && strcasecmp(tc_jstr(m, "user_email"), email) == 0)
            return m;
    }
    return NULL;
}

static long owner_count(const struct tc_user *u, const char *ws)
{
    char path[256];
    struct tresp r;
    long n = 0;
    snprintf(path, sizeof(path), "/workspaces/%s/members?limit=200", ws);
    ck_assert_int_eq(tc_as(&r, u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    cJSON *m;
    cJSON_ArrayForEach(m, r.json)
    {
        if (strcmp(tc_jstr(m, "role"), "OWNER") == 0)
            n++;
    }
    tc_free(&r);
    return n;
}

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

static void mpath(char *buf, size_t n, const char *ws, const char *mid, const char *tail)
{
    snprintf(buf, n, "/workspaces/%s/members/%s%s", ws, mid, tail);
}

/* ------------------------------------------------------------------ */

START_TEST(add_shape)
{
    struct tc_user o;
    char ws[64], path[256], body[512], g[GUID_LEN + 1], email[96], lower[96];
    struct tresp r;
    tc_new_user(&o, "add");
    create_ws(&o, "add", ws);
    ck_assert_int_eq(guid_new(g), 0);
    snprintf(email, sizeof(email), "Mixed-%.8s@Example.COM", g);
    ck_assert_int_eq(ascii_lower(email, lower, sizeof(lower)), 0);
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    snprintf(body, sizeof(body),
             "{\"user_email\":\"  %s \",\"role\":\"member\",\"display_name\":\"  Pat Doe \"}",
             email);
    ck_assert_int_eq(tc_as(&r, &o, "POST", path, body), 0);
    EXPECT(&r, 201, NULL);
    char norm[GUID_LEN + 1];
    ck_assert_ptr_nonnull(tc_jstr(r.json, "id"));
    ck_assert_int_eq(guid_normalize(tc_jstr(r.json, "id"), norm), 0);
    ck_assert_str_eq(norm, tc_jstr(r.json, "id"));
    ck_assert_str_eq(tc_jstr(r.json, "workspace_id"), ws);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "user_id")));
    ck_assert_str_eq(tc_jstr(r.json, "user_email"), lower);
    ck_assert_str_eq(tc_jstr(r.json, "display_name"), "Pat Doe");
    ck_assert_str_eq(tc_jstr(r.json, "role"), "MEMBER");
    ck_assert_ptr_nonnull(tc_jstr(r.json, "added_at"));
    ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "pma_token"));
    char *added = cJSON_PrintUnformatted(r.json);
    tc_free(&r);

    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 2);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
    /* oldest first: the owner, then the new member exactly as answered */
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "role"), "OWNER");
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "user_id"), o.oid);
    char *listed = cJSON_PrintUnformatted(cJSON_GetArrayItem(r.json, 1));
    ck_assert_str_eq(listed, added);
    free(listed);
    free(added);
    tc_free(&r);
    tc_user_free(&o);
}
END_TEST

START_TEST(add_validation)
{
    char *long_name = malloc(300);
    char b_long[512];
    ck_assert_ptr_nonnull(long_name);
    memset(long_name, 'n', 256);
    long_name[256] = '\0';
    snprintf(b_long, sizeof(b_long),
             "{\"user_email\":\"x@example.com\",\"role\":\"VIEWER\",\"display_name\":\"%s\"}",
             long_name);
    struct {
        const char *body;
        int status;
        const char *code, *field;
    } cases[] = {
        {"{\"role\":\"VIEWER\"}", 422, "VALIDATION_ERROR", "user_email"},
        {"{\"user_email\":null,\"role\":\"VIEWER\"}", 422, "VALIDATION_ERROR", "user_email"},
        {"{\"user_email\":\"bad\",\"role\":\"VIEWER\"}", 422, "VALIDATION_ERROR", "user_email"},
        {"{\"user_email\":\"a b@example.com\",\"role\":\"VIEWER\"}", 422, "VALIDATION_ERROR",
         "user_email"},
        {"{\"user_email\":\"a@b\",\"role\":\"VIEWER\"}", 422, "VALIDATION_ERROR", "user_email"},
        {"{\"user_email\":\"a@@example.com\",\"role\":\"VIEWER\"}", 422, "VALIDATION_ERROR",
         "user_email"},
        {"{\"user_email\":5,\"role\":\"VIEWER\"}", 422, "VALIDATION_ERROR", "user_email"},
        {"{\"user_email\":[\"x@example.com\"],\"role\":\"VIEWER\"}", 422, "VALIDATION_ERROR",
         "user_email"},
        {"{\"user_email\":\"x@example.com\"}", 422, "VALIDATION_ERROR", "role"},
        {"{\"user_email\":\"x@example.com\",\"role\":null}", 422, "VALIDATION_ERROR", "role"},
        {"{\"user_email\":\"x@example.com\",\"role\":5}", 422, "VALIDATION_ERROR", "role"},
        {"{\"user_email\":\"x@example.com\",\"role\":{}}", 422, "VALIDATION_ERROR", "role"},
        {"{\"user_email\":\"x@example.com\",\"role\":\"GOD\"}", 422, "INVALID_ROLE", "role"},
        {"{\"user_email\":\"x@example.com\",\"role\":\"\"}", 422, "INVALID_ROLE", "role"},
        {"{\"user_email\":\"x@example.com\",\"role\":\"NONE\"}", 422, "INVALID_ROLE", "role"},
        {"{\"user_email\":\"x@example.com\",\"role\":\"VIEWER\",\"display_name\":5}", 422,
         "VALIDATION_ERROR", "display_name"},
        {b_long, 422, "VALIDATION_ERROR", "display_name"},
        {"{\"user_email\":\"bad\",\"role\":\"GOD\"}", 422, "VALIDATION_ERROR", "role"},
        {"[]", 400, "INVALID_REQUEST", NULL},
        {"\"x@example.com\"", 400, "INVALID_REQUEST", NULL},
        {"{", 400, "INVALID_REQUEST", NULL},
    };
    struct tc_user o;
    char ws[64], path[256];
    tc_new_user(&o, "addval");
    create_ws(&o, "addval", ws);
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct tresp r;
        ck_assert_int_eq(tc_as(&r, &o, "POST", path, cases[i].body), 0);
        ck_assert_msg(r.status == cases[i].status, "case %zu: want %d got %ld: %s", i,
                      cases[i].status, r.status, r.body);
        ck_assert_msg(strcmp(tc_error_code(&r), cases[i].code) == 0, "case %zu: %s", i, r.body);
        if (cases[i].field) {
            cJSON *d = cJSON_GetObjectItem(r.json, "details"), *it;
            int found = 0;
            cJSON_ArrayForEach(it, d)
            {
                if (tc_jstr(it, "field") && strcmp(tc_jstr(it, "field"), cases[i].field) == 0)
                    found = 1;
            }
            ck_assert_msg(found, "case %zu: no detail for %s: %s", i, cases[i].field, r.body);
        }
        tc_free(&r);
    }
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    ck_assert_int_eq(total_of(&r), 1);
    tc_free(&r);
    free(long_name);
    tc_user_free(&o);
}
END_TEST

START_TEST(add_duplicate_and_owner_rules)
{
    struct tc_user o, a;
    char ws[64], path[256], body[256];
    struct tresp r;
    tc_new_user(&o, "dup");
    create_ws(&o, "dup", ws);
    member_user(&a, &o, ws, "ADMIN", NULL);
    add_member(&o, ws, "dup-target@example.com", "VIEWER", NULL);
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    ck_assert_int_eq(tc_as(&r, &o, "POST", path,
                           "{\"user_email\":\"DUP-Target@Example.com\",\"role\":\"ADMIN\"}"),
                     0);
    EXPECT(&r, 409, "CONFLICT");
    tc_free(&r);
    /* the caller is already a member too */
    snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"VIEWER\"}", o.email);
    ck_assert_int_eq(tc_as(&r, &a, "POST", path, body), 0);
    EXPECT(&r, 409, "CONFLICT");
    tc_free(&r);
    /* only an OWNER adds an OWNER */
    ck_assert_int_eq(
        tc_as(&r, &a, "POST", path, "{\"user_email\":\"own1@example.com\",\"role\":\"OWNER\"}"), 0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);
    ck_assert_int_eq(
        tc_as(&r, &a, "POST", path, "{\"user_email\":\"adm1@example.com\",\"role\":\"admin\"}"), 0);
    EXPECT(&r, 201, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "role"), "ADMIN");
    tc_free(&r);
    ck_assert_int_eq(
        tc_as(&r, &o, "POST", path, "{\"user_email\":\"own1@example.com\",\"role\":\"owner\"}"), 0);
    EXPECT(&r, 201, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "role"), "OWNER");
    tc_free(&r);
    ck_assert_int_eq(owner_count(&o, ws), 2);
    tc_user_free(&o);
    tc_user_free(&a);
}
END_TEST

START_TEST(patch_rules)
{
    struct tc_user o, a, m;
    char ws[64], path[256], v_id[64], o_id[64], a_id[64], m_id[64];
    struct tresp r;
    cJSON *h;
    tc_new_user(&o, "patch");
    create_ws(&o, "patch", ws);
    member_user(&a, &o, ws, "ADMIN", a_id);
    member_user(&m, &o, ws, "MEMBER", m_id);
    add_member(&o, ws, "patch-viewer@example.com", "VIEWER", v_id);
    snprintf(o_id, sizeof(o_id), "%s", tc_jstr(find_member(&o, ws, o.email, &h), "id"));
    cJSON_Delete(h);

    mpath(path, sizeof(path), ws, v_id, "");
    ck_assert_int_eq(tc_as(&r, &o, "PATCH", path, "{\"role\":\"ADMIN\"}"), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "role"), "ADMIN");
    ck_assert_str_eq(tc_jstr(r.json, "id"), v_id);
    ck_assert_str_eq(tc_jstr(r.json, "user_email"), "patch-viewer@example.com");
    ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "pma_token"));
    tc_free(&r);
    mpath(path, sizeof(path), ws, v_id, "/role");
    ck_assert_int_eq(tc_as(&r, &a, "PATCH", path, "{\"role\":\"viewer\"}"), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "role"), "VIEWER");
    tc_free(&r);
    /* unchanged role: fine */
    ck_assert_int_eq(tc_as(&r, &a, "PATCH", path, "{\"role\":\"VIEWER\"}"), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);

    struct {
        const struct tc_user *who;
        const char *mid, *tail, *body;
        int status;
        const char *code;
    } cases[] = {
        {&a, v_id, "", "{\"role\":\"OWNER\"}", 403, "INSUFFICIENT_PERMISSIONS"},
        {&a, o_id, "", "{\"role\":\"ADMIN\"}", 403, "INSUFFICIENT_PERMISSIONS"},
        {&a, o_id, "/role", "{\"role\":\"VIEWER\"}", 403, "INSUFFICIENT_PERMISSIONS"},
        {&a, a_id, "", "{\"role\":\"OWNER\"}", 403, "INSUFFICIENT_PERMISSIONS"},
        {&m, v_id, "", "{\"role\":\"MEMBER\"}", 403, "INSUFFICIENT_PERMISSIONS"},
        {&m, m_id, "", "{\"role\":\"ADMIN\"}", 403, "INSUFFICIENT_PERMISSIONS"},
        {&m, m_id, "", "{\"role\":\"VIEWER\"}", 403, "INSUFFICIENT_PERMISSIONS"},
        {&o, v_id, "", "{\"role\":\"SUPER\"}", 422, "INVALID_ROLE"},
        {&o, v_id, "", "{}", 422, "VALIDATION_ERROR"},
        {&o, v_id, "", "{\"role\":3}", 422, "VALIDATION_ERROR"},
        {&o, v_id, "", "[\"ADMIN\"]", 400, "INVALID_REQUEST"},
        {&o, "not-a-guid", "", "{\"role\":\"ADMIN\"}", 404, "MEMBER_NOT_FOUND"},
        {&o, "5f0c1b2e-1111-4222-8333-444455556666", "", "{\"role\":\"ADMIN\"}", 404,
         "MEMBER_NOT_FOUND"},
        {&o, "5f0c1b2e-1111-4222-8333-444455556666", "/role", "{\"role\":\"ADMIN\"}", 404,
         "MEMBER_NOT_FOUND"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        mpath(path, sizeof(path), ws, cases[i].mid, cases[i].tail);
        ck_assert_int_eq(tc_as(&r, cases[i].who, "PATCH", path, cases[i].body), 0);
        ck_assert_msg(r.status == cases[i].status, "case %zu: want %d got %ld: %s", i,
                      cases[i].status, r.status, r.body);
        ck_assert_msg(strcmp(tc_error_code(&r), cases[i].code) == 0, "case %zu: %s", i, r.body);
        tc_free(&r);
    }
    cJSON *row = find_member(&o, ws, "patch-viewer@example.com", &h);
    ck_assert_str_eq(tc_jstr(row, "role"), "VIEWER");
    cJSON_Delete(h);
    ck_assert_int_eq(owner_count(&o, ws), 1);

    /* demoting oneself: a fresh token with the new role, and the old token
     * no longer opens ADMIN routes */
    ck_assert_int_eq(tc_user_refresh_pma(&a), 0);
    mpath(path, sizeof(path), ws, a_id, "");
    ck_assert_int_eq(tc_as(&r, &a, "PATCH", path, "{\"role\":\"VIEWER\"}"), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_ptr_nonnull(tc_jstr(r.json, "pma_token"));
    cJSON *roles = pma_roles(tc_jstr(r.json, "pma_token"));
    ck_assert_str_eq(tc_jstr(roles, ws), "VIEWER");
    cJSON_Delete(roles);
    tc_free(&r);
    roles = pma_roles(a.pma);
    ck_assert_str_eq(tc_jstr(roles, ws), "ADMIN");
    cJSON_Delete(roles);
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    ck_assert_int_eq(
        tc_as(&r, &a, "POST", path, "{\"user_email\":\"late@example.com\",\"role\":\"VIEWER\"}"),
        0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/audit", ws);
    ck_assert_int_eq(tc_as(&r, &a, "GET", path, NULL), 0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);
    tc_user_free(&o);
    tc_user_free(&a);
    tc_user_free(&m);
}
END_TEST

START_TEST(last_owner)
{
    struct tc_user o, o2;
    char ws[64], path[256], o_id[64], o2_id[64];
    struct tresp r;
    cJSON *h;
    tc_new_user(&o, "last");
    create_ws(&o, "last", ws);
    snprintf(o_id, sizeof(o_id), "%s", tc_jstr(find_member(&o, ws, o.email, &h), "id"));
    cJSON_Delete(h);
    mpath(path, sizeof(path), ws, o_id, "");
    ck_assert_int_eq(tc_as(&r, &o, "PATCH", path, "{\"role\":\"ADMIN\"}"), 0);
    EXPECT(&r, 409, "LAST_OWNER");
    tc_free(&r);
    mpath(path, sizeof(path), ws, o_id, "/role");
    ck_assert_int_eq(tc_as(&r, &o, "PATCH", path, "{\"role\":\"VIEWER\"}"), 0);
    EXPECT(&r, 409, "LAST_OWNER");
    tc_free(&r);
    mpath(path, sizeof(path), ws, o_id, "");
    ck_assert_int_eq(tc_as(&r, &o, "DELETE", path, NULL), 0);
    EXPECT(&r, 409, "LAST_OWNER");
    tc_free(&r);
    ck_assert_int_eq(owner_count(&o, ws), 1);

    /* with two owners each change goes through until one is left */
    member_user(&o2, &o, ws, "OWNER", o2_id);
    mpath(path, sizeof(path), ws, o2_id, "");
    ck_assert_int_eq(tc_as(&r, &o, "PATCH", path, "{\"role\":\"ADMIN\"}"), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &o, "PATCH", path, "{\"role\":\"OWNER\"}"), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    mpath(path, sizeof(path), ws, o_id, "");
    ck_assert_int_eq(tc_as(&r, &o2, "DELETE", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "role"), "OWNER");
    ck_assert_str_eq(tc_jstr(r.json, "user_id"), o.oid);
    tc_free(&r);
    mpath(path, sizeof(path), ws, o2_id, "");
    ck_assert_int_eq(tc_as(&r, &o2, "PATCH", path, "{\"role\":\"MEMBER\"}"), 0);
    EXPECT(&r, 409, "LAST_OWNER");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &o2, "DELETE", path, NULL), 0);
    EXPECT(&r, 409, "LAST_OWNER");
    tc_free(&r);
    ck_assert_int_eq(owner_count(&o2, ws), 1);
    tc_user_free(&o);
    tc_user_free(&o2);
}
END_TEST

/* Runs the two requests at once (both held after auth for a moment so they
 * meet in the service); statuses into st. */
static void race(const struct tc_user *u1, const char *m1, const char *p1, const char *b1,
                 const struct tc_user *u2, const char *m2, const char *p2, const char *b2,
                 long st[2])
{
    int fds[2][2];
    pid_t pid[2];
    const struct tc_user *u[2] = {u1, u2};
    const char *m[2] = {m1, m2}, *p[2] = {p1, p2}, *b[2] = {b1, b2};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pipe(fds[i]), 0);
        pid[i] = fork();
        ck_assert_int_ge(pid[i], 0);
        if (pid[i] == 0) {
            struct tresp r;
            long s = -1;
            if (tc_as_hdr(&r, u[i], m[i], p[i], b[i], "X-Test-Pause: handler:400") == 0) {
                s = r.status;
                if (s == 409 && strcmp(tc_error_code(&r), "LAST_OWNER") != 0)
                    s = 4090;
                tc_free(&r);
            }
            if (write(fds[i][1], &s, sizeof(s)) != (ssize_t)sizeof(s))
                _exit(1);
            _exit(0);
        }
        close(fds[i][1]);
    }
    for (int i = 0; i < 2; i++) {
        int ws;
        ck_assert_int_eq(read(fds[i][0], &st[i], sizeof(st[i])), (ssize_t)sizeof(st[i]));
        close(fds[i][0]);
        ck_assert_int_eq(waitpid(pid[i], &ws, 0), pid[i]);
    }
}

/* Without the workspace lock these races leave no OWNER on PostgreSQL in
 * most runs; each kind runs twice. */
START_TEST(last_owner_concurrent)
{
    for (int round = 0; round < 6; round++) {
        int kind = round % 3;
        struct tc_user o1, o2;
        char ws[64], id1[64], id2[64], p1[256], p2[256];
        long st[2];
        cJSON *h;
        tc_new_user(&o1, "race");
        create_ws(&o1, "race", ws);
        snprintf(id1, sizeof(id1), "%s", tc_jstr(find_member(&o1, ws, o1.email, &h), "id"));
        cJSON_Delete(h);
        member_user(&o2, &o1, ws, "OWNER", id2);
        if (kind < 2) {
            /* each owner demotes (kind 0) or removes (kind 1) themselves */
            const char *method = kind == 0 ? "PATCH" : "DELETE";
            const char *body = kind == 0 ? "{\"role\":\"ADMIN\"}" : NULL;
            mpath(p1, sizeof(p1), ws, id1, "");
            mpath(p2, sizeof(p2), ws, id2, "");
            race(&o1, method, p1, body, &o2, method, p2, body, st);
            ck_assert_msg((st[0] == 200 && st[1] == 409) || (st[0] == 409 && st[1] == 200),
                          "round %d: %ld and %ld", round, st[0], st[1]);
        } else {
            /* each owner demotes the other: the loser is no OWNER any more
             * (403) or would leave none (409) */
            mpath(p1, sizeof(p1), ws, id2, "");
            mpath(p2, sizeof(p2), ws, id1, "");
            race(&o1, "PATCH", p1, "{\"role\":\"MEMBER\"}", &o2, "PATCH", p2,
                 "{\"role\":\"MEMBER\"}", st);
            int ok = 0;
            for (int i = 0; i < 2; i++) {
                ok += st[i] == 200;
                ck_assert_msg(st[i] == 200 || st[i] == 409 || st[i] == 403, "%ld", st[i]);
            }
            ck_assert_msg(ok == 1, "round %d: %ld and %ld", round, st[0], st[1]);
        }
        /* whoever is still a member counts the owners */
        const struct tc_user *left = kind == 1 && st[0] == 200 ? &o2 : &o1;
        ck_assert_int_eq(owner_count(left, ws), 1);
        tc_user_free(&o1);
        tc_user_free(&o2);
    }
}
END_TEST

START_TEST(remove_rules_and_revocation)
{
    struct tc_user o, a, m, v;
    char ws[64], path[256], o_id[64], a_id[64], m_id[64], v_id[64], x_id[64];
    struct tresp r;
    cJSON *h;
    tc_new_user(&o, "rm");
    create_ws(&o, "rm", ws);
    snprintf(o_id, sizeof(o_id), "%s", tc_jstr(find_member(&o, ws, o.email, &h), "id"));
    cJSON_Delete(h);
    member_user(&a, &o, ws, "ADMIN", a_id);
    member_user(&m, &o, ws, "MEMBER", m_id);
    member_user(&v, &o, ws, "VIEWER", v_id);
    add_member(&o, ws, "rm-x@example.com", "VIEWER", x_id);
    /* everyone's tokens name the workspace */
    ck_assert_int_eq(tc_user_refresh_pma(&m), 0);
    ck_assert_int_eq(tc_user_refresh_pma(&v), 0);

    mpath(path, sizeof(path), ws, x_id, "");
    ck_assert_int_eq(tc_as(&r, &m, "DELETE", path, NULL), 0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &v, "DELETE", path, NULL), 0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);
    mpath(path, sizeof(path), ws, o_id, "");
    ck_assert_int_eq(tc_as(&r, &a, "DELETE", path, NULL), 0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);
    mpath(path, sizeof(path), ws, "not-a-guid", "");
    ck_assert_int_eq(tc_as(&r, &a, "DELETE", path, NULL), 0);
    EXPECT(&r, 404, "MEMBER_NOT_FOUND");
    tc_free(&r);

    /* a VIEWER may remove themselves, and gets a token without the workspace */
    mpath(path, sizeof(path), ws, v_id, "");
    ck_assert_int_eq(tc_as(&r, &v, "DELETE", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "id"), v_id);
    ck_assert_str_eq(tc_jstr(r.json, "role"), "VIEWER");
    ck_assert_str_eq(tc_jstr(r.json, "user_id"), v.oid);
    ck_assert_ptr_nonnull(tc_jstr(r.json, "pma_token"));
    cJSON *roles = pma_roles(tc_jstr(r.json, "pma_token"));
    ck_assert_ptr_null(cJSON_GetObjectItem(roles, ws));
    cJSON_Delete(roles);
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &a, "DELETE", path, NULL), 0);
    EXPECT(&r, 404, "MEMBER_NOT_FOUND");
    tc_free(&r);

    /* an ADMIN removes a MEMBER; the MEMBER's still-valid token that claims
     * the workspace opens nothing any more */
    mpath(path, sizeof(path), ws, m_id, "");
    ck_assert_int_eq(tc_as(&r, &a, "DELETE", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "role"), "MEMBER");
    ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "pma_token"));
    tc_free(&r);
    roles = pma_roles(m.pma);
    ck_assert_str_eq(tc_jstr(roles, ws), "MEMBER");
    cJSON_Delete(roles);
    const struct tc_user *gone[] = {&m, &v};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "/workspaces/%s", ws);
        ck_assert_int_eq(tc_as(&r, gone[i], "GET", path, NULL), 0);
        EXPECT(&r, 403, "USER_NOT_AUTHORIZED");
        tc_free(&r);
        snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
        ck_assert_int_eq(tc_as(&r, gone[i], "GET", path, NULL), 0);
        EXPECT(&r, 403, "USER_NOT_AUTHORIZED");
        tc_free(&r);
        ck_assert_int_eq(tc_as(&r, gone[i], "GET", "/workspaces", NULL), 0);
        EXPECT(&r, 200, NULL);
        ck_assert_int_eq(total_of(&r), 0);
        tc_free(&r);
    }
    /* the audit entry of a removal */
    snprintf(path, sizeof(path), "/workspaces/%s/audit?action=MEMBER_REMOVED", ws);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 2);
    cJSON *e;
    cJSON_ArrayForEach(e, r.json)
    {
        cJSON *d = cJSON_GetObjectItem(e, "details");
        ck_assert_ptr_nonnull(tc_jstr(d, "member_id"));
        ck_assert_ptr_nonnull(tc_jstr(d, "user_email"));
        ck_assert_ptr_nonnull(tc_jstr(d, "role"));
    }
    tc_free(&r);
    /* an OWNER removes an ADMIN */
    mpath(path, sizeof(path), ws, a_id, "");
    ck_assert_int_eq(tc_as(&r, &o, "DELETE", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    tc_user_free(&o);
    tc_user_free(&a);
    tc_user_free(&m);
    tc_user_free(&v);
}
END_TEST

START_TEST(cross_workspace)
{
    struct tc_user o, o2;
    char a[64], b[64], mine[64], theirs[64], path[256];
    struct tresp r;
    cJSON *h;
    tc_new_user(&o, "xa");
    tc_new_user(&o2, "xb");
    create_ws(&o, "A", a);
    create_ws(&o, "B", b);
    add_member(&o, b, "cross-b@example.com", "VIEWER", mine);
    create_ws(&o2, "C", theirs);
    char c_member[64];
    add_member(&o2, theirs, "cross-c@example.com", "ADMIN", c_member);
    const char *ids[] = {mine, c_member};
    for (int i = 0; i < 2; i++) {
        mpath(path, sizeof(path), a, ids[i], "");
        ck_assert_int_eq(tc_as(&r, &o, "PATCH", path, "{\"role\":\"ADMIN\"}"), 0);
        EXPECT(&r, 404, "MEMBER_NOT_FOUND");
        tc_free(&r);
        mpath(path, sizeof(path), a, ids[i], "/role");
        ck_assert_int_eq(tc_as(&r, &o, "PATCH", path, "{\"role\":\"OWNER\"}"), 0);
        EXPECT(&r, 404, "MEMBER_NOT_FOUND");
        tc_free(&r);
        mpath(path, sizeof(path), a, ids[i], "");
        ck_assert_int_eq(tc_as(&r, &o, "DELETE", path, NULL), 0);
        EXPECT(&r, 404, "MEMBER_NOT_FOUND");
        tc_free(&r);
    }
    cJSON *row = find_member(&o, b, "cross-b@example.com", &h);
    ck_assert_ptr_nonnull(row);
    ck_assert_str_eq(tc_jstr(row, "role"), "VIEWER");
    cJSON_Delete(h);
    row = find_member(&o2, theirs, "cross-c@example.com", &h);
    ck_assert_ptr_nonnull(row);
    ck_assert_str_eq(tc_jstr(row, "role"), "ADMIN");
    cJSON_Delete(h);
    /* A's member list holds only A's members */
    snprintf(path, sizeof(path), "/workspaces/%s/members", a);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 1);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "workspace_id"), a);
    tc_free(&r);
    /* and o is no member of C */
    snprintf(path, sizeof(path), "/workspaces/%s/members/%s", theirs, c_member);
    ck_assert_int_eq(tc_as(&r, &o, "DELETE", path, NULL), 0);
    EXPECT(&r, 403, "USER_NOT_AUTHORIZED");
    tc_free(&r);
    tc_user_free(&o);
    tc_user_free(&o2);
}
END_TEST

START_TEST(parallel_adds_same_email)
{
    enum { N = 20 };
    struct tc_user o;
    char ws[64], path[256], email[96], g[GUID_LEN + 1];
    pid_t pids[N];
    int fds[N][2];
    tc_new_user(&o, "par");
    create_ws(&o, "par", ws);
    ck_assert_int_eq(guid_new(g), 0);
    snprintf(email, sizeof(email), "same-%.8s@example.com", g);
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(pipe(fds[i]), 0);
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            char body[256];
            struct tresp r;
            long s = -1;
            snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"%s\"}", email,
                     i % 2 ? "VIEWER" : "MEMBER");
            if (tc_as(&r, &o, "POST", path, body) == 0) {
                s = r.status;
                if (s == 409 && strcmp(tc_error_code(&r), "CONFLICT") != 0)
                    s = 4090;
                tc_free(&r);
            }
            if (write(fds[i][1], &s, sizeof(s)) != (ssize_t)sizeof(s))
                _exit(1);
            _exit(0);
        }
        close(fds[i][1]);
    }
    int created = 0, conflicts = 0;
    for (int i = 0; i < N; i++) {
        long s;
        int st;
        ck_assert_int_eq(read(fds[i][0], &s, sizeof(s)), (ssize_t)sizeof(s));
        close(fds[i][0]);
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        created += s == 201;
        conflicts += s == 409;
    }
    ck_assert_int_eq(created, 1);
    ck_assert_int_eq(conflicts, N - 1);
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    ck_assert_int_eq(total_of(&r), 2);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/audit?action=MEMBER_ADDED", ws);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    ck_assert_int_eq(total_of(&r), 1);
    tc_free(&r);
    tc_user_free(&o);
}
END_TEST

START_TEST(added_by_email_then_signs_in)
{
    struct tc_user o, s;
    char ws[64], path[256], email[96], g[GUID_LEN + 1], mid[64];
    struct tresp r;
    cJSON *h;
    tc_new_user(&o, "invite");
    create_ws(&o, "invite", ws);
    ck_assert_int_eq(guid_new(g), 0);
    snprintf(email, sizeof(email), "invitee-%.8s@example.com", g);
    add_member(&o, ws, email, "MEMBER", mid);
    /* the person signs in with their address in another case */
    char mixed[96];
    snprintf(mixed, sizeof(mixed), "Invitee-%.8s@EXAMPLE.com", g);
    tc_new_user(&s, mixed);
    cJSON *roles = pma_roles(s.pma);
    ck_assert_str_eq(tc_jstr(roles, ws), "MEMBER");
    cJSON_Delete(roles);
    ck_assert_int_eq(tc_as(&r, &s, "GET", "/workspaces", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 1);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "id"), ws);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s", ws);
    ck_assert_int_eq(tc_as(&r, &s, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    /* the membership is bound to the oid now */
    cJSON *row = find_member(&o, ws, email, &h);
    ck_assert_ptr_nonnull(row);
    ck_assert_str_eq(tc_jstr(row, "id"), mid);
    ck_assert_str_eq(tc_jstr(row, "user_id"), s.oid);
    cJSON_Delete(h);
    /* and they can leave by themselves */
    mpath(path, sizeof(path), ws, mid, "");
    ck_assert_int_eq(tc_as(&r, &s, "DELETE", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_ptr_nonnull(tc_jstr(r.json, "pma_token"));
    tc_free(&r);
    tc_user_free(&o);
    tc_user_free(&s);
}
END_TEST

START_TEST(list_pagination)
{
    struct tc_user o;
    char ws[64], path[256], ids[4][64];
    struct tresp r;
    tc_new_user(&o, "mlist");
    create_ws(&o, "mlist", ws);
    for (int i = 0; i < 4; i++) {
        char email[64];
        snprintf(email, sizeof(email), "p%d-%.8s@example.com", i, ws);
        add_member(&o, ws, email, "VIEWER", ids[i]);
        usleep(5000);
    }
    snprintf(path, sizeof(path), "/workspaces/%s/members?limit=2&offset=1", ws);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(total_of(&r), 5);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "id"), ids[0]);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 1), "id"), ids[1]);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/members?offset=4", ws);
    ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "id"), ids[3]);
    tc_free(&r);
    static const char *const bad[] = {"limit=0", "limit=201", "limit=-5", "offset=-1", "limit=1e3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        snprintf(path, sizeof(path), "/workspaces/%s/members?%s", ws, bad[i]);
        ck_assert_int_eq(tc_as(&r, &o, "GET", path, NULL), 0);
        EXPECT(&r, 422, "VALIDATION_ERROR");
        tc_free(&r);
    }
    tc_user_free(&o);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("members");
    TCase *t = tcase_create("api");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, add_shape);
    tcase_add_test(t, add_validation);
    tcase_add_test(t, add_duplicate_and_owner_rules);
    tcase_add_test(t, patch_rules);
    tcase_add_test(t, last_owner);
    tcase_add_test(t, last_owner_concurrent);
    tcase_add_test(t, remove_rules_and_revocation);
    tcase_add_test(t, cross_workspace);
    tcase_add_test(t, parallel_adds_same_email);
    tcase_add_test(t, added_by_email_then_signs_in);
    tcase_add_test(t, list_pagination);
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
