#include "http/hooks.h"

#include "core/config.h"
#include "http/http.h"
#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void hook_pause(const struct request *rq, const char *point)
{
    if (!rq || !config_get()->test_hooks)
        return;
    const char *h = req_header(rq, "X-Test-Pause");
    size_t pl = strlen(point);
    if (!h || strncmp(h, point, pl) != 0 || h[pl] != ':')
        return;
    long ms = strtol(h + pl + 1, NULL, 10);
    if (ms <= 0 || ms > 600000)
        return;
    log_info("hooks", "test pause at %s for %ld ms", point, ms);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

bool hook_fail(const struct request *rq, const char *point)
{
    if (!rq || !config_get()->test_hooks)
        return false;
    const char *h = req_header(rq, "X-Test-Fail");
    if (!h || strcmp(h, point) != 0)
        return false;
    log_info("hooks", "test failure injected at %s", point);
    return true;
}

int64_t hook_now_ms(const struct request *rq)
{
    int64_t now = now_ms();
    if (!rq || !config_get()->test_hooks)
        return now;
    const char *h = req_header(rq, "X-Test-Clock-Offset");
    if (!h || !*h)
        return now;
    long long s = strtoll(h, NULL, 10);
    if (s < -3650LL * 86400 || s > 3650LL * 86400)
        return now;
    return now + (int64_t)s * 1000;
}
