#include "auth/entra.h"

#include "core/config.h"
#include "auth/jwks.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CACHE_WAYS 4
#define CACHE_SETS (ENTRA_CACHE_ENTRIES / CACHE_WAYS)

/* A set-associative cache: the hash picks a set, a full set evicts an
 * expired entry or else its oldest. */
struct centry {
    unsigned char hash[32];
    struct entra_identity id;
    uint64_t seq; /* insertion order; 0 = empty slot */
    long keyset;  /* jwks_cache_fetches() when verified: a new key set
                   * (rotation) sends every token through RSA again */
};

static struct centry tcache[CACHE_SETS][CACHE_WAYS];
static uint64_t tcache_seq;
static long n_verifications, n_hits;

void entra_reset(void)
{
    memset(tcache, 0, sizeof(tcache));
    tcache_seq = 0;
    n_verifications = 0;
    n_hits = 0;
    jwks_cache_reset();
}

void entra_stats(long *verifications, long *cache_hits, long *jwks_fetches)
{
    if (verifications)
        *verifications = n_verifications;
    if (cache_hits)
        *cache_hits = n_hits;
    if (jwks_fetches)
        *jwks_fetches = jwks_cache_fetches();
}

static bool expired(long exp, long now, long skew)
{
    return now > exp + skew;
}

static bool cache_get(const unsigned char hash[32], long now, long skew, struct entra_identity *out)
{
    struct centry *set = tcache[hash[0] % CACHE_SETS];
    for (int i = 0; i < CACHE_WAYS; i++) {
        struct centry *e = &set[i];
        if (e->seq == 0 || memcmp(e->hash, hash, 32) != 0)
            continue;
        if (expired(e->id.exp, now, skew) || e->keyset != jwks_cache_fetches()) {
            memset(e, 0, sizeof(*e));
            return false;
        }
        *out = e->id;
        return true;
    }
    return false;
}

static void cache_put(const unsigned char hash[32], const struct entra_identity *id, long now,
                      long skew)
{
    struct centry *set = tcache[hash[0] % CACHE_SETS];
    struct centry *victim = &set[0];
    for (int i = 0; i < CACHE_WAYS; i++) {
        struct centry *e = &set[i];
        if (e->seq == 0 || expired(e->id.exp, now, skew)) {
            victim = e;
            break;
        }
        if (e->seq < victim->seq)
            victim = e;
    }
    memcpy(victim->hash, hash, 32);
    victim->id = *id;
    victim->seq = ++tcache_seq;
    victim->keyset = jwks_cache_fetches();
}

static int check_header(const cJSON *h, const char **kid, char *why, size_t whylen)
{
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(h, "kid");
    *kid = NULL;
    if (!cJSON_IsString(alg)) {
        jws_why(why, whylen, "missing alg");
        return -1;
    }
    if (strcasecmp(alg->valuestring, "none") == 0) {
        jws_why(why, whylen, "alg none");
        return -1;
    }
    if (strcmp(alg->valuestring, "RS256") != 0) {
        jws_why(why, whylen, "alg not RS256");
        return -1;
    }
    /* we understand no extension, so any critical one is refused (RFC 7515) */
    if (cJSON_GetObjectItemCaseSensitive(h, "crit")) {
        jws_why(why, whylen, "crit header");
        return -1;
    }
    if (k && !cJSON_IsString(k)) {
        jws_why(why, whylen, "bad kid");
        return -1;
    }
    *kid = k ? k->valuestring : NULL;
    return 0;
}

static int verify_rs256(EVP_PKEY *key, const char *data, size_t len, const unsigned char *sig,
                        size_t siglen, char *why, size_t whylen)
{
    int rc = -1;
    EVP_MD_CTX *md = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    if (EVP_PKEY_is_a(key, "RSA") != 1) {
        jws_why(why, whylen, "key type not RSA");
        goto out;
    }
    if (!sig || siglen != (size_t)EVP_PKEY_get_size(key)) {
        jws_why(why, whylen, "bad signature");
        goto out;
    }
    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
        jws_why(why, whylen, "verify setup failed");
        goto out;
    }
    n_verifications++;
    if (EVP_DigestVerify(md, sig, siglen, (const unsigned char *)data, len) != 1) {
        jws_why(why, whylen, "bad signature");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        ERR_clear_error();
    EVP_MD_CTX_free(md);
    return rc;
}

/* A NumericDate claim. 0 found, 1 absent, -1 present but not a date. */
static int time_claim(const cJSON *p, const char *name, long *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(p, name);
    if (!it)
        return 1;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0 ||
        it->valuedouble > 1e11)
        return -1;
    *out = (long)it->valuedouble;
    return 0;
}

/* The first of the named claims that is a non-empty string. -1 when one of
 * them is present with another type. */
static int first_str(const cJSON *p, const char *const *names, size_t n, const char **out)
{
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(p, names[i]);
        if (!it)
            continue;
        if (!cJSON_IsString(it))
            return -1;
        if (!*out && it->valuestring[0])
            *out = it->valuestring;
    }
    return 0;
}

static bool aud_matches(const cJSON *aud, const char *want)
{
    if (cJSON_IsString(aud))
        return strcmp(aud->valuestring, want) == 0;
    if (!cJSON_IsArray(aud))
        return false;
    const cJSON *a;
    cJSON_ArrayForEach(a, aud)
    {
        if (cJSON_IsString(a) && strcmp(a->valuestring, want) == 0)
            return true;
    }
    return false;
}

