/* Authentication through nginx -> spawn-fcgi -> wsmsd: POST /auth/validate,
 * POST /auth/refresh, the middleware on an authenticated route (GET
 * /integrations/jira/projects answers 503 INTEGRATION_NOT_CONFIGURED once
 * auth has passed, since the test stacks configure no Jira), roles from the
 * database and email binding, tokens never in the worker log, and JWKS
 * behaviour on stacks of their own (warm cache with the JWKS endpoint down,
 * cold cache with it closed or hanging, key rotation, unknown-kid floods). */
#include "client.h"
#include "tokens.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define JIRA    "/integrations/jira/projects"
#define HS256_H "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* ---- small helpers ---- */

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    return s;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v && *v, "%s is not set (run through t/run)", name);
    return v;
}

static long now_s(void)
{
    return (long)time(NULL);
}

static double now_f(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* PMA_TOKEN_SECRET of the run (from $WSMS_COMMON_ENV); malloc'd. */
static char *pma_secret(void)
{
    char *text = read_file(env("WSMS_COMMON_ENV"), NULL);
    ck_assert_ptr_nonnull(text);
    char *s = NULL;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "PMA_TOKEN_SECRET=", 17) == 0)
            s = strdup(line + 17);
    free(text);
    ck_assert_msg(s && strlen(s) >= 32, "no PMA_TOKEN_SECRET in WSMS_COMMON_ENV");
    return s;
}

static EVP_PKEY *test_key(void)
{
    FILE *f = fopen(env("WSMS_TEST_KEY"), "r");
    ck_assert_ptr_nonnull(f);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(k);
    return k;
}

static const char *test_kid(void)
{
    const char *k = getenv("WSMS_TEST_KID");
    return k && *k ? k : "test-key-1";
}

static void new_guid(char g[GUID_LEN + 1])
{
    ck_assert_int_eq(guid_new(g), 0);
}

/* A valid Entra token for a new random person; oid/email copied out when
 * the buffers are given. */
static char *fresh_entra(char oid[GUID_LEN + 1], char email[160])
{
    char g[GUID_LEN + 1], e[160], name[64];
    new_guid(g);
    snprintf(e, sizeof(e), "auth-%.8s@example.com", g);
    snprintf(name, sizeof(name), "Auth %.8s", g);
    char *t = tc_entra_token(g, e, name, NULL);
    ck_assert_ptr_nonnull(t);
    if (oid)
        memcpy(oid, g, GUID_LEN + 1);
    if (email)
        snprintf(email, 160, "%s", e);
    return t;
}

/* Valid Entra claims for the run's tenant and audience (caller deletes). */
static cJSON *claims_for(const char *oid, const char *email, const char *name)
{
    cJSON *c =
        tok_entra_claims(env("AZURE_TENANT_ID"), env("AZURE_AUDIENCE"), oid, email, name, 3600);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* base64url part i (0 header, 1 payload) of a JWT parsed as JSON. */
static cJSON *jwt_part(const char *tok, int i)
{
    const char *s = tok;
    for (int k = 0; k < i; k++) {
        s = strchr(s, '.');
        ck_assert_ptr_nonnull(s);
        s++;
    }
    const char *e = strchr(s, '.');
    ck_assert_ptr_nonnull(e);
    size_t n = 0;
    unsigned char *raw = b64url_decode(s, (size_t)(e - s), &n);
    ck_assert_ptr_nonnull(raw);
    cJSON *j = cJSON_ParseWithLength((const char *)raw, n);
    free(raw);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* The PMA token's HS256 signature is right under secret (checked here, not
 * with the service's code). */
static int hs256_valid(const char *tok, const char *secret)
{
    const char *dot = strrchr(tok, '.');
    if (!dot)
        return 0;
    unsigned char mac[32];
    if (hmac_sha256(secret, strlen(secret), tok, (size_t)(dot - tok), mac) != 0)
        return 0;
    char *want = b64url_encode(mac, sizeof(mac));
    int ok = want && strcmp(want, dot + 1) == 0;
    free(want);
    return ok;
}

/* A PMA token signed with secret: iat/exp relative to now. */
static char *mint_pma(const char *secret, const char *user_id, const char *email, long iat_off,
                      long exp_off)
{
    char jti[GUID_LEN + 1];
    new_guid(jti);
    char *p = xprintf("{\"user_id\":\"%s\",\"email\":\"%s\",\"roles\":{},\"iat\":%ld,"
                      "\"exp\":%ld,\"jti\":\"%s\"}",
                      user_id, email, now_s() + iat_off, now_s() + exp_off, jti);
    char *t = tok_sign_hs256(HS256_H, p, secret, strlen(secret));
    free(p);
    ck_assert_ptr_nonnull(t);
    return t;
}

/* token with its header replaced by base64url(header_json), payload and
 * signature kept. */
static char *swap_header(const char *tok, const char *header_json, int keep_sig)
{
    const char *d1 = strchr(tok, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    ck_assert_ptr_nonnull(d2);
    char *h = b64url_encode((const unsigned char *)header_json, strlen(header_json));
    ck_assert_ptr_nonnull(h);
    char *t = xprintf("%s.%.*s.%s", h, (int)(d2 - d1 - 1), d1 + 1, keep_sig ? d2 + 1 : "");
    free(h);
    return t;
}

/* One request with an optional raw Authorization header value and an
 * optional X-PMA-Token, plus an optional extra header line. */
static void call(struct tresp *r, const char *method, const char *path, const char *authz,
                 const char *pma, const char *extra)
{
    char *a = authz ? xprintf("Authorization: %s", authz) : NULL;
    char *p = pma ? xprintf("X-PMA-Token: %s", pma) : NULL;
    const char *h[4] = {NULL, NULL, NULL, NULL};
    int n = 0;
    if (a)
        h[n++] = a;
    if (p)
        h[n++] = p;
    if (extra)
        h[n++] = extra;
    ck_assert_int_eq(tc_request(r, method, path, NULL, h), 0);
    free(a);
    free(p);
}

/* "Bearer <tok>" (caller frees). */
static char *bearer(const char *tok)
{
    return xprintf("Bearer %s", tok);
}

static void call_tok(struct tresp *r, const char *method, const char *path, const char *entra,
                     const char *pma)
{
    char *a = entra ? bearer(entra) : NULL;
    call(r, method, path, a, pma, NULL);
    free(a);
}

/* The answer is `status` with JSON error_code `code`, and the message is a
 * string that does not echo the token. */
static void expect_error(struct tresp *r, long status, const char *code, const char *what)
{
    ck_assert_msg(r->status == status, "%s: status %ld, wanted %ld (%s)", what, r->status, status,
                  r->body ? r->body : "");
    ck_assert_msg(strcmp(tc_error_code(r), code) == 0, "%s: error_code '%s', wanted %s", what,
                  tc_error_code(r), code);
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(r->json, "message")));
    ck_assert_str_eq(tc_header(r, "Content-Type"), "application/json");
}

static void expect_health(void)
{
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    tc_free(&r);
}

/* Neither the token nor its signature or payload part appears in log. */
static void assert_not_in_log(const char *log, const char *tok)
{
    if (!tok || strlen(tok) < 16)
        return;
    size_t n = 0;
    char *text = read_file(log, &n);
    ck_assert_msg(text != NULL, "cannot read %s", log);
    ck_assert_msg(strstr(text, tok) == NULL, "a token appears in %s", log);
    const char *d1 = strchr(tok, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (d2 && strlen(d2 + 1) >= 16)
        ck_assert_msg(strstr(text, d2 + 1) == NULL, "a token signature appears in %s", log);
    if (d2 && d2 - d1 - 1 >= 16) {
        char *payload = strndup(d1 + 1, (size_t)(d2 - d1 - 1));
        ck_assert_ptr_nonnull(payload);
        ck_assert_msg(strstr(text, payload) == NULL, "a token payload appears in %s", log);
        free(payload);
    }
    free(text);
}

static void not_logged(const char *tok)
{
    char *log = xprintf("%s/wsmsd.log", env("WSMS_STACK_DIR"));
    assert_not_in_log(log, tok);
    free(log);
}

/* ---- POST /auth/validate ---- */

START_TEST(validate_ok_body_shape)
{
    char oid[GUID_LEN + 1], email[160], name[64];
    new_guid(oid);
    snprintf(email, sizeof(email), "shape-%.8s@example.com", oid);
    snprintf(name, sizeof(name), "Ada Shape %.8s", oid);
    char *tok = tc_entra_token(oid, email, name, NULL);
    ck_assert_ptr_nonnull(tok);
    struct tresp r;
    call_tok(&r, "POST", "/auth/validate", tok, NULL);
    ck_assert_msg(r.status == 200, "validate: %ld %s", r.status, r.body);
    ck_assert_str_eq(tc_header(&r, "Content-Type"), "application/json");
    ck_assert_ptr_nonnull(tc_header(&r, "X-Request-Id"));
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "user_id")), oid);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "email")), email);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "display_name")), name);
    cJSON *roles = cJSON_GetObjectItem(r.json, "roles");
    ck_assert(cJSON_IsObject(roles));
    ck_assert_int_eq(cJSON_GetArraySize(roles), 0);
    /* accepted_invitations: what signing in accepted (none here) */
    cJSON *acc = cJSON_GetObjectItem(r.json, "accepted_invitations");
    ck_assert(cJSON_IsArray(acc));
    ck_assert_int_eq(cJSON_GetArraySize(acc), 0);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 6);
    const char *pma = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "pma_token"));
    ck_assert_ptr_nonnull(pma);

    /* the PMA token: HS256 under the run's secret, the documented claims */
    char *secret = pma_secret();
    ck_assert(hs256_valid(pma, secret));
    cJSON *h = jwt_part(pma, 0), *p = jwt_part(pma, 1);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(h, "alg")), "HS256");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p, "user_id")), oid);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p, "email")), email);
    ck_assert(cJSON_IsObject(cJSON_GetObjectItem(p, "roles")));
    double iat = cJSON_GetNumberValue(cJSON_GetObjectItem(p, "iat"));
    double exp = cJSON_GetNumberValue(cJSON_GetObjectItem(p, "exp"));
    ck_assert(iat >= (double)(now_s() - 60) && iat <= (double)(now_s() + 5));
    ck_assert(exp - iat == 24.0 * 3600); /* PMA_TOKEN_EXPIRY_HOURS default */
    const char *jti = cJSON_GetStringValue(cJSON_GetObjectItem(p, "jti"));
    ck_assert_ptr_nonnull(jti);
    ck_assert_int_eq((int)strlen(jti), GUID_LEN);

    /* and the pair passes the middleware */
    struct tresp r2;
    call_tok(&r2, "GET", JIRA, tok, pma);
    expect_error(&r2, 503, "INTEGRATION_NOT_CONFIGURED", "valid pair");
    not_logged(tok);
    not_logged(pma);
    tc_free(&r2);

    /* every validate issues a new token (new jti) */
    struct tresp r3;
    call_tok(&r3, "POST", "/auth/validate", tok, NULL);
    ck_assert_int_eq(r3.status, 200);
    const char *pma2 = cJSON_GetStringValue(cJSON_GetObjectItem(r3.json, "pma_token"));
    ck_assert_ptr_nonnull(pma2);
    ck_assert_str_ne(pma2, pma);
    tc_free(&r3);

    cJSON_Delete(h);
    cJSON_Delete(p);
    free(secret);
    tc_free(&r);
    free(tok);
}
END_TEST

