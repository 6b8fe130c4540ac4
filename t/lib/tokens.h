/* tokens: TEST helper (compiled into every test binary) for making Entra-like
 * and PMA-like JWTs. Generates RSA-2048 keys with OpenSSL at test time,
 * writes JWKS documents, and signs arbitrary header/payload JSON strings with
 * RS256, HS256 or nothing (alg none). Everything returned is owned by the
 * caller: strings with free(), keys with EVP_PKEY_free(), cJSON trees with
 * cJSON_Delete(). Failures return NULL or -1; tests assert on them.
 *
 * Typical use:
 *   EVP_PKEY *k = tok_rsa_new();
 *   tok_jwks_write("/tmp/x/jwks.json", &k, (const char *[]){"kid1"}, 1);
 *   setenv("AZURE_JWKS_URL", "file:///tmp/x/jwks.json", 1);
 *   cJSON *c = tok_entra_claims(tenant, aud, oid, "a@b.c", "A B", 3600);
 *   char *jwt = tok_entra_token(k, "kid1", c);
 */
#ifndef WSMS_T_TOKENS_H
#define WSMS_T_TOKENS_H

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stddef.h>

/* A fresh RSA-2048 key pair (public exponent 65537). */
EVP_PKEY *tok_rsa_new(void);
/* The public key as a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) string. */
char *tok_rsa_public_pem(EVP_PKEY *key);

/* JWKS JSON {"keys":[...]} with one {"kid","kty":"RSA","use":"sig",
 * "alg":"RS256","n","e"} entry per key (n, e base64url). kids may be NULL,
 * and kids[i] NULL omits that entry's kid. */
char *tok_jwks_json(EVP_PKEY *const *keys, const char *const *kids, size_t n);
/* Writes tok_jwks_json() to path (atomically: temporary file + rename). */
int tok_jwks_write(const char *path, EVP_PKEY *const *keys, const char *const *kids, size_t n);
/* Writes text to path atomically. */
int tok_write_file(const char *path, const char *text);

/* base64url(header_json) "." base64url(payload_json) "." signature. The
 * JSON strings are encoded as given (they may be invalid on purpose). */
char *tok_sign_rs256(const char *header_json, const char *payload_json, EVP_PKEY *key);
char *tok_sign_hs256(const char *header_json, const char *payload_json, const void *secret,
                     size_t secretlen);
/* Unsigned: "h.p." (empty signature). */
char *tok_sign_none(const char *header_json, const char *payload_json);

/* Valid Entra v2 access token claims: iss
 * https://login.microsoftonline.com/<tenant>/v2.0, aud, tid, oid, sub (= oid),
 * email, preferred_username (= email), name, iat = nbf = now,
 * exp = now + lifetime_s. email or name NULL leaves that claim out. */
cJSON *tok_entra_claims(const char *tenant, const char *aud, const char *oid, const char *email,
                        const char *name, long lifetime_s);
/* RS256 token with header {"alg":"RS256","typ":"JWT","kid":kid} (kid NULL:
 * no kid) and the claims serialized as the payload. */
char *tok_entra_token(EVP_PKEY *key, const char *kid, const cJSON *claims);

#endif
