/* SPDX-License-Identifier: MIT */
/* The boot file watch: a write to role.txt or cluster.txt is one callback after the editor's burst, other files
 * are ignored, and a watched directory costs the loop nothing while nothing happens (no periodic re-check: the
 * idle agent sleeps); a directory that does not exist yet is polled. */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "boot-watch.h"

typedef struct T {
        sd_event *e;
        char dir[64];
        BootWatch *w;
        unsigned calls;
} T;

static void on_change(void *userdata)
{
        T *t = userdata;
        t->calls++;
}

/* Runs the loop for usec, or until there were `until` callbacks; returns the iterations it made (each one a
 * wakeup). Generous deadlines: a loaded machine must not fail the test, only a missed event can. */
static uint64_t run_until(T *t, uint64_t usec, unsigned until)
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

static void write_file(const char *dir, const char *name, const char *text)
{
        char path[128];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
        T *t = calloc(1, sizeof *t);

        assert_non_null(t);
        snprintf(t->dir, sizeof t->dir, "/tmp/piagent-boot-watch-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        assert_int_equal(sd_event_new(&t->e), 0);
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        T *t = *state;
        char path[128];

        boot_watch_free(t->w);
        sd_event_unref(t->e);
        for (const char *const *n = (const char *const[]){"role.txt", "cluster.txt", "notes.txt", NULL}; *n; n++) {
                snprintf(path, sizeof path, "%s/%s", t->dir, *n);
                (void)unlink(path);
        }
        (void)rmdir(t->dir);
        free(t);
        return 0;
}

static void boot_watch__burst_of_writes__one_callback(void **state)
{
        T *t = *state;

        assert_int_equal(boot_watch_new(t->e, t->dir, on_change, t, &t->w), 0);
        write_file(t->dir, "role.txt", "role=");
        write_file(t->dir, "role.txt", "role=lb\n");
        write_file(t->dir, "cluster.txt", "cluster=x\n");
        run_until(t, 5000 * 1000, 1);
        assert_int_equal(t->calls, 1);
        /* The burst was one change: no second callback after the settle time. */
        run_until(t, 500 * 1000, 2);
        assert_int_equal(t->calls, 1);
}

static void boot_watch__other_file__no_callback(void **state)
{
        T *t = *state;

        assert_int_equal(boot_watch_new(t->e, t->dir, on_change, t, &t->w), 0);
        write_file(t->dir, "notes.txt", "hello\n");
        run_until(t, 500 * 1000, 1);
        assert_int_equal(t->calls, 0);
}

static void boot_watch__watched_and_idle__loop_sleeps(void **state)
{
        T *t = *state;

        assert_int_equal(boot_watch_new(t->e, t->dir, on_change, t, &t->w), 0);
        assert_false(boot_watch_polling(t->w));
        /* The loop sleeps until the test's deadline: one iteration. */
        assert_true(run_until(t, 1200 * 1000, 1) <= 1);
        assert_int_equal(t->calls, 0);
}

/* The boot partition mounted over the directory after the watch began (root only: a private mount namespace). */
static void boot_watch__partition_mounted_later__its_files_watched(void **state)
{
        T *t = *state;

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                skip();
                return;
        }
        assert_int_equal(boot_watch_new(t->e, t->dir, on_change, t, &t->w), 0);
        assert_int_equal(mount("piagent-test", t->dir, "tmpfs", 0, "size=64k"), 0);
        run_until(t, 5000 * 1000, 1); /* the mount itself: the files are read again */
        assert_int_equal(t->calls, 1);
        t->calls = 0;
        write_file(t->dir, "role.txt", "role=master\n");
        run_until(t, 5000 * 1000, 1);
        assert_int_equal(t->calls, 1);
        assert_int_equal(umount2(t->dir, MNT_DETACH), 0);
}

static void boot_watch__missing_directory__polled(void **state)
{
        T *t = *state;
        char missing[96];

        snprintf(missing, sizeof missing, "%s/firmware", t->dir);
        assert_int_equal(boot_watch_new(t->e, missing, on_change, t, &t->w), 0);
        assert_true(boot_watch_polling(t->w));
}

/* A mount elsewhere on the machine costs one stat(): no re-read, no callback. */
static void boot_watch__unrelated_mount__no_callback(void **state)
{
        T *t = *state;
        char other[96];

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                skip();
                return;
        }
        snprintf(other, sizeof other, "%s-other", t->dir);
        assert_int_equal(mkdir(other, 0700), 0);
        assert_int_equal(boot_watch_new(t->e, t->dir, on_change, t, &t->w), 0);
        assert_int_equal(mount("piagent-test", other, "tmpfs", 0, "size=64k"), 0);
        run_until(t, 1000 * 1000, 1);
        assert_int_equal(t->calls, 0);
        assert_false(boot_watch_polling(t->w));
        write_file(t->dir, "role.txt", "role=master\n");
        run_until(t, 5000 * 1000, 1);
        assert_int_equal(t->calls, 1);
        assert_int_equal(umount2(other, MNT_DETACH), 0);
        assert_int_equal(rmdir(other), 0);
}

int main(void)
{
        /* Mounts made on the machine meanwhile (other test beds' containers) would wake the loop: the tests run in
         * a mount namespace of their own, where they do not propagate (root only; elsewhere they run as they are). */
        if (unshare(CLONE_NEWNS) >= 0)
                (void)mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(boot_watch__burst_of_writes__one_callback, setup, teardown),
                cmocka_unit_test_setup_teardown(boot_watch__other_file__no_callback, setup, teardown),
                cmocka_unit_test_setup_teardown(boot_watch__watched_and_idle__loop_sleeps, setup, teardown),
                cmocka_unit_test_setup_teardown(boot_watch__partition_mounted_later__its_files_watched, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(boot_watch__unrelated_mount__no_callback, setup, teardown),
                cmocka_unit_test_setup_teardown(boot_watch__missing_directory__polled, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
