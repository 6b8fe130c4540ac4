/* Unit tests for jwks.c: JWKS parsing into OpenSSL keys, fetching over
 * file:// and loopback http:// (with a small in-process HTTP server), and
 * the per-process key cache with its refetch limits. */
#include "core/config.h"
#include "auth/jwks.h"
#include "tokens.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static EVP_PKEY *key_a, *key_b, *key_small;
static char dir[256];
static char jwks_path[512];
static char jwks_url[600];
static char why[128];

/* ---- a one-thread loopback HTTP server ---- */

enum srv_mode { SRV_SERVE, SRV_HANG, SRV_DENY };

struct srv {
    int fd, port;
    pthread_t th;
    atomic_int stop;
    atomic_int requests;
    enum srv_mode mode;
    const char *body; /* served at /keys */
    char first_line[256];
};

static void srv_reply(int c, const char *status, const char *extra, const char *body)
{
    char head[512];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n", status,
                     blen, extra);
    if (n > 0 && (size_t)n < sizeof(head) && write(c, head, (size_t)n) == n && blen)
        (void)!write(c, body, blen);
}

static void srv_handle(struct srv *s, int c)
{
    char req[4096];
    size_t len = 0;
    while (len < sizeof(req) - 1 && !atomic_load(&s->stop)) {
        struct pollfd p = {c, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(c, req + len, sizeof(req) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[len] = '\0';
    char *eol = strstr(req, "\r\n");
    if (eol)
        *eol = '\0';
    snprintf(s->first_line, sizeof(s->first_line), "%.255s", req);
    atomic_fetch_add(&s->requests, 1);
    if (s->mode == SRV_HANG) {
        while (!atomic_load(&s->stop))
            usleep(20 * 1000);
    } else if (s->mode == SRV_DENY) {
        srv_reply(c, "403 Forbidden", "", NULL);
    } else if (strncmp(req, "GET /keys ", 10) == 0) {
        srv_reply(c, "200 OK", "Content-Type: application/json\r\n", s->body);
    } else if (strncmp(req, "GET /redirect ", 14) == 0) {
        srv_reply(c, "302 Found", "Location: /keys\r\n", NULL);
    } else {
        srv_reply(c, "404 Not Found", "", "{}");
    }
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        srv_handle(s, c);
        close(c);
    }
    return NULL;
}

static void srv_start(struct srv *s, enum srv_mode mode, const char *body)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->body = body;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s->fd, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(s->fd, 8), 0);
    ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->fd);
}

/* ---- helpers ---- */

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
    jwks_cache_reset();
}

static void setup(void)
{
    setenv("AZURE_TENANT_ID", "11111111-2222-3333-4444-555555555555", 1);
    setenv("AZURE_AUDIENCE", "api://wsms-test", 1);
    setenv("PMA_TOKEN_SECRET", "0123456789abcdef0123456789abcdef-pma", 1);
    setenv("AZURE_JWKS_URL", jwks_url, 1);
    setenv("AZURE_JWKS_MIN_REFRESH_SECONDS", "300", 1);
    setenv("INTEGRATION_TIMEOUT_SECONDS", "2", 1);
    setenv("LOG_LEVEL", "CRITICAL", 1);
    unsetenv("OUTBOUND_PROXY");
    write_jwks(key_a, "kA", NULL, NULL);
    load_config();
}

static void teardown(void)
{
    jwks_cache_reset();
    config_free();
}

/* Parses text, expecting success; caller frees. */
static struct jwks *parse_ok(const char *text)
{
    struct jwks *set = NULL;
    int rc = jwks_parse(text, strlen(text), &set, why, sizeof(why));
    ck_assert_msg(rc == 0, "parse failed: %s", why);
    ck_assert_ptr_nonnull(set);
    return set;
}

static void parse_fail(const char *text, const char *reason)
{
    struct jwks *set = (struct jwks *)1;
    ck_assert_int_eq(jwks_parse(text, strlen(text), &set, why, sizeof(why)), -1);
    ck_assert_ptr_null(set);
    ck_assert_str_eq(why, reason);
}

