#include "data/dialect.h"

#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *dialect_default_driver(enum db_type t, char *buf, size_t n)
{
    const char *lib = t == DB_POSTGRES    ? "psqlodbcw.so"
                      : t == DB_SQLSERVER ? "libtdsodbc.so"
                                          : "libsqlite3odbc.so";
    snprintf(buf, n, "%s/%s", ODBC_DRIVER_DIR, lib);
    return buf;
}

/* Appends "key=value;", brace-quoting the value (with '}' doubled) only
 * when it holds a character that would end or confuse the pair; psqlODBC
 * takes braces literally in numeric options. */
static int add_kv(char *buf, size_t n, size_t *off, const char *key, const char *val)
{
    bool quote =
        strpbrk(val, ";{}=") != NULL || (*val && (val[0] == ' ' || val[strlen(val) - 1] == ' '));
    int w = snprintf(buf + *off, n - *off, "%s=%s", key, quote ? "{" : "");
    if (w < 0 || (size_t)w >= n - *off)
        return -1;
    *off += (size_t)w;
    for (const char *p = val; *p; p++) {
        size_t need = quote && *p == '}' ? 2 : 1;
        if (*off + need + 3 > n)
            return -1;
        buf[(*off)++] = *p;
        if (quote && *p == '}')
            buf[(*off)++] = '}';
    }
    if (quote)
        buf[(*off)++] = '}';
    buf[(*off)++] = ';';
    buf[*off] = '\0';
    return 0;
}

int dialect_connstr(const struct config *cfg, char *buf, size_t n)
{
    char drv[512], port[16];
    size_t off = 0;
    if (*cfg->db_dsn) {
        int w = snprintf(buf, n, "%s", cfg->db_dsn);
        return w < 0 || (size_t)w >= n ? -1 : 0;
    }
    const char *driver =
        *cfg->db_driver ? cfg->db_driver : dialect_default_driver(cfg->db_type, drv, sizeof(drv));
    buf[0] = '\0';
    if (add_kv(buf, n, &off, "Driver", driver))
        return -1;
    snprintf(port, sizeof(port), "%ld", cfg->db_port);
    switch (cfg->db_type) {
    case DB_SQLITE:
        /* an in-memory main database; the master file is ATTACHed by
         * dialect_session_sql so every name is schema-qualified */
        if (add_kv(buf, n, &off, "Database", ":memory:") ||
            add_kv(buf, n, &off, "Timeout", "15000"))
            return -1;
        return 0;
    case DB_POSTGRES:
        if (add_kv(buf, n, &off, "Servername", cfg->db_server) ||
            add_kv(buf, n, &off, "Port", port) || add_kv(buf, n, &off, "Database", cfg->db_name) ||
            add_kv(buf, n, &off, "Username", cfg->db_user) ||
            add_kv(buf, n, &off, "Password", cfg->db_password) ||
            add_kv(buf, n, &off, "BoolsAsChar", "1") ||
            add_kv(buf, n, &off, "UseServerSidePrepare", "1") ||
            /* on an error the driver rolls the whole transaction back, as
             * SQL Server's XACT_ABORT does; the default (statement level)
             * sends a SAVEPOINT and a RELEASE round trip around every
             * statement of a transaction */
            add_kv(buf, n, &off, "Protocol", "7.4-1") ||
            /* Debian's odbcinst.ini turns psqlODBC's CommLog on, which
             * writes a psqlodbc_*.log per connection into the temp dir */
            add_kv(buf, n, &off, "CommLog", "0") || add_kv(buf, n, &off, "Debug", "0"))
            return -1;
        return 0;
    case DB_SQLSERVER:
        if (add_kv(buf, n, &off, "Server", cfg->db_server) || add_kv(buf, n, &off, "Port", port) ||
            add_kv(buf, n, &off, "Database", cfg->db_name) ||
            add_kv(buf, n, &off, "UID", cfg->db_user) ||
            add_kv(buf, n, &off, "PWD", cfg->db_password) ||
            add_kv(buf, n, &off, "TDS_Version", "7.4") ||
            add_kv(buf, n, &off, "ClientCharset", "UTF-8"))
            return -1;
        return 0;
    }
    return -1;
}

const char *const *dialect_session_sql(enum db_type t)
{
    static const char *const sqlite[] = {"ATTACH DATABASE ? AS pmassist_master",
                                         "PRAGMA pmassist_master.journal_mode=WAL",
                                         "PRAGMA pmassist_master.synchronous=NORMAL",
                                         "PRAGMA busy_timeout=15000",
                                         "PRAGMA pmassist_master.cache_size=-512",
                                         "PRAGMA foreign_keys=ON",
                                         NULL};
    /* generic plans: psqlODBC prepares every statement on the server, and
     * PostgreSQL would otherwise plan each execution anew as long as a
     * custom plan looks cheaper (most of the time of a one-statement read,
     * auth/roles.h) */
    static const char *const pg[] = {"SET TIME ZONE 'UTC'",
                                     "SET plan_cache_mode = force_generic_plan", NULL};
    /* XACT_ABORT: any run-time error rolls the whole transaction back */
    static const char *const mssql[] = {"SET XACT_ABORT ON", "SET ANSI_NULLS ON",
                                        "SET QUOTED_IDENTIFIER ON", NULL};
    return t == DB_SQLITE ? sqlite : t == DB_POSTGRES ? pg : mssql;
}

const char *dialect_page_sql(enum db_type t, long limit, long offset, long long args[2])
{
    if (t == DB_SQLITE) {
        args[0] = limit;
        args[1] = offset;
        return " LIMIT ? OFFSET ?";
    }
    args[0] = offset;
    args[1] = limit;
    return " OFFSET ? ROWS FETCH NEXT ? ROWS ONLY";
}