/* user_id = oid else sub; email = email else preferred_username else upn;
 * display_name = name else the email; aud may be an array. */
START_TEST(validate_identity_fallbacks)
{
    EVP_PKEY *key = test_key();
    char g[GUID_LEN + 1], mail[160];
    struct tresp r;

    /* no oid: sub */
    new_guid(g);
    snprintf(mail, sizeof(mail), "sub-%.8s@example.com", g);
    cJSON *c = claims_for(g, mail, "Sub Only");
    cJSON_DeleteItemFromObject(c, "oid");
    char *t = tok_entra_token(key, test_kid(), c);
    ck_assert_ptr_nonnull(t);
    call_tok(&r, "POST", "/auth/validate", t, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "user_id")), g);
    tc_free(&r);
    free(t);
    cJSON_Delete(c);

    /* no name: the email; no email claim: preferred_username */
    new_guid(g);
    snprintf(mail, sizeof(mail), "pref-%.8s@example.com", g);
    c = claims_for(g, mail, NULL);
    cJSON_DeleteItemFromObject(c, "email");
    cJSON_DeleteItemFromObject(c, "preferred_username");
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(c, "preferred_username", mail));
    t = tok_entra_token(key, test_kid(), c);
    ck_assert_ptr_nonnull(t);
    call_tok(&r, "POST", "/auth/validate", t, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "user_id")), g);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "email")), mail);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "display_name")), mail);
    tc_free(&r);
    free(t);
    cJSON_Delete(c);

    /* only upn */
    new_guid(g);
    snprintf(mail, sizeof(mail), "upn-%.8s@example.com", g);
    c = claims_for(g, NULL, "Upn Person");
    cJSON_DeleteItemFromObject(c, "email");
    cJSON_DeleteItemFromObject(c, "preferred_username");
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(c, "upn", mail));
    t = tok_entra_token(key, test_kid(), c);
    ck_assert_ptr_nonnull(t);
    call_tok(&r, "POST", "/auth/validate", t, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "email")), mail);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "display_name")),
                     "Upn Person");
    tc_free(&r);
    free(t);
    cJSON_Delete(c);

    /* aud as an array that contains ours */
    new_guid(g);
    char *over = xprintf("{\"aud\":[\"api://someone-else\",\"%s\"]}", env("AZURE_AUDIENCE"));
    t = tc_entra_token(g, "arr@example.com", "Arr", over);
    ck_assert_ptr_nonnull(t);
    call_tok(&r, "POST", "/auth/validate", t, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "user_id")), g);
    tc_free(&r);
    free(t);
    free(over);
    EVP_PKEY_free(key);
}
END_TEST

START_TEST(validate_missing_header)
{
    struct tresp r;
    call(&r, "POST", "/auth/validate", NULL, NULL, NULL);
    expect_error(&r, 401, "MISSING_AUTHORIZATION_HEADER", "no header");
    tc_free(&r);
}
END_TEST

/* Tokens every layer must refuse; index i of bad_entra(). NULL = end. The
 * returned string is the whole Authorization value. */
