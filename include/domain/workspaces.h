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
#include <stdbool.h>

struct arena;

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
/* GET /workspaces options: archived (the caller's archived workspaces where
 * they are OWNER) or active ones (any role); q (name contains,
 * case-insensitive for ASCII letters; NULL for all); sort ("name",
 * "created_at", "last_seen_utc", "-" prefix descending; NULL = newest
 * first; ws_sort_valid checks it). */
struct ws_list_opts {
    long limit, offset;
    bool archived;
    const char *q, *sort;
};
bool ws_sort_valid(const char *sort);
/* LIKE pattern of "contains q" (ASCII-lowercased, ! escapes), arena. */
char *ws_like_pattern(struct arena *a, const char *q);
/* A page of the caller's workspaces, each with external_links; three
 * queries in all. */
wsms_err ws_list(struct request *rq, const struct ws_list_opts *o, cJSON **out, long *total);

/* The ETag of a workspace object (its id, name, description, updated_at):
 * a quoted strong tag. 0 or -1. */
#define WS_ETAG_LEN 34
int ws_etag(const cJSON *ws, char out[WS_ETAG_LEN + 1]);

/* PATCH fields: each set_* says whether the field was sent (description
 * may be set to NULL). */
struct ws_patch {
    bool set_name, set_description;
    const char *name, *description;
};
/* Changes an active workspace under its row lock; if_match (NULL = none)
 * must match the current ETag, else E_PRECONDITION_FAILED. Audits
 * WORKSPACE_UPDATED with the old and new values; *out is the workspace. */
wsms_err ws_update(struct request *rq, const char *ws_id, const struct ws_patch *p,
                   const char *if_match, cJSON **out);
/* An archived workspace back to Active (audited WORKSPACE_RESTORED); *out
 * is the workspace. E_WORKSPACE_NOT_FOUND when it is not archived. */
wsms_err ws_restore(struct request *rq, const char *ws_id, cJSON **out);
/* The workspace object of ws_id (an active workspace); records last_seen_utc
 * at most once a minute. */
wsms_err ws_get(struct request *rq, const char *ws_id, cJSON **out);
/* Archives ws_id (soft delete). E_WORKSPACE_NOT_FOUND when already gone. */
wsms_err ws_delete(struct request *rq, const char *ws_id);

#endif
