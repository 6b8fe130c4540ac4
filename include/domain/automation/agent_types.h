/* agent_types: the static registry of the agent kinds the service knows
 * (GET /agent-types) and the check of an agent's config against its kind:
 * a JSON object whose keys the kind declares; an unknown key is refused
 * naming it. So far one kind, integration_snapshot, whose only key is
 * integration_ids (optional array of the workspace's integration ids;
 * absent = all). The executor (auto-sched) looks a kind up by name. Owns
 * nothing; everything is static. */
#ifndef WSMS_AGENT_TYPES_H
#define WSMS_AGENT_TYPES_H

#include "core/err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

enum agent_key_kind {
    AGENT_KEY_INTEGRATION_IDS = 0 /* array of GUIDs of this workspace's integrations */
};

struct agent_config_key {
    const char *name, *description;
    enum agent_key_kind kind;
    bool required;
};

struct agent_type {
    const char *name, *description;
    const struct agent_config_key *keys;
    size_t nkeys;
};

/* Every kind, in a fixed order; *n gets the count. */
const struct agent_type *agent_types_all(size_t *n);
/* The kind named exactly name; NULL when unknown. */
const struct agent_type *agent_type_find(const char *name);
/* The registry as [{"agent_type","description","config":[{"name",
 * "type","required","description"}]}]; the caller owns the tree. */
cJSON *agent_types_json(void);
/* Checks config (NULL counts as {}) against t: must be an object, every key
 * declared, every value of its kind, GUIDs in lower case. On a problem
 * returns E_VALIDATION_ERROR with why set (e.g. `unknown config key(s):
 * "foo", "bar"`). *ids (may be NULL) gets the integration_ids array when
 * present (borrowed from config), for the caller to check against the
 * workspace. */
wsms_err agent_config_check(const struct agent_type *t, const cJSON *config, char *why,
                            size_t whylen, const cJSON **ids);

#endif
