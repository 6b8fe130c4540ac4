/* Unit tests for entra.c: Entra access token verification against a file://
 * JWKS written at test time with freshly generated RSA keys. */
#include "core/config.h"
#include "auth/entra.h"
#include "auth/jwks.h"
#include "tokens.h"
#include "core/util.h"

#include <check.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TENANT "11111111-2222-3333-4444-555555555555"
#define AUD    "api://wsms-test"
#define OID    "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define EMAIL  "ada@example.com"
#define NAME   "Ada Lovelace"
#define SECRET "0123456789abcdef0123456789abcdef-pma"

static EVP_PKEY *key_a, *key_b, *key_c;
static char dir[256];
static char jwks_path[512];
static char jwks_url[600];

static void write_jwks(EVP_PKEY *k1, const char *kid1, EVP_PKEY *k2, const char *kid2)
{
    EVP_PKEY *keys[2] = {k1, k2};
    const char *kids[2] = {kid1, kid2};
    ck_assert_int_eq(tok_jwks_write(jwks_path, keys, kids, k2 ? 2 : 1), 0);
}

static void load_config(void)
{
    char err[256];
    ck_assert_msg(config_load(CONFIG_SERVE, "/nonexistent", err, sizeof(err)) == 0, "%s", err);
    entra_reset();
}

static void setup(void)
{
    setenv("AZURE_TENANT_ID", TENANT, 1);
    setenv("AZURE_AUDIENCE", AUD, 1);
    setenv("PMA_TOKEN_SECRET", SECRET, 1);
    setenv("AZURE_JWKS_URL", jwks_url, 1);
    setenv("AZURE_CLOCK_SKEW_SECONDS", "60", 1);
    setenv("AZURE_JWKS_MIN_REFRESH_SECONDS", "300", 1);
    setenv("INTEGRATION_TIMEOUT_SECONDS", "2", 1);
    setenv("LOG_LEVEL", "ERROR", 1);
    unsetenv("AZURE_ISSUER");
    unsetenv("AZURE_ACCEPT_V1_TOKENS");
    write_jwks(key_a, "kA", NULL, NULL);
    load_config();
}

static void teardown(void)
{
    entra_reset();
    config_free();
}

static cJSON *claims(void)
{
    cJSON *c = tok_entra_claims(TENANT, AUD, OID, EMAIL, NAME, 3600);
    ck_assert_ptr_nonnull(c);
    return c;
}

static void set_num(cJSON *c, const char *k, double v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(c, k);
    ck_assert_ptr_nonnull(cJSON_AddNumberToObject(c, k, v));
}

static void set_str(cJSON *c, const char *k, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(c, k);
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(c, k, v));
}

/* Signs c with key/kid and deletes c. */
static char *mint(cJSON *c, EVP_PKEY *key, const char *kid)
{
    char *t = tok_entra_token(key, kid, c);
    cJSON_Delete(c);
    ck_assert_ptr_nonnull(t);
    return t;
}

static char *payload_json(cJSON *c)
{
    char *p = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    ck_assert_ptr_nonnull(p);
    return p;
}

static char why[128];
static struct entra_identity id;

static int verify(const char *t)
{
    return entra_verify(t, &id, why, sizeof(why));
}

/* Verifies and frees t, expecting failure with a reason. */
static void expect_fail(char *t, const char *reason)
{
    int rc = verify(t);
    free(t);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(id.user_id, "");
    if (reason)
        ck_assert_str_eq(why, reason);
    else
        ck_assert_str_ne(why, "");
}

static void expect_ok(char *t)
{
    int rc = verify(t);
    free(t);
    ck_assert_msg(rc == 0, "verify failed: %s", why);
}

static char *join3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
    char *s = malloc(n);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(snprintf(s, n, "%s.%s.%s", a, b, c), (int)n - 1);
    return s;
}

static char *b64(const char *s)
{
    char *e = b64url_encode((const unsigned char *)s, strlen(s));
    ck_assert_ptr_nonnull(e);
    return e;
}

