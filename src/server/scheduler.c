#include "server/scheduler.h"

#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "data/db.h"
#include "data/dialect.h"
#include "domain/automation/cron.h"
#include "domain/automation/executor.h"
#include "domain/automation/jobs.h"
#include "domain/automation/runs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LG          "scheduler"
#define MAX_EXEC    64
#define DUE_BATCH   200
#define MISSED_MAX  100000
#define EXPIRED_MAX 50

struct slot {
    pid_t pid; /* 0 = free */
    char run_id[GUID_LEN + 1], ws_id[GUID_LEN + 1], schema[40], job_id[GUID_LEN + 1];
    int64_t timeout_at, next_renew_mono;
    bool done; /* the run was ended here (timed out / lost); just reap */
};

static volatile sig_atomic_t stop_flag;
static struct slot slots[MAX_EXEC];
static int nslots;
static char owner[128];
static char self_exe[4096];

static void on_term(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int active(void)
{
    int n = 0;
    for (int i = 0; i < nslots; i++)
        n += slots[i].pid != 0;
    return n;
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* host:pid:random, unique per scheduler process */
static void make_owner(void)
{
    char host[64] = "host", rnd[GUID_LEN + 1] = "00000000";
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "host");
    host[sizeof(host) - 1] = '\0';
    if (guid_new(rnd) != 0)
        snprintf(rnd, sizeof(rnd), "%08lx", (unsigned long)mono_us());
    snprintf(owner, sizeof(owner), "%s:%ld:%.8s", host, (long)getpid(), rnd);
}

/* --- firing --- */

static void fire_one(struct arena *a, const struct db_rows *rows, int r, int64_t now)
{
    const char *job_id = db_val(rows, r, 0), *ws_id = db_val(rows, r, 1);
    const char *schema = db_val(rows, r, 2), *expr = db_val(rows, r, 3);
    const char *next_iso = db_val(rows, r, 4);
    struct cron c;
    char why[160], fire_iso[25], new_iso[25];
    int64_t first = iso8601_parse_ms(next_iso);
    if (!job_id || !ws_id || !dialect_schema_name_valid(schema) || !expr || first < 0 ||
        cron_parse(expr, &c, why, sizeof(why)) != WSMS_OK) {
        log_error(LG, "JobSchedule row of job %s is unusable; skipped", job_id ? job_id : "?");
        return;
    }
    /* every fire time from the first due one up to now fires once, now */
    long missed = 0;
    int64_t t = first / 1000, next = t;
    while (next * 1000 <= now && missed < MISSED_MAX) {
        missed++;
        if (cron_next(&c, next - next % 60, &next) != 0) {
            next = -1;
            break;
        }
    }
    if (next >= 0 && next * 1000 <= now &&
        cron_next(&c, now / 1000 - (now / 1000) % 60, &next) != 0)
        next = -1;
    iso8601_ms(first, fire_iso);
    if (next >= 0)
        iso8601_ms(next * 1000, new_iso);
    const char *fire_key = arena_printf(a, "s:%s", fire_iso);
    const char *reason =
        missed > 1 ? arena_printf(a, "missed %ld fire times since %s; fired once", missed, fire_iso)
                   : arena_printf(a, "scheduled fire at %s", fire_iso);
    if (!fire_key || !reason)
        return;
    bool won = false;
    const char *run_id = NULL;
    wsms_err e = db_begin();
    if (e == WSMS_OK)
        e = jobs_advance(a, job_id, next_iso, next >= 0 ? new_iso : NULL, &won);
    if (e == WSMS_OK && won) {
        struct run_new in = {.job_id = job_id,
                             .trigger = "schedule",
                             .fire_key = fire_key,
                             .created_by = RUNS_ACTOR_SCHEDULER,
                             .reason = reason,
                             .scheduled_for_ms = first,
                             .now_ms = now};
        e = runs_create(a, schema, ws_id, &in, &run_id);
        if (e == E_CONFLICT) {
            won = false;
            e = WSMS_OK;
        }
    }
    if (e == WSMS_OK && won)
        e = runs_count("fires", 1);
    if (e == WSMS_OK && won)
        e = runs_count("fire_lag_ms_sum", now - first);
    if (e == WSMS_OK && won && missed > 1)
        e = runs_count("missed_fires", missed - 1);
    if (e == WSMS_OK && won) {
        e = db_commit();
    } else {
        db_rollback();
    }
    if (e != WSMS_OK)
        log_error(LG, "fire of job %s at %s failed (%s)", job_id, fire_iso, err_code(e));
    else if (won)
        log_info(LG, "fired job %s (workspace %s) for %s: run %s, lag %lld ms%s%s, next %s", job_id,
                 ws_id, fire_iso, run_id, (long long)(now - first), missed > 1 ? ", " : "",
                 missed > 1 ? reason : "", next >= 0 ? new_iso : "none");
    else
        log_debug(LG, "job %s at %s was fired by another scheduler", job_id, fire_iso);
}

static void fire_due(struct arena *a, int64_t now)
{
    struct db_rows rows;
    wsms_err e = jobs_due(a, now, DUE_BATCH, &rows);
    if (e != WSMS_OK) {
        log_error(LG, "reading the due jobs failed (%s)", err_code(e));
        return;
    }
    for (int r = 0; r < rows.nrows && !stop_flag; r++)
        fire_one(a, &rows, r, now);
}

/* --- executors --- */

static void end_run(struct arena *a, const struct slot *s, enum run_state to, const char *why,
                    int64_t expired_before)
{
    bool won;
    struct run_change c = {.actor = RUNS_ACTOR_SCHEDULER,
                           .reason = why,
                           .error = why,
                           .lease_expired_before_ms = expired_before};
    wsms_err e = runs_transition(a, s->schema, s->ws_id, s->run_id, RUN_RUNNING, to, &c, &won);
    if (e != WSMS_OK)
        log_error(LG, "run %s: ending it %s failed (%s)", s->run_id, run_state_name(to),
                  err_code(e));
}

static void spawn(struct arena *a, const struct queued_run *q)
{
    int i = 0;
    while (i < nslots && slots[i].pid)
        i++;
    if (i == nslots)
        return;
    struct slot *s = &slots[i];
    memset(s, 0, sizeof(*s));
    copy(s->run_id, sizeof(s->run_id), q->run_id);
    copy(s->ws_id, sizeof(s->ws_id), q->ws_id);
    copy(s->schema, sizeof(s->schema), q->schema);
    copy(s->job_id, sizeof(s->job_id), q->job_id);
    s->timeout_at = q->timeout_at_ms;
    s->next_renew_mono = mono_ms() + config_get()->scheduler_lease_s * 1000 / 3;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* an executor never outlives its scheduler: without it nobody
         * renews the lease, and another scheduler takes the run over */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_IGN); /* the scheduler decides when it ends */
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        execl(self_exe, "wsmsd", "scheduler-exec", s->schema, s->ws_id, s->run_id, owner,
              (char *)NULL);
        _exit(127);
    }
    if (pid < 0) {
        log_error(LG, "cannot start an executor for run %s: %s", q->run_id, strerror(errno));
        end_run(a, s, RUN_FAILED, "the scheduler could not start an executor", 0);
        return;
    }
    s->pid = pid;
    log_info(LG, "run %s (job %s, workspace %s) claimed; executor %d", s->run_id, s->job_id,
             s->ws_id, (int)pid);
}