/* jwks_find on set, expecting failure with reason. */
static void find_fail(const struct jwks *set, const char *kid, const char *reason)
{
    EVP_PKEY *k = (EVP_PKEY *)1;
    ck_assert_int_eq(jwks_find(set, kid, &k, why, sizeof(why)), -1);
    ck_assert_ptr_null(k);
    ck_assert_str_eq(why, reason);
}

/* A one-key JWKS (key_a) with member `name` replaced by raw JSON value
 * (NULL removes it). Caller frees. */
static char *jwks_with(const char *name, const char *value)
{
    char *j = tok_jwks_json(&key_a, (const char *[]){"kA"}, 1);
    ck_assert_ptr_nonnull(j);
    cJSON *doc = cJSON_Parse(j);
    free(j);
    cJSON *k = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "keys"), 0);
    ck_assert_ptr_nonnull(k);
    cJSON_DeleteItemFromObjectCaseSensitive(k, name);
    if (value)
        cJSON_AddItemToObject(k, name, cJSON_Parse(value));
    j = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    ck_assert_ptr_nonnull(j);
    return j;
}

static char *read_jwks_file(void)
{
    FILE *f = fopen(jwks_path, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 65536);
    ck_assert_ptr_nonnull(buf);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    ck_assert_int_gt(n, 0);
    return buf;
}

/* ---- parsing ---- */

START_TEST(parse_valid)
{
    EVP_PKEY *keys[2] = {key_a, key_b};
    char *text = tok_jwks_json(keys, (const char *[]){"kA", "kB"}, 2);
    ck_assert_ptr_nonnull(text);
    struct jwks *set = parse_ok(text);
    free(text);
    ck_assert_int_eq(jwks_count(set), 2);
    EVP_PKEY *k = NULL;
    ck_assert_int_eq(jwks_find(set, "kA", &k, why, sizeof(why)), 0);
    ck_assert_int_eq(EVP_PKEY_eq(k, key_a), 1);
    ck_assert_int_eq(EVP_PKEY_eq(k, key_b), 0);
    ck_assert_int_eq(EVP_PKEY_get_bits(k), 2048);
    EVP_PKEY_free(k);
    ck_assert_int_eq(jwks_find(set, "kB", &k, why, sizeof(why)), 0);
    ck_assert_int_eq(EVP_PKEY_eq(k, key_b), 1);
    /* the reference outlives the set */
    jwks_free(set);
    ck_assert_int_eq(EVP_PKEY_get_bits(k), 2048);
    EVP_PKEY_free(k);

    /* Entra's documents carry more members (x5t, x5c, issuer): ignored */
    char *j = jwks_with("x5c", "[\"MIIC...\"]");
    set = parse_ok(j);
    free(j);
    ck_assert_int_eq(jwks_find(set, "kA", &k, why, sizeof(why)), 0);
    EVP_PKEY_free(k);
    jwks_free(set);
}
END_TEST

START_TEST(parse_kid_rules)
{
    EVP_PKEY *keys[2] = {key_a, key_b};
    char *text = tok_jwks_json(keys, (const char *[]){"kA", "kB"}, 2);
    struct jwks *set = parse_ok(text);
    free(text);
    find_fail(set, NULL, "no kid");
    find_fail(set, "kC", "unknown kid");
    find_fail(set, "", "unknown kid");
    jwks_free(set);

    /* one key: no kid picks it */
    text = tok_jwks_json(&key_a, (const char *[]){"kA"}, 1);
    set = parse_ok(text);
    free(text);
    EVP_PKEY *k = NULL;
    ck_assert_int_eq(jwks_find(set, NULL, &k, why, sizeof(why)), 0);
    ck_assert_int_eq(EVP_PKEY_eq(k, key_a), 1);
    EVP_PKEY_free(k);
    jwks_free(set);

    /* the same kid twice */
    text = tok_jwks_json(keys, (const char *[]){"kA", "kA"}, 2);
    set = parse_ok(text);
    free(text);
    find_fail(set, "kA", "ambiguous kid");
    jwks_free(set);

    /* a key without kid is counted but never matched by name */
    text = tok_jwks_json(keys, (const char *[]){"kA", NULL}, 2);
    set = parse_ok(text);
    free(text);
    ck_assert_int_eq(jwks_count(set), 2);
    find_fail(set, NULL, "no kid");
    jwks_free(set);
    find_fail(NULL, "kA", "no keys");
}
END_TEST