/* The three parts of a token, as separate strings (free each). */
static void split3(const char *t, char **h, char **p, char **s)
{
    const char *d1 = strchr(t, '.');
    ck_assert_ptr_nonnull(d1);
    const char *d2 = strchr(d1 + 1, '.');
    ck_assert_ptr_nonnull(d2);
    *h = strndup(t, (size_t)(d1 - t));
    *p = strndup(d1 + 1, (size_t)(d2 - d1 - 1));
    *s = strdup(d2 + 1);
    ck_assert(*h && *p && *s);
}

static long stat_verifications(void)
{
    long v;
    entra_stats(&v, NULL, NULL);
    return v;
}

static long stat_hits(void)
{
    long h;
    entra_stats(NULL, &h, NULL);
    return h;
}

static long stat_fetches(void)
{
    long f;
    entra_stats(NULL, NULL, &f);
    return f;
}

START_TEST(valid_token)
{
    char *t = mint(claims(), key_a, "kA");
    ck_assert_int_eq(verify(t), 0);
    ck_assert_str_eq(why, "");
    ck_assert_str_eq(id.user_id, OID);
    ck_assert_str_eq(id.email, EMAIL);
    ck_assert_str_eq(id.display_name, NAME);
    ck_assert_int_gt(id.exp, (long)time(NULL) + 3500);
    free(t);
    ck_assert_int_eq(stat_fetches(), 1);
    ck_assert_int_eq(stat_verifications(), 1);
}
END_TEST

START_TEST(identity_fallbacks)
{
    cJSON *c = claims();
    cJSON_DeleteItemFromObjectCaseSensitive(c, "oid");
    set_str(c, "sub", "subject-1");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "email");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "name");
    set_str(c, "preferred_username", "pref@example.com");
    char *t = mint(c, key_a, "kA");
    ck_assert_msg(verify(t) == 0, "%s", why);
    free(t);
    ck_assert_str_eq(id.user_id, "subject-1");
    ck_assert_str_eq(id.email, "pref@example.com");
    ck_assert_str_eq(id.display_name, "pref@example.com");

    c = claims();
    cJSON_DeleteItemFromObjectCaseSensitive(c, "email");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "preferred_username");
    set_str(c, "upn", "upn@example.com");
    t = mint(c, key_a, "kA");
    ck_assert_int_eq(verify(t), 0);
    free(t);
    ck_assert_str_eq(id.user_id, OID);
    ck_assert_str_eq(id.email, "upn@example.com");
    ck_assert_str_eq(id.display_name, NAME);

    c = claims();
    cJSON_DeleteItemFromObjectCaseSensitive(c, "oid");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "sub");
    expect_fail(mint(c, key_a, "kA"), "missing user id");

    c = claims();
    set_num(c, "oid", 42);
    expect_fail(mint(c, key_a, "kA"), "bad identity claim");

    char longid[200];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    c = claims();
    set_str(c, "oid", longid);
    expect_fail(mint(c, key_a, "kA"), "user id too long");
}
END_TEST

START_TEST(expired)
{
    cJSON *c = claims();
    set_num(c, "exp", (double)time(NULL) - 3600);
    expect_fail(mint(c, key_a, "kA"), "expired");

    c = claims();
    cJSON_DeleteItemFromObjectCaseSensitive(c, "exp");
    expect_fail(mint(c, key_a, "kA"), "missing exp");

    c = claims();
    set_str(c, "exp", "9999999999");
    expect_fail(mint(c, key_a, "kA"), "missing exp");
}
END_TEST

START_TEST(nbf_future)
{
    cJSON *c = claims();
    set_num(c, "nbf", (double)time(NULL) + 3600);
    expect_fail(mint(c, key_a, "kA"), "not yet valid");

    c = claims();
    set_str(c, "nbf", "0");
    expect_fail(mint(c, key_a, "kA"), "bad nbf");
}
END_TEST

START_TEST(skew_edges)
{
    long now = (long)time(NULL);
    cJSON *c = claims();
    set_num(c, "exp", (double)(now - 60 + 5));
    expect_ok(mint(c, key_a, "kA"));

    c = claims();
    set_num(c, "exp", (double)(now - 60 - 5));
    expect_fail(mint(c, key_a, "kA"), "expired");

    c = claims();
    set_num(c, "nbf", (double)(now + 60 - 5));
    expect_ok(mint(c, key_a, "kA"));

    c = claims();
    set_num(c, "nbf", (double)(now + 60 + 5));
    expect_fail(mint(c, key_a, "kA"), "not yet valid");
}
END_TEST

