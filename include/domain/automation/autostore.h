/* autostore: the small pieces the automation stores (agents, jobs) share:
 * a workspace table's qualified name, the workspace row's lock, ending a
 * transaction by result, JSON members that may be null, and the list
 * total of a page read with COUNT(*) OVER (). Owns nothing. */
#ifndef WSMS_AUTOSTORE_H
#define WSMS_AUTOSTORE_H

#include "core/err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct arena;

#define AUTO_TABLE_MAX 128

/* The qualified name of table in workspace ws_id's schema (dialect_ws_table
 * of the validated schema name). E_INTERNAL_SERVER_ERROR when ws_id is no
 * GUID. */
wsms_err auto_table(const char *ws_id, const char *table, char out[AUTO_TABLE_MAX]);
/* Same from a validated schema name (the scheduler's rows carry it). */
wsms_err auto_table_of_schema(const char *schema, const char *table, char out[AUTO_TABLE_MAX]);
/* Takes the workspace row's lock in the open transaction (serialises the
 * changes of one workspace's agents and jobs on all three databases);
 * E_WORKSPACE_NOT_FOUND when it is not active. */
wsms_err auto_lock_ws(const char *ws_id);
/* Commits on WSMS_OK, else rolls back; returns the result. No-op outside
 * a transaction. */
wsms_err auto_end_tx(wsms_err e);
/* k: v, or k: null when v is NULL. */
bool auto_add_str(cJSON *o, const char *k, const char *v);
/* k: true/false from a database boolean ("1"/"0"). */
bool auto_add_bool(cJSON *o, const char *k, const char *v);
/* The total of a list page: the COUNT(*) OVER () value of its first row,
 * or, for an empty page past offset 0, one COUNT(*) of count_sql ("s":
 * ws_id). */
wsms_err auto_page_total(struct arena *a, const char *first_total, long offset,
                         const char *count_sql, const char *ws_id, long *total);

#endif
