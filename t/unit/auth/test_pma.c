/* Unit tests for pma.c: issuing and verifying the service's HS256 token. */
#include "core/config.h"
#include "auth/jwks.h"
#include "auth/pma.h"
#include "tokens.h"
#include "core/util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECRET       "0123456789abcdef0123456789abcdef-pma"
#define OTHER_SECRET "fedcba9876543210fedcba9876543210-pma"
#define UID          "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define EMAIL        "ada@example.com"
#define HS256        "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static char why[128];
static struct pma_claims cl;

static void load(const char *secret, enum config_mode mode)
{
    char err[256];
    setenv("PMA_TOKEN_SECRET", secret, 1);
    ck_assert_msg(config_load(mode, "/nonexistent", err, sizeof(err)) == 0, "%s", err);
}

static void setup(void)
{
    setenv("AZURE_TENANT_ID", "11111111-2222-3333-4444-555555555555", 1);
    setenv("AZURE_AUDIENCE", "api://wsms-test", 1);
    setenv("PMA_TOKEN_EXPIRY_HOURS", "24", 1);
    setenv("LOG_LEVEL", "CRITICAL", 1);
    load(SECRET, CONFIG_SERVE);
}

static void teardown(void)
{
    config_free();
}

/* A payload with the standard claims; exp/iat relative to now. */
static char *payload(long iat_off, long exp_off)
{
    long now = (long)time(NULL);
    char *s = NULL;
    cJSON *c = cJSON_CreateObject();
    ck_assert_ptr_nonnull(c);
    cJSON_AddStringToObject(c, "user_id", UID);
    cJSON_AddStringToObject(c, "email", EMAIL);
    cJSON_AddItemToObject(c, "roles", cJSON_CreateObject());
    cJSON_AddNumberToObject(c, "iat", (double)(now + iat_off));
    cJSON_AddNumberToObject(c, "exp", (double)(now + exp_off));
    cJSON_AddStringToObject(c, "jti", "0b7a3c1e-1111-4222-8333-444455556666");
    s = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* payload() with one claim removed or replaced by raw JSON `value`. */
static char *payload_with(const char *name, const char *value)
{
    char *p = payload(0, 3600);
    cJSON *c = cJSON_Parse(p);
    free(p);
    ck_assert_ptr_nonnull(c);
    cJSON_DeleteItemFromObjectCaseSensitive(c, name);
    if (value) {
        cJSON *v = cJSON_Parse(value);
        ck_assert_ptr_nonnull(v);
        cJSON_AddItemToObject(c, name, v);
    }
    p = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    ck_assert_ptr_nonnull(p);
    return p;
}

static char *sign(const char *hdr, const char *p)
{
    char *t = tok_sign_hs256(hdr, p, SECRET, strlen(SECRET));
    ck_assert_ptr_nonnull(t);
    return t;
}

static void expect_fail(char *t, long grace, const char *reason)
{
    int rc = pma_verify(t, grace, &cl, why, sizeof(why));
    free(t);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(cl.user_id, "");
    if (reason)
        ck_assert_str_eq(why, reason);
    else
        ck_assert_str_ne(why, "");
}

static void expect_ok(char *t, long grace)
{
    int rc = pma_verify(t, grace, &cl, why, sizeof(why));
    free(t);
    ck_assert_msg(rc == 0, "verify failed: %s", why);
    ck_assert_str_eq(cl.user_id, UID);
}

START_TEST(round_trip)
{
    cJSON *roles = cJSON_CreateObject();
    cJSON_AddStringToObject(roles, "0b7a3c1e-1111-4222-8333-444455556666", "OWNER");
    cJSON_AddStringToObject(roles, "1b7a3c1e-1111-4222-8333-444455556666", "VIEWER");
    char *t = pma_issue(UID, EMAIL, roles);
    ck_assert_ptr_nonnull(t);
    long now = (long)time(NULL);
    ck_assert_int_eq(pma_verify(t, 0, &cl, why, sizeof(why)), 0);
    ck_assert_str_eq(why, "");
    ck_assert_str_eq(cl.user_id, UID);
    ck_assert_str_eq(cl.email, EMAIL);
    ck_assert_int_le(labs(cl.iat - now), 2);
    ck_assert_int_eq(cl.exp - cl.iat, 24 * 3600);
    char norm[GUID_LEN + 1];
    ck_assert_int_eq(guid_normalize(cl.jti, norm), 0);
    ck_assert_str_eq(norm, cl.jti);

    /* the token carries the roles and an HS256 header */
    struct jws j;
    ck_assert_int_eq(jws_decode(t, PMA_MAX_TOKEN_BYTES, &j, why, sizeof(why)), 0);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j.header, "alg")->valuestring, "HS256");
    ck_assert(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(j.payload, "roles"), roles, 1));
    ck_assert_int_eq(j.sig_len, 32);
    jws_clear(&j);

    /* a second token differs by its jti */
    char *t2 = pma_issue(UID, EMAIL, NULL);
    ck_assert_ptr_nonnull(t2);
    char jti1[37];
    snprintf(jti1, sizeof(jti1), "%s", cl.jti);
    ck_assert_int_eq(pma_verify(t2, 0, &cl, why, sizeof(why)), 0);
    ck_assert_str_ne(cl.jti, jti1);
    ck_assert_int_eq(jws_decode(t2, PMA_MAX_TOKEN_BYTES, &j, why, sizeof(why)), 0);
    const cJSON *r2 = cJSON_GetObjectItemCaseSensitive(j.payload, "roles");
    ck_assert(cJSON_IsObject(r2) && r2->child == NULL);
    jws_clear(&j);

    /* an externally built token with the same secret verifies too */
    char *p = payload(0, 60);
    expect_ok(sign(HS256, p), 0);
    free(p);

    free(t);
    free(t2);
    cJSON_Delete(roles);
}
END_TEST

