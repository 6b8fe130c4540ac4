#include "core/metrics.h"

#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#define LG         "metrics"
#define MAX_SLOTS  128
#define MAX_ROUTES METRICS_MAX_ROUTES
#define NBUCKETS   11
#define NPROV      4
#define NOUT       5
#define MAGIC      0x57534d53u /* "WSMS" */
#define VERSION    3u

static const double bucket_ms[NBUCKETS - 1] = {1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000};
static const char *const prov_names[NPROV] = {"jira", "ado", "snow", "sharepoint"};
static const char *const out_names[NOUT] = {"ok", "not_configured", "network_error", "timeout",
                                            "upstream_error"};

/* Labels from the layers above (metrics_label_*); static strings. */
static const char *const *route_names;
static size_t nroute_names;
static const char *const *dberr_names;
static size_t ndberr_names;

struct route_stats {
    uint64_t by_class[5]; /* 1xx..5xx */
    uint64_t buckets[NBUCKETS];
    uint64_t sum_us;
};

struct slot {
    int32_t pid;
    int32_t pad;
    int64_t started_ms;
    int64_t since_ms;
    uint64_t served;
    uint64_t starts;
    char route[48];
    char stage[48];
    struct route_stats routes[MAX_ROUTES + 1]; /* last: unknown paths */
    uint64_t db_errors[METRICS_MAX_DB_ERRORS];
    uint64_t integ[NPROV][NOUT];
    uint64_t jwks_fetches;
    uint64_t rate_limited;
};

struct table {
    uint32_t magic, version;
    uint32_t nslots, pad;
    struct slot slots[MAX_SLOTS];
};

static struct table *tab;
static struct slot *me;
static struct slot private_slot;

static void add(uint64_t *p, uint64_t v)
{
    __atomic_add_fetch(p, v, __ATOMIC_RELAXED);
}

static int claim(void)
{
    int32_t pid = (int32_t)getpid();
    /* a slot this pid already had (after a re-exec) */
    for (int i = 0; i < MAX_SLOTS; i++)
        if (__atomic_load_n(&tab->slots[i].pid, __ATOMIC_ACQUIRE) == pid) {
            me = &tab->slots[i];
            return 0;
        }
    for (int i = 0; i < MAX_SLOTS; i++) {
        int32_t cur = __atomic_load_n(&tab->slots[i].pid, __ATOMIC_ACQUIRE);
        if (cur != 0 && (kill(cur, 0) == 0 || errno != ESRCH))
            continue;
        if (__atomic_compare_exchange_n(&tab->slots[i].pid, &cur, pid, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            me = &tab->slots[i];
            return 0;
        }
    }
    return -1;
}

int metrics_init(void)
{
    const struct config *cfg = config_get();
    char path[4096];
    int fd = -1, rc = -1;
    me = &private_slot;
    if (!*cfg->run_dir) {
        log_info(LG, "WSMS_RUN_DIR not set: /status and /metrics show this worker only");
        goto done;
    }
    int w = snprintf(path, sizeof(path), "%s/wsms-metrics.bin", cfg->run_dir);
    if (w < 0 || (size_t)w >= sizeof(path))
        goto fail;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0 || flock(fd, LOCK_EX) != 0)
        goto fail;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size != (off_t)sizeof(struct table) && ftruncate(fd, 0) == 0)
        size = 0;
    if (size == 0 && ftruncate(fd, (off_t)sizeof(struct table)) != 0)
        goto fail;
    void *m = mmap(NULL, sizeof(struct table), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        goto fail;
    tab = m;
    if (tab->magic != MAGIC || tab->version != VERSION) {
        memset(tab, 0, sizeof(*tab));
        tab->magic = MAGIC;
        tab->version = VERSION;
        tab->nslots = MAX_SLOTS;
    }
    if (claim() != 0) {
        log_warn(LG, "all %d metrics slots are taken; this worker keeps private metrics",
                 MAX_SLOTS);
        munmap(tab, sizeof(*tab));
        tab = NULL;
        me = &private_slot;
        goto unlock;
    }
    rc = 0;
    goto unlock;
fail:
    log_warn(LG, "cannot use %s/wsms-metrics.bin (%s); metrics stay per worker", cfg->run_dir,
             strerror(errno));
unlock:
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
done:
    me->pid = (int32_t)getpid();
    me->started_ms = now_ms();
    me->since_ms = me->started_ms;
    add(&me->starts, 1);
    snprintf(me->route, sizeof(me->route), "-");
    snprintf(me->stage, sizeof(me->stage), "idle");
    return rc;
}

void metrics_close(void)
{
    if (tab) {
        munmap(tab, sizeof(*tab));
        tab = NULL;
    }
    me = NULL;
}

void metrics_state(const char *route, const char *stage)
{
    if (!me)
        return;
    snprintf(me->route, sizeof(me->route), "%s", route ? route : "-");
    snprintf(me->stage, sizeof(me->stage), "%s", stage ? stage : "idle");
    me->since_ms = now_ms();
}

