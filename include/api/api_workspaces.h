/* api_workspaces: HTTP handlers for /workspaces, /workspaces/{id} and
 * /workspaces/{id}/audit: parse and validate the request, call the
 * workspaces and audit services, build the response. No SQL here. */
#ifndef WSMS_API_WORKSPACES_H
#define WSMS_API_WORKSPACES_H

#include "http/http.h"
#include "domain/workspaces.h"

wsms_err api_workspaces_create(struct request *rq, struct response *rs);
wsms_err api_workspaces_list(struct request *rq, struct response *rs);
wsms_err api_workspaces_get(struct request *rq, struct response *rs);
wsms_err api_workspaces_delete(struct request *rq, struct response *rs);
wsms_err api_workspaces_audit(struct request *rq, struct response *rs);
/* PATCH /workspaces/{id} (If-Match honoured) and POST
 * /workspaces/{id}/restore; workspace responses carry an ETag. */
wsms_err api_workspaces_update(struct request *rq, struct response *rs);
wsms_err api_workspaces_restore(struct request *rq, struct response *rs);
/* Validates a PATCH body (name and/or description, the create rules). */
wsms_err api_workspaces_parse_patch(struct request *rq, struct response *rs, const cJSON *body,
                                    struct ws_patch *p);

/* Validates a POST /workspaces body into *in (strings in the arena); one
 * validation detail per problem. WSMS_OK or E_VALIDATION_ERROR. */
wsms_err api_workspaces_parse_create(struct request *rq, struct response *rs, const cJSON *body,
                                     struct ws_new *in);

/* Shared by the member handlers: s without leading and trailing ASCII
 * whitespace (arena copy; NULL on allocation failure). */
char *api_trim(struct arena *a, const char *s);
/* A required one-line text field: trimmed (in rq's arena), non-empty, valid
 * UTF-8, at most 255 characters, no control characters. NULL with a detail
 * on field added to rs when invalid, or with *oom set. */
const char *api_text_field(struct request *rq, struct response *rs, const cJSON *v,
                           const char *field, bool *oom);
/* Adds "pma_token": a fresh token for the caller (null when issuing failed,
 * which is logged; the change itself is committed). */
wsms_err api_add_fresh_pma(struct request *rq, cJSON *obj);

#endif
