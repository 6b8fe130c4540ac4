#include "domain/automation/agent_types.h"

#include "core/util.h"

#include <stdio.h>
#include <string.h>

#define MAX_INTEGRATION_IDS 100

static const struct agent_config_key snapshot_keys[] = {
    {"integration_ids",
     "integration ids of this workspace to snapshot; absent means every integration",
     AGENT_KEY_INTEGRATION_IDS, false},
};

static const struct agent_type types[] = {
    {"integration_snapshot",
     "Reads each selected integration of the workspace through its provider and stores the "
     "result as a run artifact",
     snapshot_keys, sizeof(snapshot_keys) / sizeof(snapshot_keys[0])},
};

const struct agent_type *agent_types_all(size_t *n)
{
    *n = sizeof(types) / sizeof(types[0]);
    return types;
}

const struct agent_type *agent_type_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i].name, name) == 0)
            return &types[i];
    return NULL;
}

static const char *kind_name(enum agent_key_kind k)
{
    switch (k) {
    case AGENT_KEY_INTEGRATION_IDS:
        return "array of integration ids";
    }
    return "?";
}

cJSON *agent_types_json(void)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        cJSON *o = cJSON_CreateObject(), *cfg = NULL;
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            goto fail;
        }
        if (!cJSON_AddStringToObject(o, "agent_type", types[i].name) ||
            !cJSON_AddStringToObject(o, "description", types[i].description) ||
            !(cfg = cJSON_AddArrayToObject(o, "config")))
            goto fail;
        for (size_t k = 0; k < types[i].nkeys; k++) {
            const struct agent_config_key *key = &types[i].keys[k];
            cJSON *ko = cJSON_CreateObject();
            if (!ko || !cJSON_AddItemToArray(cfg, ko)) {
                cJSON_Delete(ko);
                goto fail;
            }
            if (!cJSON_AddStringToObject(ko, "name", key->name) ||
                !cJSON_AddStringToObject(ko, "type", kind_name(key->kind)) ||
                !cJSON_AddBoolToObject(ko, "required", key->required) ||
                !cJSON_AddStringToObject(ko, "description", key->description))
                goto fail;
        }
    }
    return arr;
fail:
    cJSON_Delete(arr);
    return NULL;
}

static const struct agent_config_key *key_find(const struct agent_type *t, const char *name)
{
    for (size_t k = 0; k < t->nkeys; k++)
        if (strcmp(t->keys[k].name, name) == 0)
            return &t->keys[k];
    return NULL;
}

static wsms_err check_ids(const cJSON *v, char *why, size_t whylen)
{
    if (!cJSON_IsArray(v)) {
        snprintf(why, whylen, "config.integration_ids must be an array of integration ids");
        return E_VALIDATION_ERROR;
    }
    int n = cJSON_GetArraySize(v);
    if (n > MAX_INTEGRATION_IDS) {
        snprintf(why, whylen, "config.integration_ids holds at most %d ids", MAX_INTEGRATION_IDS);
        return E_VALIDATION_ERROR;
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        char g[GUID_LEN + 1];
        if (!cJSON_IsString(it) || guid_normalize(it->valuestring, g) != 0 ||
            strcmp(g, it->valuestring) != 0) {
            snprintf(why, whylen, "config.integration_ids[%d] must be a lower-case integration id",
                     i);
            return E_VALIDATION_ERROR;
        }
        for (const cJSON *p = v->child; p != it; p = p->next)
            if (strcmp(p->valuestring, it->valuestring) == 0) {
                snprintf(why, whylen, "config.integration_ids[%d] is listed twice", i);
                return E_VALIDATION_ERROR;
            }
        i++;
    }
    return WSMS_OK;
}

wsms_err agent_config_check(const struct agent_type *t, const cJSON *config, char *why,
                            size_t whylen, const cJSON **ids)
{
    if (ids)
        *ids = NULL;
    if (!config || cJSON_IsNull(config))
        config = NULL;
    else if (!cJSON_IsObject(config)) {
        snprintf(why, whylen, "config must be an object");
        return E_VALIDATION_ERROR;
    }
    /* every unknown key, named, in body order */
    size_t used = 0;
    int unknown = 0;
    why[0] = '\0';
    const cJSON *v;
    if (config) {
        cJSON_ArrayForEach(v, config)
        {
            if (key_find(t, v->string))
                continue;
            int w = snprintf(why + used, used < whylen ? whylen - used : 0, "%s\"%s\"",
                             unknown ? ", " : "", v->string);
            if (w > 0)
                used += (size_t)w;
            unknown++;
        }
    }
    if (unknown) {
        char names[512];
        snprintf(names, sizeof(names), "%s", why);
        snprintf(why, whylen, "unknown config key%s for agent type %s: %s", unknown > 1 ? "s" : "",
                 t->name, names);
        return E_VALIDATION_ERROR;
    }
    for (size_t k = 0; k < t->nkeys; k++) {
        const struct agent_config_key *key = &t->keys[k];
        v = config ? cJSON_GetObjectItemCaseSensitive(config, key->name) : NULL;
        if (!v) {
            if (key->required) {
                snprintf(why, whylen, "config.%s is required", key->name);
                return E_VALIDATION_ERROR;
            }
            continue;
        }
        switch (key->kind) {
        case AGENT_KEY_INTEGRATION_IDS: {
            wsms_err e = check_ids(v, why, whylen);
            if (e != WSMS_OK)
                return e;
            if (ids)
                *ids = v;
            break;
        }
        }
    }
    return WSMS_OK;
}
