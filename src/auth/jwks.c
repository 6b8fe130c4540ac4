#include "auth/jwks.h"

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RSA_MIN_BITS      2048
#define RSA_MAX_MOD_BYTES 1024 /* 8192-bit modulus */
#define RSA_MAX_EXP_BYTES 8

struct jwk {
    char *kid;       /* NULL when the JWK has none */
    EVP_PKEY *pkey;  /* NULL when unusable */
    const char *bad; /* why it is unusable (static string), NULL when usable */
};

struct jwks {
    size_t n;
    struct jwk keys[];
};

void jws_why(char *why, size_t whylen, const char *reason)
{
    if (why && whylen > 0)
        snprintf(why, whylen, "%s", reason);
}

/* ---- compact JWS ---- */

static int b64url_char(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Only the unpadded alphabet, and the unused low bits of the last character
 * zero, so that every byte string has exactly one accepted encoding. */
static bool b64url_canonical(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (b64url_char(s[i]) < 0)
            return false;
    if (len == 0)
        return true;
    int last = b64url_char(s[len - 1]);
    switch (len % 4) {
    case 1:
        return false;
    case 2:
        return (last & 0x0f) == 0;
    case 3:
        return (last & 0x03) == 0;
    default:
        return true;
    }
}

static int has_duplicate_member(const cJSON *obj)
{
    for (const cJSON *a = obj->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (a->string && b->string && strcmp(a->string, b->string) == 0)
                return 1;
    return 0;
}

/* Decodes one base64url part into a JSON object. NULL when any step fails. */
static cJSON *decode_json_part(const char *s, size_t len)
{
    cJSON *obj = NULL;
    size_t n = 0;
    unsigned char *raw = b64url_decode(s, len, &n);
    if (!raw || n == 0 || memchr(raw, '\0', n))
        goto out;
    const char *end = NULL;
    /* n + 1 so cJSON sees the terminator and refuses trailing garbage */
    obj = cJSON_ParseWithLengthOpts((const char *)raw, n + 1, &end, 1);
    if (!obj)
        goto out;
    if (!cJSON_IsObject(obj) || end != (const char *)raw + n || has_duplicate_member(obj)) {
        cJSON_Delete(obj);
        obj = NULL;
    }
out:
    free(raw);
    return obj;
}

void jws_clear(struct jws *j)
{
    if (!j)
        return;
    cJSON_Delete(j->header);
    cJSON_Delete(j->payload);
    free(j->sig);
    memset(j, 0, sizeof(*j));
}

int jws_decode(const char *token, size_t maxlen, struct jws *out, char *why, size_t whylen)
{
    int rc = -1;
    memset(out, 0, sizeof(*out));
    if (!token || !*token) {
        jws_why(why, whylen, "missing token");
        goto out;
    }
    size_t len = strnlen(token, maxlen + 1);
    if (len > maxlen) {
        jws_why(why, whylen, "token too large");
        goto out;
    }
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token))) {
        jws_why(why, whylen, "not a compact JWS");
        goto out;
    }
    size_t hlen = (size_t)(d1 - token);
    size_t plen = (size_t)(d2 - d1 - 1);
    size_t slen = len - (size_t)(d2 + 1 - token);
    if (!b64url_canonical(token, hlen) || !b64url_canonical(d1 + 1, plen) ||
        !b64url_canonical(d2 + 1, slen)) {
        jws_why(why, whylen, "malformed base64url");
        goto out;
    }
    out->header = decode_json_part(token, hlen);
    if (!out->header) {
        jws_why(why, whylen, "malformed header");
        goto out;
    }
    out->payload = decode_json_part(d1 + 1, plen);
    if (!out->payload) {
        jws_why(why, whylen, "malformed payload");
        goto out;
    }
    out->signed_len = (size_t)(d2 - token);
    out->sig_b64 = d2 + 1;
    out->sig_b64_len = slen;
    if (slen > 0) {
        out->sig = b64url_decode(d2 + 1, slen, &out->sig_len);
        if (!out->sig) {
            jws_why(why, whylen, "malformed signature");
            goto out;
        }
    }
    rc = 0;
out:
    if (rc != 0)
        jws_clear(out);
    return rc;
}

/* ---- JWKS parsing ---- */

