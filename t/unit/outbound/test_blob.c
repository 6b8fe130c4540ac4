/* Unit tests of blob: the Shared Key signer (known-answer test checked
 * against an HMAC computed independently with the openssl CLI), connection
 * string parsing, and, against a real Azurite started through
 * t/lib/azurite.sh, creating and listing workspace folders, a wrong key
 * (403) and a stopped service. Azurite missing fails the "azurite" test
 * case, not a skip; the "signer" case does not need it. */
#include "outbound/blob.h"
#include "core/config.h"
#include "harness.h"
#include "core/err.h"
#include "outbound/httpc.h"
#include "core/util.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- harness: repo th_root, the fake, config ---- */

/* Environment for one test: integration settings cleared, then the pairs. */
static void teardown(void)
{
    httpc_cleanup();
    config_free();
}

static char az_dir[PATH_MAX];
static int az_port = -1;
static char az_err[256] = "not started";

#define DEV_KEY   BLOB_DEV_KEY
#define CONTAINER "wsms-unit"
/* a different, valid 64-byte key */
#define WRONG_KEY                                                                                  \
    "AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static void use_azurite(const char *key)
{
    char cs[512];
    ck_assert_msg(az_port > 0, "Azurite is not available: %s", az_err);
    snprintf(cs, sizeof cs,
             "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=%s;"
             "BlobEndpoint=http://127.0.0.1:%d/devstoreaccount1;",
             key, az_port);
    const char *kv[] = {"AZURE_STORAGE_CONNECTION_STRING", cs, "AZURE_STORAGE_CONTAINER_NAME",
                        CONTAINER, NULL};
    th_config_with(kv);
}

/* ---- signer ---- */

#define KAT_KEY_B64 "c2VjcmV0LWtleS1mb3Itd3Ntcy10ZXN0cy0wMTIzNDU2Nzg5"
#define KAT_KEY_HEX "7365637265742d6b65792d666f722d77736d732d74657374732d30313233343536373839"

static const char kat_list_sts[] = "GET\n\n\n\n\n\n\n\n\n\n\n\n"
                                   "x-ms-client-request-id:abc\n"
                                   "x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\n"
                                   "x-ms-version:2021-08-06\n"
                                   "/myaccount/mycontainer\n"
                                   "comp:list\n"
                                   "include:metadata,snapshots\n"
                                   "prefix:workspaces/x/\n"
                                   "restype:container";

static const char kat_put_sts[] = "PUT\n\n\n5\n\ntext/plain\n\n\n\n\n\n\n"
                                  "x-ms-blob-type:BlockBlob\n"
                                  "x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\n"
                                  "x-ms-version:2021-08-06\n"
                                  "/myaccount/mycontainer/workspaces/x/documents/.keep";

static void kat_account(struct blob_account *a)
{
    char why[128];
    ck_assert_int_eq(
        blob_parse_connection_string("DefaultEndpointsProtocol=https;AccountName=myaccount;"
                                     "AccountKey=" KAT_KEY_B64 ";EndpointSuffix=core.windows.net",
                                     a, why, sizeof why),
        0);
}

START_TEST(test_string_to_sign)
{
    /* names in mixed case and out of order; a non x-ms- header is ignored */
    const struct blob_kv hdrs[] = {{"X-MS-Version", "2021-08-06"},
                                   {"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"},
                                   {"Content-Type", "ignored"},
                                   {"x-ms-client-request-id", " abc "}};
    const struct blob_kv q[] = {{"restype", "container"},
                                {"Comp", "list"},
                                {"prefix", "workspaces/x/"},
                                {"include", "snapshots"},
                                {"include", "metadata"}};
    struct blob_sign_input in = {.verb = "GET",
                                 .path = "/mycontainer",
                                 .query = q,
                                 .nquery = 5,
                                 .headers = hdrs,
                                 .nheaders = 4};
    char *sts = blob_string_to_sign("myaccount", &in);
    ck_assert_ptr_nonnull(sts);
    ck_assert_str_eq(sts, kat_list_sts);
    free(sts);

    const struct blob_kv put_hdrs[] = {{"x-ms-version", "2021-08-06"},
                                       {"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"},
                                       {"x-ms-blob-type", "BlockBlob"}};
    struct blob_sign_input put = {.verb = "PUT",
                                  .path = "/mycontainer/workspaces/x/documents/.keep",
                                  .headers = put_hdrs,
                                  .nheaders = 3,
                                  .content_length = 5,
                                  .content_type = "text/plain"};
    sts = blob_string_to_sign("myaccount", &put);
    ck_assert_ptr_nonnull(sts);
    ck_assert_str_eq(sts, kat_put_sts);
    free(sts);

    /* a header value with a line break cannot be signed */
    const struct blob_kv bad[] = {{"x-ms-meta-a", "x\nx-ms-version:1"}};
    struct blob_sign_input b = {.verb = "GET", .path = "/c", .headers = bad, .nheaders = 1};
    ck_assert_ptr_null(blob_string_to_sign("myaccount", &b));
}
END_TEST