bool dialect_sql_transactions(enum db_type t)
{
    return t == DB_SQLITE;
}

const char *dialect_typed_null(enum db_type t, char type)
{
    bool ms = t == DB_SQLSERVER;
    switch (type) {
    case 'I':
        return "CAST(NULL AS BIGINT)";
    case 'B':
        return ms ? "CAST(NULL AS BIT)" : "CAST(NULL AS SMALLINT)";
    case 'G':
        return ms ? "CAST(NULL AS UNIQUEIDENTIFIER)" : "CAST(NULL AS VARCHAR(36))";
    case 'T':
        return ms ? "CAST(NULL AS DATETIME2(3))" : "CAST(NULL AS TIMESTAMP(3))";
    case 'X':
        return ms ? "CAST(NULL AS NVARCHAR(MAX))" : "CAST(NULL AS TEXT)";
    case 'S':
        return ms ? "CAST(NULL AS NVARCHAR(4000))" : "CAST(NULL AS VARCHAR(4000))";
    default:
        return NULL;
    }
}

bool dialect_schema_name_valid(const char *s)
{
    if (!s || strlen(s) != 35 || strncmp(s, "ws_", 3) != 0)
        return false;
    for (int i = 3; i < 35; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

int dialect_schema_name(const char *guid, char out[36])
{
    char hex[33];
    if (guid_hex32(guid, hex) != 0)
        return -1;
    snprintf(out, 36, "ws_%s", hex);
    return 0;
}

int dialect_ws_table(enum db_type t, const char *schema, const char *table, char *buf, size_t n)
{
    if (!dialect_schema_name_valid(schema))
        return -1;
    for (const char *p = table; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
            return -1;
    /* SQLite: one shared set for every workspace (dialect_ws_shared) */
    int w = t == DB_SQLITE ? snprintf(buf, n, "pmassist_master.%s__%s", DIALECT_WS_SHARED, table)
                           : snprintf(buf, n, "%s.%s", schema, table);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

const char *dialect_ws_shared(enum db_type t)
{
    return t == DB_SQLITE ? DIALECT_WS_SHARED : NULL;
}

const char *dialect_table_exists_sql(enum db_type t)
{
    if (t == DB_SQLITE)
        return "SELECT COUNT(*) FROM pmassist_master.sqlite_master WHERE type = 'table' AND "
               "? = 'pmassist_master' AND lower(name) = lower(?)";
    return "SELECT COUNT(*) FROM information_schema.tables WHERE lower(table_schema) = lower(?) "
           "AND lower(table_name) = lower(?)";
}

const char *dialect_schema_exists_sql(enum db_type t)
{
    if (t == DB_SQLITE)
        return "SELECT COUNT(*) FROM pmassist_master.sqlite_master WHERE type = 'table' AND "
               "name LIKE ? || '\\_\\_%' ESCAPE '\\'";
    return "SELECT COUNT(*) FROM information_schema.schemata WHERE lower(schema_name) = lower(?)";
}

const char *dialect_schema_dir(enum db_type t)
{
    return t == DB_SQLITE ? "schema/sqlite" : t == DB_POSTGRES ? "schema/postgres" : "schema/mssql";
}

static bool has(const char *msg, const char *needle)
{
    return msg && strcasestr(msg, needle) != NULL;
}

const char *dialect_like_escape(enum db_type t)
{
    return t == DB_SQLSERVER ? "" : " ESCAPE '!'";
}

int dialect_like_contains(enum db_type t, const char *q, char *out, size_t n)
{
    size_t o = 0;
    if (n < 3)
        return -1;
    out[o++] = '%';
    for (; *q; q++) {
        char c = (*q >= 'A' && *q <= 'Z') ? (char)(*q - 'A' + 'a') : *q;
        bool special = c == '%' || c == '_' || c == '[' || (t != DB_SQLSERVER && c == '!');
        if (o + (special ? 3 : 1) + 2 > n)
            return -1;
        if (special && t == DB_SQLSERVER) {
            out[o++] = '[';
            out[o++] = c;
            out[o++] = ']';
            continue;
        }
        if (special)
            out[o++] = '!';
        out[o++] = c;
    }
    out[o++] = '%';
    out[o] = '\0';
    return 0;
}

const char *const *dialect_errclass_names(size_t *n)
{
    static const char *const names[] = {"other", "conflict", "connection"};
    *n = sizeof(names) / sizeof(names[0]);
    return names;
}

enum db_errclass dialect_classify(enum db_type t, const char *sqlstate, long native,
                                  const char *msg)
{
    if (!sqlstate)
        sqlstate = "";
    if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "HYT00") == 0 ||
        strcmp(sqlstate, "HYT01") == 0 || strncmp(sqlstate, "57P0", 4) == 0)
        return DBE_CONNECTION;
    if (has(msg, "server closed the connection") || has(msg, "no connection to the server") ||
        has(msg, "could not connect") || has(msg, "connection refused") ||
        has(msg, "could not send data") || has(msg, "terminating connection") ||
        has(msg, "communication link failure") || has(msg, "unable to connect"))
        return DBE_CONNECTION;
    if (strncmp(sqlstate, "23", 2) == 0)
        return DBE_CONFLICT;
    if (t == DB_SQLSERVER && (native == 2627 || native == 2601 || native == 547))
        return DBE_CONFLICT;
    if (t == DB_SQLITE && (has(msg, "UNIQUE constraint") || has(msg, "constraint failed")))
        return DBE_CONFLICT;
    return DBE_OTHER;
}
