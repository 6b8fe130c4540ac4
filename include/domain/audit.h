/* audit: the AuditLog of a workspace. audit_write adds one entry inside the
 * caller's open transaction, so an entry commits or rolls back with the
 * change it records; audit_list reads a page of entries, newest first.
 * Owns no state. Trees handed back belong to the caller (cJSON_Delete). */
#ifndef WSMS_AUDIT_H
#define WSMS_AUDIT_H

#include "core/err.h"
#include "http/http.h"

#include <cjson/cJSON.h>

struct arena;

/* Inserts {id, workspace_id, action, actor_id, details, timestamp=now};
 * details (borrowed, NULL for {}) is stored as JSON text. */
wsms_err audit_write(const char *ws_id, const char *action, const char *actor_id,
                     const cJSON *details);

/* Entries of rq->workspace_id (only action when not NULL), read in one
 * statement with the caller's role (auth/roles.h), ordered by timestamp DESC
 * then id, as [{"id","workspace_id","action","actor_id","details":{...},
 * "timestamp"}]. *total is the count without paging. */
wsms_err audit_list(struct request *rq, const char *action, long limit, long offset, cJSON **out,
                    long *total);

#endif
