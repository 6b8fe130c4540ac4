#include "server/supervisor.h"

#include "data/db.h"
#include "core/log.h"
#include "server/server.h"
#include "core/util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LG          "supervisor"
#define MAX_WORKERS 256

struct child {
    pid_t pid;
    int64_t started_ms;
    int fast_deaths;
};

static volatile sig_atomic_t got_term, got_hup, got_chld;
static struct child kids[MAX_WORKERS];
static int nkids;

static void on_sig(int sig)
{
    if (sig == SIGTERM || sig == SIGINT)
        got_term = 1;
    else if (sig == SIGHUP)
        got_hup = 1;
    else if (sig == SIGCHLD)
        got_chld = 1;
}

static pid_t spawn(int listen_fd, const char *self)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_error(LG, "fork failed: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        sigaction(SIGCHLD, &sa, NULL);
        /* a worker must not outlive its supervisor */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int rc = server_worker(listen_fd, self);
        db_close();
        _exit(rc);
    }
    return pid;
}

static int find(pid_t pid)
{
    for (int i = 0; i < nkids; i++)
        if (kids[i].pid == pid)
            return i;
    return -1;
}

static void describe_exit(pid_t pid, int status)
{
    if (WIFSIGNALED(status))
        log_error(LG, "worker %d killed by signal %d", (int)pid, WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        log_error(LG, "worker %d exited with status %d", (int)pid, WEXITSTATUS(status));
    else
        log_info(LG, "worker %d exited", (int)pid);
}

/* Reaps dead children and, unless stopping, starts their replacements. */
static void reap(int listen_fd, const char *self, int stopping)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int i = find(pid);
        describe_exit(pid, status);
        if (i < 0)
            continue;
        if (stopping) {
            kids[i].pid = 0;
            continue;
        }
        int64_t now = mono_ms();
        if (now - kids[i].started_ms < 2000) {
            kids[i].fast_deaths++;
            /* backoff: 100 ms doubling up to 5 s while workers die at once */
            long ms = 100L << (kids[i].fast_deaths > 6 ? 6 : kids[i].fast_deaths);
            if (ms > 5000)
                ms = 5000;
            log_warn(LG, "worker died %d time(s) quickly; waiting %ld ms", kids[i].fast_deaths, ms);
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        } else {
            kids[i].fast_deaths = 0;
        }
        kids[i].pid = spawn(listen_fd, self);
        kids[i].started_ms = mono_ms();
        if (kids[i].pid > 0)
            log_info(LG, "started worker %d", (int)kids[i].pid);
    }
}

static int alive(void)
{
    int n = 0;
    for (int i = 0; i < nkids; i++)
        if (kids[i].pid > 0)
            n++;
    return n;
}

static void rolling_restart(int listen_fd, const char *self)
{
    log_info(LG, "rolling restart of %d workers", nkids);
    for (int i = 0; i < nkids && !got_term; i++) {
        pid_t old = kids[i].pid;
        if (old <= 0)
            continue;
        kill(old, SIGTERM);
        int status;
        while (waitpid(old, &status, 0) < 0 && errno == EINTR)
            if (got_term)
                return;
        describe_exit(old, status);
        kids[i].pid = spawn(listen_fd, self);
        kids[i].started_ms = mono_ms();
        kids[i].fast_deaths = 0;
        log_info(LG, "replaced worker %d with %d", (int)old, (int)kids[i].pid);
    }
}

int supervisor_run(int listen_fd, int workers, const char *self)
{
    if (workers < 1 || workers > MAX_WORKERS) {
        log_error(LG, "--workers must be from 1 to %d", MAX_WORKERS);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_sig;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &orig);
    sigset_t wait_mask = orig;
    sigdelset(&wait_mask, SIGTERM);
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGHUP);
    sigdelset(&wait_mask, SIGCHLD);

    nkids = workers;
    for (int i = 0; i < workers; i++) {
        kids[i].pid = spawn(listen_fd, self);
        kids[i].started_ms = mono_ms();
    }
    log_info(LG, "supervisor %d started %d workers", (int)getpid(), workers);
    while (!got_term) {
        sigsuspend(&wait_mask);
        if (got_chld) {
            got_chld = 0;
            reap(listen_fd, self, 0);
        }
        if (got_hup) {
            got_hup = 0;
            rolling_restart(listen_fd, self);
        }
    }
    log_info(LG, "stopping: letting %d workers finish their requests", alive());
    for (int i = 0; i < nkids; i++)
        if (kids[i].pid > 0)
            kill(kids[i].pid, SIGTERM);
    while (alive() > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        int i = find(pid);
        describe_exit(pid, status);
        if (i >= 0)
            kids[i].pid = 0;
    }
    sigprocmask(SIG_SETMASK, &orig, NULL);
    log_info(LG, "supervisor stopped");
    return 0;
}
