#include "client.h"

#include "tokens.h"
#include "core/util.h"

#include <check.h>
#include <curl/curl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct buf {
    char *p;
    size_t n;
};

static size_t on_data(char *d, size_t sz, size_t nm, void *ud)
{
    struct buf *b = ud;
    size_t add = sz * nm;
    char *np = realloc(b->p, b->n + add + 1);
    if (!np)
        return 0;
    memcpy(np + b->n, d, add);
    b->n += add;
    np[b->n] = '\0';
    b->p = np;
    return add;
}

int tc_request(struct tresp *r, const char *method, const char *path, const char *body,
               const char *const *headers)
{
    int rc = -1;
    struct buf b = {0}, h = {0};
    struct curl_slist *sl = NULL;
    const char *base = getenv("WSMS_URL");
    char *url = NULL;
    memset(r, 0, sizeof(*r));
    if (!base)
        base = "http://127.0.0.1:8080";
    /* any length: the limit tests send request lines over nginx's */
    size_t ul = strlen(base) + strlen(path) + 1;
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    if (!(url = malloc(ul)))
        goto out;
    snprintf(url, ul, "%s%s", base, path);
    for (const char *const *p = headers; p && *p; p++) {
        struct curl_slist *n = curl_slist_append(sl, *p);
        if (!n)
            goto out;
        sl = n;
    }
    /* curl adds "Expect: 100-continue" to large bodies; the tests want the
     * server's own answer */
    struct curl_slist *n = curl_slist_append(sl, "Expect:");
    if (!n)
        goto out;
    sl = n;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (curl_easy_perform(c) != CURLE_OK)
        goto out;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    r->body = b.p ? b.p : strdup("");
    b.p = NULL;
    r->headers = h.p ? h.p : strdup("");
    h.p = NULL;
    r->json = cJSON_Parse(r->body);
    rc = 0;
out:
    free(url);
    free(b.p);
    free(h.p);
    curl_slist_free_all(sl);
    curl_easy_cleanup(c);
    return rc;
}

const char *tc_header(struct tresp *r, const char *name)
{
    size_t nl = strlen(name);
    free(r->hdr_copy);
    r->hdr_copy = NULL;
    for (const char *p = r->headers; p && *p;) {
        const char *e = strstr(p, "\r\n");
        size_t ll = e ? (size_t)(e - p) : strlen(p);
        if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            r->hdr_copy = strndup(v, ll - (size_t)(v - p));
            return r->hdr_copy;
        }
        p = e ? e + 2 : NULL;
    }
    return NULL;
}

void tc_free(struct tresp *r)
{
    free(r->body);
    free(r->headers);
    free(r->hdr_copy);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof(*r));
}

static EVP_PKEY *test_key(void)
{
    static EVP_PKEY *key;
    if (key)
        return key;
    const char *path = getenv("WSMS_TEST_KEY");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return NULL;
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return key;
}

char *tc_entra_token(const char *oid, const char *email, const char *name, const char *claims_json)
{
    EVP_PKEY *key = test_key();
    const char *tenant = getenv("AZURE_TENANT_ID");
    const char *aud = getenv("AZURE_AUDIENCE");
    const char *kid = getenv("WSMS_TEST_KID");
    char *tok = NULL;
    if (!key || !tenant || !aud)
        return NULL;
    cJSON *claims = tok_entra_claims(tenant, aud, oid, email, name, 3600);
    if (!claims)
        return NULL;
    if (claims_json) {
        cJSON *over = cJSON_Parse(claims_json);
        cJSON *it;
        cJSON_ArrayForEach(it, over)
        {
            cJSON *copy = cJSON_Duplicate(it, 1);
            if (!copy)
                continue;
            if (cJSON_GetObjectItemCaseSensitive(claims, it->string))
                cJSON_ReplaceItemInObjectCaseSensitive(claims, it->string, copy);
            else
                cJSON_AddItemToObject(claims, it->string, copy);
        }
        cJSON_Delete(over);
    }
    tok = tok_entra_token(key, kid ? kid : "test-key-1", claims);
    cJSON_Delete(claims);
    return tok;
}