static char *bad_authz(int i, const char **what)
{
    char g[GUID_LEN + 1], *t = NULL, *a = NULL, *over = NULL;
    EVP_PKEY *key = NULL;
    cJSON *c = NULL;
    char *payload = NULL, *hdr = NULL;
    new_guid(g);
    long now = now_s();
    switch (i) {
    case 0:
        *what = "Basic scheme";
        return strdup("Basic dXNlcjpwYXNzd29yZA==");
    case 1:
        *what = "expired";
        over = xprintf("{\"exp\":%ld,\"iat\":%ld,\"nbf\":%ld}", now - 3600, now - 7200, now - 7200);
        t = tc_entra_token(g, "x@example.com", "X", over);
        break;
    case 2:
        *what = "wrong aud";
        t = tc_entra_token(g, "x@example.com", "X", "{\"aud\":\"api://someone-else\"}");
        break;
    case 3:
        *what = "wrong issuer";
        t = tc_entra_token(g, "x@example.com", "X",
                           "{\"iss\":\"https://login.microsoftonline.com/"
                           "99999999-2222-3333-4444-555555555555/v2.0\"}");
        break;
    case 4:
        *what = "not yet valid";
        over = xprintf("{\"nbf\":%ld,\"iat\":%ld}", now + 3600, now + 3600);
        t = tc_entra_token(g, "x@example.com", "X", over);
        break;
    case 5:
        *what = "alg none";
        c = claims_for(g, "x@example.com", "X");
        payload = cJSON_PrintUnformatted(c);
        hdr = xprintf("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%s\"}", test_kid());
        t = tok_sign_none(hdr, payload);
        break;
    case 6: {
        *what = "HS256 keyed with the RSA public key";
        key = test_key();
        char *pem = tok_rsa_public_pem(key);
        ck_assert_ptr_nonnull(pem);
        c = claims_for(g, "x@example.com", "X");
        payload = cJSON_PrintUnformatted(c);
        hdr = xprintf("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", test_kid());
        t = tok_sign_hs256(hdr, payload, pem, strlen(pem));
        free(pem);
        break;
    }
    case 7: {
        *what = "payload swapped under a valid signature";
        char g2[GUID_LEN + 1];
        new_guid(g2);
        char *t1 = tc_entra_token(g, "x@example.com", "X", NULL);
        char *t2 = tc_entra_token(g2, "y@example.com", "Y", NULL);
        ck_assert(t1 && t2);
        const char *p2 = strchr(t2, '.'), *s1 = strrchr(t1, '.');
        const char *e2 = strrchr(t2, '.');
        t = xprintf("%.*s.%.*s%s", (int)(strchr(t1, '.') - t1), t1, (int)(e2 - p2 - 1), p2 + 1, s1);
        free(t1);
        free(t2);
        break;
    }
    case 8: {
        *what = "signature byte flipped";
        t = tc_entra_token(g, "x@example.com", "X", NULL);
        ck_assert_ptr_nonnull(t);
        char *s = strrchr(t, '.') + 100;
        *s = *s == 'A' ? 'B' : 'A';
        break;
    }
    case 9: {
        *what = "signed by another key under our kid";
        key = tok_rsa_new();
        ck_assert_ptr_nonnull(key);
        c = claims_for(g, "x@example.com", "X");
        t = tok_entra_token(key, test_kid(), c);
        break;
    }
    case 10: {
        *what = "RS512 header";
        key = test_key();
        c = claims_for(g, "x@example.com", "X");
        payload = cJSON_PrintUnformatted(c);
        hdr = xprintf("{\"alg\":\"RS512\",\"typ\":\"JWT\",\"kid\":\"%s\"}", test_kid());
        t = tok_sign_rs256(hdr, payload, key);
        break;
    }
    case 11: {
        *what = "17 KiB token";
        char *pad = malloc(17 * 1024 + 1);
        ck_assert_ptr_nonnull(pad);
        memset(pad, 'p', 17 * 1024);
        pad[17 * 1024] = '\0';
        over = xprintf("{\"pad\":\"%s\"}", pad);
        free(pad);
        t = tc_entra_token(g, "x@example.com", "X", over);
        ck_assert_int_gt((int)strlen(t), 17 * 1024);
        break;
    }
    case 12:
        *what = "not a JWT";
        return strdup("Bearer not-a-jwt-at-all");
    case 13:
        *what = "empty Bearer";
        return strdup("Bearer ");
    case 14:
        *what = "unknown kid";
        key = tok_rsa_new();
        ck_assert_ptr_nonnull(key);
        c = claims_for(g, "x@example.com", "X");
        t = tok_entra_token(key, "no-such-kid", c);
        break;
    default:
        return NULL;
    }
    ck_assert_msg(t != NULL, "building %s", *what);
    a = bearer(t);
    free(t);
    free(over);
    free(payload);
    free(hdr);
    cJSON_Delete(c);
    EVP_PKEY_free(key);
    return a;
}

START_TEST(validate_refuses_bad_tokens)
{
    const char *what = "";
    char *a;
    for (int i = 0; (a = bad_authz(i, &what)) != NULL; i++) {
        struct tresp r;
        call(&r, "POST", "/auth/validate", a, NULL, NULL);
        if (i == 11 && r.status == 400) {
            /* nginx's header buffer may refuse it: still the JSON shape */
            expect_error(&r, 400, "INVALID_REQUEST", what);
        } else {
            expect_error(&r, 401, "TOKEN_VALIDATION_FAILED", what);
        }
        ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "pma_token"));
        tc_free(&r);
        expect_health();
        not_logged(a + strcspn(a, " ") + 1);
        free(a);
    }
}
END_TEST

/* A token far over any limit: nginx answers (JSON), the workers keep serving. */
START_TEST(validate_huge_header_json_error)
{
    size_t n = 40 * 1024;
    char *a = malloc(n + 8);
    ck_assert_ptr_nonnull(a);
    memcpy(a, "Bearer ", 7);
    memset(a + 7, 'x', n);
    a[7 + n] = '\0';
    struct tresp r;
    call(&r, "POST", "/auth/validate", a, NULL, NULL);
    ck_assert_msg(r.status == 400 || r.status == 401, "status %ld", r.status);
    expect_error(&r, r.status, r.status == 400 ? "INVALID_REQUEST" : "TOKEN_VALIDATION_FAILED",
                 "40 KiB header");
    tc_free(&r);
    free(a);
    for (int i = 0; i < 8; i++)
        expect_health();
}
END_TEST

/* ---- POST /auth/refresh ---- */

START_TEST(refresh_ok_new_token)
{
    struct tc_user u;
    ck_assert_int_eq(tc_user_new(&u, "refresh"), 0);
    char *old = strdup(u.pma);
    ck_assert_ptr_nonnull(old);
    struct tresp r;
    call_tok(&r, "POST", "/auth/refresh", u.azure, u.pma);
    ck_assert_msg(r.status == 200, "refresh: %ld %s", r.status, r.body);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "user_id")), u.oid);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "email")), u.email);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "display_name")), u.name);
    ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r.json, "roles")));
    const char *nt = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "pma_token"));
    ck_assert_ptr_nonnull(nt);
    ck_assert_str_ne(nt, old);
    char *secret = pma_secret();
    ck_assert(hs256_valid(nt, secret));
    free(secret);
    struct tresp r2;
    call_tok(&r2, "GET", JIRA, u.azure, nt);
    expect_error(&r2, 503, "INTEGRATION_NOT_CONFIGURED", "refreshed token");
    tc_free(&r2);
    not_logged(nt);
    not_logged(old);
    tc_free(&r);
    free(old);
    tc_user_free(&u);
}
END_TEST

