/* metrics: the pool's shared counters and worker states. Every worker maps
 * one file, $WSMS_RUN_DIR/wsms-metrics.bin, and owns one slot in it (claimed
 * by pid; a dead worker's slot is taken over with its counters, so totals
 * survive restarts). /metrics sums the slots, /status lists the live ones.
 * Without WSMS_RUN_DIR the map is private to the process. All writes are
 * relaxed atomics on the caller's own slot; readers may see a request in
 * flight counted or not.
 *
 * A low-level store: it knows nothing of routes or databases. The layers
 * above name their labels once at start (metrics_label_routes,
 * metrics_label_db_errors) and then count by index. */
#ifndef WSMS_METRICS_H
#define WSMS_METRICS_H

#include "core/err.h"

#include <stddef.h>

struct arena;

#define METRICS_MAX_ROUTES    96
#define METRICS_MAX_DB_ERRORS 3

/* Label tables, registered before the first metrics_render: names[i]
 * labels index i (the pointers are kept, so the strings must be static).
 * Indexes beyond the limits above are counted as unmatched / not kept. */
void metrics_label_routes(const char *const *names, size_t n);
void metrics_label_db_errors(const char *const *names, size_t n);

/* Maps the file and claims a slot; 0, or -1 (logged; metrics then stay
 * private to this process). */
int metrics_init(void);
void metrics_close(void);

/* Worker state for /status: stage NULL = idle. Strings are copied. */
void metrics_state(const char *route, const char *stage);
/* A finished request: route index as labelled (-1 unknown path). */
void metrics_request(int route_idx, int status, double ms);
/* A database error by class index as labelled. */
void metrics_db_error(int cls);
/* An integration call by provider name and its outcome code. */
void metrics_integration(const char *provider, wsms_err outcome);
/* JWKS fetches this process has made so far (absolute, from entra_stats). */
void metrics_jwks_fetches(long total);
/* A request refused 429 RATE_LIMITED (wsms_rate_limited_total). */
void metrics_rate_limited(void);

/* Prometheus text exposition (arena string). */
char *metrics_render(struct arena *a);
/* JSON text of the workers' states (arena string). */
char *metrics_status_json(struct arena *a);

#endif
