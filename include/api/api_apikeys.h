/* api_apikeys: HTTP handlers for /workspaces/{id}/api-keys (POST create,
 * GET list) and /workspaces/{id}/api-keys/{key_id} (DELETE revoke): parse
 * and validate, call domain/apikeys, build the response. The key appears
 * only in the 201 answer of its creation. No SQL here. */
#ifndef WSMS_API_APIKEYS_H
#define WSMS_API_APIKEYS_H

#include "http/http.h"

wsms_err api_apikeys_create(struct request *rq, struct response *rs);
wsms_err api_apikeys_list(struct request *rq, struct response *rs);
wsms_err api_apikeys_revoke(struct request *rq, struct response *rs);

#endif