START_TEST(wrong_aud)
{
    cJSON *c = claims();
    set_str(c, "aud", "api://someone-else");
    expect_fail(mint(c, key_a, "kA"), "wrong audience");

    c = claims();
    cJSON_DeleteItemFromObjectCaseSensitive(c, "aud");
    const char *others[] = {"api://a", "api://b"};
    cJSON_AddItemToObject(c, "aud", cJSON_CreateStringArray(others, 2));
    expect_fail(mint(c, key_a, "kA"), "wrong audience");

    c = claims();
    cJSON_DeleteItemFromObjectCaseSensitive(c, "aud");
    const char *mine[] = {"api://a", AUD};
    cJSON_AddItemToObject(c, "aud", cJSON_CreateStringArray(mine, 2));
    expect_ok(mint(c, key_a, "kA"));

    c = claims();
    cJSON_DeleteItemFromObjectCaseSensitive(c, "aud");
    expect_fail(mint(c, key_a, "kA"), "wrong audience");

    c = claims();
    set_str(c, "aud", AUD "x");
    expect_fail(mint(c, key_a, "kA"), "wrong audience");
}
END_TEST

START_TEST(wrong_iss)
{
    cJSON *c = claims();
    set_str(c, "iss",
            "https://login.microsoftonline.com/99999999-2222-3333-4444-555555555555/v2.0");
    expect_fail(mint(c, key_a, "kA"), "wrong issuer");

    c = claims();
    set_str(c, "iss", "https://login.microsoftonline.com/" TENANT "/v2.0/");
    expect_fail(mint(c, key_a, "kA"), "wrong issuer");

    /* v1 issuer only when enabled */
    c = claims();
    set_str(c, "iss", "https://sts.windows.net/" TENANT "/");
    char *v1 = mint(c, key_a, "kA");
    ck_assert_int_eq(verify(v1), -1);
    ck_assert_str_eq(why, "wrong issuer");
    setenv("AZURE_ACCEPT_V1_TOKENS", "true", 1);
    load_config();
    ck_assert_int_eq(verify(v1), 0);
    free(v1);

    /* AZURE_ISSUER replaces the default v2 issuer */
    setenv("AZURE_ISSUER", "https://issuer.example.test/", 1);
    unsetenv("AZURE_ACCEPT_V1_TOKENS");
    load_config();
    expect_fail(mint(claims(), key_a, "kA"), "wrong issuer");
    c = claims();
    set_str(c, "iss", "https://issuer.example.test/");
    expect_ok(mint(c, key_a, "kA"));
}
END_TEST

START_TEST(wrong_tid)
{
    cJSON *c = claims();
    set_str(c, "tid", "99999999-2222-3333-4444-555555555555");
    expect_fail(mint(c, key_a, "kA"), "wrong tenant");

    c = claims();
    cJSON_DeleteItemFromObjectCaseSensitive(c, "tid");
    expect_fail(mint(c, key_a, "kA"), "wrong tenant");
}
END_TEST

START_TEST(alg_none)
{
    char *p = payload_json(claims());
    expect_fail(tok_sign_none("{\"alg\":\"none\",\"kid\":\"kA\"}", p), "alg none");
    expect_fail(tok_sign_none("{\"alg\":\"None\",\"typ\":\"JWT\"}", p), "alg none");
    /* an RS256 signature does not rescue alg none */
    char *good = tok_sign_rs256("{\"alg\":\"RS256\",\"kid\":\"kA\"}", p, key_a);
    char *h, *pp, *s;
    split3(good, &h, &pp, &s);
    char *hn = b64("{\"alg\":\"none\",\"kid\":\"kA\"}");
    expect_fail(join3(hn, pp, s), "alg none");
    /* an RS256 header without its signature */
    expect_fail(join3(h, pp, ""), "bad signature");
    free(hn);
    free(h);
    free(pp);
    free(s);
    free(good);
    free(p);
    ck_assert_int_eq(stat_verifications(), 0);
}
END_TEST