START_TEST(refresh_missing_tokens)
{
    struct tc_user u;
    ck_assert_int_eq(tc_user_new(&u, "refmiss"), 0);
    struct tresp r;
    call_tok(&r, "POST", "/auth/refresh", NULL, u.pma);
    expect_error(&r, 401, "MISSING_AZURE_TOKEN", "refresh without Authorization");
    tc_free(&r);
    call_tok(&r, "POST", "/auth/refresh", u.azure, NULL);
    expect_error(&r, 401, "MISSING_PMA_TOKEN", "refresh without PMA");
    tc_free(&r);
    call_tok(&r, "POST", "/auth/refresh", NULL, NULL);
    expect_error(&r, 401, "MISSING_AZURE_TOKEN", "refresh without either");
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

/* A genuine PMA token expired a day ago is renewed (7-day grace), but it no
 * longer opens authenticated routes itself. */
START_TEST(refresh_expired_one_day_ok)
{
    struct tc_user u;
    ck_assert_int_eq(tc_user_new(&u, "grace"), 0);
    char *secret = pma_secret();
    char *old = mint_pma(secret, u.oid, u.email, -2 * 86400, -86400);
    struct tresp r;
    call_tok(&r, "GET", JIRA, u.azure, old);
    expect_error(&r, 401, "INVALID_PMA_TOKEN", "expired PMA on a route");
    tc_free(&r);
    call_tok(&r, "POST", "/auth/refresh", u.azure, old);
    ck_assert_msg(r.status == 200, "refresh: %ld %s", r.status, r.body);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "user_id")), u.oid);
    const char *nt = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "pma_token"));
    ck_assert_ptr_nonnull(nt);
    ck_assert(hs256_valid(nt, secret));
    cJSON *p = jwt_part(nt, 1);
    ck_assert(cJSON_GetNumberValue(cJSON_GetObjectItem(p, "exp")) > (double)(now_s() + 3600));
    cJSON_Delete(p);
    struct tresp r2;
    call_tok(&r2, "GET", JIRA, u.azure, nt);
    expect_error(&r2, 503, "INTEGRATION_NOT_CONFIGURED", "renewed token");
    tc_free(&r2);
    tc_free(&r);
    not_logged(old);
    not_logged(secret);
    free(old);
    free(secret);
    tc_user_free(&u);
}
END_TEST

START_TEST(refresh_refusals)
{
    struct tc_user u, other;
    ck_assert_int_eq(tc_user_new(&u, "refno"), 0);
    ck_assert_int_eq(tc_user_new(&other, "refother"), 0);
    char *secret = pma_secret();
    const char *wrong = "a-completely-different-secret-of-more-than-32-bytes";
    char *expired8 = mint_pma(secret, u.oid, u.email, -9 * 86400, -8 * 86400);
    char *wrongsig = mint_pma(wrong, u.oid, u.email, 0, 3600);
    char *none = swap_header(u.pma, "{\"alg\":\"none\",\"typ\":\"JWT\"}", 0);
    char *bad_entra = tc_entra_token(u.oid, u.email, u.name, "{\"aud\":\"api://nope\"}");
    ck_assert_ptr_nonnull(bad_entra);
    struct {
        const char *what, *entra, *pma;
    } cases[] = {
        {"PMA expired 8 days ago", u.azure, expired8},
        {"PMA of another user", u.azure, other.pma},
        {"PMA signed with another secret", u.azure, wrongsig},
        {"PMA with alg none", u.azure, none},
        {"invalid Entra token", bad_entra, u.pma},
        {"Entra of another user", other.azure, u.pma},
        {"PMA garbage", u.azure, "garbage.garbage.garbage"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tresp r;
        call_tok(&r, "POST", "/auth/refresh", cases[i].entra, cases[i].pma);
        expect_error(&r, 401, "TOKEN_REFRESH_FAILED", cases[i].what);
        ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "pma_token"));
        tc_free(&r);
        not_logged(cases[i].pma);
    }
    /* non-Bearer Authorization */
    struct tresp r;
    call(&r, "POST", "/auth/refresh", "Basic dXNlcjpwYXNzd29yZA==", u.pma, NULL);
    expect_error(&r, 401, "TOKEN_REFRESH_FAILED", "Basic scheme");
    tc_free(&r);
    not_logged(secret);
    free(expired8);
    free(wrongsig);
    free(none);
    free(bad_entra);
    free(secret);
    tc_user_free(&u);
    tc_user_free(&other);
}
END_TEST

/* ---- the middleware on an authenticated route ---- */

START_TEST(route_missing_tokens)
{
    struct tc_user u;
    ck_assert_int_eq(tc_user_new(&u, "route"), 0);
    struct tresp r;
    call_tok(&r, "GET", JIRA, NULL, NULL);
    expect_error(&r, 401, "MISSING_AZURE_TOKEN", "no tokens");
    tc_free(&r);
    call_tok(&r, "GET", JIRA, u.azure, NULL);
    expect_error(&r, 401, "MISSING_PMA_TOKEN", "no PMA");
    tc_free(&r);
    call_tok(&r, "GET", JIRA, NULL, u.pma);
    expect_error(&r, 401, "MISSING_AZURE_TOKEN", "no Entra");
    tc_free(&r);
    call_tok(&r, "GET", JIRA, u.azure, u.pma);
    expect_error(&r, 503, "INTEGRATION_NOT_CONFIGURED", "both tokens");
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

START_TEST(route_bad_pma)
{
    struct tc_user u;
    ck_assert_int_eq(tc_user_new(&u, "badpma"), 0);
    char *secret = pma_secret();
    char *wrongsig =
        mint_pma("another-secret-another-secret-another-secret", u.oid, u.email, 0, 3600);
    char *future = mint_pma(secret, u.oid, u.email, 3600, 7200);
    char *hs512 = swap_header(u.pma, "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", 1);
    char *rs256 = swap_header(u.pma, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", 1);
    char *none = swap_header(u.pma, "{\"alg\":\"none\",\"typ\":\"JWT\"}", 0);
    char *lower = swap_header(u.pma, "{\"alg\":\"hs256\",\"typ\":\"JWT\"}", 1);
    char *truncated = strdup(u.pma);
    ck_assert_ptr_nonnull(truncated);
    truncated[strlen(truncated) - 4] = '\0';
    struct {
        const char *what, *pma;
    } cases[] = {
        {"garbage", "x.y.z"},
        {"not a JWT", "not-a-jwt"},
        {"wrong secret", wrongsig},
        {"issued in the future", future},
        {"alg changed to HS512", hs512},
        {"alg changed to RS256", rs256},
        {"alg none, no signature", none},
        {"alg lowercase", lower},
        {"truncated signature", truncated},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tresp r;
        call_tok(&r, "GET", JIRA, u.azure, cases[i].pma);
        expect_error(&r, 401, "INVALID_PMA_TOKEN", cases[i].what);
        tc_free(&r);
        not_logged(cases[i].pma);
    }
    free(secret);
    free(wrongsig);
    free(future);
    free(hs512);
    free(rs256);
    free(none);
    free(lower);
    free(truncated);
    tc_user_free(&u);
}
END_TEST

START_TEST(route_bad_entra)
{
    struct tc_user u;
    ck_assert_int_eq(tc_user_new(&u, "badentra"), 0);
    const char *what = "";
    char *a;
    for (int i = 0; (a = bad_authz(i, &what)) != NULL; i++) {
        if (i == 13) {
            free(a); /* "Bearer " alone: covered by route_missing_tokens */
            continue;
        }
        struct tresp r;
        call(&r, "GET", JIRA, a, u.pma, NULL);
        if (i == 11 && r.status == 400)
            expect_error(&r, 400, "INVALID_REQUEST", what);
        else
            expect_error(&r, 401, "INVALID_AZURE_TOKEN", what);
        tc_free(&r);
        not_logged(a + strcspn(a, " ") + 1);
        free(a);
    }
    expect_health();
    tc_user_free(&u);
}
END_TEST

START_TEST(route_token_mismatch)
{
    struct tc_user a, b;
    ck_assert_int_eq(tc_user_new(&a, "mismatch-a"), 0);
    ck_assert_int_eq(tc_user_new(&b, "mismatch-b"), 0);
    struct tresp r;
    call_tok(&r, "GET", JIRA, a.azure, b.pma);
    expect_error(&r, 401, "TOKEN_MISMATCH", "A's Entra with B's PMA");
    tc_free(&r);
    call_tok(&r, "GET", JIRA, b.azure, a.pma);
    expect_error(&r, 401, "TOKEN_MISMATCH", "B's Entra with A's PMA");
    tc_free(&r);
    /* a genuine PMA token naming a user that does not match either */
    char *secret = pma_secret();
    char *forged = mint_pma(secret, "someone-else", a.email, 0, 3600);
    call_tok(&r, "GET", JIRA, a.azure, forged);
    expect_error(&r, 401, "TOKEN_MISMATCH", "PMA for another user_id, same email");
    tc_free(&r);
    free(forged);
    free(secret);
    tc_user_free(&a);
    tc_user_free(&b);
}
END_TEST

/* Everything this file sent: the log holds neither tokens nor the secret. */
START_TEST(secrets_not_in_log)
{
    char *secret = pma_secret();
    not_logged(secret);
    char *log = xprintf("%s/wsmsd.log", env("WSMS_STACK_DIR"));
    char *text = read_file(log, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_null(strstr(text, secret));
    /* no JWT-looking strings at all: base64url of '{"' starts every part */
    ck_assert_ptr_null(strstr(text, "eyJhbGciOi"));
    ck_assert_ptr_null(strstr(text, "Bearer ey"));
    free(text);
    free(log);
    free(secret);
}
END_TEST

/* ---- roles from the database ---- */

static char *create_workspace(const struct tc_user *owner)
{
    char g[GUID_LEN + 1];
    new_guid(g);
    char *body = xprintf("{\"name\":\"auth test %.8s\"}", g);
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, owner, "POST", "/workspaces", body), 0);
    ck_assert_msg(r.status == 201, "POST /workspaces: %ld %s", r.status, r.body);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "id"));
    ck_assert_ptr_nonnull(id);
    char *ret = strdup(id);
    ck_assert_ptr_nonnull(ret);
    tc_free(&r);
    free(body);
    return ret;
}

