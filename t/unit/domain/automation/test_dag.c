/* dag: cycles of length 1, 2 and 5 found and named as a path; acyclic
 * graphs (a diamond, a long chain) pass; bad indexes refused. */
#include "domain/automation/dag.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(self_loop)
{
    size_t d0[] = {0};
    struct dag_node n[] = {{"a", d0, 1}};
    char path[64];
    ck_assert_int_eq(dag_find_cycle(n, 1, path, sizeof(path)), 1);
    ck_assert_str_eq(path, "a -> a");
}
END_TEST

START_TEST(two_cycle)
{
    size_t da[] = {1}, db[] = {0};
    struct dag_node n[] = {{"nightly", da, 1}, {"report", db, 1}, {"alone", NULL, 0}};
    char path[64];
    ck_assert_int_eq(dag_find_cycle(n, 3, path, sizeof(path)), 1);
    ck_assert_str_eq(path, "nightly -> report -> nightly");
}
END_TEST

START_TEST(five_cycle_behind_a_tail)
{
    /* t -> a -> b -> c -> d -> e -> a */
    size_t dt[] = {1}, da[] = {2}, db[] = {3}, dc[] = {4}, dd[] = {5}, de[] = {1};
    struct dag_node n[] = {{"t", dt, 1}, {"a", da, 1}, {"b", db, 1},
                           {"c", dc, 1}, {"d", dd, 1}, {"e", de, 1}};
    char path[128];
    ck_assert_int_eq(dag_find_cycle(n, 6, path, sizeof(path)), 1);
    ck_assert_str_eq(path, "a -> b -> c -> d -> e -> a");
    char small[12];
    ck_assert_int_eq(dag_find_cycle(n, 6, small, sizeof(small)), 1);
    ck_assert_str_eq(small, "a -> b -...");
}
END_TEST

START_TEST(acyclic)
{
    /* diamond: join depends on left and right, both on root */
    size_t dl[] = {0}, dr[] = {0}, dj[] = {1, 2};
    struct dag_node n[] = {{"root", NULL, 0}, {"left", dl, 1}, {"right", dr, 1}, {"join", dj, 2}};
    char path[64] = "x";
    ck_assert_int_eq(dag_find_cycle(n, 4, path, sizeof(path)), 0);
    ck_assert_str_eq(path, "");
    ck_assert_int_eq(dag_find_cycle(NULL, 0, path, sizeof(path)), 0);

    /* a chain of 100000: no recursion limit */
    size_t len = 100000;
    struct dag_node *chain = calloc(len, sizeof(*chain));
    size_t *deps = calloc(len, sizeof(*deps));
    ck_assert_ptr_nonnull(chain);
    ck_assert_ptr_nonnull(deps);
    for (size_t i = 0; i < len; i++) {
        chain[i].label = "j";
        deps[i] = i + 1;
        chain[i].deps = i + 1 < len ? &deps[i] : NULL;
        chain[i].ndeps = i + 1 < len ? 1 : 0;
    }
    ck_assert_int_eq(dag_find_cycle(chain, len, path, sizeof(path)), 0);
    chain[len - 1].deps = &deps[len - 1];
    deps[len - 1] = 0; /* close it */
    chain[len - 1].ndeps = 1;
    ck_assert_int_eq(dag_find_cycle(chain, len, path, sizeof(path)), 1);
    ck_assert(strncmp(path, "j -> j -> ", 10) == 0);
    free(chain);
    free(deps);
}
END_TEST

START_TEST(bad_index)
{
    size_t d0[] = {7};
    struct dag_node n[] = {{"a", d0, 1}};
    char path[16];
    ck_assert_int_eq(dag_find_cycle(n, 1, path, sizeof(path)), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dag");
    TCase *tc = tcase_create("dag");
    tcase_add_test(tc, self_loop);
    tcase_add_test(tc, two_cycle);
    tcase_add_test(tc, five_cycle_behind_a_tail);
    tcase_add_test(tc, acyclic);
    tcase_add_test(tc, bad_index);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