static bool iss_matches(const struct config *cfg, const char *iss)
{
    char tenant[256], want[512];
    int n;
    if (ascii_lower(cfg->azure_tenant_id, tenant, sizeof(tenant)) != 0)
        return false;
    if (cfg->azure_issuer && *cfg->azure_issuer) {
        if (strcmp(iss, cfg->azure_issuer) == 0)
            return true;
    } else {
        n = snprintf(want, sizeof(want), "https://login.microsoftonline.com/%s/v2.0", tenant);
        if (n > 0 && (size_t)n < sizeof(want) && strcmp(iss, want) == 0)
            return true;
    }
    if (cfg->azure_accept_v1_tokens) {
        n = snprintf(want, sizeof(want), "https://sts.windows.net/%s/", tenant);
        if (n > 0 && (size_t)n < sizeof(want) && strcmp(iss, want) == 0)
            return true;
    }
    return false;
}

/* Copies at most size-1 bytes of s without splitting a UTF-8 sequence. */
static void copy_utf8(char *dst, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static int check_claims(const struct config *cfg, const cJSON *p, long now,
                        struct entra_identity *id, char *why, size_t whylen)
{
    static const char *const uid_names[] = {"oid", "sub"};
    static const char *const email_names[] = {"email", "preferred_username", "upn"};
    static const char *const name_names[] = {"name"};
    const char *reason = NULL;
    const cJSON *iss = cJSON_GetObjectItemCaseSensitive(p, "iss");
    const cJSON *tid = cJSON_GetObjectItemCaseSensitive(p, "tid");
    const char *uid, *email, *name;
    long exp = 0, nbf = 0, skew = cfg->azure_clock_skew_s;
    int nbf_rc;

    memset(id, 0, sizeof(*id));
    if (!cJSON_IsString(iss) || !iss_matches(cfg, iss->valuestring))
        reason = "wrong issuer";
    else if (!cJSON_IsString(tid) || strcasecmp(tid->valuestring, cfg->azure_tenant_id) != 0)
        reason = "wrong tenant";
    else if (!aud_matches(cJSON_GetObjectItemCaseSensitive(p, "aud"), cfg->azure_audience))
        reason = "wrong audience";
    else if (time_claim(p, "exp", &exp) != 0)
        reason = "missing exp";
    else if ((nbf_rc = time_claim(p, "nbf", &nbf)) < 0)
        reason = "bad nbf";
    else if (expired(exp, now, skew))
        reason = "expired";
    else if (nbf_rc == 0 && nbf > now + skew)
        reason = "not yet valid";
    else if (first_str(p, uid_names, 2, &uid) != 0 || first_str(p, email_names, 3, &email) != 0 ||
             first_str(p, name_names, 1, &name) != 0)
        reason = "bad identity claim";
    else if (!uid)
        reason = "missing user id";
    else if (strlen(uid) >= sizeof(id->user_id))
        reason = "user id too long";
    else if (email && strlen(email) >= sizeof(id->email))
        reason = "email too long";
    if (reason) {
        jws_why(why, whylen, reason);
        return -1;
    }
    memcpy(id->user_id, uid, strlen(uid) + 1);
    if (email)
        memcpy(id->email, email, strlen(email) + 1);
    copy_utf8(id->display_name, sizeof(id->display_name), name ? name : id->email);
    id->exp = exp;
    return 0;
}

int entra_verify(const char *token, struct entra_identity *out, char *why, size_t whylen)
{
    int rc = -1;
    struct jws j = {0};
    EVP_PKEY *key = NULL;
    struct entra_identity id;
    unsigned char hash[32];
    const char *kid;
    const struct config *cfg = config_get();
    long now = (long)time(NULL);

    memset(&id, 0, sizeof(id));
    jws_why(why, whylen, "");
    if (!out) {
        jws_why(why, whylen, "no output");
        goto out;
    }
    if (!cfg->azure_tenant_id || !*cfg->azure_tenant_id || !cfg->azure_audience ||
        !*cfg->azure_audience) {
        jws_why(why, whylen, "entra not configured");
        goto out;
    }
    if (!token || !*token) {
        jws_why(why, whylen, "missing token");
        goto out;
    }
    size_t len = strnlen(token, ENTRA_MAX_TOKEN_BYTES + 1);
    if (len > ENTRA_MAX_TOKEN_BYTES) {
        jws_why(why, whylen, "token too large");
        goto out;
    }
    if (sha256(token, len, hash) != 0) {
        jws_why(why, whylen, "hash failed");
        goto out;
    }
    if (cache_get(hash, now, cfg->azure_clock_skew_s, &id)) {
        n_hits++;
        rc = 0;
        goto out;
    }
    if (jws_decode(token, ENTRA_MAX_TOKEN_BYTES, &j, why, whylen) != 0)
        goto out;
    if (check_header(j.header, &kid, why, whylen) != 0)
        goto out;
    if (jwks_cache_key(kid, &key, why, whylen) != 0)
        goto out;
    if (verify_rs256(key, token, j.signed_len, j.sig, j.sig_len, why, whylen) != 0)
        goto out;
    if (check_claims(cfg, j.payload, now, &id, why, whylen) != 0)
        goto out;
    cache_put(hash, &id, now, cfg->azure_clock_skew_s);
    rc = 0;
out:
    if (out && rc == 0)
        *out = id;
    else if (out)
        memset(out, 0, sizeof(*out));
    EVP_PKEY_free(key);
    jws_clear(&j);
    return rc;
}
