#include "browser.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DOM_MAX (8u * 1024 * 1024)

char *tb_dom(const char *url, char *why, size_t whylen)
{
    char cmd[2048], prof[] = "/tmp/wsms-chromium.XXXXXX";
    char *dom = NULL;
    size_t len = 0;
    const char *bin = getenv("CHROMIUM") ? getenv("CHROMIUM") : "/usr/bin/chromium";
    if (access(bin, X_OK) != 0) {
        snprintf(why, whylen, "%s is missing (apt-get install chromium)", bin);
        return NULL;
    }
    if (!mkdtemp(prof)) {
        snprintf(why, whylen, "mkdtemp failed");
        return NULL;
    }
    /* the flags keep it off the network it cannot reach here */
    snprintf(cmd, sizeof(cmd),
             "timeout 90 %s --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
             "--disable-background-networking --disable-component-update --disable-sync "
             "--user-data-dir=%s --virtual-time-budget=20000 --dump-dom '%s' 2>%s/stderr",
             bin, prof, url, prof);
    FILE *p = popen(cmd, "r");
    if (!p) {
        snprintf(why, whylen, "cannot run %s", bin);
        goto out;
    }
    dom = malloc(DOM_MAX + 1);
    if (!dom) {
        pclose(p);
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    size_t r;
    while (len < DOM_MAX && (r = fread(dom + len, 1, DOM_MAX - len, p)) > 0)
        len += r;
    dom[len] = '\0';
    int st = pclose(p);
    if (st != 0 || len == 0) {
        snprintf(why, whylen, "chromium exited with status %d after %zu bytes (see %s/stderr)",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1, len, prof);
        free(dom);
        dom = NULL;
        return NULL; /* keep the profile and its stderr for a look */
    }
out:
    snprintf(cmd, sizeof(cmd), "rm -rf %s", prof);
    if (system(cmd) != 0)
        fprintf(stderr, "browser: could not remove %s\n", prof);
    return dom;
}

pid_t tb_server_start(const char *dir, int port)
{
    char p[16], probe[256];
    snprintf(p, sizeof(p), "%d", port);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        execlp("python3", "python3", "-m", "http.server", p, "--bind", "127.0.0.1", "--directory",
               dir, (char *)NULL);
        _exit(127);
    }
    snprintf(probe, sizeof(probe), "curl -s -o /dev/null http://127.0.0.1:%d/", port);
    for (int i = 0; i < 100; i++) {
        if (system(probe) == 0)
            return pid;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return -1; /* it exited: port in use? */
        usleep(50 * 1000);
    }
    tb_server_stop(pid);
    return -1;
}

void tb_server_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}
