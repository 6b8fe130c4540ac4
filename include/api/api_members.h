/* api_members: HTTP handlers for /workspaces/{id}/members and
 * /workspaces/{id}/members/{member_id}[/role]: parse and validate the
 * request, call the members service, build the response (with a fresh PMA
 * token when the member changed is the caller). No SQL here. */
#ifndef WSMS_API_MEMBERS_H
#define WSMS_API_MEMBERS_H

#include "http/http.h"

wsms_err api_members_list(struct request *rq, struct response *rs);
wsms_err api_members_add(struct request *rq, struct response *rs);
/* PATCH .../members/{member_id} and its alias .../members/{member_id}/role */
wsms_err api_members_update(struct request *rq, struct response *rs);
wsms_err api_members_remove(struct request *rq, struct response *rs);

/* Validates a POST members body: user_email (trimmed, lower-cased, valid),
 * role, display_name (optional, <= 255 characters). E_VALIDATION_ERROR with
 * details, or E_INVALID_ROLE when an unknown role is the only problem. */
wsms_err api_members_parse_add(struct request *rq, struct response *rs, const cJSON *body,
                               const char **email, enum role *role, const char **display_name);
/* Reads the email at key of body (trimmed, lower-cased, valid) into *email;
 * a problem adds a detail and leaves NULL. WSMS_OK, or the error of
 * resp_error when out of memory. */
wsms_err api_members_parse_email(struct request *rq, struct response *rs, const cJSON *body,
                                 const char *key, const char **email);
/* Validates a PATCH body {"role"}; same errors. */
wsms_err api_members_parse_role(struct request *rq, struct response *rs, const cJSON *body,
                                enum role *role);

#endif