static EVP_PKEY *rsa_from_jwk(const char *n64, const char *e64)
{
    EVP_PKEY *pkey = NULL;
    unsigned char *nb = NULL, *eb = NULL;
    size_t nlen = 0, elen = 0;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;

    if (!b64url_canonical(n64, strlen(n64)) || !b64url_canonical(e64, strlen(e64)))
        goto out;
    nb = b64url_decode(n64, strlen(n64), &nlen);
    eb = b64url_decode(e64, strlen(e64), &elen);
    if (!nb || !eb || nlen == 0 || elen == 0 || nlen > RSA_MAX_MOD_BYTES + 1 ||
        elen > RSA_MAX_EXP_BYTES)
        goto out;
    n = BN_bin2bn(nb, (int)nlen, NULL);
    e = BN_bin2bn(eb, (int)elen, NULL);
    if (!n || !e || BN_num_bits(n) < RSA_MIN_BITS || BN_num_bits(n) > RSA_MAX_MOD_BYTES * 8 ||
        !BN_is_odd(e) || BN_is_one(e))
        goto out;
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
out:
    if (!pkey)
        ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(nb);
    free(eb);
    return pkey;
}

static const char *str_member(const cJSON *obj, const char *name, bool *present)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    *present = it != NULL;
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Fills k from one JWK. -1 only when memory runs out; an unusable key is
 * recorded with its reason. */
static int load_jwk(const cJSON *j, struct jwk *k)
{
    bool present;
    memset(k, 0, sizeof(*k));
    if (!cJSON_IsObject(j)) {
        k->bad = "bad key";
        return 0;
    }
    const char *kid = str_member(j, "kid", &present);
    if (kid) {
        k->kid = strdup(kid);
        if (!k->kid)
            return -1;
    } else if (present) {
        k->bad = "bad kid";
        return 0;
    }
    const char *kty = str_member(j, "kty", &present);
    if (!kty || strcmp(kty, "RSA") != 0) {
        k->bad = "key type not RSA";
        return 0;
    }
    const char *use = str_member(j, "use", &present);
    if (present && (!use || strcmp(use, "sig") != 0)) {
        k->bad = "key not for signatures";
        return 0;
    }
    const char *alg = str_member(j, "alg", &present);
    if (present && (!alg || strcmp(alg, "RS256") != 0)) {
        k->bad = "key alg not RS256";
        return 0;
    }
    const char *n = str_member(j, "n", &present);
    const char *e = str_member(j, "e", &present);
    k->pkey = n && e ? rsa_from_jwk(n, e) : NULL;
    if (!k->pkey)
        k->bad = "bad RSA key";
    return 0;
}

void jwks_free(struct jwks *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        free(set->keys[i].kid);
        EVP_PKEY_free(set->keys[i].pkey);
    }
    free(set);
}

size_t jwks_count(const struct jwks *set)
{
    return set ? set->n : 0;
}

int jwks_parse(const char *json, size_t len, struct jwks **out, char *why, size_t whylen)
{
    int rc = -1;
    cJSON *doc = NULL;
    struct jwks *set = NULL;
    *out = NULL;
    if (!json || len > JWKS_MAX_BYTES) {
        jws_why(why, whylen, "jwks too large");
        goto out;
    }
    doc = cJSON_ParseWithLength(json, len);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "keys");
    if (!cJSON_IsObject(doc) || !cJSON_IsArray(keys)) {
        jws_why(why, whylen, "jwks not a key set");
        goto out;
    }
    int n = cJSON_GetArraySize(keys);
    if (n <= 0 || n > JWKS_MAX_KEYS) {
        jws_why(why, whylen, n <= 0 ? "jwks has no keys" : "jwks has too many keys");
        goto out;
    }
    set = calloc(1, sizeof(*set) + (size_t)n * sizeof(struct jwk));
    if (!set) {
        jws_why(why, whylen, "out of memory");
        goto out;
    }
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        if (set->n >= (size_t)n)
            break;
        if (load_jwk(k, &set->keys[set->n]) != 0) {
            jws_why(why, whylen, "out of memory");
            goto out;
        }
        set->n++;
    }
    *out = set;
    set = NULL;
    rc = 0;
out:
    jwks_free(set);
    cJSON_Delete(doc);
    return rc;
}

/* The entry for kid: NULL when absent; *dup set when more than one has it. */
static const struct jwk *lookup(const struct jwks *set, const char *kid, bool *dup)
{
    const struct jwk *found = NULL;
    *dup = false;
    for (size_t i = 0; set && i < set->n; i++) {
        if (set->keys[i].kid && strcmp(set->keys[i].kid, kid) == 0) {
            if (found)
                *dup = true;
            else
                found = &set->keys[i];
        }
    }
    return found;
}

