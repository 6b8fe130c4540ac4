/* Workspace blob folders through POST /workspaces against a real Azurite
 * (t/lib/azurite.sh): the three .keep blobs exist afterwards (listed from
 * this process with blob_list(), a Shared Key signed List Blobs call); a
 * wrong account key and a stopped Azurite leave the workspace created (201)
 * with a BLOB_FOLDERS_FAILED audit entry giving the reason; without blob
 * settings (the shared stack) nothing is audited and the skip is logged.
 * Azurite that cannot start fails the tests that need it, not a skip; the
 * shared-stack test does not need it and runs in its own test case.
 *
 * Own stacks: blob (Azurite, the development key), blobkey (the same
 * Azurite and container, another valid key). */
#include "outbound/blob.h"
#include "client.h"
#include "core/config.h"
#include "outbound/httpc.h"
#include "core/util.h"

#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* a different, valid 64-byte key */
#define WRONG_KEY                                                                                  \
    "AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static char setup_err[512] = "not set up";
static char shared_err[256] = "not set up";
static char az_dir[512], connstr[512], wrong_connstr[512], container[64];
static char url_blob[256], url_key[256], url_shared[256];
static struct tc_user u_blob, u_key, u_shared;
static bool az_started, blob_started, key_started;

static void ready(void)
{
    ck_assert_msg(setup_err[0] == '\0', "setup failed: %s", setup_err);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        return -1;
    fflush(NULL);
    int st = system(cmd);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static int read_line(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(out, (int)n, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    out[strcspn(out, "\n")] = '\0';
    return 0;
}

/* ---- requests ---- */

static void as(struct tresp *r, const char *base, const struct tc_user *u, const char *method,
               const char *path, const char *body)
{
    ck_assert_int_eq(setenv("WSMS_URL", base, 1), 0);
    ck_assert_msg(tc_as(r, u, method, path, body) == 0, "no answer from %s%s", base, path);
}

/* POST /workspaces -> 201; the new id into id. */
static void create(const char *base, const struct tc_user *u, const char *name, char id[64])
{
    struct tresp r;
    char body[256];
    snprintf(body, sizeof(body), "{\"name\": \"%s\"}", name);
    as(&r, base, u, "POST", "/workspaces", body);
    EXPECT(&r, 201, NULL);
    const char *v = tc_jstr(r.json, "id");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq((int)strlen(v), GUID_LEN);
    snprintf(id, 64, "%s", v);
    char want[80];
    snprintf(want, sizeof(want), "workspaces/%s", id);
    ck_assert_str_eq(tc_jstr(r.json, "blob_path") ? tc_jstr(r.json, "blob_path") : "", want);
    tc_free(&r);
}

/* The workspace's audit entries (as its owner); caller deletes. */
static cJSON *audit(const char *base, const struct tc_user *u, const char *id)
{
    struct tresp r;
    char path[160];
    snprintf(path, sizeof(path), "/workspaces/%s/audit?limit=200", id);
    as(&r, base, u, "GET", path, NULL);
    EXPECT(&r, 200, NULL);
    ck_assert(cJSON_IsArray(r.json));
    cJSON *copy = cJSON_Duplicate(r.json, 1);
    tc_free(&r);
    ck_assert_ptr_nonnull(copy);
    return copy;
}

static int count_action(const cJSON *entries, const char *action)
{
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        const char *a = tc_jstr(e, "action");
        n += a && strcmp(a, action) == 0;
    }
    return n;
}

/* details.reason of the one BLOB_FOLDERS_FAILED entry, into out. */
static void blob_failure_reason(const char *base, const struct tc_user *u, const char *id,
                                char *out, size_t n)
{
    cJSON *entries = audit(base, u, id);
    ck_assert_int_eq(count_action(entries, "WORKSPACE_CREATED"), 1);
    ck_assert_int_eq(count_action(entries, "BLOB_FOLDERS_FAILED"), 1);
    const cJSON *e;
    out[0] = '\0';
    cJSON_ArrayForEach(e, entries)
    {
        const char *a = tc_jstr(e, "action");
        if (!a || strcmp(a, "BLOB_FOLDERS_FAILED") != 0)
            continue;
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "details");
        ck_assert_msg(cJSON_IsObject(d), "details is not an object");
        const char *why = tc_jstr(d, "reason");
        ck_assert_msg(why != NULL, "no details.reason");
        snprintf(out, n, "%s", why);
        ck_assert_str_eq(tc_jstr(e, "workspace_id") ? tc_jstr(e, "workspace_id") : "", id);
        ck_assert_str_eq(tc_jstr(e, "actor_id") ? tc_jstr(e, "actor_id") : "", u->oid);
    }
    cJSON_Delete(entries);
}