static void add_member(const struct tc_user *admin, const char *ws, const char *email,
                       const char *role)
{
    char *path = xprintf("/workspaces/%s/members", ws);
    char *body = xprintf("{\"user_email\":\"%s\",\"role\":\"%s\"}", email, role);
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, admin, "POST", path, body), 0);
    ck_assert_msg(r.status == 201, "add member: %ld %s", r.status, r.body);
    tc_free(&r);
    free(path);
    free(body);
}

/* POST /auth/validate for (oid, email); returns the 200 response (caller
 * frees) and the user's tokens in u. */
static void validate_as(struct tresp *r, struct tc_user *u, const char *email)
{
    char g[GUID_LEN + 1];
    memset(u, 0, sizeof(*u));
    new_guid(g);
    snprintf(u->oid, sizeof(u->oid), "%s", g);
    snprintf(u->email, sizeof(u->email), "%s", email);
    snprintf(u->name, sizeof(u->name), "Person %.8s", g);
    u->azure = tc_entra_token(u->oid, u->email, u->name, NULL);
    ck_assert_ptr_nonnull(u->azure);
    call_tok(r, "POST", "/auth/validate", u->azure, NULL);
    ck_assert_msg(r->status == 200, "validate: %ld %s", r->status, r->body);
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(r->json, "pma_token"));
    ck_assert_ptr_nonnull(p);
    u->pma = strdup(p);
    ck_assert_ptr_nonnull(u->pma);
}

static const char *role_in(const struct tresp *r, const char *ws)
{
    cJSON *roles = cJSON_GetObjectItem(r->json, "roles");
    ck_assert(cJSON_IsObject(roles));
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(roles, ws));
}

/* A membership added by email is bound to the first oid that presents that
 * email; a second person with the same email and another oid gets nothing. */
START_TEST(roles_email_binding)
{
    struct tc_user owner, bob, impostor;
    ck_assert_int_eq(tc_user_new(&owner, "wsowner"), 0);
    char *ws = create_workspace(&owner);
    char g[GUID_LEN + 1], email[160];
    new_guid(g);
    snprintf(email, sizeof(email), "bound-%.8s@example.com", g);
    add_member(&owner, ws, email, "MEMBER");

    struct tresp r;
    validate_as(&r, &bob, email);
    ck_assert_pstr_eq(role_in(&r, ws), "MEMBER");
    tc_free(&r);
    char *path = xprintf("/workspaces/%s", ws);
    ck_assert_int_eq(tc_as(&r, &bob, "GET", path, NULL), 0);
    ck_assert_msg(r.status == 200, "bob GET: %ld %s", r.status, r.body);
    tc_free(&r);

    validate_as(&r, &impostor, email);
    ck_assert_ptr_null(role_in(&r, ws));
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &impostor, "GET", path, NULL), 0);
    expect_error(&r, 403, "USER_NOT_AUTHORIZED", "same email, other oid");
    tc_free(&r);
    /* and on refresh too */
    call_tok(&r, "POST", "/auth/refresh", impostor.azure, impostor.pma);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(role_in(&r, ws));
    tc_free(&r);

    /* the owner's own validate lists the workspace as OWNER */
    call_tok(&r, "POST", "/auth/validate", owner.azure, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_pstr_eq(role_in(&r, ws), "OWNER");
    tc_free(&r);
    free(path);
    free(ws);
    tc_user_free(&owner);
    tc_user_free(&bob);
    tc_user_free(&impostor);
}
END_TEST

/* The email match is case-insensitive. */
START_TEST(roles_email_case_insensitive)
{
    struct tc_user owner, carol;
    ck_assert_int_eq(tc_user_new(&owner, "wsowner"), 0);
    char *ws = create_workspace(&owner);
    char g[GUID_LEN + 1], added[160], token_mail[160];
    new_guid(g);
    snprintf(added, sizeof(added), "Carol.Case-%.8s@Example.COM", g);
    snprintf(token_mail, sizeof(token_mail), "CAROL.case-%.8s@example.com", g);
    add_member(&owner, ws, added, "VIEWER");
    struct tresp r;
    validate_as(&r, &carol, token_mail);
    ck_assert_pstr_eq(role_in(&r, ws), "VIEWER");
    tc_free(&r);
    char *path = xprintf("/workspaces/%s", ws);
    ck_assert_int_eq(tc_as(&r, &carol, "GET", path, NULL), 0);
    ck_assert_msg(r.status == 200, "carol GET: %ld %s", r.status, r.body);
    tc_free(&r);
    free(path);
    free(ws);
    tc_user_free(&owner);
    tc_user_free(&carol);
}
END_TEST

/* Roles in /auth/refresh come from the database now, not the old token. */
START_TEST(roles_fresh_on_refresh)
{
    struct tc_user owner, dave;
    ck_assert_int_eq(tc_user_new(&owner, "wsowner"), 0);
    char g[GUID_LEN + 1], email[160];
    new_guid(g);
    snprintf(email, sizeof(email), "dave-%.8s@example.com", g);
    struct tresp r;
    validate_as(&r, &dave, email);
    tc_free(&r);
    char *ws = create_workspace(&owner);
    add_member(&owner, ws, email, "ADMIN");
    call_tok(&r, "POST", "/auth/refresh", dave.azure, dave.pma);
    ck_assert_msg(r.status == 200, "refresh: %ld %s", r.status, r.body);
    ck_assert_pstr_eq(role_in(&r, ws), "ADMIN");
    const char *nt = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "pma_token"));
    ck_assert_ptr_nonnull(nt);
    cJSON *p = jwt_part(nt, 1);
    ck_assert_str_eq(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(p, "roles"), ws)),
        "ADMIN");
    cJSON_Delete(p);
    tc_free(&r);
    free(ws);
    tc_user_free(&owner);
    tc_user_free(&dave);
}
END_TEST

