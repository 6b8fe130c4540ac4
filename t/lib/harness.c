#include "harness.h"

#include "core/config.h"
#include "outbound/httpc.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

char th_root[PATH_MAX];

int th_find_root(void)
{
    const char *env = getenv("WSMS_ROOT");
    char buf[PATH_MAX];
    if (env && *env) {
        snprintf(th_root, sizeof(th_root), "%s", env);
        return 0;
    }
    if (access("t/fake/upstream.py", R_OK) == 0 && getcwd(th_root, sizeof(th_root)))
        return 0;
    /* build/<variant>/t/<binary> -> four levels up */
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    for (int i = 0; i < 4; i++) {
        char *s = strrchr(buf, '/');
        if (!s)
            return -1;
        *s = '\0';
    }
    snprintf(th_root, sizeof(th_root), "%s", buf);
    char probe[PATH_MAX + 32];
    if (snprintf(probe, sizeof(probe), "%s/t/fake/upstream.py", th_root) >= (int)sizeof(probe))
        return -1;
    return access(probe, R_OK) == 0 ? 0 : -1;
}

int th_run_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int th_run_sh(const char *fmt, ...)
{
    char cmd[2 * PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        return -1;
    fflush(NULL);
    int st = system(cmd);
    return st == -1 ? -1 : WEXITSTATUS(st);
}

int th_read_int_file(const char *dir, const char *name)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    int v = -1;
    if (!f)
        return -1;
    if (fscanf(f, "%d", &v) != 1)
        v = -1;
    fclose(f);
    return v;
}

int th_fake_start(char *dir, size_t dirlen, char *url, size_t urllen, const char *env)
{
    snprintf(dir, dirlen, "/tmp/wsms-fake-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    if (th_run_sh("%s sh '%s/t/lib/fake.sh' start '%s' >/dev/null", env ? env : "", th_root, dir) !=
        0)
        return -1;
    int port = th_read_int_file(dir, "fake.port");
    if (port <= 0)
        return -1;
    snprintf(url, urllen, "http://127.0.0.1:%d", port);
    return 0;
}

void th_fake_stop(const char *dir)
{
    if (dir[0]) {
        th_run_sh("sh '%s/t/lib/fake.sh' stop '%s'", th_root, dir);
        th_run_sh("rm -rf '%s'", dir);
    }
}

void th_config_with(const char *const *kv)
{
    static const char *vars[] = {"JIRA_BASE_URL",
                                 "JIRA_EMAIL",
                                 "JIRA_API_TOKEN",
                                 "ADO_ORG_URL",
                                 "ADO_PAT_TOKEN",
                                 "SNOW_BASE_URL",
                                 "SNOW_API_TOKEN",
                                 "GRAPH_BASE_URL",
                                 "SHAREPOINT_ACCESS_TOKEN",
                                 "INTEGRATION_TIMEOUT_SECONDS",
                                 "OUTBOUND_PROXY",
                                 "AZURE_STORAGE_CONNECTION_STRING",
                                 "AZURE_STORAGE_CONTAINER_NAME",
                                 "http_proxy",
                                 "HTTP_PROXY",
                                 "https_proxy",
                                 "HTTPS_PROXY",
                                 "ALL_PROXY",
                                 "all_proxy",
                                 "NO_PROXY",
                                 "no_proxy"};
    char err[256];
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    for (size_t i = 0; kv && kv[i]; i += 2)
        ck_assert_int_eq(setenv(kv[i], kv[i + 1], 1), 0);
    ck_assert_msg(config_load(CONFIG_MIGRATE, "/nonexistent", err, sizeof err) == 0, "%s", err);
}

void th_fake_reset(const char *fake_url)
{
    struct httpc_resp r;
    char url[256], why[256];
    snprintf(url, sizeof(url), "%s/__reset", fake_url);
    ck_assert_int_eq(httpc_request("POST", url, NULL, NULL, 0, &r, why, sizeof why), WSMS_OK);
    ck_assert_int_eq(r.status, 200);
    httpc_resp_free(&r);
}

cJSON *th_fake_requests(const char *fake_url)
{
    struct httpc_resp r;
    char url[256], why[256];
    snprintf(url, sizeof(url), "%s/__requests", fake_url);
    ck_assert_int_eq(httpc_request("GET", url, NULL, NULL, 0, &r, why, sizeof why), WSMS_OK);
    cJSON *j = cJSON_ParseWithLength(r.body, r.len);
    httpc_resp_free(&r);
    ck_assert(cJSON_IsArray(j));
    return j;
}

int th_count_listener(const cJSON *reqs, const char *listener)
{
    int n = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, reqs)
    {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, "listener");
        if (cJSON_IsString(l) && strcmp(l->valuestring, listener) == 0)
            n++;
    }
    return n;
}

int th_closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    ck_assert_int_ge(s, 0);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &al), 0);
    close(s);
    return ntohs(a.sin_port);
}
