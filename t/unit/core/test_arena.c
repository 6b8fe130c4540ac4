/* arena: allocation, alignment, cap, deferred destructors, reset. */
#include "core/arena.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int calls;
static void count(void *p)
{
    (void)p;
    calls++;
}

START_TEST(alloc_zeroed_aligned_and_reset)
{
    struct arena *a = arena_new(0);
    ck_assert_ptr_nonnull(a);
    for (int i = 0; i < 1000; i++) {
        unsigned char *p = arena_alloc(a, (size_t)(i % 97) + 1);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq((uintptr_t)p % sizeof(max_align_t), 0);
        for (int k = 0; k < i % 97 + 1; k++)
            ck_assert_int_eq(p[k], 0);
        memset(p, 0xab, (size_t)(i % 97) + 1);
    }
    char *big = arena_alloc(a, 100000); /* larger than a block */
    ck_assert_ptr_nonnull(big);
    ck_assert_int_gt((long)arena_used(a), 100000);
    arena_reset(a);
    ck_assert_int_eq((long)arena_used(a), 0);
    arena_free(a);
}
END_TEST

START_TEST(cap_is_enforced)
{
    struct arena *a = arena_new(4096);
    ck_assert_ptr_nonnull(arena_alloc(a, 2000));
    ck_assert_ptr_null(arena_alloc(a, 4000));
    ck_assert_ptr_null(arena_alloc(a, SIZE_MAX));
    arena_reset(a);
    ck_assert_ptr_nonnull(arena_alloc(a, 4000));
    arena_free(a);
}
END_TEST

START_TEST(strings_and_printf)
{
    struct arena *a = arena_new(0);
    ck_assert_str_eq(arena_strdup(a, "abc"), "abc");
    ck_assert_str_eq(arena_strndup(a, "abcdef", 3), "abc");
    ck_assert_ptr_null(arena_strdup(a, NULL));
    ck_assert_str_eq(arena_printf(a, "%d-%s", 42, "x"), "42-x");
    arena_free(a);
}
END_TEST

START_TEST(defer_runs_on_reset_and_free)
{
    struct arena *a = arena_new(0);
    calls = 0;
    arena_defer(a, count, NULL);
    arena_defer(a, count, NULL);
    arena_defer(a, free, malloc(10));
    ck_assert_int_eq(calls, 0);
    arena_reset(a);
    ck_assert_int_eq(calls, 2);
    arena_defer(a, count, NULL);
    arena_free(a);
    ck_assert_int_eq(calls, 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("arena");
    tcase_add_test(tc, alloc_zeroed_aligned_and_reset);
    tcase_add_test(tc, cap_is_enforced);
    tcase_add_test(tc, strings_and_printf);
    tcase_add_test(tc, defer_runs_on_reset_and_free);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