void metrics_request(int route_idx, int status, double ms)
{
    if (!me)
        return;
    if (route_idx < 0 || route_idx >= MAX_ROUTES)
        route_idx = MAX_ROUTES;
    struct route_stats *r = &me->routes[route_idx];
    int cls = status / 100 - 1;
    if (cls < 0 || cls > 4)
        cls = 4;
    add(&r->by_class[cls], 1);
    int b = 0;
    while (b < NBUCKETS - 1 && ms > bucket_ms[b])
        b++;
    add(&r->buckets[b], 1);
    add(&r->sum_us, (uint64_t)(ms * 1000.0));
    add(&me->served, 1);
}

void metrics_label_routes(const char *const *names, size_t n)
{
    route_names = names;
    nroute_names = n > MAX_ROUTES ? MAX_ROUTES : n;
}

void metrics_label_db_errors(const char *const *names, size_t n)
{
    dberr_names = names;
    ndberr_names = n > METRICS_MAX_DB_ERRORS ? METRICS_MAX_DB_ERRORS : n;
}

void metrics_db_error(int cls)
{
    if (me && cls >= 0 && cls < METRICS_MAX_DB_ERRORS)
        add(&me->db_errors[cls], 1);
}

void metrics_integration(const char *provider, wsms_err outcome)
{
    if (!me)
        return;
    int p = -1;
    for (int i = 0; i < NPROV; i++)
        if (strcmp(provider, prov_names[i]) == 0)
            p = i;
    if (p < 0)
        return;
    int o = outcome == WSMS_OK                        ? 0
            : outcome == E_INTEGRATION_NOT_CONFIGURED ? 1
            : outcome == E_NETWORK_ERROR              ? 2
            : outcome == E_REQUEST_TIMEOUT            ? 3
                                                      : 4;
    add(&me->integ[p][o], 1);
}

void metrics_jwks_fetches(long total)
{
    if (me && total >= 0)
        __atomic_store_n(&me->jwks_fetches, (uint64_t)total, __ATOMIC_RELAXED);
}

void metrics_rate_limited(void)
{
    if (me)
        add(&me->rate_limited, 1);
}

static int nslots(struct slot **base)
{
    if (tab) {
        *base = tab->slots;
        return MAX_SLOTS;
    }
    *base = &private_slot;
    return 1;
}

static bool alive(const struct slot *s)
{
    return s->pid > 0 && (kill(s->pid, 0) == 0 || errno != ESRCH);
}

/* Appends to a growable malloc'd buffer. -1 on failure. */
struct sbuf {
    char *p;
    size_t n, cap;
};

static int sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sb_printf(struct sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0)
            return -1;
        if (b->p && (size_t)w < b->cap - b->n) {
            b->n += (size_t)w;
            return 0;
        }
        size_t ncap = (b->cap ? b->cap * 2 : 16384) + (size_t)w;
        if (ncap > 8u * 1024 * 1024)
            return -1;
        char *np = realloc(b->p, ncap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = ncap;
    }
}