START_TEST(alg_confusion_hs256)
{
    char *pem = tok_rsa_public_pem(key_a);
    ck_assert_ptr_nonnull(pem);
    char *p = payload_json(claims());
    expect_fail(
        tok_sign_hs256("{\"alg\":\"HS256\",\"kid\":\"kA\",\"typ\":\"JWT\"}", p, pem, strlen(pem)),
        "alg not RS256");
    expect_fail(tok_sign_hs256("{\"alg\":\"HS512\",\"kid\":\"kA\"}", p, pem, strlen(pem)),
                "alg not RS256");
    expect_fail(tok_sign_hs256("{\"alg\":\"HS384\",\"kid\":\"kA\"}", p, pem, strlen(pem)),
                "alg not RS256");
    free(pem);
    free(p);
    ck_assert_int_eq(stat_verifications(), 0);
}
END_TEST

START_TEST(other_algs)
{
    char *p = payload_json(claims());
    static const char *hdrs[] = {"{\"alg\":\"RS512\",\"kid\":\"kA\"}",
                                 "{\"alg\":\"PS256\",\"kid\":\"kA\"}",
                                 "{\"alg\":\"ES256\",\"kid\":\"kA\"}",
                                 "{\"alg\":\"rs256\",\"kid\":\"kA\"}",
                                 "{\"kid\":\"kA\"}",
                                 "{\"alg\":256,\"kid\":\"kA\"}",
                                 "{\"alg\":[\"RS256\"],\"kid\":\"kA\"}"};
    for (size_t i = 0; i < sizeof(hdrs) / sizeof(*hdrs); i++)
        expect_fail(tok_sign_rs256(hdrs[i], p, key_a), NULL);
    /* critical extensions we do not understand */
    expect_fail(
        tok_sign_rs256("{\"alg\":\"RS256\",\"kid\":\"kA\",\"crit\":[\"b64\"],\"b64\":false}", p,
                       key_a),
        "crit header");
    /* a non-string kid */
    expect_fail(tok_sign_rs256("{\"alg\":\"RS256\",\"kid\":7}", p, key_a), "bad kid");
    /* the same header is fine */
    expect_ok(tok_sign_rs256("{\"alg\":\"RS256\",\"kid\":\"kA\"}", p, key_a));
    free(p);
}
END_TEST

START_TEST(key_rotation_refetch_limit)
{
    expect_ok(mint(claims(), key_a, "kA"));
    ck_assert_int_eq(stat_fetches(), 1);

    /* rotation: kA removed, kB added */
    write_jwks(key_b, "kB", NULL, NULL);
    expect_ok(mint(claims(), key_b, "kB"));
    ck_assert_int_eq(stat_fetches(), 2);

    /* another unknown kid inside the window: no refetch, even though the
     * file now has it */
    write_jwks(key_b, "kB", key_c, "kC");
    expect_fail(mint(claims(), key_c, "kC"), "unknown kid");
    ck_assert_int_eq(stat_fetches(), 2);
    expect_fail(mint(claims(), key_c, "kZ"), "unknown kid");
    ck_assert_int_eq(stat_fetches(), 2);

    /* the removed key no longer verifies new tokens (the first one is still
     * in the token cache: it differs only by the extra claim) */
    cJSON *c = claims();
    set_num(c, "n", 1);
    expect_fail(mint(c, key_a, "kA"), "unknown kid");
    ck_assert_int_eq(stat_fetches(), 2);
    /* known keys keep working */
    expect_ok(mint(claims(), key_b, "kB"));
    ck_assert_int_eq(stat_fetches(), 2);
}
END_TEST

START_TEST(refetch_after_window)
{
    setenv("AZURE_JWKS_MIN_REFRESH_SECONDS", "1", 1);
    load_config();
    expect_ok(mint(claims(), key_a, "kA"));
    expect_fail(mint(claims(), key_c, "kC"), "unknown kid");
    ck_assert_int_eq(stat_fetches(), 2);
    write_jwks(key_a, "kA", key_c, "kC");
    expect_fail(mint(claims(), key_c, "kC"), "unknown kid");
    ck_assert_int_eq(stat_fetches(), 2);
    usleep(1100 * 1000);
    expect_ok(mint(claims(), key_c, "kC"));
    ck_assert_int_eq(stat_fetches(), 3);
}
END_TEST

