/* http: the request a handler reads and the response it fills. Both live in
 * the per-request arena (rq->arena); nothing here is freed by handlers.
 * Handlers return WSMS_OK after filling the response, or the wsms_err of
 * resp_error(), and the server turns that into the API.md error body. */
#ifndef WSMS_HTTP_H
#define WSMS_HTTP_H

#include "core/err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct route;

/* The authenticated caller, filled by the auth middleware. */
struct identity {
    const char *user_id; /* Entra oid (or sub) */
    const char *email;
    const char *display_name;
};

enum role { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_MEMBER = 2, ROLE_ADMIN = 3, ROLE_OWNER = 4 };

struct request {
    struct arena *arena;
    const char *method;
    const char *path;  /* decoded path, no query string */
    const char *query; /* raw query string ("" when none) */
    const char *body;  /* NUL-terminated copy; NULL when no body */
    size_t body_len;
    const char *request_id;
    const char *remote_addr;
    const char *content_type;
    char **params; /* FastCGI parameters (NAME=VALUE) */
    const struct route *route;
    const char *cap[2];   /* path captures in pattern order ({id}, {member_id}) */
    bool authenticated;   /* both tokens verified */
    struct identity user; /* valid when authenticated */
    const char *azure_token;
    const char *workspace_id; /* normalized {id} on workspace routes */
    enum role role;           /* caller's role in workspace_id (from the database) */
    const char *api_key_id;   /* set when authenticated by an API key (user is "apikey:<id>") */
    /* For the role row of the one-statement reads (auth/roles.h), set by
     * the middleware: the PMA token's iat, the presented API key (NULL for
     * tokens), and whether the role (or on routes without a workspace the
     * revocation) has been checked. */
    long token_iat;
    const char *api_key;
    bool role_checked;
    int64_t start_ms;
    /* Set by the server: names what the request is doing now (slow log,
     * /status). Handlers call req_stage(), never the server. */
    void (*set_stage)(const char *stage);
};

#define RESP_MAX_HEADERS 16

struct response {
    int status;
    const char *body; /* arena memory */
    size_t body_len;
    const char *content_type;
    struct {
        const char *name, *value;
    } headers[RESP_MAX_HEADERS];
    int nheaders;
    wsms_err err;
    const char *err_msg;
    cJSON *details; /* validation details array, owned by the arena */
};

/* Tells the server what the request is doing now ("jira"); no-op when the
 * request has no stage hook (unit tests). stage must be static. */
void req_stage(struct request *rq, const char *stage);
/* Header by HTTP name ("Authorization", "X-PMA-Token"); NULL when absent. */
const char *req_header(const struct request *rq, const char *name);
/* Query parameter, percent-decoded into the arena; NULL when absent. */
const char *req_query(const struct request *rq, const char *key);
/* limit (1..200, default 50) and offset (>= 0, default 0) from the query;
 * on bad values adds details and returns E_VALIDATION_ERROR. */
wsms_err req_pagination(struct request *rq, struct response *rs, long *limit, long *offset);
/* The body parsed as a JSON object (tree owned by the arena). Missing body,
 * invalid JSON or non-object: E_INVALID_REQUEST.
 * Also refused: a key named twice in one object (E_INVALID_REQUEST) and a
 * string (or key) holding a control character other than tab/newline,
 * including an escaped NUL (E_VALIDATION_ERROR naming the field, e.g.
 * "name" or "external_links[0].url"); fields that must be one line check
 * tab/newline themselves (utf8_has_control). */
wsms_err req_json_object(struct request *rq, struct response *rs, cJSON **out);
/* Every query parameter decodes (no bad escape, no %00) and holds no
 * control character: else E_VALIDATION_ERROR naming the parameter. */
wsms_err req_check_query(struct request *rq, struct response *rs);

/* Sets status and serializes `json` (which the arena takes over). */
wsms_err resp_json(struct request *rq, struct response *rs, int status, cJSON *json);
wsms_err resp_no_content(struct response *rs);
/* Copies name and value into the arena. -1 when the table is full. */
int resp_header(struct request *rq, struct response *rs, const char *name, const char *value);
/* Records the error and returns it; msg NULL uses the default message. */
wsms_err resp_error(struct response *rs, wsms_err e, const char *msg);
/* Adds {"field","message"} to the validation details. */
void resp_detail(struct request *rq, struct response *rs, const char *field, const char *msg);
bool resp_has_details(const struct response *rs);

/* Registers a cJSON tree with the arena so reset deletes it. Returns obj
 * (NULL when obj was NULL or registering failed, in which case obj was
 * deleted). */
cJSON *arena_json(struct arena *a, cJSON *obj);

/* Percent-decodes a path into the arena; NULL on a bad escape or %00. */
char *http_decode_path(struct arena *a, const char *s, size_t n);

const char *role_name(enum role r);
/* "OWNER" etc. (any case) -> role; ROLE_NONE when unknown. */
enum role role_parse(const char *s);

#endif
