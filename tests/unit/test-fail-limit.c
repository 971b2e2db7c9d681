/* SPDX-License-Identifier: MIT */
/* The per-address failure limit: a burst, then one failure per interval; other addresses unaffected. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "fail-limit.h"

#define SEC 1000000ULL
#define A   "192.168.3.10"
#define B   "192.168.3.11"

static FailLimit *limit(size_t capacity)
{
        FailLimit *l = NULL;

        assert_int_equal(fail_limit_new(capacity, SEC, 5, &l), 0);
        return l;
}

static void fail_limit_record__burst_used_up__blocked_once(void **state)
{
        FailLimit *l = limit(16);
        uint64_t now = 1000 * SEC;

        for (int i = 0; i < 4; i++) {
                assert_false(fail_limit_blocked(l, A, now));
                assert_false(fail_limit_record(l, A, now));
        }
        assert_false(fail_limit_blocked(l, A, now));
        assert_true(fail_limit_record(l, A, now)); /* the fifth failure blocks: reported once */
        assert_true(fail_limit_blocked(l, A, now));
        assert_false(fail_limit_record(l, A, now));
        assert_false(fail_limit_blocked(l, B, now));
        fail_limit_free(l);
}

static void fail_limit_blocked__after_one_interval__one_more_try(void **state)
{
        FailLimit *l = limit(16);
        uint64_t now = 1000 * SEC;

        for (int i = 0; i < 5; i++)
                fail_limit_record(l, A, now);
        assert_true(fail_limit_blocked(l, A, now + SEC - 1));
        assert_false(fail_limit_blocked(l, A, now + SEC));
        assert_true(fail_limit_record(l, A, now + SEC));
        assert_true(fail_limit_blocked(l, A, now + SEC));
        /* Quiet for the whole window: the full burst is back. */
        now += 6 * SEC;
        for (int i = 0; i < 4; i++)
                assert_false(fail_limit_record(l, A, now));
        assert_true(fail_limit_record(l, A, now));
        fail_limit_free(l);
}

static void fail_limit_record__slow_failures__never_blocked(void **state)
{
        FailLimit *l = limit(16);

        for (uint64_t t = 0; t < 100; t++) {
                assert_false(fail_limit_blocked(l, A, t * SEC));
                assert_false(fail_limit_record(l, A, t * SEC));
        }
        fail_limit_free(l);
}

static void fail_limit_record__table_full__least_indebted_forgotten(void **state)
{
        FailLimit *l = limit(2);
        uint64_t now = 1000 * SEC;

        for (int i = 0; i < 5; i++)
                fail_limit_record(l, A, now);
        fail_limit_record(l, B, now);
        assert_true(fail_limit_blocked(l, A, now));
        /* A third address takes B's slot (less debt), A stays blocked. */
        fail_limit_record(l, "10.0.0.1", now);
        assert_true(fail_limit_blocked(l, A, now));
        assert_false(fail_limit_blocked(l, B, now));
        fail_limit_free(l);
}

static void fail_limit_new__bad_arguments__einval(void **state)
{
        FailLimit *l = NULL;

        assert_int_equal(fail_limit_new(0, SEC, 1, &l), -EINVAL);
        assert_int_equal(fail_limit_new(1, 0, 1, &l), -EINVAL);
        assert_int_equal(fail_limit_new(1, SEC, 0, &l), -EINVAL);
        assert_int_equal(fail_limit_new(1, UINT64_MAX / 2, 2, &l), -EINVAL);
        assert_null(l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(fail_limit_record__burst_used_up__blocked_once),
                cmocka_unit_test(fail_limit_blocked__after_one_interval__one_more_try),
                cmocka_unit_test(fail_limit_record__slow_failures__never_blocked),
                cmocka_unit_test(fail_limit_record__table_full__least_indebted_forgotten),
                cmocka_unit_test(fail_limit_new__bad_arguments__einval),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