/* HMAC-SHA256 of sts with the KAT key, base64, computed by the openssl CLI. */
static void openssl_signature(const char *sts, char *out, size_t outlen)
{
    char esc[1024], cmd[2048];
    size_t j = 0;
    for (const char *p = sts; *p; p++) {
        ck_assert_msg(strchr("%\\'", *p) == NULL, "test vector needs escaping");
        ck_assert_uint_lt(j + 3, sizeof esc);
        if (*p == '\n') {
            esc[j++] = '\\';
            esc[j++] = 'n';
        } else {
            esc[j++] = *p;
        }
    }
    esc[j] = '\0';
    snprintf(cmd, sizeof cmd,
             "printf '%s' | openssl dgst -sha256 -mac HMAC -macopt hexkey:%s -binary | base64", esc,
             KAT_KEY_HEX);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(out, (int)outlen, f));
    ck_assert_int_eq(pclose(f), 0);
    out[strcspn(out, "\r\n")] = '\0';
    ck_assert_uint_eq(strlen(out), 44);
}

START_TEST(test_authorization_known_answer)
{
    struct blob_account a;
    char auth[256], sig[128], want[256];
    const char *vectors[] = {kat_list_sts, kat_put_sts};
    kat_account(&a);
    ck_assert_str_eq(a.endpoint, "https://myaccount.blob.core.windows.net");
    for (size_t i = 0; i < 2; i++) {
        openssl_signature(vectors[i], sig, sizeof sig);
        snprintf(want, sizeof want, "SharedKey myaccount:%s", sig);
        ck_assert_int_eq(blob_authorization(&a, vectors[i], auth, sizeof auth), 0);
        ck_assert_str_eq(auth, want);
    }
    /* too small an output buffer fails cleanly */
    ck_assert_int_eq(blob_authorization(&a, kat_put_sts, auth, 20), -1);
    blob_account_free(&a);
    ck_assert_ptr_null(a.key);
}
END_TEST

START_TEST(test_rfc1123)
{
    char d[30];
    ck_assert_int_eq(blob_rfc1123(0, d), 0);
    ck_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    ck_assert_int_eq(blob_rfc1123(1435361952, d), 0);
    ck_assert_str_eq(d, "Fri, 26 Jun 2015 23:39:12 GMT");
    ck_assert_int_eq(blob_rfc1123(951782400, d), 0);
    ck_assert_str_eq(d, "Tue, 29 Feb 2000 00:00:00 GMT");
}
END_TEST

