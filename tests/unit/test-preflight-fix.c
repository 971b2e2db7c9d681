/* SPDX-License-Identifier: MIT */
/* Runtime fixes against a fake root and stand-in commands: order (module before the bridge sysctl), sysctls
 * written, a failing command ends the run with its name, blocking findings untouched. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "preflight-fix.h"

static char root[64], calls[128], swapoff[128], modprobe[128];

typedef struct R {
        sd_event *e;
        bool done;
        int error;
        char detail[256];
} R;

static void put(const char *path, const char *text, mode_t mode)
{
        char dir[256];
        snprintf(dir, sizeof dir, "%s", path);
        *strrchr(dir, '/') = 0;
        assert_int_equal(mkdir_parents(dir, 0755), 0);
        assert_int_equal(write_file_atomic(path, text, strlen(text), mode), 0);
}

static int setup(void **state)
{
        char p[256], script[512];

        snprintf(root, sizeof root, "/tmp/piagent-fix-XXXXXX");
        if (!mkdtemp(root))
                return -1;
        snprintf(calls, sizeof calls, "%s/calls", root);
        snprintf(swapoff, sizeof swapoff, "%s/bin/swapoff", root);
        snprintf(modprobe, sizeof modprobe, "%s/bin/modprobe", root);
        snprintf(script, sizeof script, "#!/bin/sh\necho \"swapoff $*\" >> %s\n", calls);
        put(swapoff, script, 0755);
        snprintf(script, sizeof script,
                 "#!/bin/sh\necho \"modprobe $*\" >> %s\nmkdir -p %s/proc/sys/net/bridge\n"
                 "echo 0 > %s/proc/sys/net/bridge/bridge-nf-call-iptables\n",
                 calls, root, root);
        put(modprobe, script, 0755);
        snprintf(p, sizeof p, "%s/proc/sys/net/ipv4/ip_forward", root);
        put(p, "0\n", 0644);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : -1;
}

static void on_done(int error, const char *detail, void *userdata)
{
        R *r = userdata;
        r->done = true;
        r->error = error;
        snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
        sd_event_exit(r->e, 0);
}

static R fix(const PreflightFinding *f, size_t n)
{
        PreflightFixPaths paths = {.root = root, .swapoff = swapoff, .modprobe = modprobe};
        R r = {};

        assert_int_equal(sd_event_new(&r.e), 0);
        assert_int_equal(preflight_fix_start(r.e, &paths, f, n, on_done, &r), 0);
        if (!r.done)
                assert_int_equal(sd_event_loop(r.e), 0);
        sd_event_unref(r.e);
        assert_true(r.done);
        return r;
}

static char *slurp(const char *under_root)
{
        char path[256], *s = NULL;
        snprintf(path, sizeof path, "%s%s", root, under_root);
        assert_int_equal(read_file_full(path, 4096, &s, NULL), 0);
        return s;
}

static void preflight_fix__all_fixable__module_first_sysctls_written(void **state)
{
        PreflightFinding f[] = {
                {PREFLIGHT_SWAP, PREFLIGHT_FIXABLE, ""},
                {PREFLIGHT_BR_NETFILTER, PREFLIGHT_FIXABLE, ""},
                {PREFLIGHT_IP_FORWARD, PREFLIGHT_FIXABLE, ""},
                {PREFLIGHT_BRIDGE_NF_CALL, PREFLIGHT_FIXABLE, ""},
        };
        R r = fix(f, 4);
        char *c, *s;

        assert_int_equal(r.error, 0);
        c = slurp("/calls");
        assert_string_equal(c, "modprobe br_netfilter\nswapoff -a\n");
        free(c);
        s = slurp("/proc/sys/net/ipv4/ip_forward");
        assert_string_equal(s, "1\n");
        free(s);
        s = slurp("/proc/sys/net/bridge/bridge-nf-call-iptables");
        assert_string_equal(s, "1\n");
        free(s);
}

static void preflight_fix__command_fails__error_names_it(void **state)
{
        PreflightFinding f[] = {{PREFLIGHT_SWAP, PREFLIGHT_FIXABLE, ""}, {PREFLIGHT_IP_FORWARD, PREFLIGHT_FIXABLE, ""}};
        char script[] = "#!/bin/sh\nexit 4\n";
        R r;

        put(swapoff, script, 0755);
        r = fix(f, 2);
        assert_int_equal(r.error, -EIO);
        assert_string_equal(r.detail, "swap exited with status 4");
        char *s = slurp("/proc/sys/net/ipv4/ip_forward");
        assert_string_equal(s, "0\n"); /* the run stopped at the first failure */
        free(s);
}

static void preflight_fix__blocking_only__nothing_run(void **state)
{
        PreflightFinding f[] = {{PREFLIGHT_MEMORY_CGROUP, PREFLIGHT_BLOCKING, ""}};
        R r = fix(f, 1);

        assert_int_equal(r.error, 0);
        assert_int_equal(access(calls, F_OK), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(preflight_fix__all_fixable__module_first_sysctls_written, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(preflight_fix__command_fails__error_names_it, setup, teardown),
                cmocka_unit_test_setup_teardown(preflight_fix__blocking_only__nothing_run, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
