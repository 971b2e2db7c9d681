/* SPDX-License-Identifier: MIT */
/* The clock's synchronisation as time-sync.target means it (timesyncd's flag file; the kernel's NTP state is
 * left out here: it is the host's), and cluster.txt's ntp= as a timesyncd drop-in: written, rewritten only
 * when it changes, removed when the key goes. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"
#include "timesync.h"

static char dir[] = "/tmp/piagent-test-timesync-XXXXXX";

static int setup(void **state)
{
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void timesync_probe__flag_file__synchronised(void **state)
{
        char flag[128];
        bool synced = true;

        snprintf(flag, sizeof flag, "%s/synchronized", dir);
        assert_int_equal(timesync_probe(flag, false, &synced), 0);
        assert_false(synced);
        assert_int_equal(write_file_atomic(flag, "", 0, 0644), 0);
        assert_int_equal(timesync_probe(flag, false, &synced), 0);
        assert_true(synced);
        unlink(flag);
}

/* The kernel's word: whatever the host's clock is, asking works (adjtimex read-only, no CAP_SYS_TIME needed), and
 * the flag still counts. */
static void timesync_probe__kernel__asked_flag_still_counts(void **state)
{
        char flag[128];
        bool synced = false;

        snprintf(flag, sizeof flag, "%s/synchronized", dir);
        assert_int_equal(timesync_probe(flag, true, &synced), 0);
        assert_int_equal(write_file_atomic(flag, "", 0, 0644), 0);
        assert_int_equal(timesync_probe(flag, true, &synced), 0);
        assert_true(synced);
        unlink(flag);
}

static void timesync_probe__unreadable_directory__error(void **state)
{
        bool synced = false;

        /* A path through a regular file: not "absent", an error the caller reports. */
        char flag[128], file[128];
        snprintf(file, sizeof file, "%s/file", dir);
        snprintf(flag, sizeof flag, "%s/file/synchronized", dir);
        assert_int_equal(write_file_atomic(file, "x", 1, 0644), 0);
        assert_int_equal(timesync_probe(flag, false, &synced), -ENOTDIR);
        unlink(file);
}

static void timesync_write_dropin__written_changed_removed(void **state)
{
        char path[160];
        _cleanup_free_ char *text = NULL;
        bool changed = false;

        snprintf(path, sizeof path, "%s/timesyncd.conf.d/piagent.conf", dir);
        assert_int_equal(timesync_write_dropin(path, NULL, &changed), 0);
        assert_false(changed);

        assert_int_equal(timesync_write_dropin(path, "192.168.1.1 ntp.lan", &changed), 0);
        assert_true(changed);
        assert_int_equal(read_file_full(path, 4096, &text, NULL), 0);
        assert_non_null(strstr(text, "\n[Time]\nNTP=192.168.1.1 ntp.lan\n"));

        assert_int_equal(timesync_write_dropin(path, "192.168.1.1 ntp.lan", &changed), 0);
        assert_false(changed); /* the same: timesyncd is not restarted for nothing */
        assert_int_equal(timesync_write_dropin(path, "ntp.lan", &changed), 0);
        assert_true(changed);

        assert_int_equal(timesync_write_dropin(path, NULL, &changed), 0);
        assert_true(changed);
        assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(timesync_probe__flag_file__synchronised),
                cmocka_unit_test(timesync_probe__kernel__asked_flag_still_counts),
                cmocka_unit_test(timesync_probe__unreadable_directory__error),
                cmocka_unit_test(timesync_write_dropin__written_changed_removed),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
