/* entra: verification of Azure Entra ID access tokens (RS256 JWTs) against
 * the tenant's JWKS (jwks.c). Never uses libjwt: the algorithm is pinned to
 * RS256 here, the signature is checked with OpenSSL, and the claims (iss,
 * tid, aud, exp, nbf) against the configuration. Owns the per-process cache
 * of verified tokens (keyed by SHA-256 of the token, bounded, entries live
 * until the token expires) and the counters; the caller owns `out`.
 * Not thread-safe: one cache per worker process. */
#ifndef WSMS_ENTRA_H
#define WSMS_ENTRA_H

#include <stddef.h>

#define ENTRA_MAX_TOKEN_BYTES 16384 /* longer tokens are refused unparsed */
#define ENTRA_CACHE_ENTRIES   1024

struct entra_identity {
    char user_id[129];      /* oid, else sub */
    char email[321];        /* email, else preferred_username, else upn ("" if none) */
    char display_name[257]; /* name, else the email (cut at a UTF-8 boundary) */
    long exp;               /* the token's exp, seconds since the epoch */
};

/* 0 on success; -1 on any failure with a short reason for the LOG in why
 * (never token content). */
int entra_verify(const char *token, struct entra_identity *out, char *why, size_t whylen);
/* Drops the token cache, the JWKS cache and the counters (tests). */
void entra_reset(void);
/* Counters since start or the last reset; any pointer may be NULL.
 * verifications: RSA signature checks made; cache_hits: tokens accepted
 * from the cache; jwks_fetches: JWKS fetch attempts. */
void entra_stats(long *verifications, long *cache_hits, long *jwks_fetches);

#endif
