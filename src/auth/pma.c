#include "auth/pma.h"

#include "core/config.h"
#include "auth/jwks.h"
#include "core/log.h"
#include "core/util.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PMA_MIN_SECRET 32
#define MAC_B64_LEN    43 /* base64url of 32 bytes, unpadded */

static const char pma_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static const char *secret(size_t *len)
{
    const char *s = config_get()->pma_token_secret;
    if (!s || strlen(s) < PMA_MIN_SECRET)
        return NULL;
    *len = strlen(s);
    return s;
}

/* base64url HMAC-SHA256 of data under the configured secret; caller frees. */
static char *mac_b64(const char *key, size_t keylen, const char *data, size_t len)
{
    unsigned char mac[32];
    if (hmac_sha256(key, keylen, data, len, mac) != 0)
        return NULL;
    return b64url_encode(mac, sizeof(mac));
}

char *pma_issue(const char *user_id, const char *email, const cJSON *roles)
{
    return pma_issue_after(user_id, email, roles, 0);
}

char *pma_issue_after(const char *user_id, const char *email, const cJSON *roles, long min_iat)
{
    char *ret = NULL, *tok = NULL, *json = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL;
    cJSON *payload = NULL, *r = NULL;
    char jti[GUID_LEN + 1];
    size_t keylen = 0;
    const char *key = secret(&keylen);
    struct pma_claims lim;
    long now = (long)time(NULL);
    if (min_iat > now && min_iat <= now + PMA_MAX_IAT_AHEAD_S)
        now = min_iat;
    long exp = now + config_get()->pma_token_expiry_hours * 3600;

    if (!key) {
        log_error("pma", "PMA_TOKEN_SECRET is not set or shorter than %d bytes", PMA_MIN_SECRET);
        goto out;
    }
    if (!user_id || !*user_id || strlen(user_id) >= sizeof(lim.user_id) || !email ||
        strlen(email) >= sizeof(lim.email) || (roles && !cJSON_IsObject(roles)))
        goto out;
    if (guid_new(jti) != 0)
        goto out;
    r = roles ? cJSON_Duplicate(roles, 1) : cJSON_CreateObject();
    payload = cJSON_CreateObject();
    if (!r || !payload)
        goto out;
    if (!cJSON_AddStringToObject(payload, "user_id", user_id) ||
        !cJSON_AddStringToObject(payload, "email", email))
        goto out;
    if (!cJSON_AddItemToObject(payload, "roles", r))
        goto out;
    r = NULL;
    if (!cJSON_AddNumberToObject(payload, "iat", (double)now) ||
        !cJSON_AddNumberToObject(payload, "exp", (double)exp) ||
        !cJSON_AddStringToObject(payload, "jti", jti))
        goto out;
    json = cJSON_PrintUnformatted(payload);
    if (!json)
        goto out;
    h64 = b64url_encode((const unsigned char *)pma_header, strlen(pma_header));
    p64 = b64url_encode((const unsigned char *)json, strlen(json));
    if (!h64 || !p64)
        goto out;
    size_t signed_len = strlen(h64) + 1 + strlen(p64);
    size_t cap = signed_len + 1 + MAC_B64_LEN + 1;
    if (cap > PMA_MAX_TOKEN_BYTES + 1) {
        log_error("pma", "PMA token would exceed %d bytes", PMA_MAX_TOKEN_BYTES);
        goto out;
    }
    tok = malloc(cap);
    if (!tok)
        goto out;
    int n = snprintf(tok, cap, "%s.%s", h64, p64);
    if (n < 0 || (size_t)n != signed_len)
        goto out;
    s64 = mac_b64(key, keylen, tok, signed_len);
    if (!s64 || strlen(s64) != MAC_B64_LEN)
        goto out;
    n = snprintf(tok + signed_len, cap - signed_len, ".%s", s64);
    if (n < 0 || (size_t)n != 1 + MAC_B64_LEN)
        goto out;
    ret = tok;
    tok = NULL;
out:
    free(tok);
    cJSON_Delete(r);
    cJSON_Delete(payload);
    free(json);
    free(h64);
    free(p64);
    free(s64);
    return ret;
}

/* A whole-second NumericDate; false when absent or not one. */
static bool time_claim(const cJSON *p, const char *name, long *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(p, name);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0 ||
        it->valuedouble > 1e11)
        return false;
    *out = (long)it->valuedouble;
    return true;
}

/* Copies string claim `name` into dst; false when absent, not a string or
 * too long. */
static bool str_claim(const cJSON *p, const char *name, char *dst, size_t size)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(p, name);
    if (!cJSON_IsString(it))
        return false;
    size_t n = strlen(it->valuestring);
    if (n >= size)
        return false;
    memcpy(dst, it->valuestring, n + 1);
    return true;
}

int pma_verify(const char *token, long grace_s, struct pma_claims *out, char *why, size_t whylen)
{
    int rc = -1;
    struct jws j = {0};
    struct pma_claims c;
    char *want = NULL;
    size_t keylen = 0;
    const char *key = secret(&keylen);
    long now = (long)time(NULL);
    const char *reason = NULL;

    memset(&c, 0, sizeof(c));
    jws_why(why, whylen, "");
    if (!out) {
        jws_why(why, whylen, "no output");
        goto out;
    }
    if (!key) {
        jws_why(why, whylen, "pma secret not configured");
        goto out;
    }
    if (jws_decode(token, PMA_MAX_TOKEN_BYTES, &j, why, whylen) != 0)
        goto out;
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(j.header, "alg");
    if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256") != 0) {
        jws_why(why, whylen, "alg not HS256");
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(j.header, "crit")) {
        jws_why(why, whylen, "crit header");
        goto out;
    }
    want = mac_b64(key, keylen, token, j.signed_len);
    if (!want) {
        jws_why(why, whylen, "hmac failed");
        goto out;
    }
    /* jws_decode only accepts canonical base64url, so comparing the encoded
     * form compares the MAC bytes */
    if (!ct_equal(want, strlen(want), j.sig_b64, j.sig_b64_len)) {
        jws_why(why, whylen, "bad signature");
        goto out;
    }
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(j.payload, "roles");
    const cJSON *jti = cJSON_GetObjectItemCaseSensitive(j.payload, "jti");
    if (!str_claim(j.payload, "user_id", c.user_id, sizeof(c.user_id)) || !c.user_id[0])
        reason = "bad user_id";
    else if (!str_claim(j.payload, "email", c.email, sizeof(c.email)))
        reason = "bad email";
    else if (!time_claim(j.payload, "iat", &c.iat))
        reason = "bad iat";
    else if (!time_claim(j.payload, "exp", &c.exp) || c.exp < c.iat)
        reason = "bad exp";
    else if (jti && !str_claim(j.payload, "jti", c.jti, sizeof(c.jti)))
        reason = "bad jti";
    else if (roles && !cJSON_IsObject(roles))
        reason = "bad roles";
    else if (c.iat > now + PMA_MAX_IAT_AHEAD_S)
        reason = "issued in the future";
    else if (now > c.exp + (grace_s > 0 ? grace_s : 0))
        reason = "expired";
    if (reason) {
        jws_why(why, whylen, reason);
        goto out;
    }
    rc = 0;
out:
    if (out && rc == 0)
        *out = c;
    else if (out)
        memset(out, 0, sizeof(*out));
    free(want);
    jws_clear(&j);
    return rc;
}