static int auth_call(struct tc_user *u, const char *path)
{
    char authz[8192], pma[4096];
    const char *hdrs[3] = {authz, NULL, NULL};
    struct tresp r;
    snprintf(authz, sizeof(authz), "Authorization: Bearer %s", u->azure);
    if (u->pma) {
        snprintf(pma, sizeof(pma), "X-PMA-Token: %s", u->pma);
        hdrs[1] = pma;
    }
    if (tc_request(&r, "POST", path, NULL, hdrs) != 0)
        return -1;
    cJSON *t = cJSON_GetObjectItem(r.json, "pma_token");
    int rc = -1;
    if (r.status == 200 && cJSON_IsString(t)) {
        free(u->pma);
        u->pma = strdup(t->valuestring);
        rc = u->pma ? 0 : -1;
    } else {
        fprintf(stderr, "%s answered %ld: %s\n", path, r.status, r.body ? r.body : "");
    }
    tc_free(&r);
    return rc;
}

int tc_user_new(struct tc_user *u, const char *email_prefix)
{
    char g[GUID_LEN + 1];
    memset(u, 0, sizeof(*u));
    if (guid_new(g) != 0)
        return -1;
    snprintf(u->oid, sizeof(u->oid), "%s", g);
    if (strchr(email_prefix, '@'))
        snprintf(u->email, sizeof(u->email), "%s", email_prefix);
    else
        snprintf(u->email, sizeof(u->email), "%s-%.8s@example.com", email_prefix, g);
    snprintf(u->name, sizeof(u->name), "Test %.8s", g);
    u->azure = tc_entra_token(u->oid, u->email, u->name, NULL);
    if (!u->azure)
        return -1;
    return auth_call(u, "/auth/validate");
}

int tc_user_refresh_pma(struct tc_user *u)
{
    return auth_call(u, "/auth/refresh");
}

int tc_as(struct tresp *r, const struct tc_user *u, const char *method, const char *path,
          const char *body)
{
    char authz[8192], pma[4096];
    const char *hdrs[4] = {authz, pma, NULL, NULL};
    snprintf(authz, sizeof(authz), "Authorization: Bearer %s", u->azure ? u->azure : "");
    snprintf(pma, sizeof(pma), "X-PMA-Token: %s", u->pma ? u->pma : "");
    if (body)
        hdrs[2] = "Content-Type: application/json";
    return tc_request(r, method, path, body, hdrs);
}

void tc_user_free(struct tc_user *u)
{
    free(u->azure);
    free(u->pma);
    memset(u, 0, sizeof(*u));
}

long tc_db_statements(struct tresp *r)
{
    const char *v = tc_header(r, "X-DB-Statements");
    return v ? strtol(v, NULL, 10) : -1;
}

const char *tc_db_type(void)
{
    const char *t = getenv("WSMS_DB_TYPE");
    return t ? t : "sqlite";
}

const char *tc_error_code(const struct tresp *r)
{
    cJSON *c = cJSON_GetObjectItem(r->json, "error_code");
    return cJSON_IsString(c) ? c->valuestring : "";
}

const char *tc_stack_dir(const char *name, char *buf, size_t n)
{
    const char *tmp = getenv("WSMS_TMP");
    snprintf(buf, n, "%s/own-%s-%s", tmp ? tmp : "/tmp", name, tc_db_type());
    return buf;
}