START_TEST(test_connection_strings)
{
    struct blob_account a;
    char why[128];

    ck_assert_int_eq(
        blob_parse_connection_string("UseDevelopmentStorage=true", &a, why, sizeof why), 0);
    ck_assert_str_eq(a.account, "devstoreaccount1");
    ck_assert_str_eq(a.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
    ck_assert_uint_eq(a.keylen, 64);
    blob_account_free(&a);

    ck_assert_int_eq(blob_parse_connection_string(
                         " accountname=acct1 ; ACCOUNTKEY=" KAT_KEY_B64
                         "; DefaultEndpointsProtocol=http;EndpointSuffix=core.chinacloudapi.cn;",
                         &a, why, sizeof why),
                     0);
    ck_assert_str_eq(a.account, "acct1");
    ck_assert_str_eq(a.endpoint, "http://acct1.blob.core.chinacloudapi.cn");
    ck_assert_uint_eq(a.keylen, 36);
    ck_assert_int_eq(memcmp(a.key, "secret-key-for-wsms-tests-0123456789", 36), 0);
    blob_account_free(&a);

    ck_assert_int_eq(blob_parse_connection_string("AccountName=acct1;AccountKey=" KAT_KEY_B64, &a,
                                                  why, sizeof why),
                     0);
    ck_assert_str_eq(a.endpoint, "https://acct1.blob.core.windows.net");
    blob_account_free(&a);

    ck_assert_int_eq(blob_parse_connection_string(
                         "AccountName=acct1;AccountKey=" KAT_KEY_B64
                         ";BlobEndpoint=https://blobs.example.com/;QueueEndpoint=https://q/",
                         &a, why, sizeof why),
                     0);
    ck_assert_str_eq(a.endpoint, "https://blobs.example.com");
    blob_account_free(&a);

    static const struct {
        const char *cs, *why;
    } bad[] = {
        {"", "empty"},
        {"AccountName=acct1", "no AccountKey"},
        {"AccountName=acct1;SharedAccessSignature=sv=1&sig=x", "not supported"},
        {"AccountKey=" KAT_KEY_B64, "no AccountName"},
        {"AccountName=acct1;AccountKey=!!notbase64!!", "base64"},
        {"AccountName=acct1;AccountKey=" KAT_KEY_B64 ";DefaultEndpointsProtocol=ftp", "http"},
        {"AccountName=acct1;AccountKey=" KAT_KEY_B64 ";BlobEndpoint=ftp://x", "BlobEndpoint"},
        {"AccountName=acct/1;AccountKey=" KAT_KEY_B64, "AccountName"},
        {"AccountName", "'='"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        ck_assert_int_eq(blob_parse_connection_string(bad[i].cs, &a, why, sizeof why), -1);
        ck_assert_msg(strstr(why, bad[i].why) != NULL, "%s: %s", bad[i].cs, why);
        ck_assert_msg(strstr(why, KAT_KEY_B64) == NULL, "key in reason");
        ck_assert_ptr_null(a.account);
        ck_assert_ptr_null(a.key);
        ck_assert_ptr_null(a.endpoint);
    }
}
END_TEST

START_TEST(test_not_configured)
{
    char why[128];
    cJSON *names = (cJSON *)1;
    th_config_with(NULL);
    ck_assert_int_eq(
        blob_create_workspace_folders("123e4567-e89b-12d3-a456-426614174000", why, sizeof why), 1);
    ck_assert_int_eq(blob_list("workspaces/", &names, why, sizeof why), 1);
    ck_assert_ptr_null(names);
}
END_TEST

START_TEST(test_bad_arguments)
{
    char why[128];
    const char *kv[] = {"AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true",
                        "AZURE_STORAGE_CONTAINER_NAME", "Bad_Name", NULL};
    th_config_with(kv);
    ck_assert_int_eq(blob_create_workspace_folders("../../etc", why, sizeof why), -1);
    ck_assert_msg(strstr(why, "GUID") != NULL, "%s", why);
    ck_assert_int_eq(blob_create_workspace_folders(NULL, why, sizeof why), -1);
    ck_assert_int_eq(
        blob_create_workspace_folders("123e4567-e89b-12d3-a456-426614174000", why, sizeof why), -1);
    ck_assert_msg(strstr(why, "container") != NULL, "%s", why);
}
END_TEST

/* ---- against Azurite ---- */

static void assert_folders(const char *id)
{
    char prefix[128], why[256], want[160];
    cJSON *names = NULL;
    static const char *const folders[] = {"attachments", "documents", "logs"};
    snprintf(prefix, sizeof prefix, "workspaces/%s/", id);
    ck_assert_msg(blob_list(prefix, &names, why, sizeof why) == 0, "%s", why);
    ck_assert_int_eq(cJSON_GetArraySize(names), 3);
    for (int i = 0; i < 3; i++) {
        snprintf(want, sizeof want, "workspaces/%s/%s/.keep", id, folders[i]);
        ck_assert_str_eq(cJSON_GetArrayItem(names, i)->valuestring, want);
    }
    cJSON_Delete(names);
}

START_TEST(test_azurite_available)
{
    ck_assert_msg(az_port > 0, "Azurite is not available: %s", az_err);
}
END_TEST

START_TEST(test_create_and_list_folders)
{
    char why[256];
    const char *id1 = "123e4567-e89b-42d3-a456-426614174001";
    const char *id2 = "123E4567-E89B-42D3-A456-426614174002"; /* upper case is normalized */
    cJSON *names = NULL;
    use_azurite(DEV_KEY);
    ck_assert_msg(blob_create_workspace_folders(id1, why, sizeof why) == 0, "%s", why);
    assert_folders(id1);
    /* the container already exists now (409 is fine); folders are idempotent */
    ck_assert_msg(blob_create_workspace_folders(id1, why, sizeof why) == 0, "%s", why);
    ck_assert_msg(blob_create_workspace_folders(id2, why, sizeof why) == 0, "%s", why);
    assert_folders(id1);
    assert_folders("123e4567-e89b-42d3-a456-426614174002");
    ck_assert_msg(blob_list("workspaces/", &names, why, sizeof why) == 0, "%s", why);
    ck_assert_int_eq(cJSON_GetArraySize(names), 6);
    cJSON_Delete(names);
    ck_assert_msg(blob_list("nothing-here/", &names, why, sizeof why) == 0, "%s", why);
    ck_assert_int_eq(cJSON_GetArraySize(names), 0);
    cJSON_Delete(names);
}
END_TEST

START_TEST(test_dev_storage_shortcut)
{
    char why[256], cs[256];
    ck_assert_msg(az_port > 0, "Azurite is not available: %s", az_err);
    snprintf(cs, sizeof cs,
             "UseDevelopmentStorage=true;BlobEndpoint=http://127.0.0.1:%d/devstoreaccount1",
             az_port);
    const char *kv[] = {"AZURE_STORAGE_CONNECTION_STRING", cs, "AZURE_STORAGE_CONTAINER_NAME",
                        "wsms-dev", NULL};
    th_config_with(kv);
    ck_assert_msg(
        blob_create_workspace_folders("123e4567-e89b-42d3-a456-426614174003", why, sizeof why) == 0,
        "%s", why);
    assert_folders("123e4567-e89b-42d3-a456-426614174003");
}
END_TEST

static char cap_path[64];
static int saved_stderr = -1;

static void capture_begin(void)
{
    snprintf(cap_path, sizeof cap_path, "/tmp/wsms-log-XXXXXX");
    int fd = mkstemp(cap_path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    saved_stderr = dup(2);
    ck_assert_int_ge(saved_stderr, 0);
    ck_assert_int_ge(dup2(fd, 2), 0);
    close(fd);
}

static char *capture_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    FILE *f = fopen(cap_path, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 65536);
    ck_assert_ptr_nonnull(buf);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    unlink(cap_path);
    return buf;
}

START_TEST(test_wrong_key)
{
    char why[256];
    cJSON *names = NULL;
    use_azurite(WRONG_KEY);
    capture_begin();
    int rc = blob_create_workspace_folders("123e4567-e89b-42d3-a456-426614174004", why, sizeof why);
    int lrc = blob_list("workspaces/", &names, why + 128, sizeof why - 128);
    char *log = capture_end();
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(why, "authentication failed (403)") != NULL, "%s", why);
    ck_assert_int_eq(lrc, -1);
    ck_assert_msg(strstr(why + 128, "authentication failed (403)") != NULL, "%s", why + 128);
    ck_assert_ptr_null(names);
    ck_assert_msg(strstr(log, "authentication failed (403)") != NULL, "%s", log);
    ck_assert_msg(strstr(log, "AAAAvdM02") == NULL && strstr(log, "SharedKey") == NULL, "%s", log);
    free(log);
}
END_TEST

START_TEST(test_azurite_stopped)
{
    char why[256];
    use_azurite(DEV_KEY);
    ck_assert_int_eq(th_run_sh("sh '%s/t/lib/azurite.sh' stop '%s'", th_root, az_dir), 0);
    ck_assert_int_eq(
        blob_create_workspace_folders("123e4567-e89b-42d3-a456-426614174005", why, sizeof why), -1);
    ck_assert_msg(strstr(why, "connection refused") != NULL, "%s", why);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("blob");
    TCase *sign = tcase_create("signer");
    tcase_add_checked_fixture(sign, NULL, teardown);
    tcase_add_test(sign, test_string_to_sign);
    tcase_add_test(sign, test_authorization_known_answer);
    tcase_add_test(sign, test_rfc1123);
    tcase_add_test(sign, test_connection_strings);
    tcase_add_test(sign, test_not_configured);
    tcase_add_test(sign, test_bad_arguments);
    suite_add_tcase(s, sign);
    TCase *az = tcase_create("azurite");
    tcase_set_timeout(az, 60);
    tcase_add_checked_fixture(az, NULL, teardown);
    tcase_add_test(az, test_azurite_available);
    tcase_add_test(az, test_create_and_list_folders);
    tcase_add_test(az, test_dev_storage_shortcut);
    tcase_add_test(az, test_wrong_key);
    tcase_add_test(az, test_azurite_stopped); /* last: stops Azurite */
    suite_add_tcase(s, az);
    return s;
}

int main(void)
{
    if (th_find_root() != 0) {
        fprintf(stderr, "test_blob: cannot find the source tree (set WSMS_ROOT)\n");
        return 1;
    }
    snprintf(az_dir, sizeof az_dir, "/tmp/wsms-azurite-XXXXXX");
    if (!mkdtemp(az_dir)) {
        perror("test_blob: mkdtemp");
        return 1;
    }
    if (th_run_sh("sh '%s/t/lib/azurite.sh' start '%s' >/dev/null", th_root, az_dir) == 0)
        az_port = th_read_int_file(az_dir, "azurite.port");
    if (az_port <= 0) {
        /* azurite.sh printed why (npm's error, or Azurite's log) above */
        const char *why = getenv("WSMS_AZURITE_ERROR");
        snprintf(az_err, sizeof az_err, "t/lib/azurite.sh start failed: %s",
                 why && *why ? why : "its reason is printed above");
        fprintf(stderr, "test_blob: FAIL: %s; the Azurite tests will fail\n", az_err);
    }
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    th_run_sh("sh '%s/t/lib/azurite.sh' stop '%s'", th_root, az_dir);
    th_run_sh("rm -rf '%s'", az_dir);
    return failed || az_port <= 0 ? 1 : 0;
}
