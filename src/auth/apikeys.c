#include "auth/apikeys.h"

#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "data/db.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LG           "apikeys"
#define TOUCH_MS     60000
#define KEY_HEAD     "wsk_"
#define KEY_HEAD_LEN 4

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int secret_hash(const char *secret, size_t n, char hash[APIKEY_HASH_LEN + 1])
{
    unsigned char h[32];
    if (sha256(secret, n, h) != 0)
        return -1;
    hex(h, sizeof(h), hash);
    OPENSSL_cleanse(h, sizeof(h));
    return 0;
}

int apikey_generate(char key[APIKEY_LEN + 1], char prefix[APIKEY_PREFIX_LEN + 1],
                    char hash[APIKEY_HASH_LEN + 1])
{
    unsigned char p[APIKEY_PREFIX_LEN / 2], s[32];
    char *s64 = NULL;
    int rc = -1;
    if (RAND_bytes(p, sizeof(p)) != 1 || RAND_bytes(s, sizeof(s)) != 1)
        goto out;
    hex(p, sizeof(p), prefix);
    s64 = b64url_encode(s, sizeof(s));
    if (!s64 || strlen(s64) != APIKEY_SECRET_LEN)
        goto out;
    int w = snprintf(key, APIKEY_LEN + 1, KEY_HEAD "%s_%s", prefix, s64);
    if (w != APIKEY_LEN)
        goto out;
    if (secret_hash(s64, APIKEY_SECRET_LEN, hash) != 0)
        goto out;
    rc = 0;
out:
    OPENSSL_cleanse(s, sizeof(s));
    if (s64) {
        OPENSSL_cleanse(s64, strlen(s64));
        free(s64);
    }
    if (rc != 0)
        OPENSSL_cleanse(key, APIKEY_LEN + 1);
    return rc;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int apikey_parse(const char *key, char prefix[APIKEY_PREFIX_LEN + 1],
                 char hash[APIKEY_HASH_LEN + 1])
{
    if (!key || strlen(key) != APIKEY_LEN || strncmp(key, KEY_HEAD, KEY_HEAD_LEN) != 0 ||
        key[KEY_HEAD_LEN + APIKEY_PREFIX_LEN] != '_')
        return -1;
    const char *p = key + KEY_HEAD_LEN, *s = p + APIKEY_PREFIX_LEN + 1;
    for (int i = 0; i < APIKEY_PREFIX_LEN; i++)
        if (!is_hex(p[i]))
            return -1;
    for (int i = 0; i < APIKEY_SECRET_LEN; i++)
        if (!is_b64url(s[i]))
            return -1;
    memcpy(prefix, p, APIKEY_PREFIX_LEN);
    prefix[APIKEY_PREFIX_LEN] = '\0';
    return secret_hash(s, APIKEY_SECRET_LEN, hash);
}

static const struct {
    const char *name;
    unsigned bit;
} scope_names[] = {{"read", SCOPE_READ}, {"write", SCOPE_WRITE}, {"admin", SCOPE_ADMIN}};

unsigned apikey_scopes_parse(const char *text)
{
    unsigned mask = 0;
    const char *p = text;
    if (!p || !*p)
        return 0;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof(scope_names) / sizeof(scope_names[0]); i++)
            if (strlen(scope_names[i].name) == n && strncmp(p, scope_names[i].name, n) == 0)
                bit = scope_names[i].bit;
        if (!bit || (c && !c[1]))
            return 0;
        mask |= bit;
        p = c ? c + 1 : p + n;
    }
    return mask;
}

void apikey_scopes_text(unsigned mask, char *buf, size_t n)
{
    size_t used = 0;
    if (n == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(scope_names) / sizeof(scope_names[0]); i++) {
        if (!(mask & scope_names[i].bit))
            continue;
        int w = snprintf(buf + used, n - used, "%s%s", used ? "," : "", scope_names[i].name);
        if (w < 0 || (size_t)w >= n - used)
            return;
        used += (size_t)w;
    }
}

enum role apikey_scopes_role(unsigned mask)
{
    return (mask & SCOPE_ADMIN)   ? ROLE_ADMIN
           : (mask & SCOPE_WRITE) ? ROLE_MEMBER
           : (mask & SCOPE_READ)  ? ROLE_VIEWER
                                  : ROLE_NONE;
}

wsms_err apikey_check(const char *key, const struct apikey_row *row, int64_t now, enum role *role,
                      const char **why)
{
    char prefix[APIKEY_PREFIX_LEN + 1], hash[APIKEY_HASH_LEN + 1];
    wsms_err e = E_INVALID_API_KEY;
    *role = ROLE_NONE;
    *why = "malformed";
    if (apikey_parse(key, prefix, hash) != 0)
        goto out;
    const char *stored = row ? row->secret_hash : NULL;
    if (!row || !row->id || !stored) {
        *why = "unknown key or another workspace's";
        goto out;
    }
    if (!ct_equal(stored, strlen(stored), hash, APIKEY_HASH_LEN)) {
        *why = "wrong secret";
        goto out;
    }
    if (row->revoked_at) {
        *why = "revoked";
        goto out;
    }
    int64_t exp = iso8601_parse_ms(row->expires_at);
    if (exp <= 0 || now >= exp) {
        *why = "expired";
        goto out;
    }
    if (!row->workspace_active) {
        *why = "workspace archived";
        e = E_WORKSPACE_NOT_FOUND;
        goto out;
    }
    enum role r = apikey_scopes_role(apikey_scopes_parse(row->scopes));
    if (r == ROLE_NONE) {
        *why = "no usable scope";
        goto out;
    }
    int64_t last_ms = row->last_used_at ? iso8601_parse_ms(row->last_used_at) : 0;
    if (!row->last_used_at || last_ms <= 0 || now - last_ms >= TOUCH_MS) {
        long n = 0;
        /* at most once a minute; a failure here does not refuse the key */
        if (db_exec(&n,
                    "UPDATE pmassist_master.ApiKey SET last_used_at = ? WHERE id = ? AND "
                    "(last_used_at IS NULL OR last_used_at < ?)",
                    "tst", now, row->id, now - TOUCH_MS) != WSMS_OK)
            log_warn(LG, "cannot record last use of API key %s", row->id);
    }
    *role = r;
    *why = NULL;
    e = WSMS_OK;
out:
    OPENSSL_cleanse(hash, sizeof(hash));
    return e;
}
