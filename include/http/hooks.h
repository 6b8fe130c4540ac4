/* hooks: test-only fault points, active only when WSMS_TEST_HOOKS=true.
 * A request asks for them with headers:
 *   X-Test-Pause: <point>:<ms>   sleep at <point> (e.g. "handler:2000")
 *   X-Test-Fail: <point>         make <point> fail (e.g. "ws.schema")
 *   X-Test-Clock-Offset: <s>     hook_now_ms() runs <s> seconds ahead
 *                                (API key expiry without sleeping)
 * With hooks off both calls do nothing and cost a flag test. */
#ifndef WSMS_HOOKS_H
#define WSMS_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

struct request;

void hook_pause(const struct request *rq, const char *point);
bool hook_fail(const struct request *rq, const char *point);
/* now_ms(), moved by X-Test-Clock-Offset when hooks are on. */
int64_t hook_now_ms(const struct request *rq);

#endif