START_TEST(wrong_key_same_kid)
{
    expect_fail(mint(claims(), key_b, "kA"), "bad signature");
    ck_assert_int_eq(stat_verifications(), 1);
}
END_TEST

START_TEST(tampered_payload)
{
    char *good = mint(claims(), key_a, "kA");
    char *h, *p, *s;
    split3(good, &h, &p, &s);
    cJSON *c = claims();
    set_str(c, "oid", "ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee");
    char *pj = payload_json(c);
    char *p2 = b64(pj);
    expect_fail(join3(h, p2, s), "bad signature");
    /* the original still verifies */
    expect_ok(good);
    free(pj);
    free(p2);
    free(h);
    free(p);
    free(s);
}
END_TEST

START_TEST(tampered_signature)
{
    char *good = mint(claims(), key_a, "kA");
    char *h, *p, *s;
    split3(good, &h, &p, &s);
    s[10] = s[10] == 'A' ? 'B' : 'A';
    expect_fail(join3(h, p, s), "bad signature");
    /* truncated and extended signatures */
    size_t n = strlen(s);
    ck_assert_int_eq(n % 4, 2);
    s[n - 2] = '\0';
    expect_fail(join3(h, p, s), "bad signature");
    char *longer = malloc(n * 2 + 1);
    ck_assert_ptr_nonnull(longer);
    snprintf(longer, n * 2 + 1, "%s%s", s, "AAAAAAAA");
    expect_fail(join3(h, p, longer), "bad signature");
    free(longer);
    free(good);
    free(h);
    free(p);
    free(s);
}
END_TEST

START_TEST(malformed_parts)
{
    char *good = mint(claims(), key_a, "kA");
    char *h, *p, *s;
    split3(good, &h, &p, &s);
    char *bad_json = b64("{\"alg\":\"RS256\",");
    char *not_obj = b64("[\"RS256\"]");
    char *trailing = b64("{\"alg\":\"RS256\",\"kid\":\"kA\"} x");
    char *dup = b64("{\"alg\":\"RS256\",\"kid\":\"kA\",\"alg\":\"none\"}");
    char *empty = b64("");

    /* base64url: characters outside the alphabet, padding, bad length,
     * non-canonical trailing bits, in each part */
    char *bad[3][4];
    char **parts[3] = {&h, &p, &s};
    for (int i = 0; i < 3; i++) {
        const char *orig = *parts[i];
        size_t n = strlen(orig);
        bad[i][0] = strdup(orig);
        bad[i][0][n / 2] = '+';
        bad[i][1] = malloc(n + 3);
        snprintf(bad[i][1], n + 3, "%s==", orig);
        bad[i][2] = malloc(n + 2);
        snprintf(bad[i][2], n + 2, "%sA", orig);
        bad[i][3] = strdup(orig);
        bad[i][3][n / 3] = '\x01';
    }
    for (int k = 0; k < 4; k++) {
        expect_fail(join3(bad[0][k], p, s), NULL);
        expect_fail(join3(h, bad[1][k], s), NULL);
        expect_fail(join3(h, p, bad[2][k]), NULL);
        for (int i = 0; i < 3; i++)
            free(bad[i][k]);
    }
    /* "AB" decodes, but its last character has stray low bits ("AA" is
     * the canonical form of the same byte) */
    expect_fail(join3(h, p, "AB"), "malformed base64url");

    /* JSON: invalid, not an object, trailing garbage, duplicate member,
     * empty, in header and payload */
    const char *jsons[] = {bad_json, not_obj, trailing, dup, empty};
    for (size_t k = 0; k < sizeof(jsons) / sizeof(*jsons); k++) {
        expect_fail(join3(jsons[k], p, s), NULL);
        expect_fail(join3(h, jsons[k], s), NULL);
    }
    /* an embedded NUL in the header */
    unsigned char nul[] = "{\"alg\":\"RS256\",\"kid\":\"kA\"}\0{}";
    char *nulh = b64url_encode(nul, sizeof(nul) - 1);
    expect_fail(join3(nulh, p, s), "malformed header");
    free(nulh);

    /* structure */
    expect_fail(strdup(""), "missing token");
    ck_assert_int_eq(entra_verify(NULL, &id, why, sizeof(why)), -1);
    expect_fail(strdup(".."), NULL);
    expect_fail(strdup("abc"), NULL);
    char two[4096];
    snprintf(two, sizeof(two), "%s.%s", h, p);
    expect_fail(strdup(two), "not a compact JWS");
    char *four = join3(h, p, s);
    size_t n4 = strlen(four) + 3;
    char *four2 = malloc(n4);
    snprintf(four2, n4, "%s.x", four);
    expect_fail(four2, "not a compact JWS");
    free(four);

    ck_assert_int_eq(stat_verifications(), 0);
    expect_ok(good);
    free(bad_json);
    free(not_obj);
    free(trailing);
    free(dup);
    free(empty);
    free(h);
    free(p);
    free(s);
}
END_TEST

