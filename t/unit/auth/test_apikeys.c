/* apikeys (auth): key generation and parsing round trip, the hash being
 * of the secret only, malformed keys, scopes text <-> mask <-> role. */
#include "auth/apikeys.h"

#include <check.h>
#include <string.h>

START_TEST(generate_and_parse)
{
    char key[APIKEY_LEN + 1], prefix[APIKEY_PREFIX_LEN + 1], hash[APIKEY_HASH_LEN + 1];
    char p2[APIKEY_PREFIX_LEN + 1], h2[APIKEY_HASH_LEN + 1];
    char key2[APIKEY_LEN + 1], p3[APIKEY_PREFIX_LEN + 1], h3[APIKEY_HASH_LEN + 1];
    ck_assert_int_eq(apikey_generate(key, prefix, hash), 0);
    ck_assert_int_eq(strlen(key), APIKEY_LEN);
    ck_assert(strncmp(key, "wsk_", 4) == 0);
    ck_assert_int_eq(strlen(hash), APIKEY_HASH_LEN);
    ck_assert_int_eq(apikey_parse(key, p2, h2), 0);
    ck_assert_str_eq(p2, prefix);
    ck_assert_str_eq(h2, hash);
    ck_assert_ptr_null(strstr(key, hash));
    ck_assert_int_eq(apikey_generate(key2, p3, h3), 0);
    ck_assert_str_ne(key, key2);
    ck_assert_str_ne(hash, h3);
    /* one character of the secret changes the hash */
    key[APIKEY_LEN - 1] = key[APIKEY_LEN - 1] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(apikey_parse(key, p2, h2), 0);
    ck_assert_str_ne(h2, hash);
}
END_TEST

START_TEST(malformed)
{
    char p[APIKEY_PREFIX_LEN + 1], h[APIKEY_HASH_LEN + 1];
    char key[APIKEY_LEN + 1], prefix[APIKEY_PREFIX_LEN + 1], hash[APIKEY_HASH_LEN + 1];
    ck_assert_int_eq(apikey_generate(key, prefix, hash), 0);
    ck_assert_int_ne(apikey_parse(NULL, p, h), 0);
    ck_assert_int_ne(apikey_parse("", p, h), 0);
    ck_assert_int_ne(apikey_parse("wsk_", p, h), 0);
    char bad[APIKEY_LEN + 2];
    memcpy(bad, key, sizeof(key));
    bad[0] = 'x';
    ck_assert_int_ne(apikey_parse(bad, p, h), 0);
    memcpy(bad, key, sizeof(key));
    bad[5] = 'G'; /* prefix is lower-case hex */
    ck_assert_int_ne(apikey_parse(bad, p, h), 0);
    memcpy(bad, key, sizeof(key));
    bad[APIKEY_LEN - 3] = '=';
    ck_assert_int_ne(apikey_parse(bad, p, h), 0);
    memcpy(bad, key, sizeof(key));
    bad[APIKEY_LEN] = 'A';
    bad[APIKEY_LEN + 1] = '\0';
    ck_assert_int_ne(apikey_parse(bad, p, h), 0);
}
END_TEST

START_TEST(scopes)
{
    char buf[32];
    ck_assert_uint_eq(apikey_scopes_parse("read"), SCOPE_READ);
    ck_assert_uint_eq(apikey_scopes_parse("read,admin"), SCOPE_READ | SCOPE_ADMIN);
    ck_assert_uint_eq(apikey_scopes_parse(""), 0);
    ck_assert_uint_eq(apikey_scopes_parse("read,"), 0);
    ck_assert_uint_eq(apikey_scopes_parse(",read"), 0);
    ck_assert_uint_eq(apikey_scopes_parse("reader"), 0);
    ck_assert_uint_eq(apikey_scopes_parse("read,bogus"), 0);
    apikey_scopes_text(SCOPE_ADMIN | SCOPE_READ, buf, sizeof(buf));
    ck_assert_str_eq(buf, "read,admin");
    ck_assert_int_eq(apikey_scopes_role(SCOPE_READ), ROLE_VIEWER);
    ck_assert_int_eq(apikey_scopes_role(SCOPE_READ | SCOPE_WRITE), ROLE_MEMBER);
    ck_assert_int_eq(apikey_scopes_role(SCOPE_ADMIN), ROLE_ADMIN);
    ck_assert_int_eq(apikey_scopes_role(0), ROLE_NONE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("apikeys");
    TCase *tc = tcase_create("apikeys");
    tcase_add_test(tc, generate_and_parse);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, scopes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
