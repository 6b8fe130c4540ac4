/* apikeys (domain): a workspace's API keys: creation (the key is returned
 * once and never stored), listing without secrets, revocation; each change
 * audited (API_KEY_CREATED, API_KEY_REVOKED) in its transaction. The key
 * format and its check are auth/apikeys. Trees handed back belong to the
 * caller (cJSON_Delete). */
#ifndef WSMS_APIKEYS_DOMAIN_H
#define WSMS_APIKEYS_DOMAIN_H

#include "core/err.h"
#include "http/http.h"

#include <cjson/cJSON.h>
#include <stdint.h>

/* A new key on rq->workspace_id named name with scopes (mask of
 * enum apikey_scope) expiring at expires_ms. *out: the key's JSON with
 * "key" (the only time it is shown). */
wsms_err apikeys_create(struct request *rq, const char *name, unsigned scopes, int64_t expires_ms,
                        cJSON **out);
/* Every key of the workspace, newest first, without secrets. */
wsms_err apikeys_list(struct request *rq, cJSON **out);
/* Revokes key_id of the workspace now; E_RESOURCE_NOT_FOUND when it is
 * not there or already revoked. */
wsms_err apikeys_revoke(struct request *rq, const char *key_id);

#endif
