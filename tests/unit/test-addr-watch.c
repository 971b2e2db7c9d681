/* SPDX-License-Identifier: MIT */
/* The netlink address watch in a network namespace of the test's own (root only; skipped otherwise): an address
 * added and removed is reported each time, one present at the start is reported once, other addresses are not,
 * and nothing wakes the loop while nothing changes. */

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "addr-watch.h"

#define VIP "10.77.0.240"

typedef struct T {
        sd_event *e;
        AddrWatch *w;
        unsigned calls;
        bool last;
} T;

static void on_change(bool present, void *userdata)
{
        T *t = userdata;
        t->calls++;
        t->last = present;
}

/* Runs the loop for usec, or until `until` callbacks have come; returns the iterations it made. */
static uint64_t run_for(T *t, uint64_t usec, unsigned until)
{
        uint64_t before, after, now, deadline;

        assert_int_equal(sd_event_get_iteration(t->e, &before), 0);
        assert_true(sd_event_now(t->e, CLOCK_MONOTONIC, &now) >= 0);
        for (deadline = now + usec; now < deadline && t->calls < until;
             assert_true(sd_event_now(t->e, CLOCK_MONOTONIC, &now) >= 0))
                assert_true(sd_event_run(t->e, deadline - now) >= 0);
        assert_int_equal(sd_event_get_iteration(t->e, &after), 0);
        return after - before;
}

static void ip(const char *args)
{
        char cmd[128];

        snprintf(cmd, sizeof cmd, "ip %s", args);
        assert_int_equal(system(cmd), 0);
}

static struct in_addr vip(void)
{
        struct in_addr a;

        assert_int_equal(inet_pton(AF_INET, VIP, &a), 1);
        return a;
}

/* A network namespace of the test's own; skipped without root or iproute2. */
static bool own_netns(void)
{
        if (unshare(CLONE_NEWNET) < 0 || system("ip link set lo up") != 0) {
                skip();
                return false;
        }
        return true;
}

static int setup(void **state)
{
        T *t = calloc(1, sizeof *t);

        assert_non_null(t);
        assert_int_equal(sd_event_new(&t->e), 0);
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        T *t = *state;

        addr_watch_free(t->w);
        sd_event_unref(t->e);
        free(t);
        return 0;
}

static void addr_watch__added_then_removed__reported_each_time(void **state)
{
        T *t = *state;

        if (!own_netns())
                return;

        assert_int_equal(addr_watch_new(t->e, vip(), on_change, t, &t->w), 0);
        run_for(t, 200 * 1000, 1);
        assert_int_equal(t->calls, 0);
        assert_false(addr_watch_present(t->w));

        ip("-4 addr add " VIP "/32 scope link dev lo");
        run_for(t, 2000 * 1000, 1);
        assert_int_equal(t->calls, 1);
        assert_true(t->last);
        assert_true(addr_watch_present(t->w));

        ip("-4 addr del " VIP "/32 dev lo");
        run_for(t, 2000 * 1000, 2);
        assert_int_equal(t->calls, 2);
        assert_false(t->last);
        assert_false(addr_watch_present(t->w));
}

static void addr_watch__present_at_start__reported_once(void **state)
{
        T *t = *state;

        if (!own_netns())
                return;

        ip("-4 addr add " VIP "/32 scope link dev lo");
        assert_int_equal(addr_watch_new(t->e, vip(), on_change, t, &t->w), 0);
        run_for(t, 300 * 1000, 2);
        assert_int_equal(t->calls, 1);
        assert_true(t->last);
}

static void addr_watch__other_address__ignored(void **state)
{
        T *t = *state;

        if (!own_netns())
                return;

        assert_int_equal(addr_watch_new(t->e, vip(), on_change, t, &t->w), 0);
        ip("-4 addr add 10.77.0.241/32 dev lo");
        ip("-4 addr add 10.77.0.0/24 dev lo");
        run_for(t, 300 * 1000, 1);
        assert_int_equal(t->calls, 0);
}

static void addr_watch__nothing_changes__loop_sleeps(void **state)
{
        T *t = *state;

        if (!own_netns())
                return;

        assert_int_equal(addr_watch_new(t->e, vip(), on_change, t, &t->w), 0);
        run_for(t, 100 * 1000, 1); /* the first dump's answer */
        /* No timer, no poll: the loop sleeps until the test's deadline. */
        assert_true(run_for(t, 1200 * 1000, 1) <= 1);
        assert_int_equal(t->calls, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(addr_watch__added_then_removed__reported_each_time, setup, teardown),
                cmocka_unit_test_setup_teardown(addr_watch__present_at_start__reported_once, setup, teardown),
                cmocka_unit_test_setup_teardown(addr_watch__other_address__ignored, setup, teardown),
                cmocka_unit_test_setup_teardown(addr_watch__nothing_changes__loop_sleeps, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
