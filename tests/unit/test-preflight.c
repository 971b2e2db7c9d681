/* SPDX-License-Identifier: MIT */
/* Preflight: facts probed from a fake root (cgroup v1 and v2, swap, sysctls, sockets, binaries), findings
 * in words, and the ignore list. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "preflight.h"

static char root[64];

static void put(const char *path, const char *content, mode_t mode)
{
        char p[256], dir[256];
        snprintf(p, sizeof p, "%s%s", root, path);
        snprintf(dir, sizeof dir, "%s", p);
        *strrchr(dir, '/') = 0;
        assert_int_equal(mkdir_parents(dir, 0755), 0);
        assert_int_equal(write_file_atomic(p, content, strlen(content), mode), 0);
}

static void make_socket(const char *path)
{
        char p[100], dir[100];
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);

        snprintf(p, sizeof p, "%s%s", root, path);
        snprintf(dir, sizeof dir, "%s", p);
        *strrchr(dir, '/') = 0;
        assert_int_equal(mkdir_parents(dir, 0755), 0);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", p);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        close(fd);
}

/* A node where everything is in order (cgroup v2). */
static void healthy_node(void)
{
        put("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n", 0644);
        put("/proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n", 0644);
        put("/proc/sys/net/ipv4/ip_forward", "1\n", 0644);
        put("/proc/sys/net/bridge/bridge-nf-call-iptables", "1\n", 0644);
        make_socket("/run/containerd/containerd.sock");
        put("/usr/bin/kubeadm", "#!/bin/sh\n", 0755);
        put("/usr/bin/kubelet", "#!/bin/sh\n", 0755);
}

static int setup(void **state)
{
        snprintf(root, sizeof root, "/tmp/piagent-pf-XXXXXX");
        return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : -1;
}

static size_t evaluate(unsigned ignore, PreflightFinding out[static _PREFLIGHT_CHECK_MAX])
{
        PreflightFacts f;
        assert_int_equal(preflight_probe(root, &f), 0);
        return preflight_evaluate(&f, ignore, out);
}

static void preflight__healthy_node__no_findings(void **state)
{
        PreflightFinding out[_PREFLIGHT_CHECK_MAX];

        healthy_node();
        assert_int_equal(evaluate(0, out), 0);
}

static void preflight__memory_cgroup_missing_v2__blocking_with_cmdline_fix(void **state)
{
        PreflightFinding out[_PREFLIGHT_CHECK_MAX];

        healthy_node();
        put("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io pids\n", 0644);
        assert_int_equal(evaluate(0, out), 1);
        assert_int_equal(out[0].check, PREFLIGHT_MEMORY_CGROUP);
        assert_int_equal(out[0].severity, PREFLIGHT_BLOCKING);
        assert_non_null(strstr(out[0].message, "cgroup_enable=memory"));
        assert_non_null(strstr(out[0].message, "/boot/firmware/cmdline.txt"));
}

static void preflight__memory_cgroup_disabled_v1__blocking(void **state)
{
        PreflightFinding out[_PREFLIGHT_CHECK_MAX];
        char p[128];

        healthy_node();
        snprintf(p, sizeof p, "%s/sys/fs/cgroup/cgroup.controllers", root);
        unlink(p);
        put("/proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t2\t1\t1\nmemory\t0\t1\t0\n", 0644);
        assert_int_equal(evaluate(0, out), 1);
        assert_int_equal(out[0].check, PREFLIGHT_MEMORY_CGROUP);

        put("/proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t4\t90\t1\n", 0644);
        assert_int_equal(evaluate(0, out), 0);
}

static void preflight__swap_on_and_sysctls_off__fixable(void **state)
{
        PreflightFinding out[_PREFLIGHT_CHECK_MAX];

        healthy_node();
        put("/proc/swaps", "Filename Type Size Used Priority\n/var/swap file 102396 0 -2\n", 0644);
        put("/proc/sys/net/ipv4/ip_forward", "0\n", 0644);
        assert_int_equal(evaluate(0, out), 2);
        assert_int_equal(out[0].check, PREFLIGHT_SWAP);
        assert_int_equal(out[0].severity, PREFLIGHT_FIXABLE);
        assert_non_null(strstr(out[0].message, "dphys-swapfile"));
        assert_int_equal(out[1].check, PREFLIGHT_IP_FORWARD);
        assert_int_equal(out[1].severity, PREFLIGHT_FIXABLE);
}

static void preflight__bare_system__everything_reported(void **state)
{
        PreflightFinding out[_PREFLIGHT_CHECK_MAX];

        /* Nothing at all under root. */
        assert_int_equal(evaluate(0, out), 7);
        assert_int_equal(out[0].check, PREFLIGHT_MEMORY_CGROUP);
        assert_int_equal(out[1].check, PREFLIGHT_BR_NETFILTER);
        assert_int_equal(out[4].check, PREFLIGHT_CONTAINER_RUNTIME);
        assert_non_null(strstr(out[5].message, "kubeadm is not installed"));
}

static void preflight__regular_file_instead_of_socket__runtime_missing(void **state)
{
        PreflightFinding out[_PREFLIGHT_CHECK_MAX];
        char p[128];

        healthy_node();
        snprintf(p, sizeof p, "%s/run/containerd/containerd.sock", root);
        unlink(p);
        put("/run/containerd/containerd.sock", "", 0644);
        assert_int_equal(evaluate(0, out), 1);
        assert_int_equal(out[0].check, PREFLIGHT_CONTAINER_RUNTIME);
}

static void preflight__ignore_list__skipped(void **state)
{
        PreflightFinding out[_PREFLIGHT_CHECK_MAX];
        unsigned ignore;

        assert_int_equal(preflight_ignore_from_string("memory-cgroup,container-runtime,kubelet", &ignore), 0);
        healthy_node();
        put("/sys/fs/cgroup/cgroup.controllers", "pids\n", 0644);
        assert_int_equal(evaluate(ignore, out), 0);
        assert_int_equal(preflight_ignore_from_string("swapp", &ignore), -EINVAL);
        assert_int_equal(preflight_ignore_from_string("", &ignore), 0);
        assert_int_equal(ignore, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(preflight__healthy_node__no_findings, setup, teardown),
                cmocka_unit_test_setup_teardown(preflight__memory_cgroup_missing_v2__blocking_with_cmdline_fix, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(preflight__memory_cgroup_disabled_v1__blocking, setup, teardown),
                cmocka_unit_test_setup_teardown(preflight__swap_on_and_sysctls_off__fixable, setup, teardown),
                cmocka_unit_test_setup_teardown(preflight__bare_system__everything_reported, setup, teardown),
                cmocka_unit_test_setup_teardown(preflight__regular_file_instead_of_socket__runtime_missing, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(preflight__ignore_list__skipped, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