/* ---- JWKS over HTTP, on stacks of their own ---- */

/* A loopback HTTP server in a child process answering every request with
 * the current content of `file` (so rewriting the file rotates keys), and
 * appending one byte to `hits` per request served. Returns its pid. */
static pid_t jwks_server(const char *file, const char *hits, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(listen(fd, 64), 0);
    socklen_t sl = sizeof(sin);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    *port = ntohs(sin.sin_port);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGPIPE, SIG_IGN);
        alarm(600);
        for (;;) {
            int c = accept(fd, NULL, NULL);
            if (c < 0) {
                if (errno == EINTR)
                    continue;
                _exit(1);
            }
            struct timeval tv = {2, 0};
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            char req[8192];
            size_t got = 0;
            while (got < sizeof(req) - 1) {
                ssize_t n = read(c, req + got, sizeof(req) - 1 - got);
                if (n <= 0)
                    break;
                got += (size_t)n;
                req[got] = '\0';
                if (strstr(req, "\r\n\r\n"))
                    break;
            }
            size_t blen = 0;
            char *body = read_file(file, &blen);
            char head[256];
            int hl = snprintf(head, sizeof(head),
                              "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                              "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                              body ? "200 OK" : "404 Not Found", body ? blen : 0);
            ssize_t w = write(c, head, (size_t)hl);
            for (size_t off = 0; body && w >= 0 && off < blen; off += (size_t)w)
                w = write(c, body + off, blen - off);
            free(body);
            close(c);
            int h = open(hits, O_WRONLY | O_APPEND | O_CREAT, 0644);
            if (h >= 0) {
                w = write(h, "x", 1);
                close(h);
            }
            (void)w;
        }
    }
    close(fd);
    return pid;
}

static void server_stop(pid_t pid)
{
    int st;
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
}

static long hits_of(const char *hits)
{
    struct stat sb;
    usleep(150000); /* the server counts after answering */
    return stat(hits, &sb) == 0 ? (long)sb.st_size : 0;
}

/* A free loopback port nobody listens on. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    socklen_t sl = sizeof(sin);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

static char *own_path(const char *name, const char *suffix)
{
    char dir[512];
    tc_stack_dir(name, dir, sizeof(dir));
    return xprintf("%s.%s", dir, suffix);
}

static void start_own(const char *name, int port, long min_refresh, int workers, char *url,
                      size_t n)
{
    char *extra = xprintf("AZURE_JWKS_URL=http://127.0.0.1:%d/keys\n"
                          "AZURE_JWKS_MIN_REFRESH_SECONDS=%ld\n"
                          "INTEGRATION_TIMEOUT_SECONDS=2\n",
                          port, min_refresh);
    ck_assert_int_eq(tc_stack_start(name, extra, workers, url, n), 0);
    free(extra);
    setenv("WSMS_URL", url, 1);
}

/* /auth/validate with a new token as a new person; returns the status. */
static long validate_new(void)
{
    char *t = fresh_entra(NULL, NULL);
    struct tresp r;
    call_tok(&r, "POST", "/auth/validate", t, NULL);
    long st = r.status;
    if (st != 200 && st != 401)
        fprintf(stderr, "validate answered %ld: %s\n", st, r.body ? r.body : "");
    if (st == 401)
        ck_assert_str_eq(tc_error_code(&r), "TOKEN_VALIDATION_FAILED");
    tc_free(&r);
    free(t);
    return st;
}

/* A new token validated by every one of `workers` workers: workers-1
 * children hold a worker each with a paused request, the last request
 * goes to the one left. 0 when every answer was 200. */
static int validate_on_every_worker(int workers)
{
    pid_t kids[8];
    int bad = 0;
    ck_assert_int_le(workers, 8);
    for (int i = 0; i < workers - 1; i++) {
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0) {
            char *t = fresh_entra(NULL, NULL);
            char *a = bearer(t);
            struct tresp r;
            int ok = 0;
            call(&r, "POST", "/auth/validate", a, NULL, "X-Test-Pause: handler:1500");
            ok = r.status == 200;
            if (!ok)
                fprintf(stderr, "paused validate answered %ld: %s\n", r.status, r.body);
            tc_free(&r);
            free(a);
            free(t);
            _exit(ok ? 0 : 1);
        }
        usleep(200000);
    }
    usleep(300000);
    if (validate_new() != 200)
        bad++;
    for (int i = 0; i < workers - 1; i++) {
        int st;
        ck_assert_int_eq(waitpid(kids[i], &st, 0), kids[i]);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad++;
    }
    return bad;
}

static void same_workers(const char *name, const int *before, int n)
{
    int after[16];
    int m = tc_children(tc_stack_pid(name), after, 16);
    ck_assert_int_eq(m, n);
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (int k = 0; k < m; k++)
            found |= after[k] == before[i];
        ck_assert_msg(found, "worker %d was replaced (crashed?)", before[i]);
    }
}

/* Keys cached by every worker keep working when the JWKS endpoint dies;
 * an unknown kid then fails quickly and does not lose the cached keys. */
START_TEST(jwks_warm_cache_survives_endpoint_down)
{
    char url[256], jwks[600];
    snprintf(jwks, sizeof(jwks), "%s/keys/jwks.json", env("WSMS_TMP"));
    char *hits = own_path("jwks-warm", "hits");
    unlink(hits);
    int port;
    pid_t srv = jwks_server(jwks, hits, &port);
    start_own("jwks-warm", port, 1, 2, url, sizeof(url));
    int workers[16];
    int n = tc_children(tc_stack_pid("jwks-warm"), workers, 16);
    ck_assert_int_eq(n, 2);

    ck_assert_int_eq(validate_on_every_worker(2), 0);
    ck_assert_int_eq(hits_of(hits), 2); /* one load per worker */
    server_stop(srv);

    ck_assert_int_eq(validate_on_every_worker(2), 0);
    /* unknown kid: the refetch fails at once, the request is refused */
    EVP_PKEY *other = tok_rsa_new();
    ck_assert_ptr_nonnull(other);
    char g[GUID_LEN + 1];
    new_guid(g);
    cJSON *c = claims_for(g, "kid@example.com", "Kid");
    char *t = tok_entra_token(other, "rotated-away", c);
    ck_assert_ptr_nonnull(t);
    sleep(1); /* past AZURE_JWKS_MIN_REFRESH_SECONDS: a refetch is allowed */
    double t0 = now_f();
    struct tresp r;
    call_tok(&r, "POST", "/auth/validate", t, NULL);
    expect_error(&r, 401, "TOKEN_VALIDATION_FAILED", "unknown kid, endpoint down");
    ck_assert_msg(now_f() - t0 < 4.0, "took %.1f s", now_f() - t0);
    tc_free(&r);
    ck_assert_int_eq(validate_on_every_worker(2), 0);
    same_workers("jwks-warm", workers, n);

    char dir[512];
    tc_stack_dir("jwks-warm", dir, sizeof(dir));
    char *logf = xprintf("%s/wsmsd.log", dir);
    assert_not_in_log(logf, t);
    free(logf);
    free(t);
    cJSON_Delete(c);
    EVP_PKEY_free(other);
    tc_stack_stop("jwks-warm");
    free(hits);
}
END_TEST