static void reap(struct arena *a)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (int i = 0; i < nslots; i++) {
            struct slot *s = &slots[i];
            if (s->pid != pid)
                continue;
            s->pid = 0;
            if (s->done)
                break;
            if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                break; /* it recorded the run's end itself */
            /* it died without recording an end: the run fails here if it
             * is still ours */
            struct run_row r;
            if (runs_load(a, s->schema, s->ws_id, s->run_id, &r) != WSMS_OK ||
                strcmp(r.status, "RUNNING") != 0 || !r.lease_owner ||
                strcmp(r.lease_owner, owner) != 0)
                break;
            const char *why =
                WIFSIGNALED(st)
                    ? arena_printf(a, "the executor was killed by signal %d", WTERMSIG(st))
                    : arena_printf(a, "the executor exited with status %d", WEXITSTATUS(st));
            end_run(a, s, RUN_FAILED, why ? why : "the executor died", 0);
            break;
        }
    }
}

static void watch(struct arena *a, int64_t now)
{
    const struct config *cfg = config_get();
    for (int i = 0; i < nslots; i++) {
        struct slot *s = &slots[i];
        if (!s->pid || s->done)
            continue;
        if (s->timeout_at && now >= s->timeout_at) {
            kill(s->pid, SIGKILL);
            s->done = true;
            const char *why = arena_printf(a, "timed out (timeout_seconds passed at %lld)",
                                           (long long)(s->timeout_at / 1000));
            end_run(a, s, RUN_TIMED_OUT, why ? why : "timed out", 0);
            continue;
        }
        if (mono_ms() < s->next_renew_mono)
            continue;
        bool held = true;
        struct queued_run q = {.run_id = s->run_id, .ws_id = s->ws_id, .schema = s->schema};
        wsms_err e = runs_renew(a, &q, owner, now + cfg->scheduler_lease_s * 1000, &held);
        if (e != WSMS_OK) {
            log_warn(LG, "renewing the lease of run %s failed (%s)", s->run_id, err_code(e));
            continue;
        }
        s->next_renew_mono = mono_ms() + cfg->scheduler_lease_s * 1000 / 3;
        if (!held) {
            log_info(LG, "run %s is no longer ours (cancelled or taken over); executor %d killed",
                     s->run_id, (int)s->pid);
            kill(s->pid, SIGKILL);
            s->done = true;
        }
    }
}

