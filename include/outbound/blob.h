/* blob: a small Azure Blob Storage REST client authorised with Shared Key,
 * used to create the per-workspace folders (documents/, attachments/,
 * logs/ under workspaces/<id>/, each held by a zero-byte ".keep" blob).
 *
 * Reads AZURE_STORAGE_CONNECTION_STRING and AZURE_STORAGE_CONTAINER_NAME
 * through config_get() on each call and keeps no state between calls.
 * struct blob_account holds malloc'd copies (including the decoded account
 * key) released and wiped by blob_account_free(). Strings returned by
 * blob_string_to_sign() and trees returned by blob_list() belong to the
 * caller. The account key and the Authorization header are never logged. */
#ifndef WSMS_BLOB_H
#define WSMS_BLOB_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <time.h>

#define BLOB_API_VERSION "2021-08-06"
/* Azurite's documented development account. */
#define BLOB_DEV_ACCOUNT "devstoreaccount1"
#define BLOB_DEV_KEY                                                                               \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define BLOB_DEV_ENDPOINT "http://127.0.0.1:10000/devstoreaccount1"

struct blob_account {
    char *account;      /* AccountName */
    unsigned char *key; /* decoded AccountKey */
    size_t keylen;
    char *endpoint; /* blob endpoint, no trailing '/', e.g. https://acct.blob.core.windows.net */
};

/* Parses a connection string (DefaultEndpointsProtocol, AccountName,
 * AccountKey, BlobEndpoint, EndpointSuffix; UseDevelopmentStorage=true for
 * Azurite's well-known account). Keys are case-insensitive. Returns 0, or
 * -1 with a reason (no secret in it) in why; *out is zeroed on failure. */
int blob_parse_connection_string(const char *cs, struct blob_account *out, char *why,
                                 size_t whylen);
void blob_account_free(struct blob_account *a);

struct blob_kv {
    const char *name, *value;
};

/* One request as seen by the signer. */
struct blob_sign_input {
    const char *verb;            /* "PUT", "GET", ... */
    const char *path;            /* URI path as sent (percent-encoded), e.g.
                                  * "/devstoreaccount1/container/blob" */
    const struct blob_kv *query; /* decoded query parameters */
    size_t nquery;
    const struct blob_kv *headers; /* x-ms-* headers (other names are ignored) */
    size_t nheaders;
    size_t content_length;    /* 0 is signed as an empty line */
    const char *content_type; /* NULL or "" when absent */
};

/* The Shared Key string-to-sign (Blob service, version 2009-09-19 and
 * later): verb, the eleven standard header lines, canonicalized x-ms-
 * headers and canonicalized resource. malloc'd; NULL on failure or when
 * the input is invalid (e.g. a header value with a line break). */
char *blob_string_to_sign(const char *account, const struct blob_sign_input *in);

/* Writes "SharedKey <account>:<base64 HMAC-SHA256(key, sts)>" into out.
 * Returns 0, or -1 (HMAC failure, out too small). */
int blob_authorization(const struct blob_account *a, const char *string_to_sign, char *out,
                       size_t outlen);

/* RFC 1123 date in GMT ("Sun, 06 Nov 1994 08:49:37 GMT"), locale-free.
 * Returns 0 or -1. */
int blob_rfc1123(time_t t, char out[30]);

/* 0 ok, 1 not configured (skipped, one log line), -1 failed with a reason
 * in why (e.g. "authentication failed (403)", "connection refused"); the
 * failure is logged too. Creates the container if missing (409
 * ContainerAlreadyExists is fine) and puts workspaces/<id>/documents/.keep,
 * .../attachments/.keep and .../logs/.keep. workspace_id must be a GUID. */
int blob_create_workspace_folders(const char *workspace_id, char *why, size_t whylen);

/* Lists the names of the blobs under prefix in the configured container
 * (List Blobs, following NextMarker). Same return codes as above; on 0
 * *names is a new cJSON array of strings the caller deletes. */
int blob_list(const char *prefix, cJSON **names, char *why, size_t whylen);

/* Writes one block blob `name` (a path inside the configured container,
 * e.g. "workspaces/<id>/documents/snapshots/x.json") holding data[0..len)
 * with content_type, creating the container if missing. Same return codes
 * as above; on 0 url (if not NULL) gets the blob's URL (no credentials in
 * it). */
int blob_put(const char *name, const char *data, size_t len, const char *content_type, char *url,
             size_t urllen, char *why, size_t whylen);

/* Reads blob `name` (as blob_put names it) into *data (malloc'd, NUL
 * terminated, the caller frees; *len excludes the NUL). Same return codes as above. */
int blob_get(const char *name, char **data, size_t *len, char *why, size_t whylen);

#endif