/* ---- blob storage from this process ---- */

static void use_storage(void)
{
    char err[256];
    ck_assert_int_eq(setenv("AZURE_STORAGE_CONNECTION_STRING", connstr, 1), 0);
    ck_assert_int_eq(setenv("AZURE_STORAGE_CONTAINER_NAME", container, 1), 0);
    ck_assert_msg(config_load(CONFIG_MIGRATE, "/nonexistent", err, sizeof err) == 0, "%s", err);
}

static void done_storage(void)
{
    httpc_cleanup();
    config_free();
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Exactly the three folder markers are under workspaces/<id>/. */
static void expect_folders(const char *id)
{
    char prefix[80], why[256] = "";
    cJSON *names = NULL;
    snprintf(prefix, sizeof(prefix), "workspaces/%s/", id);
    int rc = blob_list(prefix, &names, why, sizeof(why));
    ck_assert_msg(rc == 0, "blob_list: %d %s", rc, why);
    ck_assert_msg(cJSON_GetArraySize(names) == 3, "want 3 blobs under %s, got %d", prefix,
                  cJSON_GetArraySize(names));
    const char *got[3];
    for (int i = 0; i < 3; i++) {
        const cJSON *s = cJSON_GetArrayItem(names, i);
        ck_assert(cJSON_IsString(s));
        got[i] = s->valuestring;
    }
    qsort(got, 3, sizeof(got[0]), cmp_str);
    static const char *const want[3] = {"attachments/.keep", "documents/.keep", "logs/.keep"};
    for (int i = 0; i < 3; i++) {
        char full[128];
        snprintf(full, sizeof(full), "%s%s", prefix, want[i]);
        ck_assert_str_eq(got[i], full);
    }
    cJSON_Delete(names);
}

static void expect_no_blobs(const char *id)
{
    char prefix[80], why[256] = "";
    cJSON *names = NULL;
    snprintf(prefix, sizeof(prefix), "workspaces/%s/", id);
    int rc = blob_list(prefix, &names, why, sizeof(why));
    ck_assert_msg(rc == 0, "blob_list: %d %s", rc, why);
    ck_assert_int_eq(cJSON_GetArraySize(names), 0);
    cJSON_Delete(names);
}

/* The account key never reaches a worker log. */
static void key_not_logged(const char *stack, const char *key)
{
    char dir[512];
    tc_stack_dir(stack, dir, sizeof(dir));
    ck_assert_int_eq(sh("test -s %s/wsmsd.log", dir), 0);
    ck_assert_msg(sh("grep -qF -- '%s' %s/wsmsd.log", key, dir) == 1, "account key in %s/wsmsd.log",
                  dir);
}

/* ---- fixture ---- */

static void setup(void)
{
    char env[2048], path[700], hex[GUID_LEN + 1];
    const char *tmp = getenv("WSMS_TMP"), *shared = getenv("WSMS_URL");
    snprintf(setup_err, sizeof(setup_err), "setup did not finish");
    if (!tmp || !shared) {
        snprintf(setup_err, sizeof(setup_err), "WSMS_TMP/WSMS_URL not set (run through t/run)");
        return;
    }
    snprintf(url_shared, sizeof(url_shared), "%s", shared);
    snprintf(az_dir, sizeof(az_dir), "%s/azurite-blobapi-%s", tmp, tc_db_type());
    az_started = true; /* stop is harmless when start failed half way */
    if (sh("sh t/lib/azurite.sh start %s > /dev/null", az_dir) != 0) {
        /* azurite.sh printed why (npm's error, or Azurite's log) above */
        snprintf(setup_err, sizeof(setup_err),
                 "Azurite did not start: t/lib/azurite.sh's reason is printed above");
        return;
    }
    snprintf(path, sizeof(path), "%s.connstr", az_dir);
    if (sh("sh t/lib/azurite.sh connstr %s > %s", az_dir, path) != 0 ||
        read_line(path, connstr, sizeof(connstr)) != 0) {
        snprintf(setup_err, sizeof(setup_err), "no Azurite connection string");
        return;
    }
    /* the same connection string with another valid key */
    const char *k = strstr(connstr, "AccountKey="), *ke = k ? strchr(k, ';') : NULL;
    if (!k || !ke) {
        snprintf(setup_err, sizeof(setup_err), "unexpected connection string");
        return;
    }
    snprintf(wrong_connstr, sizeof(wrong_connstr), "%.*sAccountKey=%s%s", (int)(k - connstr),
             connstr, WRONG_KEY, ke);
    if (guid_new(hex) != 0) {
        snprintf(setup_err, sizeof(setup_err), "guid_new failed");
        return;
    }
    snprintf(container, sizeof(container), "wsms-api-%s-%.8s", tc_db_type(), hex);

    snprintf(env, sizeof(env),
             "LOG_LEVEL=DEBUG\nAZURE_STORAGE_CONNECTION_STRING=%s\n"
             "AZURE_STORAGE_CONTAINER_NAME=%s\n",
             connstr, container);
    if (tc_stack_start("blob", env, 2, url_blob, sizeof(url_blob)) != 0) {
        snprintf(setup_err, sizeof(setup_err), "own stack blob did not start");
        return;
    }
    blob_started = true;
    snprintf(env, sizeof(env),
             "LOG_LEVEL=DEBUG\nAZURE_STORAGE_CONNECTION_STRING=%s\n"
             "AZURE_STORAGE_CONTAINER_NAME=%s\n",
             wrong_connstr, container);
    if (tc_stack_start("blobkey", env, 1, url_key, sizeof(url_key)) != 0) {
        snprintf(setup_err, sizeof(setup_err), "own stack blobkey did not start");
        return;
    }
    key_started = true;
    if (setenv("WSMS_URL", url_blob, 1) != 0 || tc_user_new(&u_blob, "blobapi") != 0 ||
        setenv("WSMS_URL", url_key, 1) != 0 || tc_user_new(&u_key, "blobkey") != 0) {
        snprintf(setup_err, sizeof(setup_err), "cannot make the test users");
        return;
    }
    setup_err[0] = '\0';
}

static void teardown(void)
{
    if (blob_started)
        tc_stack_stop("blob");
    if (key_started)
        tc_stack_stop("blobkey");
    if (az_started && sh("sh t/lib/azurite.sh stop %s", az_dir) != 0)
        fprintf(stderr, "stopping Azurite failed\n");
    tc_user_free(&u_blob);
    tc_user_free(&u_key);
}

/* The shared stack only: no Azurite needed. */
static void setup_shared(void)
{
    const char *shared = getenv("WSMS_URL");
    if (!shared || !getenv("WSMS_STACK_DIR")) {
        snprintf(shared_err, sizeof(shared_err),
                 "WSMS_URL/WSMS_STACK_DIR not set (run through t/run)");
        return;
    }
    snprintf(url_shared, sizeof(url_shared), "%s", shared);
    if (tc_user_new(&u_shared, "blobnone") != 0) {
        snprintf(shared_err, sizeof(shared_err), "cannot make the test user");
        return;
    }
    shared_err[0] = '\0';
}

static void teardown_shared(void)
{
    tc_user_free(&u_shared);
}

/* ---- tests ---- */

/* Two workspaces: the first creates the container, the second finds it
 * there (409 ContainerAlreadyExists is fine). */
START_TEST(folders_created)
{
    ready();
    char id1[64], id2[64], dir[512];
    create(url_blob, &u_blob, "blob one", id1);
    create(url_blob, &u_blob, "blob two", id2);
    for (int i = 0; i < 2; i++) {
        const char *id = i ? id2 : id1;
        cJSON *entries = audit(url_blob, &u_blob, id);
        ck_assert_int_eq(count_action(entries, "WORKSPACE_CREATED"), 1);
        ck_assert_int_eq(count_action(entries, "BLOB_FOLDERS_FAILED"), 0);
        cJSON_Delete(entries);
    }
    use_storage();
    expect_folders(id1);
    expect_folders(id2);
    done_storage();
    tc_stack_dir("blob", dir, sizeof(dir));
    ck_assert_int_eq(sh("grep -q 'folders created for workspace %s' %s/wsmsd.log", id1, dir), 0);
    ck_assert_int_eq(sh("grep -q 'folders created for workspace %s' %s/wsmsd.log", id2, dir), 0);
    key_not_logged("blob", BLOB_DEV_KEY);
}
END_TEST

/* Another valid key: Azurite refuses the signature (403). */
START_TEST(wrong_key_audited)
{
    ready();
    char id[64], why[256], reason[512], throwaway[GUID_LEN + 1];
    /* the container exists, so listing below proves no blob was written */
    use_storage();
    ck_assert_int_eq(guid_new(throwaway), 0);
    int rc = blob_create_workspace_folders(throwaway, why, sizeof(why));
    ck_assert_msg(rc == 0, "folders with the right key: %d %s", rc, why);

    create(url_key, &u_key, "wrong key", id);
    blob_failure_reason(url_key, &u_key, id, reason, sizeof(reason));
    ck_assert_msg(strcasestr(reason, "authentication") && strstr(reason, "403"),
                  "reason does not name the authentication failure: %s", reason);
    ck_assert_ptr_null(strstr(reason, WRONG_KEY));
    expect_no_blobs(id);
    done_storage();

    /* the workspace itself is fine */
    struct tresp r;
    char path[128];
    snprintf(path, sizeof(path), "/workspaces/%s", id);
    as(&r, url_key, &u_key, "GET", path, NULL);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    key_not_logged("blobkey", WRONG_KEY);
}
END_TEST

/* The shared stack has no blob settings: skipped, logged, not audited. */
START_TEST(not_configured_skipped)
{
    ck_assert_msg(shared_err[0] == '\0', "setup failed: %s", shared_err);
    char id[64];
    create(url_shared, &u_shared, "no blob", id);
    cJSON *entries = audit(url_shared, &u_shared, id);
    ck_assert_int_eq(count_action(entries, "WORKSPACE_CREATED"), 1);
    ck_assert_int_eq(count_action(entries, "BLOB_FOLDERS_FAILED"), 0);
    ck_assert_int_eq(cJSON_GetArraySize(entries), 1);
    cJSON_Delete(entries);
    ck_assert_int_eq(sh("grep 'folders for workspace %s skipped' %s/wsmsd.log | "
                        "grep -q 'not configured'",
                        id, getenv("WSMS_STACK_DIR")),
                     0);
}
END_TEST

/* Runs last: stops Azurite. */
START_TEST(azurite_stopped_audited)
{
    ready();
    char id[64], reason[512];
    ck_assert_int_eq(sh("sh t/lib/azurite.sh stop %s", az_dir), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    create(url_blob, &u_blob, "azurite down", id);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* refused at once, well inside the default 10 s integration timeout */
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 10);
    blob_failure_reason(url_blob, &u_blob, id, reason, sizeof(reason));
    ck_assert_msg(strcasestr(reason, "connect") != NULL,
                  "reason does not mention the connection: %s", reason);
    struct tresp r;
    char path[128];
    snprintf(path, sizeof(path), "/workspaces/%s", id);
    as(&r, url_blob, &u_blob, "GET", path, NULL);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    char dir[512];
    tc_stack_dir("blob", dir, sizeof(dir));
    ck_assert_int_eq(sh("grep -q 'folders for workspace %s not created' %s/wsmsd.log", id, dir), 0);
    key_not_logged("blob", BLOB_DEV_KEY);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("blob_api");
    /* first, while WSMS_URL is still the shared stack's */
    TCase *none = tcase_create("not_configured");
    tcase_set_timeout(none, 60);
    tcase_add_unchecked_fixture(none, setup_shared, teardown_shared);
    tcase_add_test(none, not_configured_skipped);
    suite_add_tcase(s, none);
    TCase *tc = tcase_create("blob");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, folders_created);
    tcase_add_test(tc, wrong_key_audited);
    tcase_add_test(tc, azurite_stopped_audited);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
