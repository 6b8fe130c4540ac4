/* Session revocation through nginx -> spawn-fcgi -> wsmsd: POST
 * /me/sessions/revoke and `wsmsd revoke-user USER_ID` refuse every PMA
 * token of that user issued at or before the revocation second S (401
 * INVALID_PMA_TOKEN on workspace and user routes, TOKEN_REFRESH_FAILED on
 * /auth/refresh) from the next request on, whichever worker answers;
 * /auth/validate issues a fresh token (iat >= S + 1) that works at once,
 * also within second S; the boundary is tested with tokens minted at iat S
 * and S + 1, so nothing sleeps across seconds; other users are unaffected;
 * workspace routes make no extra statement (X-DB-Statements). */
#include "client.h"
#include "tokens.h"
#include "core/util.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define HS256_H "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v && *v, "%s is not set (run through t/run)", name);
    return v;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* PMA_TOKEN_SECRET of the run; malloc'd. */
static char *pma_secret(void)
{
    char *text = slurp(env("WSMS_COMMON_ENV"));
    ck_assert_ptr_nonnull(text);
    char *s = NULL;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "PMA_TOKEN_SECRET=", 17) == 0) {
            free(s);
            s = strdup(line + 17);
        }
    free(text);
    ck_assert_msg(s && strlen(s) >= 32, "no PMA_TOKEN_SECRET in WSMS_COMMON_ENV");
    return s;
}

/* A PMA token for u with an absolute iat, valid for an hour after it. */
static char *mint_at(const struct tc_user *u, long iat)
{
    char jti[GUID_LEN + 1], p[1024];
    char *secret = pma_secret();
    ck_assert_int_eq(guid_new(jti), 0);
    snprintf(p, sizeof(p),
             "{\"user_id\":\"%s\",\"email\":\"%s\",\"roles\":{},\"iat\":%ld,\"exp\":%ld,"
             "\"jti\":\"%s\"}",
             u->oid, u->email, iat, iat + 3600, jti);
    char *t = tok_sign_hs256(HS256_H, p, secret, strlen(secret));
    free(secret);
    ck_assert_ptr_nonnull(t);
    return t;
}

/* iat of a PMA token (decoded here, not with the service's code). */
static long iat_of(const char *tok)
{
    const char *s = strchr(tok, '.');
    ck_assert_ptr_nonnull(s);
    s++;
    const char *e = strchr(s, '.');
    ck_assert_ptr_nonnull(e);
    size_t n = 0;
    unsigned char *raw = b64url_decode(s, (size_t)(e - s), &n);
    ck_assert_ptr_nonnull(raw);
    cJSON *j = cJSON_ParseWithLength((const char *)raw, n);
    free(raw);
    ck_assert_ptr_nonnull(j);
    cJSON *iat = cJSON_GetObjectItem(j, "iat");
    ck_assert(cJSON_IsNumber(iat));
    long v = (long)iat->valuedouble;
    cJSON_Delete(j);
    return v;
}

/* POST /auth/validate with the Entra token only; u->pma replaced. */
static void validate(struct tc_user *u)
{
    char authz[8192];
    const char *h[2] = {authz, NULL};
    struct tresp r;
    snprintf(authz, sizeof(authz), "Authorization: Bearer %s", u->azure);
    ck_assert_int_eq(tc_request(&r, "POST", "/auth/validate", NULL, h), 0);
    EXPECT(&r, 200, NULL);
    const char *t = tc_jstr(r.json, "pma_token");
    ck_assert_ptr_nonnull(t);
    free(u->pma);
    u->pma = strdup(t);
    ck_assert_ptr_nonnull(u->pma);
    tc_free(&r);
}

static void set_pma(struct tc_user *u, char *tok)
{
    free(u->pma);
    u->pma = tok;
}

static void create_ws(const struct tc_user *u, char id[64])
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, "POST", "/workspaces", "{\"name\":\"sessions\"}"), 0);
    EXPECT(&r, 201, NULL);
    snprintf(id, 64, "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
}

/* status and error code of one request as u */
static void expect_as(const struct tc_user *u, const char *method, const char *path, long st,
                      const char *code)
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, method, path, NULL), 0);
    EXPECT(&r, st, code);
    tc_free(&r);
}

/* Statements of the cheapest of several identical GETs (a worker's first
 * connection does not count). */
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

static long revoke_me(const struct tc_user *u)
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, "POST", "/me/sessions/revoke", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "user_id"), u->oid);
    cJSON *t = cJSON_GetObjectItem(r.json, "revoked_through");
    ck_assert(cJSON_IsNumber(t));
    long s = (long)t->valuedouble;
    long now = (long)time(NULL);
    ck_assert_msg(s <= now && s >= now - 5, "revoked_through %ld, now %ld", s, now);
    ck_assert_ptr_nonnull(tc_jstr(r.json, "revoked_through_utc"));
    tc_free(&r);
    return s;
}

