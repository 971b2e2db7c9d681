/* SPDX-License-Identifier: MIT */
/* Child processes on the event loop: output lines, exit codes, signals, timeouts, environment. */

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "subprocess.h"

typedef struct Run {
        sd_event *event;
        char lines[16][128];
        unsigned n_lines;
        bool done;
        SpawnResult result;
        char output[1024];
} Run;

static void on_line(const char *line, void *userdata)
{
        Run *r = userdata;
        if (r->n_lines < 16)
                snprintf(r->lines[r->n_lines++], sizeof r->lines[0], "%s", line);
}

static void on_done(const SpawnResult *res, void *userdata)
{
        Run *r = userdata;
        r->done = true;
        r->result = *res;
        if (res->output)
                snprintf(r->output, sizeof r->output, "%s", res->output);
        r->result.output = NULL;
        sd_event_exit(r->event, 0);
}

static int run(Run *r, char *const *argv, char *const *envp, uint64_t timeout_usec)
{
        SpawnOptions o = {.argv = argv,
                          .envp = envp,
                          .timeout_usec = timeout_usec,
                          .capture = true,
                          .on_line = on_line,
                          .on_done = on_done,
                          .userdata = r};
        int q;

        memset(r, 0, sizeof *r);
        assert_int_equal(sd_event_new(&r->event), 0);
        q = spawn_start(r->event, &o, NULL);
        if (q >= 0)
                assert_int_equal(sd_event_loop(r->event), 0);
        sd_event_unref(r->event);
        return q;
}

static void spawn_start__output_and_exit_code__lines_in_order(void **state)
{
        char *argv[] = {"/bin/sh", "-c", "echo one; echo two >&2; printf three; exit 3", NULL};
        Run r;

        assert_int_equal(run(&r, argv, NULL, 10 * 1000000ULL), 0);
        assert_true(r.done);
        assert_int_equal(r.result.exit_code, 3);
        assert_int_equal(r.result.signal, 0);
        assert_false(r.result.timed_out);
        assert_int_equal(r.n_lines, 3);
        assert_string_equal(r.lines[0], "one");
        assert_string_equal(r.lines[1], "two");
        assert_string_equal(r.lines[2], "three");
        assert_string_equal(r.output, "one\ntwo\nthree");
}

static void spawn_start__killed_by_signal__signal_reported(void **state)
{
        char *argv[] = {"/bin/sh", "-c", "kill -KILL $$", NULL};
        char buf[64];
        Run r;

        assert_int_equal(run(&r, argv, NULL, 10 * 1000000ULL), 0);
        assert_int_equal(r.result.signal, SIGKILL);
        assert_string_equal(spawn_result_describe(&r.result, buf, sizeof buf), "killed by signal KILL");
}

static void spawn_start__timeout__child_killed(void **state)
{
        char *argv[] = {"/bin/sleep", "30", NULL};
        Run r;

        assert_int_equal(run(&r, argv, NULL, 200 * 1000ULL), 0);
        assert_true(r.result.timed_out);
        assert_int_equal(r.result.signal, SIGTERM);
}

static void spawn_start__explicit_environment__only_that(void **state)
{
        char *argv[] = {"/usr/bin/env", NULL};
        char *envp[] = {"A=1", "B=two", NULL};
        Run r;

        assert_int_equal(run(&r, argv, envp, 10 * 1000000ULL), 0);
        assert_int_equal(r.result.exit_code, 0);
        assert_int_equal(r.n_lines, 2);
        assert_string_equal(r.lines[0], "A=1");
        assert_string_equal(r.lines[1], "B=two");
}

static void spawn_start__missing_program__enoent(void **state)
{
        char *argv[] = {"/nonexistent/kubeadm", "version", NULL};
        Run r;

        assert_int_equal(run(&r, argv, NULL, 10 * 1000000ULL), -ENOENT);
        assert_false(r.done);
}

static void spawn_start__blocked_signals__not_inherited(void **state)
{
        /* The agent blocks SIGTERM for its signalfd; a child must still die of SIGTERM. */
        char *argv[] = {"/bin/sh", "-c", "kill -TERM $$; sleep 5", NULL};
        sigset_t mask, old;
        Run r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, &old);
        assert_int_equal(run(&r, argv, NULL, 10 * 1000000ULL), 0);
        sigprocmask(SIG_SETMASK, &old, NULL);
        assert_int_equal(r.result.signal, SIGTERM);
        assert_false(r.result.timed_out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(spawn_start__output_and_exit_code__lines_in_order),
                cmocka_unit_test(spawn_start__killed_by_signal__signal_reported),
                cmocka_unit_test(spawn_start__timeout__child_killed),
                cmocka_unit_test(spawn_start__explicit_environment__only_that),
                cmocka_unit_test(spawn_start__missing_program__enoent),
                cmocka_unit_test(spawn_start__blocked_signals__not_inherited),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
