#include "tokens.h"

#include "core/util.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

EVP_PKEY *tok_rsa_new(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

char *tok_rsa_public_pem(EVP_PKEY *key)
{
    char *ret = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    if (!b || PEM_write_bio_PUBKEY(b, key) != 1)
        goto out;
    long n = BIO_get_mem_data(b, &p);
    if (n <= 0)
        goto out;
    ret = malloc((size_t)n + 1);
    if (!ret)
        goto out;
    memcpy(ret, p, (size_t)n);
    ret[n] = '\0';
out:
    BIO_free(b);
    return ret;
}

/* base64url of an RSA key parameter ("n" or "e"); caller frees. */
static char *bn_param_b64(EVP_PKEY *key, const char *name)
{
    char *ret = NULL;
    BIGNUM *bn = NULL;
    unsigned char *buf = NULL;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
        goto out;
    int len = BN_num_bytes(bn);
    buf = malloc(len > 0 ? (size_t)len : 1);
    if (!buf || BN_bn2bin(bn, buf) != len)
        goto out;
    ret = b64url_encode(buf, (size_t)len);
out:
    free(buf);
    BN_free(bn);
    return ret;
}

char *tok_jwks_json(EVP_PKEY *const *keys, const char *const *kids, size_t n)
{
    char *ret = NULL, *nb = NULL, *eb = NULL;
    cJSON *doc = cJSON_CreateObject();
    cJSON *arr = doc ? cJSON_AddArrayToObject(doc, "keys") : NULL;
    if (!arr)
        goto out;
    for (size_t i = 0; i < n; i++) {
        cJSON *k = cJSON_CreateObject();
        if (!k || !cJSON_AddItemToArray(arr, k))
            goto out;
        nb = bn_param_b64(keys[i], OSSL_PKEY_PARAM_RSA_N);
        eb = bn_param_b64(keys[i], OSSL_PKEY_PARAM_RSA_E);
        if (!nb || !eb)
            goto out;
        if ((kids && kids[i] && !cJSON_AddStringToObject(k, "kid", kids[i])) ||
            !cJSON_AddStringToObject(k, "kty", "RSA") ||
            !cJSON_AddStringToObject(k, "use", "sig") ||
            !cJSON_AddStringToObject(k, "alg", "RS256") || !cJSON_AddStringToObject(k, "n", nb) ||
            !cJSON_AddStringToObject(k, "e", eb))
            goto out;
        free(nb);
        free(eb);
        nb = eb = NULL;
    }
    ret = cJSON_PrintUnformatted(doc);
out:
    free(nb);
    free(eb);
    cJSON_Delete(doc);
    return ret;
}

int tok_write_file(const char *path, const char *text)
{
    int rc = -1;
    char tmp[4096];
    FILE *f = NULL;
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        goto out;
    f = fopen(tmp, "wb");
    if (!f)
        goto out;
    size_t len = strlen(text);
    if (fwrite(text, 1, len, f) != len)
        goto out;
    if (fclose(f) != 0) {
        f = NULL;
        goto out;
    }
    f = NULL;
    if (rename(tmp, path) != 0)
        goto out;
    rc = 0;
out:
    if (f)
        fclose(f);
    return rc;
}

int tok_jwks_write(const char *path, EVP_PKEY *const *keys, const char *const *kids, size_t n)
{
    char *json = tok_jwks_json(keys, kids, n);
    int rc = json ? tok_write_file(path, json) : -1;
    free(json);
    return rc;
}

/* "b64(h).b64(p)" with room for extra more bytes; caller frees. */
static char *signing_input(const char *h, const char *p, size_t extra, size_t *len)
{
    char *ret = NULL;
    char *h64 = b64url_encode((const unsigned char *)h, strlen(h));
    char *p64 = b64url_encode((const unsigned char *)p, strlen(p));
    if (!h64 || !p64)
        goto out;
    size_t cap = strlen(h64) + strlen(p64) + 2 + extra;
    ret = malloc(cap);
    if (!ret)
        goto out;
    int n = snprintf(ret, cap, "%s.%s", h64, p64);
    if (n < 0 || (size_t)n >= cap) {
        free(ret);
        ret = NULL;
        goto out;
    }
    *len = (size_t)n;
out:
    free(h64);
    free(p64);
    return ret;
}

/* Appends "." and base64url(sig) to a signing input built with room; takes
 * ownership of in (freed on failure). */
static char *append_sig(char *in, size_t len, size_t cap, const unsigned char *sig, size_t siglen)
{
    char *s64 = siglen ? b64url_encode(sig, siglen) : calloc(1, 1);
    if (!s64) {
        free(in);
        return NULL;
    }
    int n = snprintf(in + len, cap - len, ".%s", s64);
    free(s64);
    if (n < 0 || (size_t)n >= cap - len) {
        free(in);
        return NULL;
    }
    return in;
}

char *tok_sign_rs256(const char *header_json, const char *payload_json, EVP_PKEY *key)
{
    char *ret = NULL, *in = NULL;
    unsigned char *sig = NULL;
    size_t len = 0, siglen = 0;
    EVP_MD_CTX *md = NULL;
    size_t extra = 2 + (size_t)EVP_PKEY_get_size(key) * 4 / 3 + 4;
    in = signing_input(header_json, payload_json, extra, &len);
    md = EVP_MD_CTX_new();
    if (!in || !md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, NULL, &siglen, (unsigned char *)in, len) != 1)
        goto out;
    sig = malloc(siglen);
    if (!sig || EVP_DigestSign(md, sig, &siglen, (unsigned char *)in, len) != 1)
        goto out;
    ret = append_sig(in, len, len + 2 + extra, sig, siglen);
    in = NULL;
out:
    free(in);
    free(sig);
    EVP_MD_CTX_free(md);
    return ret;
}

