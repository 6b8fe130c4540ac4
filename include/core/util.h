/* util: small pure helpers shared by every module: GUIDs, UTC timestamps,
 * base64/base64url, constant-time comparison, SHA-256/HMAC wrappers and
 * bounded string building. Nothing here allocates except where a function
 * says it returns memory the caller frees. */
#ifndef WSMS_UTIL_H
#define WSMS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define GUID_LEN 36

/* Random v4 GUID, lowercase with hyphens, from OpenSSL's CSPRNG.
 * out must hold GUID_LEN + 1 bytes. Returns 0 or -1. */
int guid_new(char out[GUID_LEN + 1]);
/* Accepts any case, with hyphens (8-4-4-4-12); writes the lowercase form.
 * Returns 0, or -1 when s is not a GUID. */
int guid_normalize(const char *s, char out[GUID_LEN + 1]);
/* The 32 hex digits of a (valid) GUID: out must hold 33 bytes. */
int guid_hex32(const char *guid, char out[33]);

/* Current UTC time in milliseconds since the epoch. */
int64_t now_ms(void);
/* Monotonic clock in milliseconds / microseconds. */
int64_t mono_ms(void);
int64_t mono_us(void);
/* "2026-11-22T09:15:02.123Z" for a time in ms; out must hold 25 bytes. */
void iso8601_ms(int64_t ms, char out[25]);
/* "2026-11-22T09:15:02.123Z" (fraction optional) -> ms; -1 when NULL or
 * malformed. */
int64_t iso8601_parse_ms(const char *s);

/* Constant-time equality of two buffers of the given lengths (length
 * difference is not hidden, content is). */
bool ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* base64url without padding. Returns a malloc'd NUL-terminated string the
 * caller frees, NULL on failure. */
char *b64url_encode(const unsigned char *in, size_t len);
/* Decodes base64url (padding optional). Returns malloc'd buffer (NUL
 * terminated for convenience, *outlen excludes it), NULL when invalid. */
unsigned char *b64url_decode(const char *in, size_t len, size_t *outlen);
/* Standard base64 with padding (for Basic auth and Azure keys). */
char *b64_encode(const unsigned char *in, size_t len);
unsigned char *b64_decode(const char *in, size_t len, size_t *outlen);

/* SHA-256 of data; out 32 bytes. */
int sha256(const void *data, size_t len, unsigned char out[32]);
/* HMAC-SHA256; out 32 bytes. */
int hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                unsigned char out[32]);
/* Lowercase hex of bytes; out holds 2*len+1. */
void hex_encode(const unsigned char *in, size_t len, char *out);

/* Trimmed length-checked UTF-8 character count; -1 when not valid UTF-8. */
long utf8_len(const char *s);
/* true when s holds a control character: C0 (U+0000..U+001F), DEL or C1
 * (U+0080..U+009F); tab and newline are allowed when allow_tab_nl. */
bool utf8_has_control(const char *s, bool allow_tab_nl);
/* A simple RFC 5322-ish address check: local@domain.tld, no spaces,
 * at most 254 bytes. */
bool email_valid(const char *s);
/* ASCII lowercase copy into out (size outlen); returns -1 if it doesn't fit. */
int ascii_lower(const char *s, char *out, size_t outlen);

#endif
