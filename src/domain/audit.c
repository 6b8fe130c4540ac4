#include "domain/audit.h"

#include "auth/roles.h"

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
static cJSON *entry_json(const struct db_rows *rows, int r, int c0)
{
    static const char *const keys[] = {"id", "workspace_id", "action", "actor_id"};
    cJSON *o = cJSON_CreateObject();
    cJSON *d = NULL;
    if (!o)
        return NULL;
    for (int c = 0; c < 4; c++) {
        if (!add_str(o, keys[c], db_val(rows, r, c0 + c)))
            goto fail;
    }
    const char *text = db_val(rows, r, c0 + 4);
    d = text ? cJSON_Parse(text) : NULL;
    if (!cJSON_IsObject(d)) {
        cJSON_Delete(d);
        d = cJSON_CreateObject();
    }
    if (!d || !cJSON_AddItemToObject(o, "details", d))
        goto fail;
    d = NULL;
    if (!add_str(o, "timestamp", db_val(rows, r, c0 + 5)))
        goto fail;
    return o;
fail:
    cJSON_Delete(d);
    cJSON_Delete(o);
    return NULL;
}

#define AUDIT_PLAIN "id, workspace_id, action, actor_id, details, timestamp"
#define AUDIT_NCOLS 6

wsms_err audit_list(struct request *rq, const char *action, long limit, long offset, cJSON **out,
                    long *total)
{
    struct arena *a = rq->arena;
    struct db_rows rows;
    struct roles_read q;
    cJSON *arr = NULL;
    *out = NULL;
    *total = 0;
    const char *typed = roles_read_cols(a, "ta", AUDIT_PLAIN);
    if (!typed)
        return E_INTERNAL_SERVER_ERROR;
    /* one statement: the caller's role, the page and its total */
    wsms_err e =
        roles_read_start(&q, rq, AUDIT_NCOLS, "GGSSXT", typed, "pmassist_master.AuditLog ta");
    if (e != WSMS_OK)
        goto out;
    db_param_s(&q.params, rq->workspace_id);
    db_param_s(&q.params, action ? action : "");
    db_param_s(&q.params, action ? action : "");
    e = roles_read_page(&q, 'a', 0, AUDIT_NCOLS, AUDIT_PLAIN,
                        AUDIT_PLAIN " FROM pmassist_master.AuditLog WHERE workspace_id = ? AND "
                                    "(? = '' OR action = ?)",
                        "timestamp DESC, id DESC", limit, offset);
    if (e == WSMS_OK)
        e = roles_read_run(&q, &rows);
    if (e != WSMS_OK)
        goto out;
    *total = roles_read_total(&rows, 'a');
    if (!(arr = cJSON_CreateArray())) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    for (int r = 0; r < rows.nrows; r++) {
        if (roles_read_kind(&rows, r) != 'a' || !roles_read_in_page(&rows, r, limit, offset))
            continue;
        cJSON *item = entry_json(&rows, r, ROLES_C_DATA);
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