START_TEST(oversized_token)
{
    char *pad = malloc(17 * 1024 + 1);
    ck_assert_ptr_nonnull(pad);
    memset(pad, 'x', 17 * 1024);
    pad[17 * 1024] = '\0';
    cJSON *c = claims();
    set_str(c, "pad", pad);
    char *t = mint(c, key_a, "kA");
    ck_assert_int_gt(strlen(t), 16384);
    expect_fail(t, "token too large");
    ck_assert_int_eq(stat_fetches(), 0);
    ck_assert_int_eq(stat_verifications(), 0);

    /* garbage of that size too, and a token just under the limit is fine */
    pad[17 * 1024 - 1] = '\0';
    expect_fail(strdup(pad), "token too large");
    pad[10000] = '\0';
    c = claims();
    set_str(c, "pad", pad);
    t = mint(c, key_a, "kA");
    ck_assert_int_lt(strlen(t), 16384);
    expect_ok(t);
    free(pad);
}
END_TEST

START_TEST(no_kid)
{
    /* one key: a token without kid uses it */
    expect_ok(mint(claims(), key_a, NULL));
    /* more than one key: refused, and no refetch for it */
    write_jwks(key_a, "kA", key_b, "kB");
    entra_reset();
    expect_fail(mint(claims(), key_a, NULL), "no kid");
    ck_assert_int_eq(stat_fetches(), 1);
    expect_fail(mint(claims(), key_b, NULL), "no kid");
    ck_assert_int_eq(stat_fetches(), 1);
    expect_ok(mint(claims(), key_b, "kB"));
}
END_TEST

START_TEST(non_rsa_key)
{
    char *ja = tok_jwks_json(&key_a, (const char *[]){"kA"}, 1);
    ck_assert_ptr_nonnull(ja);
    cJSON *doc = cJSON_Parse(ja);
    free(ja);
    cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "keys");
    /* the same RSA numbers under kty EC / oct */
    cJSON *ec = cJSON_Duplicate(cJSON_GetArrayItem(keys, 0), 1);
    cJSON_ReplaceItemInObjectCaseSensitive(ec, "kty", cJSON_CreateString("EC"));
    cJSON_ReplaceItemInObjectCaseSensitive(ec, "kid", cJSON_CreateString("kE"));
    cJSON_AddItemToArray(keys, ec);
    cJSON *oct = cJSON_CreateObject();
    cJSON_AddStringToObject(oct, "kid", "kO");
    cJSON_AddStringToObject(oct, "kty", "oct");
    cJSON_AddStringToObject(oct, "k", "c2VjcmV0");
    cJSON_AddItemToArray(keys, oct);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    ck_assert_int_eq(tok_write_file(jwks_path, text), 0);
    free(text);

    expect_fail(mint(claims(), key_a, "kE"), "key type not RSA");
    char *p = payload_json(claims());
    expect_fail(tok_sign_hs256("{\"alg\":\"HS256\",\"kid\":\"kO\"}", p, "secret", 6),
                "alg not RS256");
    expect_fail(tok_sign_rs256("{\"alg\":\"RS256\",\"kid\":\"kO\"}", p, key_a), "key type not RSA");
    free(p);
    expect_ok(mint(claims(), key_a, "kA"));
}
END_TEST

