/* run_state: the one place that says which run transitions exist.
 *   PENDING -> RUNNING -> SUCCEEDED | FAILED | TIMED_OUT
 *   PENDING | RUNNING -> CANCELLED
 *   PENDING -> SKIPPED (a parent did not succeed)
 * Nothing else. The runs store applies a transition as one conditional
 * UPDATE ... WHERE status = <from>, so two actors racing cannot both win;
 * this table decides which <from> may be asked for at all. Owns nothing. */
#ifndef WSMS_RUN_STATE_H
#define WSMS_RUN_STATE_H

#include <stdbool.h>
#include <stdint.h>

enum run_state {
    RUN_PENDING = 0,
    RUN_RUNNING,
    RUN_SUCCEEDED,
    RUN_FAILED,
    RUN_TIMED_OUT,
    RUN_CANCELLED,
    RUN_SKIPPED,
    RUN_STATE__COUNT
};

/* "PENDING" etc.; "?" for a value out of range. */
const char *run_state_name(enum run_state s);
/* Exact upper-case name -> state; -1 when unknown. */
int run_state_parse(const char *name, enum run_state *out);
bool run_transition_allowed(enum run_state from, enum run_state to);
/* SUCCEEDED, FAILED, TIMED_OUT, CANCELLED, SKIPPED: no way out. */
bool run_state_final(enum run_state s);
/* A failed or timed-out attempt may be retried (a new run, attempt + 1). */
bool run_state_retryable(enum run_state s);
/* Seconds to wait before attempt `next_attempt` (2, 3, ...): 30 s doubled
 * per earlier retry, at most one hour. */
int64_t run_retry_delay_seconds(int next_attempt);

#endif