/* Never loaded and the endpoint refuses connections or never answers:
 * 401 TOKEN_VALIDATION_FAILED within the outbound timeout, no crash. */
static void cold_case(const char *name, int port)
{
    char url[256];
    start_own(name, port, 1, 1, url, sizeof(url));
    int workers[16];
    int n = tc_children(tc_stack_pid(name), workers, 16);
    ck_assert_int_eq(n, 1);
    for (int i = 0; i < 3; i++) {
        double t0 = now_f();
        ck_assert_int_eq(validate_new(), 401);
        double dt = now_f() - t0;
        ck_assert_msg(dt < 2.0 + 2.0, "%s: validate took %.1f s", name, dt);
        expect_health();
    }
    /* authenticated routes answer INVALID_AZURE_TOKEN the same way */
    struct tc_user u;
    memset(&u, 0, sizeof(u));
    u.azure = fresh_entra(u.oid, u.email);
    char *secret = pma_secret();
    u.pma = mint_pma(secret, u.oid, u.email, 0, 3600);
    struct tresp r;
    double t0 = now_f();
    ck_assert_int_eq(tc_as(&r, &u, "GET", JIRA, NULL), 0);
    expect_error(&r, 401, "INVALID_AZURE_TOKEN", "cold cache route");
    ck_assert(now_f() - t0 < 4.0);
    tc_free(&r);
    same_workers(name, workers, n);
    char dir[512], *logf;
    tc_stack_dir(name, dir, sizeof(dir));
    logf = xprintf("%s/wsmsd.log", dir);
    char *text = read_file(logf, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "cannot load signing keys") != NULL, "no JWKS failure logged");
    free(text);
    assert_not_in_log(logf, u.azure);
    assert_not_in_log(logf, u.pma);
    assert_not_in_log(logf, secret);
    free(logf);
    free(secret);
    tc_user_free(&u);
    tc_stack_stop(name);
}

START_TEST(jwks_cold_cache_closed_port)
{
    cold_case("jwks-closed", closed_port());
}
END_TEST

START_TEST(jwks_cold_cache_hanging_endpoint)
{
    /* listens (the kernel completes handshakes) but never answers */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(listen(fd, 64), 0);
    socklen_t sl = sizeof(sin);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    cold_case("jwks-hang", ntohs(sin.sin_port));
    close(fd);
}
END_TEST

/* Rewriting the JWKS with a new key and kid: tokens of the new key validate
 * (unknown kid -> one refetch), and the retired key stops working, for
 * new and already cached tokens alike. */
START_TEST(jwks_key_rotation)
{
    char url[256];
    char *file = own_path("jwks-rot", "jwks.json");
    char *hits = own_path("jwks-rot", "hits");
    unlink(hits);
    EVP_PKEY *k1 = tok_rsa_new(), *k2 = tok_rsa_new();
    ck_assert(k1 && k2);
    char kid1[48], kid2[48], g[GUID_LEN + 1];
    new_guid(g);
    snprintf(kid1, sizeof(kid1), "rot1-%.8s", g);
    snprintf(kid2, sizeof(kid2), "rot2-%.8s", g);
    const char *kids1[] = {kid1}, *kids2[] = {kid2};
    ck_assert_int_eq(tok_jwks_write(file, &k1, kids1, 1), 0);
    int port;
    pid_t srv = jwks_server(file, hits, &port);
    start_own("jwks-rot", port, 1, 1, url, sizeof(url));

    cJSON *c = claims_for(g, "rot@example.com", "Rot");
    char *t1 = tok_entra_token(k1, kid1, c);
    ck_assert_ptr_nonnull(t1);
    struct tresp r;
    call_tok(&r, "POST", "/auth/validate", t1, NULL);
    ck_assert_msg(r.status == 200, "old key before rotation: %ld %s", r.status, r.body);
    tc_free(&r);
    ck_assert_int_eq(hits_of(hits), 1);

    ck_assert_int_eq(tok_jwks_write(file, &k2, kids2, 1), 0);
    sleep(1); /* AZURE_JWKS_MIN_REFRESH_SECONDS=1 */
    char *t2 = tok_entra_token(k2, kid2, c);
    ck_assert_ptr_nonnull(t2);
    call_tok(&r, "POST", "/auth/validate", t2, NULL);
    ck_assert_msg(r.status == 200, "new key after rotation: %ld %s", r.status, r.body);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "user_id")), g);
    tc_free(&r);
    ck_assert_int_eq(hits_of(hits), 2);

    /* a new token of the retired key (not a cached one) is refused */
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(c, "nonce", "another token"));
    char *t1b = tok_entra_token(k1, kid1, c);
    ck_assert_ptr_nonnull(t1b);
    call_tok(&r, "POST", "/auth/validate", t1b, NULL);
    expect_error(&r, 401, "TOKEN_VALIDATION_FAILED", "retired key");
    tc_free(&r);
    /* and so is the token verified before the rotation: the new key set
     * empties the worker's verification cache */
    call_tok(&r, "POST", "/auth/validate", t1, NULL);
    expect_error(&r, 401, "TOKEN_VALIDATION_FAILED", "cached token of the retired key");
    tc_free(&r);

    server_stop(srv);
    free(t1);
    free(t1b);
    free(t2);
    cJSON_Delete(c);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    tc_stack_stop("jwks-rot");
    free(file);
    free(hits);
}
END_TEST

/* A flood of unknown kids costs at most one refetch per
 * AZURE_JWKS_MIN_REFRESH_SECONDS, and the good keys stay. */
START_TEST(jwks_unknown_kid_flood)
{
    char url[256], jwks[600];
    snprintf(jwks, sizeof(jwks), "%s/keys/jwks.json", env("WSMS_TMP"));
    char *hits = own_path("jwks-flood", "hits");
    unlink(hits);
    int port;
    pid_t srv = jwks_server(jwks, hits, &port);
    start_own("jwks-flood", port, 300, 1, url, sizeof(url));
    ck_assert_int_eq(validate_new(), 200);
    ck_assert_int_eq(hits_of(hits), 1);
    EVP_PKEY *other = tok_rsa_new();
    ck_assert_ptr_nonnull(other);
    for (int i = 0; i < 20; i++) {
        char g[GUID_LEN + 1], kid[64];
        new_guid(g);
        snprintf(kid, sizeof(kid), "flood-%s", g);
        cJSON *c = claims_for(g, "flood@example.com", "Flood");
        char *t = tok_entra_token(other, kid, c);
        ck_assert_ptr_nonnull(t);
        struct tresp r;
        call_tok(&r, "POST", "/auth/validate", t, NULL);
        expect_error(&r, 401, "TOKEN_VALIDATION_FAILED", "unknown kid");
        tc_free(&r);
        free(t);
        cJSON_Delete(c);
    }
    ck_assert_int_eq(hits_of(hits), 2);
    ck_assert_int_eq(validate_new(), 200);
    server_stop(srv);
    EVP_PKEY_free(other);
    tc_stack_stop("jwks-flood");
    free(hits);
}
END_TEST

/* ---- database down (the run's PostgreSQL cluster or shared T-SQL server is
 * paused) ---- */

static bool is_mssql(void)
{
    return strcmp(tc_db_type(), "sqlserver") == 0;
}

static char *pg_marker(void)
{
    return xprintf("%s/auth-db-paused", env("WSMS_TMP"));
}

static char *db_cmd(const char *what)
{
    if (is_mssql())
        return xprintf("sh t/lib/tsql.sh %s %s", what, env("WSMS_TSQL_DIR"));
    return xprintf("sh t/lib/pg.sh %s %s %s", what, env("WSMS_PG_DIR"),
                   strcmp(what, "resume") == 0 ? env("WSMS_PG_PORT") : "");
}