int jwks_find(const struct jwks *set, const char *kid, EVP_PKEY **key, char *why, size_t whylen)
{
    int rc = -1;
    const struct jwk *k = NULL;
    bool dup = false;
    *key = NULL;
    if (!set || set->n == 0) {
        jws_why(why, whylen, "no keys");
        goto out;
    }
    if (!kid) {
        if (set->n != 1) {
            jws_why(why, whylen, "no kid");
            goto out;
        }
        k = &set->keys[0];
    } else {
        k = lookup(set, kid, &dup);
        if (!k || dup) {
            jws_why(why, whylen, dup ? "ambiguous kid" : "unknown kid");
            goto out;
        }
    }
    if (k->bad || !k->pkey) {
        jws_why(why, whylen, k->bad ? k->bad : "bad key");
        goto out;
    }
    if (EVP_PKEY_up_ref(k->pkey) != 1) {
        jws_why(why, whylen, "key reference failed");
        goto out;
    }
    *key = k->pkey;
    rc = 0;
out:
    return rc;
}

/* ---- fetching ---- */

struct body {
    char *p;
    size_t len, cap;
    bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct body *b = ud;
    if (size != 0 && nmemb > SIZE_MAX / size)
        return 0;
    size_t n = size * nmemb;
    if (n > JWKS_MAX_BYTES || b->len + n > JWKS_MAX_BYTES) {
        b->too_big = true;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, ptr, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* https anywhere; http only to a loopback host (tests); file. */
static int url_allowed(const char *url, bool *is_file, char *why, size_t whylen)
{
    int rc = -1;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    *is_file = false;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        jws_why(why, whylen, "bad jwks url");
        goto out;
    }
    if (strcasecmp(scheme, "file") == 0) {
        *is_file = true;
    } else if (strcasecmp(scheme, "http") == 0) {
        if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
            (strcmp(host, "127.0.0.1") != 0 && strcasecmp(host, "localhost") != 0 &&
             strcmp(host, "[::1]") != 0)) {
            jws_why(why, whylen, "http jwks url must be loopback");
            goto out;
        }
    } else if (strcasecmp(scheme, "https") != 0) {
        jws_why(why, whylen, "jwks url scheme not allowed");
        goto out;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

int jwks_fetch(const char *url, const char *proxy, long timeout_s, char **body, size_t *len,
               char *why, size_t whylen)
{
    int rc = -1;
    CURL *c = NULL;
    struct body b = {0};
    bool is_file = false;
    *body = NULL;
    if (len)
        *len = 0;
    if (!url || !*url) {
        jws_why(why, whylen, "no jwks url");
        goto out;
    }
    if (url_allowed(url, &is_file, why, whylen) != 0)
        goto out;
    if (timeout_s <= 0)
        timeout_s = 10;
    c = curl_easy_init();
    if (!c) {
        jws_why(why, whylen, "curl init failed");
        goto out;
    }
    proxy = proxy ? proxy : "";
    bool bad = false;
    bad |= curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http,file") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    /* "" disables every proxy, including http_proxy & co. from the environment */
    bad |= curl_easy_setopt(c, CURLOPT_PROXY, proxy) != CURLE_OK;
    if (*proxy)
        bad |= curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)JWKS_MAX_BYTES) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "wsmsd") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, &b) != CURLE_OK;
    if (bad) {
        jws_why(why, whylen, "curl setup failed");
        goto out;
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        jws_why(why, whylen,
                b.too_big || cc == CURLE_FILESIZE_EXCEEDED ? "jwks too large"
                                                           : curl_easy_strerror(cc));
        goto out;
    }
    long status = 0;
    if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
        jws_why(why, whylen, "curl getinfo failed");
        goto out;
    }
    if (!is_file && status != 200) {
        if (why && whylen > 0)
            snprintf(why, whylen, "jwks http status %ld", status);
        goto out;
    }
    if (!b.p) {
        jws_why(why, whylen, "jwks empty");
        goto out;
    }
    *body = b.p;
    if (len)
        *len = b.len;
    b.p = NULL;
    rc = 0;
out:
    free(b.p);
    curl_easy_cleanup(c);
    return rc;
}

/* ---- the process cache ---- */