START_TEST(revoke_own_sessions)
{
    struct tc_user u, other;
    char ws[64], ows[64], path[160], opath[160];
    tc_new_user(&u, "revoke");
    tc_new_user(&other, "bystander");
    create_ws(&u, ws);
    create_ws(&other, ows);
    snprintf(path, sizeof(path), "/workspaces/%s", ws);
    snprintf(opath, sizeof(opath), "/workspaces/%s", ows);
    long before = min_statements(&u, path);
    char *old = strdup(u.pma);
    ck_assert_ptr_nonnull(old);

    revoke_me(&u);
    /* every worker refuses the old token from the very next request on:
     * more requests than workers */
    for (int i = 0; i < 8; i++) {
        expect_as(&u, "GET", path, 401, "INVALID_PMA_TOKEN");
        expect_as(&u, "GET", "/workspaces", 401, "INVALID_PMA_TOKEN");
        expect_as(&u, "GET", "/workspaces/00000000-0000-4000-8000-000000000000", 401,
                  "INVALID_PMA_TOKEN");
    }
    expect_as(&u, "GET", "/integrations/jira/projects", 401, "INVALID_PMA_TOKEN");
    expect_as(&u, "POST", "/me/sessions/revoke", 401, "INVALID_PMA_TOKEN");
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/auth/refresh", NULL), 0);
    EXPECT(&r, 401, "TOKEN_REFRESH_FAILED");
    tc_free(&r);

    /* the other user is unaffected */
    expect_as(&other, "GET", opath, 200, NULL);
    expect_as(&other, "GET", "/workspaces", 200, NULL);

    /* a fresh token works at once, even in the revocation second */
    validate(&u);
    for (int i = 0; i < 8; i++)
        expect_as(&u, "GET", path, 200, NULL);
    expect_as(&u, "GET", "/workspaces", 200, NULL);
    ck_assert_int_eq(tc_user_refresh_pma(&u), 0);
    expect_as(&u, "GET", path, 200, NULL);
    /* the old one stays refused */
    set_pma(&u, old);
    expect_as(&u, "GET", path, 401, "INVALID_PMA_TOKEN");
    validate(&u);

    /* no extra statement on workspace routes */
    long after = min_statements(&u, path);
    long bystander = min_statements(&other, opath);
    ck_assert_msg(after == before, "GET /workspaces/{id}: %ld statements before, %ld after", before,
                  after);
    ck_assert_msg(bystander == before, "never revoked: %ld statements, revoked: %ld", bystander,
                  after);
    tc_user_free(&u);
    tc_user_free(&other);
}
END_TEST

/* Revocation second S: iat <= S refused, iat = S + 1 accepted; validate in
 * S issues iat S + 1 (the bound the service promises: iat >= S + 1). */
START_TEST(revocation_second_boundary)
{
    struct tc_user u;
    char ws[64], path[160];
    tc_new_user(&u, "boundary");
    create_ws(&u, ws);
    snprintf(path, sizeof(path), "/workspaces/%s", ws);

    long s = revoke_me(&u);
    set_pma(&u, mint_at(&u, s));
    expect_as(&u, "GET", path, 401, "INVALID_PMA_TOKEN");
    expect_as(&u, "GET", "/workspaces", 401, "INVALID_PMA_TOKEN");
    set_pma(&u, mint_at(&u, s - 1));
    expect_as(&u, "GET", path, 401, "INVALID_PMA_TOKEN");
    set_pma(&u, mint_at(&u, s - 3600));
    expect_as(&u, "GET", path, 401, "INVALID_PMA_TOKEN");
    set_pma(&u, mint_at(&u, s + 1));
    expect_as(&u, "GET", path, 200, NULL);
    expect_as(&u, "GET", "/workspaces", 200, NULL);

    validate(&u);
    long iat = iat_of(u.pma);
    ck_assert_msg(iat >= s + 1, "fresh token iat %ld, revoked through %ld", iat, s);
    expect_as(&u, "GET", path, 200, NULL);

    /* revoking again moves the second forward (never back) and catches
     * the token just issued when it falls in that second or before */
    long s2 = revoke_me(&u);
    ck_assert_int_ge(s2, s);
    if (iat <= s2)
        expect_as(&u, "GET", path, 401, "INVALID_PMA_TOKEN");
    set_pma(&u, mint_at(&u, s2 + 1));
    expect_as(&u, "GET", path, 200, NULL);
    tc_user_free(&u);
}
END_TEST

static int run_cli(const char *arg, char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "WSMS_ENV_FILE='%s/wsms.env' '%s' revoke-user '%s' 2>&1",
             env("WSMS_STACK_DIR"), env("WSMSD"), arg);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(revoke_user_command)
{
    struct tc_user u, other;
    char ws[64], path[160], out[4096];
    tc_new_user(&u, "cli");
    tc_new_user(&other, "cli-other");
    create_ws(&u, ws);
    snprintf(path, sizeof(path), "/workspaces/%s", ws);
    expect_as(&u, "GET", path, 200, NULL);

    int rc = run_cli(u.oid, out, sizeof(out));
    ck_assert_msg(rc == 0, "revoke-user exited %d: %s", rc, out);
    ck_assert_msg(strstr(out, u.oid) != NULL, "output does not name the user: %s", out);
    for (int i = 0; i < 8; i++)
        expect_as(&u, "GET", path, 401, "INVALID_PMA_TOKEN");
    expect_as(&other, "GET", "/workspaces", 200, NULL);
    validate(&u);
    expect_as(&u, "GET", path, 200, NULL);

    /* twice is fine; a user never seen is fine (a row ahead of sign-in) */
    ck_assert_int_eq(run_cli(u.oid, out, sizeof(out)), 0);
    char g[GUID_LEN + 1];
    ck_assert_int_eq(guid_new(g), 0);
    ck_assert_int_eq(run_cli(g, out, sizeof(out)), 0);
    ck_assert_int_eq(run_cli("", out, sizeof(out)), 2);
    tc_user_free(&u);
    tc_user_free(&other);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sessions");
    TCase *tc = tcase_create("revocation");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, revoke_own_sessions);
    tcase_add_test(tc, revocation_second_boundary);
    tcase_add_test(tc, revoke_user_command);
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