START_TEST(expiry_hours)
{
    setenv("PMA_TOKEN_EXPIRY_HOURS", "2", 1);
    load(SECRET, CONFIG_SERVE);
    char *t = pma_issue(UID, EMAIL, NULL);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(pma_verify(t, 0, &cl, why, sizeof(why)), 0);
    ck_assert_int_eq(cl.exp - cl.iat, 2 * 3600);
    free(t);
}
END_TEST

START_TEST(wrong_secret)
{
    char *t = pma_issue(UID, EMAIL, NULL);
    ck_assert_ptr_nonnull(t);
    load(OTHER_SECRET, CONFIG_SERVE);
    expect_fail(t, 0, "bad signature");

    char *p = payload(0, 3600);
    expect_fail(tok_sign_hs256(HS256, p, SECRET, strlen(SECRET)), 0, "bad signature");
    expect_ok(tok_sign_hs256(HS256, p, OTHER_SECRET, strlen(OTHER_SECRET)), 0);
    /* a prefix of the secret is another secret */
    expect_fail(tok_sign_hs256(HS256, p, OTHER_SECRET, strlen(OTHER_SECRET) - 1), 0,
                "bad signature");
    free(p);
}
END_TEST

START_TEST(expired_and_grace)
{
    char *p = payload(-7200, -10);
    expect_fail(sign(HS256, p), 0, "expired");
    /* expired within the grace: accepted only when a grace is given */
    expect_ok(sign(HS256, p), 7 * 86400);
    expect_fail(sign(HS256, p), 5, "expired");
    expect_fail(sign(HS256, p), -100, "expired");
    free(p);

    /* expired for longer than the grace */
    p = payload(-9 * 86400, -8 * 86400);
    expect_fail(sign(HS256, p), 7 * 86400, "expired");
    free(p);

    /* not yet expired */
    p = payload(0, 5);
    expect_ok(sign(HS256, p), 0);
    free(p);
}
END_TEST

