/* wsmsd: the WSMS FastCGI worker program.
 *
 *   wsmsd                          serve on the listening socket on fd 0
 *                                  (spawn-fcgi, systemd StandardInput=socket)
 *   wsmsd --socket PATH|IP:PORT    open the socket itself
 *   wsmsd --fd N                   serve on inherited fd N
 *   wsmsd ... --workers N          preforking supervisor with N workers
 *   wsmsd migrate                  apply database migrations and exit
 *   wsmsd check-config             load the configuration and exit
 *   wsmsd revoke-user USER_ID      revoke every PMA token of USER_ID issued
 *                                  up to now and exit
 *   wsmsd scheduler                fire due jobs and run their runs (see
 *                                  server/scheduler.h)
 *   wsmsd scheduler-exec ...       one run's executor (started by the
 *                                  scheduler)
 *
 * systemd socket activation (LISTEN_FDS/LISTEN_PID) is honoured too. */
#include "core/config.h"

#include "auth/sessions.h"
#include <curl/curl.h>
#include "data/db.h"
#include "core/log.h"
#include "data/migrate.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "server/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(void)
{
    fprintf(stderr, "usage: wsmsd [--socket PATH|IP:PORT | --fd N] [--workers N]\n"
                    "       wsmsd migrate\n"
                    "       wsmsd check-config\n"
                    "       wsmsd revoke-user USER_ID\n"
                    "       wsmsd scheduler\n");
}

static int mkdirs(const char *path)
{
    char buf[4096];
    int w = snprintf(buf, sizeof(buf), "%s", path);
    if (w < 0 || (size_t)w >= sizeof(buf))
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0750) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(buf, 0750) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int is_socket(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int main(int argc, char **argv)
{
    const char *sock = NULL;
    int fd = -1, workers = 0;
    int mode_migrate = 0, mode_check = 0, mode_sched = 0;
    char **exec_args = NULL;
    int exec_argc = 0;
    const char *revoke_user = NULL;
    char err[512];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "migrate") == 0)
            mode_migrate = 1;
        else if (strcmp(argv[i], "check-config") == 0)
            mode_check = 1;
        else if (strcmp(argv[i], "scheduler") == 0)
            mode_sched = 1;
        else if (strcmp(argv[i], "scheduler-exec") == 0) {
            exec_args = argv + i + 1;
            exec_argc = argc - i - 1;
            break;
        }
        else if (strcmp(argv[i], "revoke-user") == 0 && i + 1 < argc)
            revoke_user = argv[++i];
        else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
            sock = argv[++i];
        else if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc)
            fd = atoi(argv[++i]);
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            workers = atoi(argv[++i]);
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else {
            usage();
            return 2;
        }
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "wsmsd: libcurl initialisation failed\n");
        return 1;
    }
    if (revoke_user && (!*revoke_user || strlen(revoke_user) > SESSIONS_MAX_USER_ID)) {
        fprintf(stderr, "wsmsd: revoke-user: USER_ID must be 1 to %d characters\n",
                SESSIONS_MAX_USER_ID);
        return 2;
    }
    bool db_only = mode_migrate || revoke_user || mode_sched || exec_args;
    if (config_load(db_only ? CONFIG_MIGRATE : CONFIG_SERVE, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsmsd: configuration error: %s\n", err);
        return 2;
    }
    const struct config *cfg = config_get();
    if (*cfg->log_file && !mode_migrate && !mode_check && !revoke_user) {
        int lfd = open(cfg->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (lfd < 0 || dup2(lfd, 2) < 0) {
            fprintf(stderr, "wsmsd: configuration error: WSMS_LOG_FILE %s: %s\n", cfg->log_file,
                    strerror(errno));
            return 2;
        }
        close(lfd);
    }
    if (cfg->db_type == DB_SQLITE && mkdirs(cfg->db_path) != 0) {
        fprintf(stderr, "wsmsd: configuration error: DB_PATH %s cannot be created: %s\n",
                cfg->db_path, strerror(errno));
        return 2;
    }
    if (mode_check) {
        printf("configuration OK (%s database)\n", config_db_type_name(cfg->db_type));
        return 0;
    }
    if (revoke_user) {
        long through = 0;
        wsms_err e = sessions_revoke(revoke_user, &through);
        if (e == WSMS_OK)
            printf("sessions of %s revoked: PMA tokens issued at or before %ld (Unix seconds) "
                   "are refused\n",
                   revoke_user, through);
        else
            fprintf(stderr, "wsmsd: revoke-user failed (%s); see the log\n", err_code(e));
        db_close();
        config_free();
        return e == WSMS_OK ? 0 : 1;
    }
    if (mode_sched || exec_args) {
        int rc = exec_args ? scheduler_exec(exec_argc, exec_args) : scheduler_run();
        db_close();
        config_free();
        curl_global_cleanup();
        return rc;
    }
    if (mode_migrate) {
        int rc = migrate_run();
        db_close();
        config_free();
        return rc;
    }

    const char *lpid = getenv("LISTEN_PID");
    const char *lfds = getenv("LISTEN_FDS");
    if (fd < 0 && !sock && lpid && lfds && atol(lpid) == (long)getpid() && atoi(lfds) >= 1)
        fd = 3; /* SD_LISTEN_FDS_START */
    if (sock) {
        fd = server_listen(sock, 1024);
        if (fd < 0)
            return 1;
    } else if (fd < 0) {
        fd = 0;
    }
    if (!is_socket(fd)) {
        fprintf(stderr,
                "wsmsd: fd %d is not a listening socket; use --socket or run under "
                "spawn-fcgi or systemd\n",
                fd);
        return 2;
    }
    int rc = workers > 0 ? supervisor_run(fd, workers, argv[0]) : server_worker(fd, argv[0]);
    db_close();
    config_free();
    return rc;
}
