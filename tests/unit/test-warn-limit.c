/* SPDX-License-Identifier: MIT */
/* "Say it once" per key: first time, after the interval, forgetting, eviction of the oldest key. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "warn-limit.h"

static void warn_limit_allow__repeat__once_per_interval(void **state)
{
        WarnLimit w;

        warn_limit_init(&w, 100);
        assert_true(warn_limit_allow(&w, "svc", 1000));
        assert_false(warn_limit_allow(&w, "svc", 1001));
        assert_false(warn_limit_allow(&w, "svc", 1099));
        assert_true(warn_limit_allow(&w, "other", 1099));
        assert_true(warn_limit_allow(&w, "svc", 1100));
        assert_false(warn_limit_allow(&w, "svc", 1150));
}

static void warn_limit_allow__forever__only_first(void **state)
{
        WarnLimit w;

        warn_limit_init(&w, WARN_LIMIT_FOREVER);
        assert_true(warn_limit_allow(&w, "svc", 0));
        assert_false(warn_limit_allow(&w, "svc", UINT64_MAX - 1));
}

static void warn_limit_forget__then__allowed_again(void **state)
{
        WarnLimit w;

        warn_limit_init(&w, WARN_LIMIT_FOREVER);
        assert_true(warn_limit_allow(&w, "svc", 0));
        warn_limit_forget(&w, "svc");
        warn_limit_forget(&w, "never-seen");
        assert_true(warn_limit_allow(&w, "svc", 1));
        assert_false(warn_limit_allow(&w, "svc", 2));
}

static void warn_limit_allow__more_keys_than_slots__oldest_forgotten(void **state)
{
        WarnLimit w;
        char key[32];

        warn_limit_init(&w, WARN_LIMIT_FOREVER);
        for (unsigned i = 0; i < WARN_LIMIT_KEYS; i++) {
                snprintf(key, sizeof key, "k%u", i);
                assert_true(warn_limit_allow(&w, key, 10 + i));
        }
        assert_true(warn_limit_allow(&w, "new", 1000)); /* evicts k0, the oldest */
        assert_false(warn_limit_allow(&w, "k1", 1001));
        assert_false(warn_limit_allow(&w, "new", 1002));
        assert_true(warn_limit_allow(&w, "k0", 1003));
}

static void warn_limit_allow__long_keys__compared_on_prefix(void **state)
{
        WarnLimit w;
        char a[100], b[100];

        memset(a, 'x', sizeof a);
        a[sizeof a - 1] = 0;
        memcpy(b, a, sizeof b);
        b[80] = 'y';
        warn_limit_init(&w, WARN_LIMIT_FOREVER);
        assert_true(warn_limit_allow(&w, a, 0));
        assert_false(warn_limit_allow(&w, b, 0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(warn_limit_allow__repeat__once_per_interval),
                cmocka_unit_test(warn_limit_allow__forever__only_first),
                cmocka_unit_test(warn_limit_forget__then__allowed_again),
                cmocka_unit_test(warn_limit_allow__more_keys_than_slots__oldest_forgotten),
                cmocka_unit_test(warn_limit_allow__long_keys__compared_on_prefix),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
