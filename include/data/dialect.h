/* dialect: everything that differs between SQL Server, PostgreSQL and
 * SQLite, in one place (DESIGN.md "One DML, three databases"): the ODBC
 * connection string and default driver, what runs after connecting,
 * pagination, how a workspace table is named, transaction start, schema
 * file location and driver error classes. Static data only. */
#ifndef WSMS_DIALECT_H
#define WSMS_DIALECT_H

#include "core/config.h"

#include <stdbool.h>
#include <stddef.h>

enum db_errclass { DBE_OTHER = 0, DBE_CONFLICT, DBE_CONNECTION };

/* Debian's driver library for a database type (absolute path). */
const char *dialect_default_driver(enum db_type t, char *buf, size_t n);
/* Full ODBC connection string. Contains the password: never log it.
 * Returns 0, or -1 when it does not fit. */
int dialect_connstr(const struct config *cfg, char *buf, size_t n);
/* Statements to run once after connecting, NULL-terminated, with
 * "{{DB_PATH}}" standing for the SQLite data directory (bound as ?). */
const char *const *dialect_session_sql(enum db_type t);
/* " OFFSET ? ROWS FETCH NEXT ? ROWS ONLY" or " LIMIT ? OFFSET ?"; fills the
 * two values in the order the clause binds them. */
const char *dialect_page_sql(enum db_type t, long limit, long offset, long long args[2]);
/* True when transactions are SQL statements (SQLite BEGIN IMMEDIATE) rather
 * than ODBC autocommit off + SQLEndTran. */
bool dialect_sql_transactions(enum db_type t);
/* A NULL of a column type, for the typed header of the one-statement
 * reads (auth/roles.h) on PostgreSQL and SQL Server: 'I' bigint, 'B'
 * boolean (BIT / SMALLINT), 'G' GUID, 'T' timestamp, 'S' string, 'X' long
 * text. NULL for another letter. Static. */
const char *dialect_typed_null(enum db_type t, char type);
/* ^ws_[0-9a-f]{32}$ */
bool dialect_schema_name_valid(const char *s);
/* "ws_" + the 32 hex digits of a GUID; out holds 36 bytes. -1 if not a GUID. */
int dialect_schema_name(const char *guid, char out[36]);
/* Qualified name of a workspace table: "ws_x.table" on SQL Server and
 * PostgreSQL; on SQLite every workspace shares one set of tables keyed by
 * workspace_id, "pmassist_master.ws__table" whatever the (logical) schema
 * ws_x. -1 when the schema name is invalid or buf is too small. Every
 * statement on a workspace table filters by (or inserts) workspace_id. */
int dialect_ws_table(enum db_type t, const char *schema, const char *table, char *buf, size_t n);
/* What stands for {{schema}} when the workspace migration files are applied
 * once to the shared set ("ws" on SQLite: pmassist_master.ws__<table>);
 * NULL on the databases with a schema per workspace. Static. */
#define DIALECT_WS_SHARED "ws"
const char *dialect_ws_shared(enum db_type t);
/* Query counting tables named ? in schema ? (1 parameter pair). */
const char *dialect_table_exists_sql(enum db_type t);
/* Query counting schemas named ?. */
const char *dialect_schema_exists_sql(enum db_type t);
/* "schema/sqlserver" style directory inside the embedded files. */
const char *dialect_schema_dir(enum db_type t);
/* What follows "LIKE ?" for a pattern made by dialect_like_contains:
 * " ESCAPE '!'", or "" on SQL Server, whose patterns escape with brackets
 * ([%], [_], [[]): standard T-SQL, and Babelfish ignores ESCAPE. Static. */
const char *dialect_like_escape(enum db_type t);
/* The LIKE pattern "contains q" (ASCII lower-cased, LIKE characters
 * literal) into out[0..n); -1 when it does not fit (n >= 3 * strlen(q) + 3
 * always does). */
int dialect_like_contains(enum db_type t, const char *q, char *out, size_t n);
/* Labels of enum db_errclass by value ("other", "conflict", "connection"),
 * for the metrics; *n gets the count. Static. */
const char *const *dialect_errclass_names(size_t *n);
enum db_errclass dialect_classify(enum db_type t, const char *sqlstate, long native,
                                  const char *msg);

#endif