static bool ours(const char *run_id)
{
    for (int i = 0; i < nslots; i++)
        if (slots[i].pid && strcmp(slots[i].run_id, run_id) == 0)
            return true;
    return false;
}

static void take_over(struct arena *a, int64_t now)
{
    struct queued_run *q = NULL;
    size_t n = 0;
    wsms_err e = runs_expired(a, now, EXPIRED_MAX, &q, &n);
    if (e != WSMS_OK) {
        log_error(LG, "reading expired leases failed (%s)", err_code(e));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (ours(q[i].run_id) || !dialect_schema_name_valid(q[i].schema))
            continue;
        struct slot s;
        memset(&s, 0, sizeof(s));
        copy(s.run_id, sizeof(s.run_id), q[i].run_id);
        copy(s.ws_id, sizeof(s.ws_id), q[i].ws_id);
        copy(s.schema, sizeof(s.schema), q[i].schema);
        const char *why = arena_printf(a, "lease expired (held by %s)",
                                       q[i].lease_owner ? q[i].lease_owner : "?");
        log_warn(LG, "run %s: %s; taking it over", s.run_id, why ? why : "lease expired");
        end_run(a, &s, RUN_FAILED, why ? why : "lease expired", now);
    }
}

static void claim(struct arena *a)
{
    const struct config *cfg = config_get();
    while (!stop_flag && active() < nslots) {
        struct queued_run q;
        bool got = false;
        wsms_err e = runs_claim(a, owner, cfg->scheduler_lease_s * 1000, &q, &got);
        if (e != WSMS_OK) {
            log_error(LG, "claiming a run failed (%s)", err_code(e));
            return;
        }
        if (!got)
            return;
        spawn(a, &q);
    }
}

/* After the drain deadline: the executors still running are stopped and
 * their runs FAILED (retried when retries are left). */
static void stop_all(struct arena *a)
{
    for (int i = 0; i < nslots; i++) {
        struct slot *s = &slots[i];
        if (!s->pid)
            continue;
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
        if (!s->done)
            end_run(a, s, RUN_FAILED,
                    "the scheduler stopped before the run finished "
                    "(WSMS_SCHEDULER_DRAIN_SECONDS passed)",
                    0);
    }
}

int scheduler_run(void)
{
    const struct config *cfg = config_get();
    struct arena *a = arena_new(0);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
    if (!a || n <= 0) {
        fprintf(stderr, "wsmsd scheduler: cannot start (%s)\n", !a ? "out of memory" : "no exe");
        arena_free(a);
        return 1;
    }
    self_exe[n] = '\0';
    nslots = (int)(cfg->scheduler_concurrency > MAX_EXEC ? MAX_EXEC : cfg->scheduler_concurrency);
    make_owner();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    log_info(LG, "scheduler %s started: %d executors, tick %ld ms, lease %ld s, drain %ld s", owner,
             nslots, cfg->scheduler_tick_ms, cfg->scheduler_lease_s, cfg->scheduler_drain_s);
    int64_t drain_until = 0;
    for (;;) {
        arena_reset(a);
        long tick_stmts = db_statement_count();
        int64_t now = runs_now_ms();
        reap(a);
        if (stop_flag) {
            if (!drain_until) {
                drain_until = mono_ms() + cfg->scheduler_drain_s * 1000;
                log_info(LG,
                         "SIGTERM: no more fires or claims; draining %d running run(s) for "
                         "up to %ld s",
                         active(), cfg->scheduler_drain_s);
            }
            if (active() == 0)
                break;
            if (mono_ms() >= drain_until) {
                log_warn(LG, "drain deadline passed with %d run(s) still running", active());
                stop_all(a);
                break;
            }
        } else {
            fire_due(a, now);
        }
        watch(a, now);
        take_over(a, now);
        claim(a);
        /* make bench-scheduler reads this (queries per tick) */
        log_debug(LG, "tick: %ld statements", db_statement_count() - tick_stmts);
        struct timespec ts = {cfg->scheduler_tick_ms / 1000,
                              (cfg->scheduler_tick_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    log_info(LG, "scheduler %s stopped", owner);
    arena_free(a);
    return 0;
}

int scheduler_exec(int argc, char **argv)
{
    if (argc != 4 || !dialect_schema_name_valid(argv[0])) {
        fprintf(stderr, "usage: wsmsd scheduler-exec SCHEMA WORKSPACE_ID RUN_ID OWNER\n");
        return 2;
    }
    struct arena *a = arena_new(0);
    if (!a)
        return 1;
    int rc = executor_run(a, argv[0], argv[1], argv[2], argv[3]);
    arena_free(a);
    return rc;
}
