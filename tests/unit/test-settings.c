/* SPDX-License-Identifier: MIT */
/* The environment, read once: each variable into its field, systemd's directory lists to their first entry,
 * empty values as unset, look-alike names ignored. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "settings.h"

static void settings_from_environment__every_variable__its_field(void **state)
{
        char *const envp[] = {
                "HOME=/root",
                "INVOCATION_ID=0123456789abcdef0123456789abcdef",
                "STATE_DIRECTORY=/var/lib/piagent:/var/lib/other",
                "RUNTIME_DIRECTORY=/run/piagent",
                "JOURNAL_STREAM=8:12345",
                "PIAGENT_BOOT_DIR=/media/bootfs",
                "PIAGENT_STATUS_SOCKET=/tmp/s.sock",
                "PIAGENT_LOG_TARGET=stderr",
                "PIAGENT_LOG_LEVEL=debug",
                "PIAGENT_ROLES=no",
                "PIAGENT_KUBEADM=/opt/kubeadm-double",
                "PIAGENT_PREFLIGHT_IGNORE=memory,swap",
                "PIAGENT_CLOCK_KERNEL=no",
                "PIAGENT_TEST_BREAK=haproxy",
                NULL,
        };
        Settings s;

        assert_int_equal(settings_from_environment(envp, &s), 0);
        assert_string_equal(s.invocation_id, "0123456789abcdef0123456789abcdef");
        assert_string_equal(s.state_directory, "/var/lib/piagent"); /* the first of the list */
        assert_string_equal(s.runtime_directory, "/run/piagent");
        assert_string_equal(s.journal_stream, "8:12345");
        assert_string_equal(s.boot_dir, "/media/bootfs");
        assert_string_equal(s.status_socket, "/tmp/s.sock");
        assert_string_equal(s.log_target, "stderr");
        assert_string_equal(s.log_level, "debug");
        assert_string_equal(s.roles, "no");
        assert_string_equal(s.kubeadm, "/opt/kubeadm-double");
        assert_string_equal(s.preflight_ignore, "memory,swap");
        assert_string_equal(s.clock_kernel, "no");
        assert_string_equal(s.test_break, "haproxy");
        settings_done(&s);
        assert_null(s.boot_dir);
}

static void settings_from_environment__empty_lookalike_duplicate__as_getenv(void **state)
{
        char *const envp[] = {
                "PIAGENT_BOOT_DIR=",           /* empty: unset */
                "PIAGENT_BOOT_DIR=/later",     /* a duplicate of an empty one: still unset, as getenv() */
                "PIAGENT_KUBEADMX=/bin/false", /* another name */
                "PIAGENT_KUBEADM",             /* no '=': not a variable */
                "PIAGENT_ROLES=yes",
                "PIAGENT_ROLES=no",          /* duplicates: the first, as getenv() */
                "RUNTIME_DIRECTORY=:/run/x", /* the first entry is empty: unset */
                NULL,
        };
        Settings s;

        assert_int_equal(settings_from_environment(envp, &s), 0);
        assert_null(s.boot_dir);
        assert_null(s.kubeadm);
        assert_string_equal(s.roles, "yes");
        assert_null(s.runtime_directory);
        assert_null(s.invocation_id);
        settings_done(&s);

        assert_int_equal(settings_from_environment(NULL, &s), 0);
        assert_null(s.roles);
        settings_done(&s);
}

static void settings_variable__listed__names_and_descriptions(void **state)
{
        size_t n = 0;

        for (const SettingsVariable *v; (v = settings_variable(n)); n++) {
                assert_non_null(v->name);
                assert_true(strlen(v->what) > 0);
        }
        assert_int_equal(n, 13);
        assert_string_equal(settings_variable(0)->name, "INVOCATION_ID");
        assert_null(settings_variable(n));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(settings_from_environment__every_variable__its_field),
                cmocka_unit_test(settings_from_environment__empty_lookalike_duplicate__as_getenv),
                cmocka_unit_test(settings_variable__listed__names_and_descriptions),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