int tc_stack_start(const char *name, const char *extra_env, int workers, char *url, size_t n)
{
    char dir[512], envf[600], cmd[2048];
    const char *common = getenv("WSMS_COMMON_ENV");
    tc_stack_dir(name, dir, sizeof(dir));
    snprintf(envf, sizeof(envf), "%s.env", dir);
    FILE *f = fopen(envf, "w");
    if (!f)
        return -1;
    if (common) {
        FILE *c = fopen(common, "r");
        char line[1024];
        while (c && fgets(line, sizeof(line), c))
            fputs(line, f);
        if (c)
            fclose(c);
    }
    if (extra_env)
        fputs(extra_env, f);
    fclose(f);
    /* workers == 0: one worker under systemd-socket-activate */
    snprintf(cmd, sizeof(cmd),
             "STACK_ENV=%s WSMS_WORKERS=%d STACK_LAUNCHER=%s sh t/lib/stack.sh start %s > %s.url",
             envf, workers, workers == 0 ? "socket-activate" : "spawn-fcgi", dir, dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(envf, sizeof(envf), "%s.url", dir);
    f = fopen(envf, "r");
    if (!f)
        return -1;
    int ok = fgets(url, (int)n, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    url[strcspn(url, "\n")] = '\0';
    return 0;
}

void tc_stack_stop(const char *name)
{
    char dir[512], cmd[1024];
    tc_stack_dir(name, dir, sizeof(dir));
    snprintf(cmd, sizeof(cmd), "sh t/lib/stack.sh stop %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "stopping %s failed\n", dir);
}

int tc_stack_pid(const char *name)
{
    char dir[512], path[600];
    int pid = -1;
    tc_stack_dir(name, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/wsmsd.pid", strcmp(name, "") ? dir : getenv("WSMS_STACK_DIR"));
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (fscanf(f, "%d", &pid) != 1)
        pid = -1;
    fclose(f);
    return pid;
}

int tc_children(int pid, int *out, int max)
{
    char path[256];
    int n = 0;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (n < max && fscanf(f, "%d", &out[n]) == 1)
        n++;
    fclose(f);
    return n;
}

int tc_stack_start_sockets(const char *name, const char *extra_env, int nsockets, char *url,
                           size_t n)
{
    char v[16];
    if (nsockets < 1 || nsockets > 64)
        return -1;
    snprintf(v, sizeof(v), "%d", nsockets);
    /* stack.sh reads STACK_SOCKETS from the environment system() passes on */
    if (setenv("STACK_SOCKETS", v, 1) != 0)
        return -1;
    int rc = tc_stack_start(name, extra_env, 1, url, n);
    if (unsetenv("STACK_SOCKETS") != 0)
        rc = -1;
    return rc;
}

int tc_stack_pids(const char *name, int *out, int max)
{
    char dir[512], path[600];
    int n = 0, pid;
    const char *shared = getenv("WSMS_STACK_DIR");
    tc_stack_dir(name, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/wsmsd.pid", strcmp(name, "") ? dir : shared ? shared : "");
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (n < max && fscanf(f, "%d", &pid) == 1)
        out[n++] = pid;
    fclose(f);
    return n;
}

void tc_expect_at(int line, const struct tresp *r, long status, const char *code)
{
    ck_assert_msg(r->status == status, "line %d: want %ld, got %ld: %s", line, status, r->status,
                  r->body ? r->body : "");
    if (code)
        ck_assert_msg(strcmp(tc_error_code(r), code) == 0, "line %d: want %s: %s", line, code,
                      r->body ? r->body : "");
}

const char *tc_jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void tc_new_user(struct tc_user *u, const char *prefix)
{
    ck_assert_msg(tc_user_new(u, prefix) == 0, "cannot make test user %s", prefix);
}

int tc_as_hdr(struct tresp *r, const struct tc_user *u, const char *method, const char *path,
              const char *body, const char *extra)
{
    char authz[8192], pma[4096];
    const char *h[5] = {authz, pma, "Content-Type: application/json", extra, NULL};
    snprintf(authz, sizeof(authz), "Authorization: Bearer %s", u->azure);
    snprintf(pma, sizeof(pma), "X-PMA-Token: %s", u->pma);
    return tc_request(r, method, path, body, h);
}