char *tok_sign_hs256(const char *header_json, const char *payload_json, const void *secret,
                     size_t secretlen)
{
    unsigned char mac[32];
    size_t len = 0, extra = 48;
    char *in = signing_input(header_json, payload_json, extra, &len);
    if (!in)
        return NULL;
    if (hmac_sha256(secret, secretlen, in, len, mac) != 0) {
        free(in);
        return NULL;
    }
    return append_sig(in, len, len + 2 + extra, mac, sizeof(mac));
}

char *tok_sign_none(const char *header_json, const char *payload_json)
{
    size_t len = 0;
    char *in = signing_input(header_json, payload_json, 1, &len);
    return in ? append_sig(in, len, len + 3, NULL, 0) : NULL;
}

cJSON *tok_entra_claims(const char *tenant, const char *aud, const char *oid, const char *email,
                        const char *name, long lifetime_s)
{
    cJSON *ret = NULL;
    char iss[512];
    long now = (long)time(NULL);
    cJSON *c = cJSON_CreateObject();
    int n = snprintf(iss, sizeof(iss), "https://login.microsoftonline.com/%s/v2.0", tenant);
    if (!c || n < 0 || (size_t)n >= sizeof(iss))
        goto out;
    if (!cJSON_AddStringToObject(c, "iss", iss) || !cJSON_AddStringToObject(c, "aud", aud) ||
        !cJSON_AddStringToObject(c, "tid", tenant) || !cJSON_AddStringToObject(c, "oid", oid) ||
        !cJSON_AddStringToObject(c, "sub", oid) || !cJSON_AddNumberToObject(c, "iat", now) ||
        !cJSON_AddNumberToObject(c, "nbf", now) ||
        !cJSON_AddNumberToObject(c, "exp", now + lifetime_s) ||
        !cJSON_AddStringToObject(c, "ver", "2.0"))
        goto out;
    if (email && (!cJSON_AddStringToObject(c, "email", email) ||
                  !cJSON_AddStringToObject(c, "preferred_username", email)))
        goto out;
    if (name && !cJSON_AddStringToObject(c, "name", name))
        goto out;
    ret = c;
    c = NULL;
out:
    cJSON_Delete(c);
    return ret;
}

char *tok_entra_token(EVP_PKEY *key, const char *kid, const cJSON *claims)
{
    char *ret = NULL, *h = NULL, *p = NULL;
    cJSON *hdr = cJSON_CreateObject();
    if (!hdr || !cJSON_AddStringToObject(hdr, "alg", "RS256") ||
        !cJSON_AddStringToObject(hdr, "typ", "JWT") ||
        (kid && !cJSON_AddStringToObject(hdr, "kid", kid)))
        goto out;
    h = cJSON_PrintUnformatted(hdr);
    p = cJSON_PrintUnformatted(claims);
    if (!h || !p)
        goto out;
    ret = tok_sign_rs256(h, p, key);
out:
    free(h);
    free(p);
    cJSON_Delete(hdr);
    return ret;
}
