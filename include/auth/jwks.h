/* jwks: the JOSE plumbing shared by entra.c and pma.c. Decodes compact JWS
 * tokens strictly (jws_decode), fetches a JWKS document with libcurl, turns
 * each RSA JWK (n, e) into an OpenSSL EVP_PKEY once, when the document is
 * loaded, and keeps the per-process key cache Entra tokens are verified with.
 *
 * Ownership: a struct jws owns its two cJSON trees and signature bytes
 * (jws_clear). A struct jwks from jwks_parse() belongs to the caller
 * (jwks_free). The process cache owns its own set; every EVP_PKEY handed out
 * by jwks_find() or jwks_cache_key() is a new reference the caller releases
 * with EVP_PKEY_free(), so it stays valid even if the cache is replaced.
 * Not thread-safe: each worker process has its own cache. */
#ifndef WSMS_JWKS_H
#define WSMS_JWKS_H

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stddef.h>

/* A compact JWS ("header.payload.signature", base64url without padding),
 * split and decoded. The signing input is the first signed_len bytes of the
 * token; sig_b64 points into the token (its third part, not terminated). */
struct jws {
    cJSON *header;  /* JSON object */
    cJSON *payload; /* JSON object */
    size_t signed_len;
    const char *sig_b64;
    size_t sig_b64_len;
    unsigned char *sig; /* decoded signature, NULL when the part is empty */
    size_t sig_len;
};

/* Splits and decodes token, refusing it before any parsing when it is longer
 * than maxlen bytes. Each part must be canonical base64url (no padding);
 * header and payload must be JSON objects without duplicate members. The
 * signature part may be empty (callers refuse it when checking it). Returns
 * 0, or -1 with a short reason in why; *out is cleared either way. */
int jws_decode(const char *token, size_t maxlen, struct jws *out, char *why, size_t whylen);
void jws_clear(struct jws *j);
/* Copies a short reason into why (either may be NULL/0). */
void jws_why(char *why, size_t whylen, const char *reason);

#define JWKS_MAX_BYTES (1024 * 1024) /* larger documents are refused */
#define JWKS_MAX_KEYS  64
/* While the cache is empty a failed fetch is retried at most this often (or
 * every AZURE_JWKS_MIN_REFRESH_SECONDS if that is shorter). */
#define JWKS_COLD_RETRY_S 5
/* A key set older than this is refetched on next use (keys Entra revoked
 * stop working); on failure the old set stays. */
#define JWKS_MAX_AGE_S 86400

struct jwks;

/* GETs url (https, http to a loopback host, or file; no redirects; TLS
 * verified; proxy exactly `proxy`, "" = direct, environment proxies ignored;
 * whole transfer bounded by timeout_s). On success *body is a malloc'd
 * NUL-terminated document the caller frees. Returns 0 or -1 with why. */
int jwks_fetch(const char *url, const char *proxy, long timeout_s, char **body, size_t *len,
               char *why, size_t whylen);

/* Parses a JWKS document ({"keys": [...]}). Keys that cannot be used for
 * RS256 (kty not RSA, use not sig, alg not RS256, bad or < 2048-bit modulus)
 * are kept, marked unusable, so that naming them fails with a reason.
 * Returns 0 and *out (caller frees with jwks_free), or -1 with why. */
int jwks_parse(const char *json, size_t len, struct jwks **out, char *why, size_t whylen);
void jwks_free(struct jwks *set);
/* Number of keys in the set, usable or not. */
size_t jwks_count(const struct jwks *set);
/* The key named kid; kid NULL picks the only key of a one-key set. Returns 0
 * and a new reference in *key, or -1 with why ("unknown kid", "no kid", ...). */
int jwks_find(const struct jwks *set, const char *kid, EVP_PKEY **key, char *why, size_t whylen);

/* The configured JWKS URL: AZURE_JWKS_URL, else the tenant's v2.0 keys URL.
 * Returns 0, or -1 when it does not fit in buf. */
int jwks_config_url(char *buf, size_t len);
/* The key for kid from the process cache, loading the JWKS (config URL) on
 * first use. An unknown kid triggers at most one refetch per
 * AZURE_JWKS_MIN_REFRESH_SECONDS; a failed refetch keeps the cached keys
 * (logged). Returns 0 and a new reference in *key, or -1 with why. */
int jwks_cache_key(const char *kid, EVP_PKEY **key, char *why, size_t whylen);
/* Drops the cached set and zeroes the fetch counter. */
void jwks_cache_reset(void);
/* Fetch attempts made by the cache since start (or the last reset). */
long jwks_cache_fetches(void);

#endif
