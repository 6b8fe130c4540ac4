/* migrate: applies the numbered SQL files compiled into the binary
 * (schema/<dialect>/master/NNN_*.sql and schema/<dialect>/workspace/NNN_*.sql)
 * and records each in pmassist_master.SchemaVersion (component "master" or
 * the workspace schema name). Each file runs in one transaction. */
#ifndef WSMS_MIGRATE_H
#define WSMS_MIGRATE_H

#include "core/err.h"

#include <stdbool.h>

struct arena;

/* `wsmsd migrate`: master first, then every workspace schema (on SQLite
 * the shared workspace tables, then the conversion of a database made
 * before them: each workspace's own tables are brought to the latest
 * version, their rows copied into the shared tables and the tables
 * dropped, all in one transaction). Prints progress to stdout. Returns 0,
 * or 1 with the reason on stderr. Refuses a database newer than this
 * binary. */
int migrate_run(void);
/* SchemaVersion component of the shared workspace tables (SQLite). */
#define MIGRATE_WS_SHARED "workspace"

/* Creates a workspace schema with every workspace migration, inside the
 * caller's open transaction (no commit here). On SQLite, where every
 * workspace shares one set of tables (dialect_ws_table), it runs no DDL:
 * it only makes sure, once per process, that the shared set is at the
 * latest version. */
wsms_err migrate_create_workspace(const char *schema);
/* Highest master version this binary knows. */
int migrate_known_master(void);
/* Version recorded for the master schema (0 when SchemaVersion is absent). */
wsms_err migrate_current(struct arena *a, const char *component, long *version);

#endif
