/* httpc: the one outbound HTTP client (libcurl) every module uses for calls
 * to Jira, Azure DevOps, ServiceNow, Graph and Azure Blob storage.
 *
 * Owns one curl easy handle per process (created lazily after fork, reset
 * between calls so its connection cache is kept) and libcurl's global state.
 * Policy applied to every request: http/https only, TLS verification on,
 * no automatic redirects (a 3xx is handed back to the caller), proxy from
 * OUTBOUND_PROXY only (never from the environment), connect timeout, a
 * whole-request deadline, and an 8 MiB response cap. HTTP statuses are not
 * errors here. The caller owns a filled struct httpc_resp and releases it
 * with httpc_resp_free(); nothing else is returned to free. Header values
 * passed in (credentials) are never logged. */
#ifndef WSMS_HTTPC_H
#define WSMS_HTTPC_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest response body accepted. */
#define HTTPC_MAX_BODY (8u * 1024 * 1024)
/* Upper bound for the TCP/TLS connect phase of one request (ms); the
 * remaining time to the deadline bounds it too. */
#define HTTPC_CONNECT_TIMEOUT_MS 5000L

struct httpc_resp {
    long status; /* HTTP status, 0 when no response */
    char *body;  /* NUL-terminated (len excludes the NUL); never NULL on WSMS_OK */
    size_t len;
    char *location;     /* Location header or NULL */
    char *continuation; /* x-ms-continuationtoken header or NULL */
};

/* One request with the whole-request timeout INTEGRATION_TIMEOUT_SECONDS.
 * method: "GET", "PUT", "POST", "DELETE" or "HEAD". headers: NULL-terminated
 * array of "Name: value" (may be NULL). body may be NULL (body_len 0); when a
 * body is sent (even an empty one) Content-Length is set, and curl's default
 * Content-Type and Expect headers are suppressed unless given.
 * Returns WSMS_OK (any HTTP status), E_NETWORK_ERROR (DNS / connect failed or
 * the connect phase timed out), E_REQUEST_TIMEOUT (deadline reached),
 * E_EXTERNAL_SERVICE_ERROR (body over 8 MiB, broken transfer, TLS failure,
 * any other curl failure) or E_INTERNAL_SERVER_ERROR (out of memory, bad
 * arguments). On error *out is empty (all NULL/0) and why holds a short
 * reason without credentials. Transport failures are logged (log_warn). */
wsms_err httpc_request(const char *method, const char *url, const char *const *headers,
                       const char *body, size_t body_len, struct httpc_resp *out, char *why,
                       size_t whylen);

/* Same, but bounded by an absolute deadline on the mono_ms() clock, so a
 * caller making several requests (pagination) shares one time budget. A
 * deadline already passed returns E_REQUEST_TIMEOUT without any I/O. */
wsms_err httpc_request_until(const char *method, const char *url, const char *const *headers,
                             const char *body, size_t body_len, int64_t deadline_ms,
                             struct httpc_resp *out, char *why, size_t whylen);

/* mono_ms() + INTEGRATION_TIMEOUT_SECONDS: the deadline of one logical call. */
int64_t httpc_deadline(void);

/* Frees the members and zeroes the struct; safe on a zeroed struct. */
void httpc_resp_free(struct httpc_resp *r);

/* Scheme, host and port (defaults 80/443 applied) are equal, compared
 * case-insensitively. False when either is not an absolute http(s) URL. */
bool url_same_origin(const char *a, const char *b);

/* "scheme://host[:port]" of url into out, for log lines (no user info,
 * path or query). Writes "?" when url cannot be parsed. */
void url_origin(const char *url, char *out, size_t outlen);

/* Percent-encodes everything except RFC 3986 unreserved characters.
 * Returns a malloc'd string the caller frees, NULL on failure. */
char *url_encode(const char *s);

/* Releases the easy handle and libcurl's global state (process exit, tests). */
void httpc_cleanup(void);

#endif