START_TEST(jku_ignored)
{
    /* an attacker's JWKS the token points at: never fetched */
    char evil[600], evil_url[700];
    snprintf(evil, sizeof(evil), "%s/evil.json", dir);
    snprintf(evil_url, sizeof(evil_url), "file://%s", evil);
    ck_assert_int_eq(tok_jwks_write(evil, &key_c, (const char *[]){"kEvil"}, 1), 0);
    char *p = payload_json(claims());
    char hdr[2048];
    snprintf(hdr, sizeof(hdr),
             "{\"alg\":\"RS256\",\"kid\":\"kEvil\",\"jku\":\"%s\",\"x5u\":\"%s\"}", evil_url,
             evil_url);
    expect_fail(tok_sign_rs256(hdr, p, key_c), "unknown kid");
    /* a jku on a good token changes nothing either */
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"kA\",\"jku\":\"%s\"}", evil_url);
    expect_ok(tok_sign_rs256(hdr, p, key_a));
    free(p);
    unlink(evil);
}
END_TEST

START_TEST(jwks_down_warm_cache)
{
    expect_ok(mint(claims(), key_a, "kA"));
    ck_assert_int_eq(unlink(jwks_path), 0);
    /* unknown kid: the refetch fails, logged, cache kept */
    expect_fail(mint(claims(), key_b, "kB"), "unknown kid");
    ck_assert_int_eq(stat_fetches(), 2);
    /* a new (uncached) token with the cached key still verifies */
    cJSON *c = claims();
    set_str(c, "name", "Someone Else");
    expect_ok(mint(c, key_a, "kA"));
    ck_assert_int_eq(stat_verifications(), 2);
}
END_TEST

START_TEST(jwks_down_cold_cache)
{
    char url[700];
    snprintf(url, sizeof(url), "file://%s/missing.json", dir);
    setenv("AZURE_JWKS_URL", url, 1);
    load_config();
    int64_t t0 = mono_ms();
    expect_fail(mint(claims(), key_a, "kA"), "jwks unavailable");
    ck_assert_int_eq(stat_fetches(), 1);
    /* retries are spaced out while cold */
    expect_fail(mint(claims(), key_a, "kA"), "jwks unavailable");
    ck_assert_int_eq(stat_fetches(), 1);

    /* a closed loopback port: refused at once */
    setenv("AZURE_JWKS_URL", "http://127.0.0.1:1/keys", 1);
    load_config();
    expect_fail(mint(claims(), key_a, "kA"), "jwks unavailable");
    ck_assert_int_lt(mono_ms() - t0, 2000);
}
END_TEST

START_TEST(cache_hit)
{
    char *t = mint(claims(), key_a, "kA");
    ck_assert_int_eq(verify(t), 0);
    ck_assert_int_eq(verify(t), 0);
    ck_assert_str_eq(id.user_id, OID);
    ck_assert_str_eq(id.display_name, NAME);
    ck_assert_int_eq(stat_verifications(), 1);
    ck_assert_int_eq(stat_hits(), 1);
    ck_assert_int_eq(verify(t), 0);
    ck_assert_int_eq(stat_hits(), 2);
    ck_assert_int_eq(stat_verifications(), 1);
    /* a token that differs only in its signature is not a hit */
    size_t n = strlen(t);
    t[n - 5] = t[n - 5] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(verify(t), -1);
    ck_assert_int_eq(stat_hits(), 2);
    ck_assert_int_eq(stat_verifications(), 2);
    free(t);
    /* a failed token is not remembered */
    cJSON *c = claims();
    set_str(c, "aud", "nope");
    t = mint(c, key_a, "kA");
    ck_assert_int_eq(verify(t), -1);
    ck_assert_int_eq(verify(t), -1);
    ck_assert_int_eq(stat_verifications(), 4);
    free(t);
}
END_TEST

