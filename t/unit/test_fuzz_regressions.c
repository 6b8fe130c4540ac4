/* Replays the fuzzing inputs under the ASan+UBSan build in `make check`:
 * every file of t/fuzz/corpus/<name>/ (the seeds) and of
 * t/fuzz/regressions/<name>/ (inputs that once crashed a target) goes
 * through the very entry point of t/fuzz/fuzz_<name>.c, included here with
 * the libFuzzer entry renamed. A crash, a sanitizer report or a violated
 * invariant (the targets abort()) fails the test. */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZ_ENTRY fuzz_http_one
#include "../fuzz/fuzz_http.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_json_one
#include "../fuzz/fuzz_json.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_jwt_one
#define FUZZ_INIT  fuzz_jwt_init
#include "../fuzz/fuzz_jwt.c"
#undef FUZZ_ENTRY
#undef FUZZ_INIT
#define FUZZ_ENTRY fuzz_jwks_one
#include "../fuzz/fuzz_jwks.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_env_one
#include "../fuzz/fuzz_env.c"
#undef FUZZ_ENTRY

typedef int (*entry_fn)(const uint8_t *data, size_t size);

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *nb = realloc(buf, cap);
            ck_assert_ptr_nonnull(nb);
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Feeds every regular file of dir to fn; returns how many. A missing
 * directory counts 0. */
static int replay_dir(const char *dir, entry_fn fn)
{
    int count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        struct stat sb;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        size_t len = 0;
        unsigned char *data = slurp(path, &len);
        fprintf(stderr, "replaying %s (%zu bytes)\n", path, len);
        ck_assert_int_eq(fn(data, len), 0);
        free(data);
        count++;
    }
    closedir(d);
    return count;
}

static void replay(const char *name, entry_fn fn)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "t/fuzz/corpus/%s", name);
    int seeds = replay_dir(dir, fn);
    ck_assert_msg(seeds >= 3, "%s: only %d seed files (run from the top directory)", dir, seeds);
    snprintf(dir, sizeof(dir), "t/fuzz/regressions/%s", name);
    replay_dir(dir, fn);
    /* and the empty input */
    ck_assert_int_eq(fn((const uint8_t *)"", 0), 0);
}

START_TEST(http_inputs)
{
    replay("http", fuzz_http_one);
}
END_TEST

START_TEST(json_inputs)
{
    replay("json", fuzz_json_one);
}
END_TEST

START_TEST(jwt_inputs)
{
    ck_assert_int_eq(fuzz_jwt_init(NULL, NULL), 0);
    replay("jwt", fuzz_jwt_one);
    EVP_PKEY_free(fz_jwt_key);
    fz_jwt_key = NULL;
    entra_reset();
    config_free();
}
END_TEST

START_TEST(jwks_inputs)
{
    replay("jwks", fuzz_jwks_one);
}
END_TEST

START_TEST(env_inputs)
{
    replay("env", fuzz_env_one);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fuzz_regressions");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, http_inputs);
    tcase_add_test(tc, json_inputs);
    tcase_add_test(tc, jwt_inputs);
    tcase_add_test(tc, jwks_inputs);
    tcase_add_test(tc, env_inputs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
