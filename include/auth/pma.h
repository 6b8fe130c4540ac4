/* pma: the service's own PMA token, an HS256 JWT signed with
 * PMA_TOKEN_SECRET (claims user_id, email, roles, iat, exp, jti). Issuing and
 * verifying use OpenSSL HMAC and cJSON, never libjwt; verification accepts
 * exactly alg HS256 and compares the signature in constant time. Owns
 * nothing: pma_issue() returns a malloc'd token the caller frees, and the
 * caller owns `out`. */
#ifndef WSMS_PMA_H
#define WSMS_PMA_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define PMA_MAX_TOKEN_BYTES 32768 /* longer tokens are refused unparsed */
#define PMA_MAX_IAT_AHEAD_S 60    /* an iat further in the future is refused */

struct pma_claims {
    char user_id[129];
    char email[321];
    long iat;
    long exp;
    char jti[37]; /* "" when the token has none */
};

/* roles: cJSON object workspace-id -> "OWNER"/... (NULL = {}), copied into
 * the token. Returns a malloc'd token or NULL (bad arguments, secret unset
 * or under 32 bytes, out of memory). */
char *pma_issue(const char *user_id, const char *email, const cJSON *roles);
/* pma_issue with an iat of at least min_iat (when min_iat is ahead of the
 * clock by no more than PMA_MAX_IAT_AHEAD_S; exp counts from that iat):
 * after a session revocation through second S, min_iat = S + 1 keeps a
 * token issued later in second S valid. */
char *pma_issue_after(const char *user_id, const char *email, const cJSON *roles, long min_iat);
/* grace_s: accept a token expired by up to grace_s seconds (0 normally,
 * 7*86400 for /auth/refresh). 0 on success; -1 with a short reason in why
 * (never token content). */
int pma_verify(const char *token, long grace_s, struct pma_claims *out, char *why, size_t whylen);

#endif