START_TEST(cache_honours_exp)
{
    setenv("AZURE_CLOCK_SKEW_SECONDS", "0", 1);
    load_config();
    cJSON *c = claims();
    set_num(c, "exp", (double)time(NULL) + 1);
    char *t = mint(c, key_a, "kA");
    ck_assert_int_eq(verify(t), 0);
    usleep(2100 * 1000);
    ck_assert_int_eq(verify(t), -1);
    ck_assert_str_eq(why, "expired");
    ck_assert_int_eq(stat_hits(), 0);
    free(t);
}
END_TEST

START_TEST(cache_bounded)
{
    enum { N = 1100 };
    char *first = NULL;
    for (int i = 0; i < N; i++) {
        cJSON *c = claims();
        set_num(c, "n", i);
        char *t = mint(c, key_a, "kA");
        ck_assert_int_eq(verify(t), 0);
        if (i == 0)
            first = t;
        else
            free(t);
    }
    ck_assert_int_eq(stat_verifications(), N);
    ck_assert_int_eq(stat_hits(), 0);
    /* evicted or not, it still verifies */
    ck_assert_int_eq(verify(first), 0);
    free(first);
}
END_TEST

START_TEST(never_logs_token)
{
    setenv("LOG_LEVEL", "DEBUG", 1);
    load_config();
    char logpath[600];
    snprintf(logpath, sizeof(logpath), "%s/log.txt", dir);
    int fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    int saved = dup(2);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fd, 2), 0);

    char *ta = mint(claims(), key_a, "kA");
    char *tb = mint(claims(), key_b, "kB");
    ck_assert_int_eq(verify(ta), 0);
    unlink(jwks_path);
    ck_assert_int_eq(verify(tb), -1);

    fflush(stderr);
    ck_assert_int_ge(dup2(saved, 2), 0);
    close(saved);
    char buf[65536];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_ptr_nonnull(strstr(buf, "WARNING"));
    char *h, *p, *s;
    split3(tb, &h, &p, &s);
    ck_assert_ptr_null(strstr(buf, p));
    ck_assert_ptr_null(strstr(buf, s));
    ck_assert_ptr_null(strstr(buf, SECRET));
    free(h);
    free(p);
    free(s);
    free(ta);
    free(tb);
}
END_TEST

static Suite *entra_suite(void)
{
    Suite *s = suite_create("entra");
    TCase *tc = tcase_create("verify");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, valid_token);
    tcase_add_test(tc, identity_fallbacks);
    tcase_add_test(tc, expired);
    tcase_add_test(tc, nbf_future);
    tcase_add_test(tc, skew_edges);
    tcase_add_test(tc, wrong_aud);
    tcase_add_test(tc, wrong_iss);
    tcase_add_test(tc, wrong_tid);
    tcase_add_test(tc, alg_none);
    tcase_add_test(tc, alg_confusion_hs256);
    tcase_add_test(tc, other_algs);
    tcase_add_test(tc, key_rotation_refetch_limit);
    tcase_add_test(tc, refetch_after_window);
    tcase_add_test(tc, wrong_key_same_kid);
    tcase_add_test(tc, tampered_payload);
    tcase_add_test(tc, tampered_signature);
    tcase_add_test(tc, malformed_parts);
    tcase_add_test(tc, oversized_token);
    tcase_add_test(tc, no_kid);
    tcase_add_test(tc, non_rsa_key);
    tcase_add_test(tc, jku_ignored);
    tcase_add_test(tc, jwks_down_warm_cache);
    tcase_add_test(tc, jwks_down_cold_cache);
    tcase_add_test(tc, cache_hit);
    tcase_add_test(tc, cache_honours_exp);
    tcase_add_test(tc, cache_bounded);
    tcase_add_test(tc, never_logs_token);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/wsms-test-entra-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(jwks_path, sizeof(jwks_path), "%s/jwks.json", dir);
    snprintf(jwks_url, sizeof(jwks_url), "file://%s", jwks_path);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    key_a = tok_rsa_new();
    key_b = tok_rsa_new();
    key_c = tok_rsa_new();
    if (!key_a || !key_b || !key_c)
        return 1;

    SRunner *sr = srunner_create(entra_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    EVP_PKEY_free(key_c);
    char path[600];
    static const char *files[] = {"jwks.json", "jwks.json.tmp", "evil.json", "log.txt"};
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    curl_global_cleanup();
    return failed == 0 ? 0 : 1;
}