START_TEST(missing_claims)
{
    static const char *required[] = {"user_id", "email", "iat", "exp"};
    for (size_t i = 0; i < sizeof(required) / sizeof(*required); i++) {
        char *p = payload_with(required[i], NULL);
        expect_fail(sign(HS256, p), 7 * 86400, NULL);
        free(p);
    }
    static const struct {
        const char *name, *value;
    } bad[] = {
        {"user_id", "\"\""},
        {"user_id", "42"},
        {"email", "null"},
        {"exp", "\"9999999999\""},
        {"iat", "\"1\""},
        {"exp", "-1"},
        {"exp", "1e300"},
        {"roles", "[\"OWNER\"]"},
        {"roles", "\"OWNER\""},
        {"jti", "17"},
        {"jti", "\"0b7a3c1e-1111-4222-8333-444455556666-too-long\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char *p = payload_with(bad[i].name, bad[i].value);
        expect_fail(sign(HS256, p), 0, NULL);
        free(p);
    }
    /* exp before iat; iat far in the future */
    char *p = payload(100, 50);
    expect_fail(sign(HS256, p), 0, "bad exp");
    free(p);
    p = payload(3600, 7200);
    expect_fail(sign(HS256, p), 0, "issued in the future");
    free(p);
    /* jti and roles are optional */
    p = payload_with("jti", NULL);
    expect_ok(sign(HS256, p), 0);
    ck_assert_str_eq(cl.jti, "");
    free(p);
    p = payload_with("roles", NULL);
    expect_ok(sign(HS256, p), 0);
    free(p);
    /* too long user_id */
    char longid[300];
    memset(longid, 'x', sizeof(longid) - 3);
    longid[0] = '"';
    longid[sizeof(longid) - 3] = '"';
    longid[sizeof(longid) - 2] = '\0';
    p = payload_with("user_id", longid);
    expect_fail(sign(HS256, p), 0, "bad user_id");
    free(p);
}
END_TEST

START_TEST(alg_changed)
{
    char *p = payload(0, 3600);
    /* a valid HS256 MAC under any other alg name is refused */
    static const char *hdrs[] = {"{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
                                 "{\"alg\":\"HS384\"}",
                                 "{\"alg\":\"hs256\"}",
                                 "{\"alg\":\"none\"}",
                                 "{\"alg\":\"RS256\"}",
                                 "{\"typ\":\"JWT\"}",
                                 "{\"alg\":null}",
                                 "{\"alg\":\"HS256 \"}"};
    for (size_t i = 0; i < sizeof(hdrs) / sizeof(*hdrs); i++)
        expect_fail(sign(hdrs[i], p), 0, "alg not HS256");
    expect_fail(tok_sign_none("{\"alg\":\"none\"}", p), 0, "alg not HS256");
    expect_fail(tok_sign_none(HS256, p), 0, "bad signature");
    EVP_PKEY *k = tok_rsa_new();
    ck_assert_ptr_nonnull(k);
    expect_fail(tok_sign_rs256("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", p, k), 0, "alg not HS256");
    EVP_PKEY_free(k);
    expect_fail(sign("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", p), 0, "crit header");
    expect_ok(sign("{\"alg\":\"HS256\"}", p), 0);
    free(p);
}
END_TEST

START_TEST(tampered)
{
    char *t = pma_issue(UID, EMAIL, NULL);
    ck_assert_ptr_nonnull(t);
    char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    /* payload: user id swapped, signature kept */
    char *p = payload(0, 3600);
    char *pp = strstr(p, UID);
    ck_assert_ptr_nonnull(pp);
    pp[0] = 'b';
    char *p64 = b64url_encode((const unsigned char *)p, strlen(p));
    size_t n = strlen(t) + strlen(p64) + 4;
    char *forged = malloc(n);
    ck_assert_ptr_nonnull(forged);
    snprintf(forged, n, "%.*s.%s%s", (int)(d1 - t), t, p64, d2);
    expect_fail(forged, 0, "bad signature");
    free(p64);
    free(p);
    /* signature: one character changed */
    char *s = strdup(t);
    ck_assert_ptr_nonnull(s);
    size_t off = (size_t)(d2 - t) + 5;
    s[off] = s[off] == 'A' ? 'B' : 'A';
    expect_fail(s, 0, "bad signature");
    /* signature: dropped */
    s = strndup(t, (size_t)(d2 - t) + 1);
    ck_assert_ptr_nonnull(s);
    expect_fail(s, 0, "bad signature");
    expect_ok(t, 0);
}
END_TEST

START_TEST(malformed)
{
    char *t = pma_issue(UID, EMAIL, NULL);
    ck_assert_ptr_nonnull(t);
    expect_fail(strdup(""), 0, "missing token");
    ck_assert_int_eq(pma_verify(NULL, 0, &cl, why, sizeof(why)), -1);
    expect_fail(strdup("a.b"), 0, NULL);
    expect_fail(strdup("a.b.c.d"), 0, NULL);
    expect_fail(strdup("..."), 0, NULL);
    /* a bad character in each part */
    size_t n = strlen(t);
    char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    size_t offs[3] = {2, (size_t)(d1 - t) + 2, (size_t)(d2 - t) + 2};
    for (int i = 0; i < 3; i++) {
        char *s = strdup(t);
        ck_assert_ptr_nonnull(s);
        s[offs[i]] = '*';
        expect_fail(s, 0, "malformed base64url");
    }
    /* JSON that is not an object */
    char *h = b64url_encode((const unsigned char *)"\"HS256\"", 7);
    char *p = b64url_encode((const unsigned char *)"{\"a\":", 5);
    ck_assert(h && p);
    char buf[8192];
    snprintf(buf, sizeof(buf), "%s%s", h, d1);
    expect_fail(strdup(buf), 0, "malformed header");
    snprintf(buf, sizeof(buf), "%.*s.%s%s", (int)(d1 - t), t, p, d2);
    expect_fail(strdup(buf), 0, "malformed payload");
    free(h);
    free(p);
    /* oversized */
    char *big = malloc(PMA_MAX_TOKEN_BYTES + 2);
    ck_assert_ptr_nonnull(big);
    memset(big, 'A', PMA_MAX_TOKEN_BYTES + 1);
    big[PMA_MAX_TOKEN_BYTES + 1] = '\0';
    memcpy(big, t, n);
    expect_fail(big, 0, "token too large");
    free(t);
}
END_TEST

START_TEST(issue_refuses)
{
    cJSON *arr = cJSON_CreateArray();
    ck_assert_ptr_null(pma_issue(NULL, EMAIL, NULL));
    ck_assert_ptr_null(pma_issue("", EMAIL, NULL));
    ck_assert_ptr_null(pma_issue(UID, NULL, NULL));
    ck_assert_ptr_null(pma_issue(UID, EMAIL, arr));
    cJSON_Delete(arr);
    char longid[200];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    ck_assert_ptr_null(pma_issue(longid, EMAIL, NULL));

    /* a short secret (possible outside serve mode): no token issued or accepted */
    char *t = pma_issue(UID, EMAIL, NULL);
    ck_assert_ptr_nonnull(t);
    load("short", CONFIG_MIGRATE);
    ck_assert_ptr_null(pma_issue(UID, EMAIL, NULL));
    expect_fail(t, 0, "pma secret not configured");
    load("", CONFIG_MIGRATE);
    ck_assert_ptr_null(pma_issue(UID, EMAIL, NULL));
}
END_TEST

static Suite *pma_suite(void)
{
    Suite *s = suite_create("pma");
    TCase *tc = tcase_create("pma");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, expiry_hours);
    tcase_add_test(tc, wrong_secret);
    tcase_add_test(tc, expired_and_grace);
    tcase_add_test(tc, missing_claims);
    tcase_add_test(tc, alg_changed);
    tcase_add_test(tc, tampered);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, issue_refuses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pma_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
