/* SPDX-License-Identifier: MIT */
/* Atomic writes: content, mode, replacement, no temporary file left behind when the rename fails. */

#include <errno.h>
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

static char dir[64];

static int setup(void **state)
{
        snprintf(dir, sizeof dir, "/tmp/piagent-fileio-XXXXXX");
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static unsigned count_entries(void)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
        FILE *p = popen(cmd, "r");
        unsigned n = 0;
        assert_non_null(p);
        assert_int_equal(fscanf(p, "%u", &n), 1);
        pclose(p);
        return n;
}

static void write_file_atomic__new_file__content_and_mode(void **state)
{
        char path[128], *data = NULL;
        size_t size;
        struct stat st;

        snprintf(path, sizeof path, "%s/state.json", dir);
        assert_int_equal(write_file_atomic(path, "{\"phase\":\"ready\"}", 17, 0600), 0);
        assert_int_equal(read_file_full(path, 1024, &data, &size), 0);
        assert_int_equal(size, 17);
        assert_string_equal(data, "{\"phase\":\"ready\"}");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(count_entries(), 1);
        free(data);
}

static void write_file_atomic__replace__old_content_gone(void **state)
{
        char path[128], *data = NULL;

        snprintf(path, sizeof path, "%s/f", dir);
        assert_int_equal(write_file_atomic(path, "old old old", 11, 0644), 0);
        assert_int_equal(write_file_atomic(path, "new", 3, 0644), 0);
        assert_int_equal(read_file_full(path, 1024, &data, NULL), 0);
        assert_string_equal(data, "new");
        assert_int_equal(count_entries(), 1);
        free(data);
}

static void write_file_atomic__missing_directory__error_nothing_left(void **state)
{
        char path[128];

        snprintf(path, sizeof path, "%s/nope/f", dir);
        assert_int_equal(write_file_atomic(path, "x", 1, 0600), -ENOENT);
        assert_int_equal(count_entries(), 0);
}

static void write_file_atomic__target_is_directory__old_kept_tmp_removed(void **state)
{
        char path[128];

        /* rename() of a file over a non-empty directory fails: the temp file must not be left behind. */
        snprintf(path, sizeof path, "%s/d", dir);
        assert_int_equal(mkdir_parents(path, 0700), 0);
        snprintf(path, sizeof path, "%s/d/keep", dir);
        assert_int_equal(write_file_atomic(path, "k", 1, 0600), 0);
        snprintf(path, sizeof path, "%s/d", dir);
        assert_true(write_file_atomic(path, "x", 1, 0600) < 0);
        assert_int_equal(count_entries(), 1);
}

static void read_file_full__too_large__efbig(void **state)
{
        char path[128], *data = NULL;

        snprintf(path, sizeof path, "%s/big", dir);
        assert_int_equal(write_file_atomic(path, "0123456789", 10, 0600), 0);
        assert_int_equal(read_file_full(path, 9, &data, NULL), -EFBIG);
        assert_null(data);
        assert_int_equal(read_file_full(path, 10, &data, NULL), 0);
        free(data);
}

static void mkdir_parents__nested__created_with_mode(void **state)
{
        char path[128];
        struct stat st;

        snprintf(path, sizeof path, "%s/a/b/c", dir);
        assert_int_equal(mkdir_parents(path, 0700), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0700);
        assert_int_equal(mkdir_parents(path, 0700), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(write_file_atomic__new_file__content_and_mode, setup, teardown),
                cmocka_unit_test_setup_teardown(write_file_atomic__replace__old_content_gone, setup, teardown),
                cmocka_unit_test_setup_teardown(write_file_atomic__missing_directory__error_nothing_left, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(write_file_atomic__target_is_directory__old_kept_tmp_removed, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(read_file_full__too_large__efbig, setup, teardown),
                cmocka_unit_test_setup_teardown(mkdir_parents__nested__created_with_mode, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