static struct {
    struct jwks *set;
    char url[2048];
    int64_t loaded_ms;  /* monotonic time of the last successful load */
    int64_t attempt_ms; /* monotonic time of the last fetch attempt */
    int64_t refetch_ms; /* monotonic time of the last unknown-kid refetch */
    bool attempted, refetched;
    long fetches;
} cache;

void jwks_cache_reset(void)
{
    jwks_free(cache.set);
    memset(&cache, 0, sizeof(cache));
}

long jwks_cache_fetches(void)
{
    return cache.fetches;
}

int jwks_config_url(char *buf, size_t len)
{
    const struct config *cfg = config_get();
    int n;
    if (cfg->azure_jwks_url && *cfg->azure_jwks_url)
        n = snprintf(buf, len, "%s", cfg->azure_jwks_url);
    else if (cfg->azure_tenant_id && *cfg->azure_tenant_id)
        n = snprintf(buf, len, "https://login.microsoftonline.com/%s/discovery/v2.0/keys",
                     cfg->azure_tenant_id);
    else
        return -1;
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Fetches and parses url; replaces the cached set only on success. */
static int cache_load(const char *url, int64_t now, char *why, size_t whylen)
{
    int rc = -1;
    char *doc = NULL;
    size_t len = 0;
    struct jwks *set = NULL;
    const struct config *cfg = config_get();
    cache.fetches++;
    cache.attempted = true;
    cache.attempt_ms = now;
    if (jwks_fetch(url, cfg->outbound_proxy, cfg->integration_timeout_s, &doc, &len, why, whylen) !=
        0)
        goto out;
    if (jwks_parse(doc, len, &set, why, whylen) != 0)
        goto out;
    jwks_free(cache.set);
    cache.set = set;
    set = NULL;
    cache.loaded_ms = now;
    log_info("jwks", "loaded %zu signing keys from %s", jwks_count(cache.set), url);
    rc = 0;
out:
    jwks_free(set);
    free(doc);
    return rc;
}

int jwks_cache_key(const char *kid, EVP_PKEY **key, char *why, size_t whylen)
{
    int rc = -1;
    char url[sizeof(cache.url)];
    char reason[128];
    const struct config *cfg = config_get();
    int64_t min_refresh_ms = (int64_t)cfg->azure_jwks_min_refresh_s * 1000;
    int64_t now = mono_ms();
    bool fresh = false; /* loaded by this call */
    *key = NULL;

    if (jwks_config_url(url, sizeof(url)) != 0) {
        jws_why(why, whylen, "jwks url not configured");
        goto out;
    }
    if (strcmp(url, cache.url) != 0) {
        long fetches = cache.fetches;
        jwks_cache_reset();
        cache.fetches = fetches;
        snprintf(cache.url, sizeof(cache.url), "%s", url);
    }
    if (!cache.set) {
        int64_t wait =
            min_refresh_ms < JWKS_COLD_RETRY_S * 1000 ? min_refresh_ms : JWKS_COLD_RETRY_S * 1000;
        if (cache.attempted && now - cache.attempt_ms < wait) {
            jws_why(why, whylen, "jwks unavailable");
            goto out;
        }
        if (cache_load(url, now, reason, sizeof(reason)) != 0) {
            log_warn("jwks", "cannot load signing keys from %s: %s", url, reason);
            jws_why(why, whylen, "jwks unavailable");
            goto out;
        }
        fresh = true;
    } else if (now - cache.loaded_ms >= (int64_t)JWKS_MAX_AGE_S * 1000 &&
               now - cache.attempt_ms >= min_refresh_ms) {
        if (cache_load(url, now, reason, sizeof(reason)) == 0)
            fresh = true;
        else
            log_warn("jwks", "refreshing signing keys from %s failed, keeping %zu cached: %s", url,
                     jwks_count(cache.set), reason);
    }
    bool dup = false;
    if (kid && !fresh && !lookup(cache.set, kid, &dup) &&
        (!cache.refetched || now - cache.refetch_ms >= min_refresh_ms)) {
        cache.refetched = true;
        cache.refetch_ms = now;
        if (cache_load(url, now, reason, sizeof(reason)) != 0)
            log_warn("jwks", "refetching signing keys from %s failed, keeping %zu cached: %s", url,
                     jwks_count(cache.set), reason);
    }
    rc = jwks_find(cache.set, kid, key, why, whylen);
out:
    return rc;
}
