/* SPDX-License-Identifier: MIT */
/* cluster_file_exposed(): whether users other than root can read the cluster secret on the boot partition. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config-load.h"

static int setup(void **state)
{
        char *dir = strdup("/tmp/piagent-test-config-load-XXXXXX");
        FILE *f;
        char path[128];

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/cluster.txt", dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("secret=x\n", f);
        fclose(f);
        *state = dir;
        return 0;
}

static int teardown(void **state)
{
        char *dir = *state, path[128];

        snprintf(path, sizeof path, "%s/cluster.txt", dir);
        (void)unlink(path);
        (void)rmdir(dir);
        free(dir);
        return 0;
}

static int exposed(const char *dir, mode_t dir_mode, mode_t file_mode, mode_t *ret)
{
        char path[128];

        snprintf(path, sizeof path, "%s/cluster.txt", dir);
        assert_int_equal(chmod(dir, dir_mode), 0);
        assert_int_equal(chmod(path, file_mode), 0);
        return cluster_file_exposed(dir, ret);
}

static void cluster_file_exposed__modes__as_others_see_them(void **state)
{
        const char *dir = *state;
        mode_t mode = 0;

        assert_int_equal(exposed(dir, 0755, 0755, &mode), 1); /* vfat mounted with defaults */
        assert_int_equal(mode, 0755);
        assert_int_equal(exposed(dir, 0755, 0644, &mode), 1);
        assert_int_equal(exposed(dir, 0755, 0640, &mode), 1); /* the group may read it */
        assert_int_equal(exposed(dir, 0700, 0700, &mode), 0); /* fmask=0077,dmask=0077 */
        assert_int_equal(mode, 0700);
        assert_int_equal(exposed(dir, 0755, 0600, &mode), 0);
        assert_int_equal(exposed(dir, 0700, 0644, &mode), 0); /* nobody gets through the directory */
}

static void cluster_file_exposed__no_file__enoent(void **state)
{
        mode_t mode;

        assert_int_equal(cluster_file_exposed("/nonexistent-piagent-dir", &mode), -ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(cluster_file_exposed__modes__as_others_see_them, setup, teardown),
                cmocka_unit_test(cluster_file_exposed__no_file__enoent),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
