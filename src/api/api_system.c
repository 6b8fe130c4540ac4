#include "api/api_system.h"

#include "core/arena.h"
#include "core/config.h"
#include "data/db.h"
#include "data/dialect.h"
#include "core/embedded.h"
#include "data/migrate.h"

#include <stdio.h>
#include <string.h>

wsms_err api_health(struct request *rq, struct response *rs)
{
    static const char body[] = "{\"status\":\"healthy\"}";
    (void)rq;
    rs->status = 200;
    rs->body = body;
    rs->body_len = sizeof(body) - 1;
    rs->content_type = "application/json";
    return WSMS_OK;
}

static void db_names(struct request *rq, const char **name, const char **server)
{
    const struct config *cfg = config_get();
    if (cfg->db_type == DB_SQLITE) {
        *name = "pmassist_master";
        *server = arena_printf(rq->arena, "%s/pmassist_master.db", cfg->db_path);
    } else if (*cfg->db_dsn) {
        *name = cfg->db_name;
        *server = "(DB_DSN)";
    } else {
        *name = cfg->db_name;
        *server = arena_printf(rq->arena, "%s:%ld", cfg->db_server, cfg->db_port);
    }
}

wsms_err api_db_status(struct request *rq, struct response *rs)
{
    static const char *const tables[] = {"Workspace", "WorkspaceMember", "AuditLog"};
    const struct config *cfg = config_get();
    const char *name, *server;
    long version = 0;
    cJSON *j = cJSON_CreateObject(), *t = NULL;
    db_names(rq, &name, &server);
    if (!j)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    wsms_err e = migrate_current(rq->arena, "master", &version);
    if (e == WSMS_OK) {
        t = cJSON_AddObjectToObject(j, "tables");
        for (size_t i = 0; t && i < sizeof(tables) / sizeof(*tables) && e == WSMS_OK; i++) {
            struct db_rows rows;
            e = db_query(rq->arena, &rows, dialect_table_exists_sql(cfg->db_type), "ss",
                         "pmassist_master", tables[i]);
            if (e == WSMS_OK && !cJSON_AddBoolToObject(t, tables[i], db_val_ll(&rows, 0, 0, 0) > 0))
                e = E_INTERNAL_SERVER_ERROR;
        }
        if (!t)
            e = E_INTERNAL_SERVER_ERROR;
    }
    int status = 200;
    if (e == WSMS_OK) {
        cJSON_AddStringToObject(j, "status", "connected");
    } else {
        /* the body says which part failed; the driver's words stay in the log */
        cJSON_DeleteItemFromObject(j, "tables");
        status = e == E_DATABASE_CONNECTION_ERROR ? 503 : 500;
        cJSON_AddStringToObject(j, "status", "error");
        cJSON_AddStringToObject(j, "error_code", err_code(e));
        cJSON_AddStringToObject(j, "message",
                                status == 503 ? "The database cannot be reached"
                                              : "The database status query failed");
    }
    cJSON_AddStringToObject(j, "database_type", config_db_type_name(cfg->db_type));
    cJSON_AddStringToObject(j, "database_name", name ? name : "");
    cJSON_AddStringToObject(j, "server", server ? server : "");
    if (e == WSMS_OK) {
        cJSON_AddNumberToObject(j, "schema_version", (double)version);
        cJSON_AddNumberToObject(j, "schema_version_expected", migrate_known_master());
    }
    return resp_json(rq, rs, status, j);
}

wsms_err api_db_init(struct request *rq, struct response *rs)
{
    const struct config *cfg = config_get();
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddStringToObject(j, "status", "info") ||
        !cJSON_AddStringToObject(j, "database_type", config_db_type_name(cfg->db_type)) ||
        !cJSON_AddStringToObject(
            j, "instructions",
            "Schema changes are an operator action. Run `wsmsd migrate` on a host with the "
            "service's configuration (same environment or .env file; under systemd: "
            "`systemctl start wsms-migrate.service`). It creates or upgrades the "
            "pmassist_master schema and every workspace schema, is safe to run twice, and "
            "refuses a database newer than itself. This endpoint changes nothing.")) {
        cJSON_Delete(j);
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    }
    return resp_json(rq, rs, 200, j);
}

wsms_err api_openapi(struct request *rq, struct response *rs)
{
    size_t len;
    const char *doc = embedded_get("src/openapi.json", &len);
    (void)rq;
    if (!doc)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    rs->status = 200;
    rs->body = doc;
    rs->body_len = len;
    rs->content_type = "application/json";
    return WSMS_OK;
}