START_TEST(parse_unusable_keys)
{
    static const struct {
        const char *name, *value, *reason;
    } cases[] = {
        {"kty", "\"EC\"", "key type not RSA"},
        {"kty", "\"oct\"", "key type not RSA"},
        {"kty", "\"rsa\"", "key type not RSA"},
        {"kty", NULL, "key type not RSA"},
        {"use", "\"enc\"", "key not for signatures"},
        {"alg", "\"RS512\"", "key alg not RS256"},
        {"alg", "\"HS256\"", "key alg not RS256"},
        {"n", NULL, "bad RSA key"},
        {"e", NULL, "bad RSA key"},
        {"n", "12", "bad RSA key"},
        {"n", "\"not*base64\"", "bad RSA key"},
        {"n", "\"AQAB\"", "bad RSA key"},
        {"e", "\"AAAA\"", "bad RSA key"},
        {"e", "\"AQ\"", "bad RSA key"},
        {"e", "\"AQAC\"", "bad RSA key"},
        {"kid", "5", "bad kid"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *j = jwks_with(cases[i].name, cases[i].value);
        struct jwks *set = parse_ok(j);
        free(j);
        ck_assert_int_eq(jwks_count(set), 1);
        EVP_PKEY *k = (EVP_PKEY *)1;
        ck_assert_int_eq(
            jwks_find(set, strcmp(cases[i].name, "kid") ? "kA" : NULL, &k, why, sizeof(why)), -1);
        ck_assert_msg(strcmp(why, cases[i].reason) == 0, "case %zu: %s", i, why);
        jwks_free(set);
    }
    /* use/alg may be absent */
    char *j = jwks_with("use", NULL);
    struct jwks *set = parse_ok(j);
    free(j);
    EVP_PKEY *k = NULL;
    ck_assert_int_eq(jwks_find(set, "kA", &k, why, sizeof(why)), 0);
    EVP_PKEY_free(k);
    jwks_free(set);

    /* a 1024-bit modulus is too weak */
    char *text = tok_jwks_json(&key_small, (const char *[]){"kS"}, 1);
    set = parse_ok(text);
    free(text);
    find_fail(set, "kS", "bad RSA key");
    jwks_free(set);

    /* a bad key does not spoil the good ones */
    EVP_PKEY *keys[2] = {key_small, key_a};
    text = tok_jwks_json(keys, (const char *[]){"kS", "kA"}, 2);
    set = parse_ok(text);
    free(text);
    ck_assert_int_eq(jwks_find(set, "kA", &k, why, sizeof(why)), 0);
    EVP_PKEY_free(k);
    jwks_free(set);
}
END_TEST

START_TEST(parse_bad_documents)
{
    parse_fail("", "jwks not a key set");
    parse_fail("not json", "jwks not a key set");
    parse_fail("[]", "jwks not a key set");
    parse_fail("{}", "jwks not a key set");
    parse_fail("{\"keys\":{}}", "jwks not a key set");
    parse_fail("{\"keys\":[]}", "jwks has no keys");
    parse_fail("{\"keys\":[{\"kid\":\"a\"}", "jwks not a key set");

    /* non-object entries are kept as unusable keys */
    struct jwks *set = parse_ok("{\"keys\":[1,\"x\",null]}");
    ck_assert_int_eq(jwks_count(set), 3);
    jwks_free(set);

    /* more keys than JWKS_MAX_KEYS */
    size_t cap = (JWKS_MAX_KEYS + 1) * 4 + 16;
    char *many = malloc(cap);
    ck_assert_ptr_nonnull(many);
    size_t off = (size_t)snprintf(many, cap, "{\"keys\":[");
    for (int i = 0; i <= JWKS_MAX_KEYS; i++)
        off += (size_t)snprintf(many + off, cap - off, "%s{}", i ? "," : "");
    snprintf(many + off, cap - off, "]}");
    parse_fail(many, "jwks has too many keys");
    free(many);

    set = (struct jwks *)1;
    ck_assert_int_eq(jwks_parse("{}", JWKS_MAX_BYTES + 1, &set, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "jwks too large");
}
END_TEST

START_TEST(jws_canonical)
{
    struct jws j;
    /* "e30" = "{}"; both parts objects, empty signature allowed here */
    ck_assert_int_eq(jws_decode("e30.e30.", 100, &j, why, sizeof(why)), 0);
    ck_assert_ptr_null(j.sig);
    ck_assert_int_eq(j.signed_len, 7);
    jws_clear(&j);
    ck_assert_int_eq(jws_decode("e30.e30.AA", 100, &j, why, sizeof(why)), 0);
    ck_assert_int_eq(j.sig_len, 1);
    jws_clear(&j);
    static const char *bad[] = {"e30.e30.AB", "e30=.e30.AA", "e31.e30.AA",  "e30.e30.A",
                                "e30.e30.A+", "e30.e30.A/",  " e30.e30.AA", ".e30.AA"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        ck_assert_msg(jws_decode(bad[i], 100, &j, why, sizeof(why)) == -1, "%s", bad[i]);
        ck_assert_ptr_null(j.header);
    }
    ck_assert_int_eq(jws_decode("e30.e30.AA", 9, &j, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "token too large");
    /* why may be absent */
    ck_assert_int_eq(jws_decode("x", 100, &j, NULL, 0), -1);
}
END_TEST

/* ---- fetching ---- */

START_TEST(fetch_file)
{
    char *body = NULL;
    size_t len = 0;
    ck_assert_int_eq(jwks_fetch(jwks_url, "", 2, &body, &len, why, sizeof(why)), 0);
    ck_assert_int_eq(len, strlen(body));
    char *want = read_jwks_file();
    ck_assert_str_eq(body, want);
    free(want);
    free(body);

    char url[700];
    snprintf(url, sizeof(url), "file://%s/missing.json", dir);
    ck_assert_int_eq(jwks_fetch(url, "", 2, &body, &len, why, sizeof(why)), -1);
    ck_assert_ptr_null(body);
    ck_assert_str_ne(why, "");
}
END_TEST

START_TEST(fetch_http_loopback)
{
    char *doc = read_jwks_file();
    struct srv s;
    srv_start(&s, SRV_SERVE, doc);
    char url[128];
    char *body = NULL;
    size_t len = 0;

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/keys", s.port);
    ck_assert_int_eq(jwks_fetch(url, "", 2, &body, &len, why, sizeof(why)), 0);
    ck_assert_str_eq(body, doc);
    free(body);
    ck_assert_str_eq(s.first_line, "GET /keys HTTP/1.1");

    snprintf(url, sizeof(url), "http://localhost:%d/keys", s.port);
    ck_assert_int_eq(jwks_fetch(url, "", 2, &body, &len, why, sizeof(why)), 0);
    free(body);

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/nothing", s.port);
    ck_assert_int_eq(jwks_fetch(url, "", 2, &body, &len, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "jwks http status 404");

    /* redirects are not followed */
    int before = atomic_load(&s.requests);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/redirect", s.port);
    ck_assert_int_eq(jwks_fetch(url, "", 2, &body, &len, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "jwks http status 302");
    int after = atomic_load(&s.requests);
    ck_assert_int_eq(after, before + 1);

    /* environment proxies are ignored */
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
    setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/keys", s.port);
    ck_assert_msg(jwks_fetch(url, "", 2, &body, &len, why, sizeof(why)) == 0, "%s", why);
    free(body);
    unsetenv("http_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("ALL_PROXY");

    srv_stop(&s);
    free(doc);
}
END_TEST

START_TEST(fetch_uses_configured_proxy)
{
    struct srv proxy;
    srv_start(&proxy, SRV_DENY, NULL);
    char purl[64];
    snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", proxy.port);
    char *body = NULL;
    ck_assert_int_eq(
        jwks_fetch("https://jwks.example.invalid/keys", purl, 2, &body, NULL, why, sizeof(why)),
        -1);
    ck_assert_ptr_null(body);
    int requests = atomic_load(&proxy.requests);
    ck_assert_int_eq(requests, 1);
    ck_assert_msg(strncmp(proxy.first_line, "CONNECT jwks.example.invalid:443 ", 33) == 0, "%s",
                  proxy.first_line);
    srv_stop(&proxy);
}
END_TEST

START_TEST(fetch_refuses_urls)
{
    char *body = NULL;
    static const struct {
        const char *url, *reason;
    } cases[] = {
        {"http://example.com/keys", "http jwks url must be loopback"},
        {"http://10.0.0.1/keys", "http jwks url must be loopback"},
        {"http://127.0.0.1.example.com/keys", "http jwks url must be loopback"},
        {"ftp://127.0.0.1/keys", "jwks url scheme not allowed"},
        {"gopher://127.0.0.1/keys", "jwks url scheme not allowed"},
        {"dict://127.0.0.1/keys", "jwks url scheme not allowed"},
        {"not a url", "bad jwks url"},
        {"", "no jwks url"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        ck_assert_int_eq(jwks_fetch(cases[i].url, "", 2, &body, NULL, why, sizeof(why)), -1);
        ck_assert_msg(strcmp(why, cases[i].reason) == 0, "%s: %s", cases[i].url, why);
        ck_assert_ptr_null(body);
    }
}
END_TEST

START_TEST(fetch_timeout)
{
    struct srv s;
    srv_start(&s, SRV_HANG, NULL);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/keys", s.port);
    char *body = NULL;
    int64_t t0 = mono_ms();
    ck_assert_int_eq(jwks_fetch(url, "", 1, &body, NULL, why, sizeof(why)), -1);
    int64_t took = mono_ms() - t0;
    ck_assert_int_ge(took, 900);
    ck_assert_int_lt(took, 3000);
    srv_stop(&s);
}
END_TEST

START_TEST(fetch_too_large)
{
    size_t n = JWKS_MAX_BYTES + 100;
    char *big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, ' ', n);
    big[n] = '\0';
    ck_assert_int_eq(tok_write_file(jwks_path, big), 0);
    char *body = NULL;
    ck_assert_int_eq(jwks_fetch(jwks_url, "", 2, &body, NULL, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "jwks too large");

    struct srv s;
    srv_start(&s, SRV_SERVE, big);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/keys", s.port);
    ck_assert_int_eq(jwks_fetch(url, "", 2, &body, NULL, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "jwks too large");
    srv_stop(&s);
    free(big);
}
END_TEST

/* ---- the process cache ---- */

static EVP_PKEY *cache_key(const char *kid)
{
    EVP_PKEY *k = NULL;
    int rc = jwks_cache_key(kid, &k, why, sizeof(why));
    if (rc != 0)
        ck_assert_ptr_null(k);
    return k;
}

START_TEST(cache_loads_once)
{
    EVP_PKEY *k1 = cache_key("kA");
    ck_assert_ptr_nonnull(k1);
    ck_assert_int_eq(jwks_cache_fetches(), 1);
    EVP_PKEY *k2 = cache_key("kA");
    /* the very same OpenSSL key object: built once at load, not per call */
    ck_assert_ptr_eq(k1, k2);
    ck_assert_int_eq(EVP_PKEY_eq(k1, key_a), 1);
    ck_assert_int_eq(jwks_cache_fetches(), 1);
    EVP_PKEY *k3 = cache_key(NULL);
    ck_assert_ptr_eq(k1, k3);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k3);
    ck_assert_int_eq(jwks_cache_fetches(), 1);

    /* a reference survives a reset of the cache */
    k1 = cache_key("kA");
    jwks_cache_reset();
    ck_assert_int_eq(EVP_PKEY_get_bits(k1), 2048);
    EVP_PKEY_free(k1);
    ck_assert_int_eq(jwks_cache_fetches(), 0);
}
END_TEST

START_TEST(cache_unknown_kid_refetch)
{
    EVP_PKEY *k = cache_key("kA");
    EVP_PKEY_free(k);
    write_jwks(key_a, "kA", key_b, "kB");
    k = cache_key("kB");
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(EVP_PKEY_eq(k, key_b), 1);
    EVP_PKEY_free(k);
    ck_assert_int_eq(jwks_cache_fetches(), 2);
    /* inside the window: no more refetches, whatever the kid */
    for (int i = 0; i < 20; i++)
        ck_assert_ptr_null(cache_key(i % 2 ? "kX" : "kY"));
    ck_assert_str_eq(why, "unknown kid");
    ck_assert_int_eq(jwks_cache_fetches(), 2);
    /* a kid-less token with two keys never refetches */
    ck_assert_ptr_null(cache_key(NULL));
    ck_assert_str_eq(why, "no kid");
    ck_assert_int_eq(jwks_cache_fetches(), 2);
}
END_TEST

START_TEST(cache_zero_window)
{
    setenv("AZURE_JWKS_MIN_REFRESH_SECONDS", "0", 1);
    load_config();
    EVP_PKEY *k = cache_key("kA");
    EVP_PKEY_free(k);
    ck_assert_ptr_null(cache_key("kX"));
    ck_assert_ptr_null(cache_key("kX"));
    ck_assert_int_eq(jwks_cache_fetches(), 3);
}
END_TEST

START_TEST(cache_down_keeps_keys)
{
    EVP_PKEY *k = cache_key("kA");
    EVP_PKEY_free(k);
    /* the document turns into garbage, then disappears */
    ck_assert_int_eq(tok_write_file(jwks_path, "<html>oops</html>"), 0);
    ck_assert_ptr_null(cache_key("kB"));
    ck_assert_str_eq(why, "unknown kid");
    ck_assert_int_eq(jwks_cache_fetches(), 2);
    k = cache_key("kA");
    ck_assert_ptr_nonnull(k);
    EVP_PKEY_free(k);
    unlink(jwks_path);
    setenv("AZURE_JWKS_MIN_REFRESH_SECONDS", "0", 1);
    char err[256];
    ck_assert_int_eq(config_load(CONFIG_SERVE, "/nonexistent", err, sizeof(err)), 0);
    ck_assert_ptr_null(cache_key("kB"));
    ck_assert_int_eq(jwks_cache_fetches(), 3);
    k = cache_key("kA");
    ck_assert_ptr_nonnull(k);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(cache_cold_backoff)
{
    unlink(jwks_path);
    ck_assert_ptr_null(cache_key("kA"));
    ck_assert_str_eq(why, "jwks unavailable");
    ck_assert_int_eq(jwks_cache_fetches(), 1);
    write_jwks(key_a, "kA", NULL, NULL);
    /* within JWKS_COLD_RETRY_S: not retried yet */
    ck_assert_ptr_null(cache_key("kA"));
    ck_assert_int_eq(jwks_cache_fetches(), 1);

    /* a shorter refresh window shortens the cold retry too */
    setenv("AZURE_JWKS_MIN_REFRESH_SECONDS", "1", 1);
    char err[256];
    ck_assert_int_eq(config_load(CONFIG_SERVE, "/nonexistent", err, sizeof(err)), 0);
    usleep(1100 * 1000);
    EVP_PKEY *k = cache_key("kA");
    ck_assert_ptr_nonnull(k);
    EVP_PKEY_free(k);
    ck_assert_int_eq(jwks_cache_fetches(), 2);
}
END_TEST

START_TEST(cache_http_down)
{
    char *doc = read_jwks_file();
    struct srv s;
    srv_start(&s, SRV_SERVE, doc);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/keys", s.port);
    setenv("AZURE_JWKS_URL", url, 1);
    setenv("AZURE_JWKS_MIN_REFRESH_SECONDS", "0", 1);
    load_config();
    EVP_PKEY *k = cache_key("kA");
    ck_assert_ptr_nonnull(k);
    EVP_PKEY_free(k);
    srv_stop(&s);
    /* endpoint gone: refetch fails fast, cached keys keep working */
    int64_t t0 = mono_ms();
    ck_assert_ptr_null(cache_key("kB"));
    ck_assert_int_lt(mono_ms() - t0, 2500);
    ck_assert_int_eq(jwks_cache_fetches(), 2);
    k = cache_key("kA");
    ck_assert_ptr_nonnull(k);
    EVP_PKEY_free(k);
    free(doc);
}
END_TEST

START_TEST(cache_url_change)
{
    EVP_PKEY *k = cache_key("kA");
    EVP_PKEY_free(k);
    char other[600], url[700];
    snprintf(other, sizeof(other), "%s/other.json", dir);
    snprintf(url, sizeof(url), "file://%s", other);
    ck_assert_int_eq(tok_jwks_write(other, &key_b, (const char *[]){"kB"}, 1), 0);
    setenv("AZURE_JWKS_URL", url, 1);
    char err[256];
    ck_assert_int_eq(config_load(CONFIG_SERVE, "/nonexistent", err, sizeof(err)), 0);
    /* the old document's keys are gone with its URL */
    ck_assert_ptr_null(cache_key("kA"));
    k = cache_key("kB");
    ck_assert_ptr_nonnull(k);
    EVP_PKEY_free(k);
    ck_assert_int_eq(jwks_cache_fetches(), 2);
    unlink(other);
}
END_TEST

START_TEST(config_url)
{
    char buf[256];
    ck_assert_int_eq(jwks_config_url(buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, jwks_url);
    unsetenv("AZURE_JWKS_URL");
    char err[256];
    ck_assert_int_eq(config_load(CONFIG_SERVE, "/nonexistent", err, sizeof(err)), 0);
    ck_assert_int_eq(jwks_config_url(buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555"
                          "/discovery/v2.0/keys");
    ck_assert_int_eq(jwks_config_url(buf, 20), -1);
}
END_TEST

static Suite *jwks_suite(void)
{
    Suite *s = suite_create("jwks");
    TCase *tp = tcase_create("parse");
    tcase_add_checked_fixture(tp, setup, teardown);
    tcase_add_test(tp, parse_valid);
    tcase_add_test(tp, parse_kid_rules);
    tcase_add_test(tp, parse_unusable_keys);
    tcase_add_test(tp, parse_bad_documents);
    tcase_add_test(tp, jws_canonical);
    suite_add_tcase(s, tp);

    TCase *tf = tcase_create("fetch");
    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_set_timeout(tf, 30);
    tcase_add_test(tf, fetch_file);
    tcase_add_test(tf, fetch_http_loopback);
    tcase_add_test(tf, fetch_uses_configured_proxy);
    tcase_add_test(tf, fetch_refuses_urls);
    tcase_add_test(tf, fetch_timeout);
    tcase_add_test(tf, fetch_too_large);
    suite_add_tcase(s, tf);

    TCase *tc = tcase_create("cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, cache_loads_once);
    tcase_add_test(tc, cache_unknown_kid_refetch);
    tcase_add_test(tc, cache_zero_window);
    tcase_add_test(tc, cache_down_keeps_keys);
    tcase_add_test(tc, cache_cold_backoff);
    tcase_add_test(tc, cache_http_down);
    tcase_add_test(tc, cache_url_change);
    tcase_add_test(tc, config_url);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/wsms-test-jwks-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(jwks_path, sizeof(jwks_path), "%s/jwks.json", dir);
    snprintf(jwks_url, sizeof(jwks_url), "file://%s", jwks_path);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    key_a = tok_rsa_new();
    key_b = tok_rsa_new();
    key_small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    if (!key_a || !key_b || !key_small)
        return 1;

    SRunner *sr = srunner_create(jwks_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    EVP_PKEY_free(key_small);
    char path[600];
    static const char *files[] = {"jwks.json", "jwks.json.tmp", "other.json", "other.json.tmp"};
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    curl_global_cleanup();
    return failed == 0 ? 0 : 1;
}
