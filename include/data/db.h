/* db: the process's one ODBC connection (opened lazily, reopened after a
 * connection-class error), a cache of prepared statements (each with its
 * parameter buffers, owned by the cache and bound once: drivers execute
 * the statement by handle while its bindings stay put), transactions,
 * and typed parameter binding. Every value travels as a bound `?`
 * parameter; SQL text is static or built by services from validated
 * identifiers. Driver messages go to the log, never to the client.
 * Result rows are copied into the caller's arena as UTF-8 strings
 * (timestamps as ISO 8601 "...Z", GUIDs lower-case, booleans "1"/"0"). */
#ifndef WSMS_DB_H
#define WSMS_DB_H

#include "core/config.h"
#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

struct arena;

struct db_rows {
    int nrows, ncols;
    const char **names; /* column labels */
    const char **vals;  /* nrows * ncols, NULL for SQL NULL */
};

/* Parameter types for the `types` string of db_exec/db_query, one letter
 * per `?`, in order:
 *   s  const char *   (NULL binds SQL NULL), sent as SQL_WVARCHAR
 *   i  long long
 *   b  int            (boolean 0/1)
 *   t  int64_t        UTC milliseconds since the epoch, as a timestamp */

/* Runs a statement that returns no rows. *affected (may be NULL) gets the
 * row count. Errors: E_CONFLICT (unique/constraint violation),
 * E_DATABASE_CONNECTION_ERROR, E_DB_QUERY_FAILED. */
wsms_err db_exec(long *affected, const char *sql, const char *types, ...);
/* Runs a query and copies every row into the arena. */
wsms_err db_query(struct arena *a, struct db_rows *out, const char *sql, const char *types, ...);
/* Parameters collected piece by piece, for statements composed of
 * fragments (auth/roles.h "one-statement reads"): the letters of `types`.
 * Strings are borrowed until the statement ran. More than DB_MAX_PARAMS
 * sets overflow, and the statement then fails with E_INTERNAL_SERVER_ERROR. */
#define DB_MAX_PARAMS 48
struct db_param {
    char type;
    const char *s;
    long long i;
    int64_t t;
};
struct db_params {
    int n;
    bool overflow;
    struct db_param v[DB_MAX_PARAMS];
};
void db_param_s(struct db_params *p, const char *s);
void db_param_i(struct db_params *p, long long i);
void db_param_t(struct db_params *p, int64_t t);
/* db_exec and db_query with a parameter list. */
wsms_err db_exec_params(long *affected, const char *sql, const struct db_params *p);
wsms_err db_query_params(struct arena *a, struct db_rows *out, const char *sql,
                         const struct db_params *p);
/* Runs SQL text with no parameters and no result (DDL). Not cached. */
wsms_err db_exec_direct(const char *sql);

/* Transactions. db_begin opens one; db_commit/db_rollback end it. After a
 * failed statement the caller must db_rollback before anything else; a
 * connection whose rollback fails is closed. On SQLite a transaction also
 * holds the pool's writer flock (DB_PATH/pmassist_master.db.wlock) from
 * db_begin to its end, so waiting writers block in the kernel. */
wsms_err db_begin(void);
wsms_err db_commit(void);
void db_rollback(void);
bool db_in_transaction(void);

/* Opens the connection now if needed. */
wsms_err db_connect(void);
void db_close(void);
enum db_type db_type(void);
/* Server name, database name and DBMS version as the driver reports them
 * (copied into the arena); never the password or connection string. */
wsms_err db_info(struct arena *a, const char **dbms, const char **dbms_ver);

/* Value of row r, column c (NULL for SQL NULL or out of range). */
const char *db_val(const struct db_rows *rows, int r, int c);
long long db_val_ll(const struct db_rows *rows, int r, int c, long long dflt);
bool db_val_bool(const struct db_rows *rows, int r, int c);

/* Statements executed by this process (X-DB-Statements with the test
 * hooks on): every SQL statement, and a transaction's begin and its end
 * one each on every database (SQLite BEGIN/COMMIT statements, ODBC
 * autocommit off and SQLEndTran elsewhere). */
long db_statement_count(void);

#endif