char *metrics_render(struct arena *a)
{
    struct slot *s;
    int n = nslots(&s);
    size_t nroutes = nroute_names;
    struct sbuf b = {0};
    char *out = NULL;
    int ok = 1;
    static const char *const cls[5] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    ok &= sb_printf(&b, "# HELP wsms_requests_total Requests by route and status class.\n"
                        "# TYPE wsms_requests_total counter\n") == 0;
    for (size_t r = 0; r <= nroutes && ok; r++) {
        const char *name = r < nroutes ? route_names[r] : "unmatched";
        size_t idx = r < nroutes ? r : MAX_ROUTES;
        for (int c = 0; c < 5 && ok; c++) {
            uint64_t v = 0;
            for (int i = 0; i < n; i++)
                v += s[i].routes[idx].by_class[c];
            if (v)
                ok &= sb_printf(&b, "wsms_requests_total{route=\"%s\",class=\"%s\"} %llu\n", name,
                                cls[c], (unsigned long long)v) == 0;
        }
    }
    ok &= sb_printf(&b, "# HELP wsms_request_duration_seconds Request latency by route.\n"
                        "# TYPE wsms_request_duration_seconds histogram\n") == 0;
    for (size_t r = 0; r <= nroutes && ok; r++) {
        const char *name = r < nroutes ? route_names[r] : "unmatched";
        size_t idx = r < nroutes ? r : MAX_ROUTES;
        uint64_t cum = 0, sum = 0;
        for (int i = 0; i < n; i++)
            sum += s[i].routes[idx].sum_us;
        uint64_t total = 0;
        for (int k = 0; k < NBUCKETS; k++)
            for (int i = 0; i < n; i++)
                total += s[i].routes[idx].buckets[k];
        if (!total)
            continue;
        for (int k = 0; k < NBUCKETS && ok; k++) {
            for (int i = 0; i < n; i++)
                cum += s[i].routes[idx].buckets[k];
            if (k < NBUCKETS - 1)
                ok &= sb_printf(&b,
                                "wsms_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                                "%llu\n",
                                name, bucket_ms[k] / 1000.0, (unsigned long long)cum) == 0;
            else
                ok &= sb_printf(&b,
                                "wsms_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                                "%llu\n",
                                name, (unsigned long long)cum) == 0;
        }
        ok &= sb_printf(&b, "wsms_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
                        (double)sum / 1e6) == 0;
        ok &= sb_printf(&b, "wsms_request_duration_seconds_count{route=\"%s\"} %llu\n", name,
                        (unsigned long long)total) == 0;
    }
    ok &= sb_printf(&b, "# HELP wsms_db_errors_total Database errors by class.\n"
                        "# TYPE wsms_db_errors_total counter\n") == 0;
    for (size_t c = 0; c < ndberr_names && ok; c++) {
        uint64_t v = 0;
        for (int i = 0; i < n; i++)
            v += s[i].db_errors[c];
        ok &= sb_printf(&b, "wsms_db_errors_total{class=\"%s\"} %llu\n", dberr_names[c],
                        (unsigned long long)v) == 0;
    }
    ok &= sb_printf(&b, "# HELP wsms_integration_calls_total Integration calls by provider "
                        "and outcome.\n# TYPE wsms_integration_calls_total counter\n") == 0;
    for (int p = 0; p < NPROV && ok; p++)
        for (int o = 0; o < NOUT && ok; o++) {
            uint64_t v = 0;
            for (int i = 0; i < n; i++)
                v += s[i].integ[p][o];
            ok &=
                sb_printf(&b, "wsms_integration_calls_total{provider=\"%s\",outcome=\"%s\"} %llu\n",
                          prov_names[p], out_names[o], (unsigned long long)v) == 0;
        }
    uint64_t jwks = 0, starts = 0, limited = 0;
    int live = 0, busy = 0;
    for (int i = 0; i < n; i++) {
        jwks += s[i].jwks_fetches;
        limited += s[i].rate_limited;
        starts += s[i].starts;
        if (alive(&s[i])) {
            live++;
            busy += strcmp(s[i].stage, "idle") != 0;
        }
    }
    ok &= sb_printf(&b,
                    "# HELP wsms_jwks_refreshes_total JWKS documents fetched.\n"
                    "# TYPE wsms_jwks_refreshes_total counter\nwsms_jwks_refreshes_total %llu\n"
                    "# HELP wsms_worker_starts_total Worker (re)starts, recycling included.\n"
                    "# TYPE wsms_worker_starts_total counter\nwsms_worker_starts_total %llu\n"
                    "# HELP wsms_workers Live workers by state.\n# TYPE wsms_workers gauge\n"
                    "wsms_workers{state=\"idle\"} %d\nwsms_workers{state=\"busy\"} %d\n",
                    (unsigned long long)jwks, (unsigned long long)starts, live - busy, busy) == 0;
    ok &= sb_printf(&b,
                    "# HELP wsms_rate_limited_total Requests refused 429 RATE_LIMITED.\n"
                    "# TYPE wsms_rate_limited_total counter\nwsms_rate_limited_total %llu\n",
                    (unsigned long long)limited) == 0;
    if (ok)
        out = arena_strndup(a, b.p, b.n);
    free(b.p);
    return out;
}

char *metrics_status_json(struct arena *a)
{
    struct slot *s;
    int n = nslots(&s);
    char *out = NULL, *txt = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = root ? cJSON_AddArrayToObject(root, "workers") : NULL;
    if (!arr)
        goto out;
    int64_t now = now_ms();
    for (int i = 0; i < n; i++) {
        if (!alive(&s[i]))
            continue;
        char started[25], since[25];
        iso8601_ms(s[i].started_ms, started);
        iso8601_ms(s[i].since_ms, since);
        bool idle = strcmp(s[i].stage, "idle") == 0;
        cJSON *w = cJSON_CreateObject();
        if (!w || !cJSON_AddItemToArray(arr, w) || !cJSON_AddNumberToObject(w, "pid", s[i].pid) ||
            !cJSON_AddStringToObject(w, "state", idle ? "idle" : "handling") ||
            !cJSON_AddStringToObject(w, "route", idle ? "" : s[i].route) ||
            !cJSON_AddStringToObject(w, "stage", s[i].stage) ||
            !cJSON_AddStringToObject(w, "since", since) ||
            !cJSON_AddNumberToObject(w, "seconds_in_state", (double)(now - s[i].since_ms) / 1e3) ||
            !cJSON_AddNumberToObject(w, "requests_served", (double)s[i].served) ||
            !cJSON_AddStringToObject(w, "last_restart", started) ||
            !cJSON_AddNumberToObject(w, "starts", (double)s[i].starts))
            goto out;
    }
    if (!cJSON_AddNumberToObject(root, "live_workers", cJSON_GetArraySize(arr)))
        goto out;
    txt = cJSON_PrintUnformatted(root);
    if (txt)
        out = arena_strdup(a, txt);
out:
    free(txt);
    cJSON_Delete(root);
    return out;
}
