/* apikeys: the workspace API key format, its hashing and its check in the
 * middleware. A key is "wsk_<16 hex prefix>_<43 base64url secret>" (32
 * random bytes); the database keeps the prefix (unique, for lookup) and
 * the SHA-256 of the secret in hex, compared in constant time. Scopes are
 * read < write < admin and act as the roles VIEWER, MEMBER and ADMIN. The
 * key itself is never logged or stored. Strings handed back live in the
 * caller's arena; apikey_generate fills caller buffers. Management (create,
 * list, revoke) is domain/apikeys. */
#ifndef WSMS_APIKEYS_AUTH_H
#define WSMS_APIKEYS_AUTH_H

#include "core/err.h"
#include "http/http.h"

#include <stdbool.h>
#include <stdint.h>

struct arena;

#define APIKEY_PREFIX_LEN 16
#define APIKEY_SECRET_LEN 43
#define APIKEY_LEN        (4 + APIKEY_PREFIX_LEN + 1 + APIKEY_SECRET_LEN)
#define APIKEY_HASH_LEN   64

enum apikey_scope { SCOPE_READ = 1, SCOPE_WRITE = 2, SCOPE_ADMIN = 4 };

/* A new key (key, NUL-terminated), its prefix and the hex hash of its
 * secret. 0 or -1. The caller wipes key once shown. */
int apikey_generate(char key[APIKEY_LEN + 1], char prefix[APIKEY_PREFIX_LEN + 1],
                    char hash[APIKEY_HASH_LEN + 1]);
/* Splits a presented key; 0, or -1 when it is not of the key format. */
int apikey_parse(const char *key, char prefix[APIKEY_PREFIX_LEN + 1],
                 char hash[APIKEY_HASH_LEN + 1]);
/* "read,write" <-> mask; apikey_scopes_parse returns 0 for anything
 * unknown. apikey_scopes_text writes into buf (>= 20 bytes). */
unsigned apikey_scopes_parse(const char *text);
void apikey_scopes_text(unsigned mask, char *buf, size_t n);
/* Highest role the scopes grant. */
enum role apikey_scopes_role(unsigned mask);

/* A key row as read with the caller's role row (auth/roles.h): id,
 * secret_hash, scopes, expires_at, revoked_at, last_used_at (NULL for SQL
 * NULL), whether its workspace is active. */
struct apikey_row {
    const char *id, *secret_hash, *scopes, *expires_at, *revoked_at, *last_used_at;
    bool workspace_active;
};
/* Checks the presented key against its row (NULL: no such key on that
 * workspace) at now_ms: the role its scopes grant, or E_INVALID_API_KEY for a
 * malformed, unknown, other workspace's, expired or revoked key (why: a
 * short reason for the log), E_WORKSPACE_NOT_FOUND for an archived
 * workspace. Records last_used_at when the stored one is a minute old or
 * more (one UPDATE at most once a minute; its failure is only logged). */
wsms_err apikey_check(const char *key, const struct apikey_row *row, int64_t now_ms,
                      enum role *role, const char **why);

#endif
