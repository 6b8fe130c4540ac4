/* agents: a workspace's agents (workspace_agents): list, read, create,
 * change, delete, each change audited (AGENT_CREATED, AGENT_UPDATED,
 * AGENT_DELETED) in its transaction under the workspace row's lock. The
 * config is checked against the agent's type (agent_types) and its
 * integration ids against the workspace's integrations. An agent used by
 * an active job is not deleted (E_CONFLICT naming the jobs); inactive jobs
 * using it are detached (agent_id null). Owns no state; trees handed back
 * belong to the caller (cJSON_Delete), strings live in the arena. */
#ifndef WSMS_AGENTS_H
#define WSMS_AGENTS_H

#include "core/err.h"
#include "http/http.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* A validated body (strings in the arena). Create: agent_type and name
 * required; config (an object, borrowed) defaults to {}. Update: each set_*
 * says the field was sent; the type cannot change. */
struct agent_in {
    const char *agent_type, *name;
    const cJSON *config;
    bool is_enabled;
    bool set_name, set_config, set_is_enabled;
};

/* A page of the workspace's agents, oldest first; *total without paging.
 * One statement. */
wsms_err agents_list(struct request *rq, long limit, long offset, cJSON **out, long *total);
/* E_RESOURCE_NOT_FOUND when agent_id is not an agent of the workspace. */
wsms_err agents_get(struct request *rq, const char *agent_id, cJSON **out);
/* E_VALIDATION_ERROR with *why (unknown type, bad config, an integration id
 * not of the workspace). */
wsms_err agents_create(struct request *rq, const struct agent_in *in, cJSON **out,
                       const char **why);
wsms_err agents_update(struct request *rq, const char *agent_id, const struct agent_in *in,
                       cJSON **out, const char **why);
/* E_CONFLICT with *why naming the active jobs that use it. */
wsms_err agents_delete(struct request *rq, const char *agent_id, const char **why);

#endif
