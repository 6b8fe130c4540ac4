/* ratelimit: per-identity token buckets shared by every worker of the pool.
 * Every worker maps one file, $WSMS_RUN_DIR/wsms-ratelimit.bin: a header
 * with a process-shared robust mutex (a worker killed while holding it
 * does not wedge the pool) and a fixed table of RATELIMIT_MAX_KEYS buckets,
 * keyed by the SHA-256 of the identity string (the identity itself is not
 * stored). Without WSMS_RUN_DIR the table is private to the process (each
 * worker limits alone). When the table is full the least recently used
 * bucket in the probe window is reused (that identity starts again with a
 * full bucket).
 *
 * Buckets hold RATE_LIMIT_BURST tokens and refill at
 * RATE_LIMIT_PER_MINUTE per minute, in integer units (one token = 60000
 * units, refill = per_minute units per millisecond), so arithmetic is
 * exact. A low-level store: it knows nothing of requests or users; the
 * caller names the identity ("u:<oid>", "k:<key id>"). Owns its mapping;
 * ratelimit_close() releases it. */
#ifndef WSMS_RATELIMIT_H
#define WSMS_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_MAX_KEYS 4096 /* table ceiling */
#define RATELIMIT_PROBE    16   /* buckets looked at per identity */

/* Maps the file (when WSMS_RUN_DIR is set) with the configured limits;
 * 0, or -1 (logged; the table is then private to this process). */
int ratelimit_init(void);
void ratelimit_close(void);
/* Limits in use (for tests and the unit tests' own tables): per_minute 0
 * turns limiting off; burst < 1 means per_minute. */
void ratelimit_configure(long per_minute, long burst);
bool ratelimit_enabled(void);

/* Takes one token for identity at now_ms (milliseconds, any monotonic
 * origin shared by the pool, e.g. CLOCK_REALTIME). true = allowed; false =
 * over the limit, with *retry_after_s (>= 1) the seconds until one token
 * is back. Always true when limiting is off. */
bool ratelimit_take(const char *identity, int64_t now_ms, long *retry_after_s);

#endif
