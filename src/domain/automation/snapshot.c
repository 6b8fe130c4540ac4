#include "domain/automation/snapshot.h"

#include "core/arena.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"
#include "data/db.h"
#include "data/dialect.h"
#include "domain/ws_integrations.h"
#include "outbound/blob.h"
#include "outbound/integrations.h"

#include <stdio.h>
#include <string.h>

#define LG "snapshot"

static wsms_err fail(struct snapshot_result *out, wsms_err e, const char *msg)
{
    out->error = msg ? msg : err_code(e);
    log_warn(LG, "snapshot failed: %s", out->error);
    return e;
}

/* Is id named in the config's integration_ids (NULL: all are)? */
static bool wanted(const cJSON *ids, const char *id)
{
    const cJSON *v;
    if (!ids)
        return true;
    cJSON_ArrayForEach(v, ids)
    {
        char g[GUID_LEN + 1];
        if (cJSON_IsString(v) && guid_normalize(v->valuestring, g) == 0 && strcmp(g, id) == 0)
            return true;
    }
    return false;
}

static bool add_str(cJSON *o, const char *k, const char *v)
{
    cJSON *i = v ? cJSON_CreateString(v) : cJSON_CreateNull();
    if (!i || !cJSON_AddItemToObject(o, k, i)) {
        cJSON_Delete(i);
        return false;
    }
    return true;
}

wsms_err snapshot_run(struct arena *a, const char *schema, const char *ws_id,
                      const struct job_info *job, const char *run_id, int64_t now,
                      struct snapshot_result *out)
{
    char table[160], taken[25], why[256], url[2400];
    struct db_rows rows;
    cJSON *cfg = NULL, *doc = NULL, *list = NULL;
    char *text = NULL;
    wsms_err e;
    memset(out, 0, sizeof(*out));
    if (dialect_ws_table(db_type(), schema, "workspace_integrations", table, sizeof(table)) != 0)
        return fail(out, E_INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR: bad schema");
    cfg = cJSON_Parse(job->agent_config_json ? job->agent_config_json : "{}");
    const cJSON *ids = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "integration_ids") : NULL;
    if (!cfg || (ids && !cJSON_IsArray(ids))) {
        e = fail(out, E_VALIDATION_ERROR,
                 "VALIDATION_ERROR: the agent's config is not an object with an "
                 "integration_ids array");
        goto out;
    }
    const char *sql = arena_printf(a,
                                   "SELECT workspace_integration_id, provider, external_id, "
                                   "integration_display_name FROM %s WHERE workspace_id = ? "
                                   "ORDER BY added_utc, workspace_integration_id",
                                   table);
    if (!sql) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    if ((e = db_query(a, &rows, sql, "s", ws_id)) != WSMS_OK) {
        fail(out, e, arena_printf(a, "%s: reading the workspace's integrations failed", err_code(e)));
        goto out;
    }
    /* every id the config names must be an integration of the workspace */
    const cJSON *v;
    cJSON_ArrayForEach(v, ids)
    {
        char g[GUID_LEN + 1];
        bool found = false;
        if (cJSON_IsString(v) && guid_normalize(v->valuestring, g) == 0)
            for (int r = 0; r < rows.nrows && !found; r++)
                found = strcmp(db_val(&rows, r, 0), g) == 0;
        if (!found) {
            e = fail(out, E_VALIDATION_ERROR,
                     arena_printf(a,
                                  "VALIDATION_ERROR: integration %s is not an integration of "
                                  "this workspace",
                                  cJSON_IsString(v) ? v->valuestring : "(not a string)"));
            goto out;
        }
    }
    iso8601_ms(now, taken);
    doc = cJSON_CreateObject();
    if (!doc || !add_str(doc, "type", SNAPSHOT_ARTIFACT_TYPE) ||
        !add_str(doc, "workspace_id", ws_id) || !add_str(doc, "job_id", job->job_id) ||
        !add_str(doc, "run_id", run_id) || !add_str(doc, "taken_at", taken) ||
        !(list = cJSON_AddArrayToObject(doc, "integrations"))) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    for (int r = 0; r < rows.nrows; r++) {
        const char *iid = db_val(&rows, r, 0), *prov = db_val(&rows, r, 1);
        enum provider p;
        const char *metric;
        cJSON *res = NULL, *it;
        if (!wanted(ids, iid))
            continue;
        if (!wsi_provider_of(prov, &p, &metric)) {
            e = fail(out, E_INTERNAL_SERVER_ERROR,
                     arena_printf(a,
                                  "INTERNAL_SERVER_ERROR: integration %s has an unknown provider "
                                  "%s",
                                  iid, prov ? prov : "?"));
            goto out;
        }
        why[0] = '\0';
        e = integ_list(p, &res, why, sizeof(why));
        metrics_integration(metric, e);
        if (e != WSMS_OK) {
            const char *msg = arena_printf(a, "%s: provider %s for integration %s%s%s",
                                           err_code(e), integ_provider_name(p), iid,
                                           why[0] ? ": " : "", why);
            out->error = msg ? msg : err_code(e);
            log_warn(LG, "snapshot of run %s failed: %s", run_id, out->error);
            goto out;
        }
        cJSON *projects = cJSON_DetachItemFromObjectCaseSensitive(res, "projects");
        cJSON_Delete(res);
        if (!projects || !(it = cJSON_CreateObject()) || !cJSON_AddItemToArray(list, it) ||
            !add_str(it, "integration_id", iid) || !add_str(it, "provider", prov) ||
            !add_str(it, "external_id", db_val(&rows, r, 2)) ||
            !add_str(it, "display_name", db_val(&rows, r, 3)) ||
            !cJSON_AddItemToObject(it, "projects", projects)) {
            cJSON_Delete(projects);
            e = E_INTERNAL_SERVER_ERROR;
            goto out;
        }
    }
    if (!(text = cJSON_PrintUnformatted(doc))) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    char stamp[20];
    snprintf(stamp, sizeof(stamp), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", taken, taken + 5, taken + 8,
             taken + 11, taken + 14, taken + 17);
    const char *name = arena_printf(a, "snapshot-%s-%s.json", stamp, run_id);
    const char *path = arena_printf(a, "workspaces/%s/documents/snapshots/%s", ws_id, name);
    if (!name || !path) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    size_t len = strlen(text);
    int rc = blob_put(path, text, len, "application/json", url, sizeof(url), why, sizeof(why));
    if (rc == 1) {
        e = fail(out, E_STORAGE_ERROR,
                 "STORAGE_ERROR: blob storage is not configured (AZURE_STORAGE_CONNECTION_STRING "
                 "is empty); the snapshot has nowhere to go");
        goto out;
    }
    if (rc != 0) {
        e = fail(out, E_STORAGE_ERROR,
                 arena_printf(a, "STORAGE_ERROR: writing the snapshot failed: %s", why));
        goto out;
    }
    out->blob_url = arena_strdup(a, url);
    out->file_name = name;
    out->size_bytes = (long long)len;
    e = out->blob_url ? WSMS_OK : E_INTERNAL_SERVER_ERROR;
    if (e == WSMS_OK)
        log_info(LG, "run %s: snapshot of %d integration(s) written to %s (%zu bytes)", run_id,
                 cJSON_GetArraySize(list), path, len);
out:
    if (e != WSMS_OK && !out->error)
        out->error = err_code(e);
    cJSON_free(text);
    cJSON_Delete(doc);
    cJSON_Delete(cfg);
    return e;
}
