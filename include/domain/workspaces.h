/* workspaces: the Workspace rows, their per-workspace schemas and the
 * integrations listed as a workspace's external_links. Creation is one
 * transaction (row, OWNER membership, schema, integration, audit); the blob
 * folders follow after the commit. Reads run a fixed number of queries
 * whatever the page size or member count. Owns no state; trees handed back
 * belong to the caller (cJSON_Delete), strings live in the arena. */
#ifndef WSMS_WORKSPACES_H
#define WSMS_WORKSPACES_H

#include "core/err.h"
#include "http/http.h"

#include <cjson/cJSON.h>

/* A validated POST /workspaces body: name trimmed (1..255 characters),
 * description (NULL or <= 4000), provider canonical ("Jira", "ADO", "SNOW",
 * "SP") or NULL, provider_project set exactly when provider is. */
struct ws_new {
    const char *name, *description, *provider, *provider_project;
};

/* Creates a workspace owned by rq->user and returns the workspace object
 * with members and external_links. Test fault points: "ws.schema" (fail
 * once everything is written, before the commit) and pause
 * "ws.before_commit". */
wsms_err ws_create(struct request *rq, const struct ws_new *in, cJSON **out);
/* A page of the caller's active workspaces, newest first, each with
 * external_links; three queries in all. */
wsms_err ws_list(struct request *rq, long limit, long offset, cJSON **out, long *total);
/* The workspace object of ws_id (an active workspace); records last_seen_utc
 * at most once a minute. */
wsms_err ws_get(struct request *rq, const char *ws_id, cJSON **out);
/* Archives ws_id (soft delete). E_WORKSPACE_NOT_FOUND when already gone. */
wsms_err ws_delete(struct request *rq, const char *ws_id);

#endif
