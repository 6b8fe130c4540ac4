#include "domain/automation/run_state.h"

#include <string.h>

static const char *const names[RUN_STATE__COUNT] = {
    "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "CANCELLED", "SKIPPED",
};

/* allowed[from] is the set of states reachable in one step (bit per state) */
#define B(s) (1u << (s))
static const unsigned allowed[RUN_STATE__COUNT] = {
    [RUN_PENDING] = B(RUN_RUNNING) | B(RUN_CANCELLED) | B(RUN_SKIPPED),
    [RUN_RUNNING] = B(RUN_SUCCEEDED) | B(RUN_FAILED) | B(RUN_TIMED_OUT) | B(RUN_CANCELLED),
};

const char *run_state_name(enum run_state s)
{
    return (unsigned)s < RUN_STATE__COUNT ? names[s] : "?";
}

int run_state_parse(const char *name, enum run_state *out)
{
    for (int i = 0; name && i < RUN_STATE__COUNT; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum run_state)i;
            return 0;
        }
    return -1;
}

bool run_transition_allowed(enum run_state from, enum run_state to)
{
    return (unsigned)from < RUN_STATE__COUNT && (unsigned)to < RUN_STATE__COUNT &&
           (allowed[from] & B(to)) != 0;
}

bool run_state_final(enum run_state s)
{
    return (unsigned)s < RUN_STATE__COUNT && allowed[s] == 0;
}

bool run_state_retryable(enum run_state s)
{
    return s == RUN_FAILED || s == RUN_TIMED_OUT;
}

int64_t run_retry_delay_seconds(int next_attempt)
{
    int64_t d = 30;
    for (int i = 2; i < next_attempt && d < 3600; i++)
        d *= 2;
    return d > 3600 ? 3600 : d;
}
