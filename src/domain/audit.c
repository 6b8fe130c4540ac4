#include "domain/audit.h"

#include "core/arena.h"
#include "data/db.h"
#include "data/dialect.h"
#include "core/log.h"
#include "core/util.h"

#include <stdbool.h>
#include <stdlib.h>

#define LG "audit"

wsms_err audit_write(const char *ws_id, const char *action, const char *actor_id,
                     const cJSON *details)
{
    char id[GUID_LEN + 1];
    char *text = NULL;
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    if (guid_new(id) != 0)
        goto out;
    if (details && !(text = cJSON_PrintUnformatted(details)))
        goto out;
    e = db_exec(NULL,
                "INSERT INTO pmassist_master.AuditLog "
                "(id, workspace_id, action, actor_id, details, timestamp) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                "ssssst", id, ws_id, action, actor_id, text ? text : "{}", now_ms());
    if (e != WSMS_OK)
        log_error(LG, "cannot write %s for workspace %s", action, ws_id);
out:
    free(text);
    return e;
}

/* Adds k: v, or k: null when v is NULL. */
static bool add_str(cJSON *o, const char *k, const char *v)
{
    cJSON *i = v ? cJSON_CreateString(v) : cJSON_CreateNull();
    if (!i)
        return false;
    if (!cJSON_AddItemToObject(o, k, i)) {
        cJSON_Delete(i);
        return false;
    }
    return true;
}

/* One entry; details that are not a JSON object (written by hand, say)
 * come back as {} rather than failing the whole page. */
static cJSON *entry_json(const struct db_rows *rows, int r)
{
    static const char *const keys[] = {"id", "workspace_id", "action", "actor_id"};
    cJSON *o = cJSON_CreateObject();
    cJSON *d = NULL;
    if (!o)
        return NULL;
    for (int c = 0; c < 4; c++) {
        if (!add_str(o, keys[c], db_val(rows, r, c)))
            goto fail;
    }
    const char *text = db_val(rows, r, 4);
    d = text ? cJSON_Parse(text) : NULL;
    if (!cJSON_IsObject(d)) {
        cJSON_Delete(d);
        d = cJSON_CreateObject();
    }
    if (!d || !cJSON_AddItemToObject(o, "details", d))
        goto fail;
    d = NULL;
    if (!add_str(o, "timestamp", db_val(rows, r, 5)))
        goto fail;
    return o;
fail:
    cJSON_Delete(d);
    cJSON_Delete(o);
    return NULL;
}

wsms_err audit_list(struct arena *a, const char *ws_id, const char *action, long limit, long offset,
                    cJSON **out, long *total)
{
    static const char cols[] = "SELECT id, workspace_id, action, actor_id, details, timestamp "
                               "FROM pmassist_master.AuditLog ";
    long long pg[2];
    struct db_rows rows;
    cJSON *arr = NULL;
    wsms_err e;
    *out = NULL;
    *total = 0;
    const char *page = dialect_page_sql(db_type(), limit, offset, pg);
    if (action) {
        e = db_query(a, &rows,
                     "SELECT COUNT(*) FROM pmassist_master.AuditLog "
                     "WHERE workspace_id = ? AND action = ?",
                     "ss", ws_id, action);
    } else {
        e = db_query(a, &rows,
                     "SELECT COUNT(*) FROM pmassist_master.AuditLog WHERE workspace_id = ?", "s",
                     ws_id);
    }
    if (e != WSMS_OK)
        goto out;
    *total = (long)db_val_ll(&rows, 0, 0, 0);
    const char *sql =
        arena_printf(a, "%sWHERE workspace_id = ?%s ORDER BY timestamp DESC, id DESC%s", cols,
                     action ? " AND action = ?" : "", page);
    if (!sql) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    if (action)
        e = db_query(a, &rows, sql, "ssii", ws_id, action, pg[0], pg[1]);
    else
        e = db_query(a, &rows, sql, "sii", ws_id, pg[0], pg[1]);
    if (e != WSMS_OK)
        goto out;
    if (!(arr = cJSON_CreateArray())) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    for (int r = 0; r < rows.nrows; r++) {
        cJSON *item = entry_json(&rows, r);
        if (!item || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            e = E_INTERNAL_SERVER_ERROR;
            goto out;
        }
    }
    *out = arr;
    arr = NULL;
out:
    cJSON_Delete(arr);
    return e;
}
