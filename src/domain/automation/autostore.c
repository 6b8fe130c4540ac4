#include "domain/automation/autostore.h"

#include "data/db.h"
#include "data/dialect.h"

#include <stdlib.h>
#include <string.h>

wsms_err auto_table(const char *ws_id, const char *table, char out[AUTO_TABLE_MAX])
{
    char schema[36];
    if (!ws_id || dialect_schema_name(ws_id, schema) != 0)
        return E_INTERNAL_SERVER_ERROR;
    return auto_table_of_schema(schema, table, out);
}

wsms_err auto_table_of_schema(const char *schema, const char *table, char out[AUTO_TABLE_MAX])
{
    if (!schema || !dialect_schema_name_valid(schema) ||
        dialect_ws_table(db_type(), schema, table, out, AUTO_TABLE_MAX) != 0)
        return E_INTERNAL_SERVER_ERROR;
    return WSMS_OK;
}

wsms_err auto_lock_ws(const char *ws_id)
{
    long n = 0;
    wsms_err e = db_exec(&n,
                         "UPDATE pmassist_master.Workspace SET is_active = is_active "
                         "WHERE id = ? AND is_active = 1",
                         "s", ws_id);
    if (e == WSMS_OK && n == 0)
        e = E_WORKSPACE_NOT_FOUND;
    return e;
}

wsms_err auto_end_tx(wsms_err e)
{
    if (!db_in_transaction())
        return e;
    if (e == WSMS_OK)
        return db_commit();
    db_rollback();
    return e;
}

bool auto_add_str(cJSON *o, const char *k, const char *v)
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

bool auto_add_bool(cJSON *o, const char *k, const char *v)
{
    return cJSON_AddBoolToObject(o, k, v && strcmp(v, "0") != 0) != NULL;
}

wsms_err auto_page_total(struct arena *a, const char *first_total, long offset,
                         const char *count_sql, const char *ws_id, long *total)
{
    struct db_rows rows;
    *total = 0;
    if (first_total) {
        *total = strtol(first_total, NULL, 10);
        return WSMS_OK;
    }
    if (offset == 0)
        return WSMS_OK;
    if (!count_sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(a, &rows, count_sql, "s", ws_id);
    if (e == WSMS_OK)
        *total = (long)db_val_ll(&rows, 0, 0, 0);
    return e;
}