/* Whether the run owns a database server it may stop: its PostgreSQL
 * cluster, or the shared T-SQL server (not a real SQL Server). */
static bool db_server_owned(void)
{
    if (strcmp(tc_db_type(), "postgres") == 0)
        return true;
    if (!is_mssql())
        return false;
    char *path = xprintf("%s/mode", env("WSMS_TSQL_DIR"));
    char mode[16] = "";
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return false;
    int got = fgets(mode, sizeof(mode), f) != NULL;
    fclose(f);
    return got && strncmp(mode, "shared", 6) == 0;
}

static int pg_resume_if_paused(void)
{
    char *marker = pg_marker();
    int rc = 0;
    if (access(marker, F_OK) == 0) {
        char *cmd = db_cmd("resume");
        rc = system(cmd) == 0 ? 0 : -1;
        if (rc == 0)
            unlink(marker);
        free(cmd);
    }
    free(marker);
    return rc;
}

/* The shared stack's workers lost their connections with the server: let
 * each find out before the next suite runs (a worker answers 503 once on a
 * connection that died). */
static void flush_stack(const char *url)
{
    setenv("WSMS_URL", url, 1);
    int in_a_row = 0;
    for (int i = 0; i < 80 && in_a_row < 16; i++) {
        struct tresp r;
        if (tc_request(&r, "GET", "/db/status", NULL, NULL) == 0 && r.status == 200)
            in_a_row++;
        else
            in_a_row = 0;
        tc_free(&r);
    }
}

/* With the database unreachable /auth/validate and /auth/refresh answer 503
 * DATABASE_CONNECTION_ERROR rather than a PMA token with silently empty
 * roles, promptly; once it is back they work again. */
START_TEST(validate_database_down_503)
{
    if (!db_server_owned()) {
        printf("auth: validate_database_down_503 runs where the run owns the database server "
               "(PostgreSQL, the shared T-SQL server), not on %s\n",
               tc_db_type());
        return;
    }
    ck_assert_int_eq(pg_resume_if_paused(), 0);
    char shared[256], url[256];
    snprintf(shared, sizeof(shared), "%s", env("WSMS_URL"));
    ck_assert_int_eq(tc_stack_start("authdb", "DB_LOGIN_TIMEOUT_SECONDS=1\n", 1, url, sizeof(url)),
                     0);
    setenv("WSMS_URL", url, 1);
    struct tc_user u;
    ck_assert_int_eq(tc_user_new(&u, "dbdown"), 0);

    char *marker = pg_marker();
    ck_assert_int_eq(tok_write_file(marker, "paused\n"), 0);
    free(marker);
    char *cmd = db_cmd("pause");
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);

    char *fresh = fresh_entra(NULL, NULL);
    const char *tokens[] = {fresh, u.azure};
    for (int i = 0; i < 2; i++) {
        struct tresp r;
        double t0 = now_f();
        call_tok(&r, "POST", "/auth/validate", tokens[i], NULL);
        double dt = now_f() - t0;
        expect_error(&r, 503, "DATABASE_CONNECTION_ERROR", "validate, database down");
        ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "pma_token"));
        ck_assert_msg(dt < 5.0, "validate took %.1f s with the database down", dt);
        tc_free(&r);
    }
    struct tresp r;
    call_tok(&r, "POST", "/auth/refresh", u.azure, u.pma);
    expect_error(&r, 503, "DATABASE_CONNECTION_ERROR", "refresh, database down");
    ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "pma_token"));
    tc_free(&r);

    int resumed = pg_resume_if_paused();
    long st = 0;
    for (int i = 0; i < 10 && st != 200 && resumed == 0; i++) {
        call_tok(&r, "POST", "/auth/validate", fresh, NULL);
        st = r.status;
        tc_free(&r);
        if (st != 200)
            usleep(200000);
    }
    tc_stack_stop("authdb");
    flush_stack(shared);
    ck_assert_int_eq(resumed, 0);
    ck_assert_msg(st == 200, "validate after the database came back: %ld", st);
    free(fresh);
    tc_user_free(&u);
}
END_TEST

static void db_teardown(void)
{
    if (pg_resume_if_paused() != 0)
        fprintf(stderr, "auth: resuming the database server failed\n");
    char dir[512], pid[600];
    struct stat sb;
    tc_stack_dir("authdb", dir, sizeof(dir));
    snprintf(pid, sizeof(pid), "%s/wsmsd.pid", dir);
    if (stat(pid, &sb) == 0)
        tc_stack_stop("authdb");
}

/* Own stacks and servers of a failed test must not outlive it. */
static void stop_own_stacks(void)
{
    static const char *names[] = {"jwks-warm", "jwks-closed", "jwks-hang", "jwks-rot",
                                  "jwks-flood"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char dir[512];
        struct stat sb;
        tc_stack_dir(names[i], dir, sizeof(dir));
        char *pid = xprintf("%s/wsmsd.pid", dir);
        if (stat(pid, &sb) == 0)
            tc_stack_stop(names[i]);
        free(pid);
    }
}

static Suite *suite(void)
{
    Suite *s = suite_create("auth");
    TCase *v = tcase_create("validate");
    tcase_set_timeout(v, 120);
    tcase_add_test(v, validate_ok_body_shape);
    tcase_add_test(v, validate_identity_fallbacks);
    tcase_add_test(v, validate_missing_header);
    tcase_add_test(v, validate_refuses_bad_tokens);
    tcase_add_test(v, validate_huge_header_json_error);
    suite_add_tcase(s, v);
    TCase *rf = tcase_create("refresh");
    tcase_set_timeout(rf, 120);
    tcase_add_test(rf, refresh_ok_new_token);
    tcase_add_test(rf, refresh_missing_tokens);
    tcase_add_test(rf, refresh_expired_one_day_ok);
    tcase_add_test(rf, refresh_refusals);
    suite_add_tcase(s, rf);
    TCase *mw = tcase_create("middleware");
    tcase_set_timeout(mw, 120);
    tcase_add_test(mw, route_missing_tokens);
    tcase_add_test(mw, route_bad_pma);
    tcase_add_test(mw, route_bad_entra);
    tcase_add_test(mw, route_token_mismatch);
    suite_add_tcase(s, mw);
    TCase *ro = tcase_create("roles");
    tcase_set_timeout(ro, 120);
    tcase_add_test(ro, roles_email_binding);
    tcase_add_test(ro, roles_email_case_insensitive);
    tcase_add_test(ro, roles_fresh_on_refresh);
    suite_add_tcase(s, ro);
    TCase *jw = tcase_create("jwks");
    tcase_set_timeout(jw, 180);
    tcase_add_unchecked_fixture(jw, NULL, stop_own_stacks);
    tcase_add_test(jw, jwks_warm_cache_survives_endpoint_down);
    tcase_add_test(jw, jwks_cold_cache_closed_port);
    tcase_add_test(jw, jwks_cold_cache_hanging_endpoint);
    tcase_add_test(jw, jwks_key_rotation);
    tcase_add_test(jw, jwks_unknown_kid_flood);
    suite_add_tcase(s, jw);
    TCase *db = tcase_create("database");
    tcase_set_timeout(db, 120);
    tcase_add_unchecked_fixture(db, NULL, db_teardown);
    tcase_add_test(db, validate_database_down_503);
    suite_add_tcase(s, db);
    /* last: everything above went through the shared stack's log */
    TCase *lg = tcase_create("log");
    tcase_add_test(lg, secrets_not_in_log);
    suite_add_tcase(s, lg);
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
