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

static size_t evaluate_as(bool control_plane, unsigned ignore, PreflightFinding out[static _PREFLIGHT_CHECK_MAX])
{
        PreflightFacts f;
        assert_int_equal(preflight_probe(root, &f), 0);
        return preflight_evaluate(&f, control_plane, ignore, out);
}

static size_t evaluate(unsigned ignore, PreflightFinding out[static _PREFLIGHT_CHECK_MAX])
{
        return evaluate_as(true, ignore, out);
}

/* dpkg's status file with these packages installed (name, version pairs; NULL-terminated), plus one removed. */
static void packages(const char *const *nv)
{
        char text[2048] = "Package: containerd-old\nStatus: deinstall ok config-files\nVersion: 1.2.0\n\n";
        for (size_t i = 0; nv[i]; i += 2) {
                size_t n = strlen(text);
                snprintf(text + n, sizeof text - n,
                         "Package: %s\nStatus: install ok installed\nPriority: optional\nVersion: %s\n"
                         "Description: x\n\n",
                         nv[i], nv[i + 1]);
        }
        put("/var/lib/dpkg/status", text, 0644);
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

static void preflight__master_below_1700_mb__blocking_with_fix(void **state)
{
        PreflightFinding out[_PREFLIGHT_CHECK_MAX];

        healthy_node();
        put("/proc/meminfo", "MemTotal:         927992 kB\nMemFree:          500000 kB\n", 0644);
        assert_int_equal(evaluate(0, out), 1);
        assert_int_equal(out[0].check, PREFLIGHT_MEMORY);
        assert_int_equal(out[0].severity, PREFLIGHT_BLOCKING);
        assert_non_null(strstr(out[0].message, "906 MB"));
        assert_non_null(strstr(out[0].message, "1700 MB"));
        assert_non_null(strstr(out[0].message, "2 GB or more"));
        assert_non_null(strstr(out[0].message, "role=worker"));
        /* A worker: kubeadm checks no memory for it. */
        assert_int_equal(evaluate_as(false, 0, out), 0);
}

static void preflight__master_with_2_gb__fine(void **state)
{
        PreflightFinding out[_PREFLIGHT_CHECK_MAX];

        healthy_node();
        put("/proc/meminfo", "MemTotal:        1938964 kB\n", 0644); /* a Pi 4 with 2 GB: 1893 MB */
        assert_int_equal(evaluate(0, out), 0);
        put("/proc/meminfo", "junk\n", 0644); /* unknown: kubeadm decides */
        assert_int_equal(evaluate(0, out), 0);
}

static void preflight__containerd_below_floor__warning_names_floor(void **state)
{
        PreflightFinding out[_PREFLIGHT_CHECK_MAX];

        healthy_node();
        packages((const char *const[]){"containerd", "1.6.20~ds1-1+b1", "kubeadm", "1.30.14-1.1", NULL});
        assert_int_equal(evaluate(0, out), 1);
        assert_int_equal(out[0].check, PREFLIGHT_CONTAINERD_VERSION);
        assert_int_equal(out[0].severity, PREFLIGHT_WARNING);
        assert_non_null(strstr(out[0].message, "containerd 1.6.20 is below 1.6.28"));
        assert_non_null(strstr(out[0].message, "Kubernetes 1.30"));
        assert_non_null(strstr(out[0].message, "install containerd 1.6.28 or newer"));

        packages((const char *const[]){"containerd.io", "1.7.24-1", "kubeadm", "1.33.5-1.1", NULL});
        assert_int_equal(evaluate(0, out), 0);
        packages((const char *const[]){"kubeadm", "1.33.5-1.1", NULL}); /* containerd not from a package */
        assert_int_equal(evaluate(0, out), 0);
        packages((const char *const[]){"containerd", "1.6.20~ds1-1+b1", NULL}); /* kubeadm not from a package */
        assert_int_equal(evaluate(0, out), 0);
        unsigned ignore;
        assert_int_equal(preflight_ignore_from_string("containerd-version,memory", &ignore), 0);
        packages((const char *const[]){"containerd", "1.6.20~ds1-1+b1", "kubeadm", "1.30.14-1.1", NULL});
        assert_int_equal(evaluate(ignore, out), 0);
}

static void preflight_containerd_below_floor__table(void **state)
{
        char floor[16];

        assert_true(preflight_containerd_below_floor("1.6.20", 29, floor));
        assert_string_equal(floor, "1.6.27");
        assert_false(preflight_containerd_below_floor("1.6.20", 28, floor)); /* 1.26-1.28: 1.6.15 */
        assert_string_equal(floor, "1.6.15");
        assert_true(preflight_containerd_below_floor("1.6.35", 32, floor));
        assert_string_equal(floor, "1.6.36");
        assert_false(preflight_containerd_below_floor("1.7.24", 33, floor));
        assert_true(preflight_containerd_below_floor("2.0.0", 33, floor));
        assert_string_equal(floor, "2.0.4");
        assert_false(preflight_containerd_below_floor("2.1.3", 33, floor));
        assert_false(preflight_containerd_below_floor("2.1.3", 35, floor));
        assert_true(preflight_containerd_below_floor("1.5.11", 30, floor)); /* a line no longer supported */
        assert_string_equal(floor, "1.6.28");
        assert_true(preflight_containerd_below_floor("1.7.28", 37, floor)); /* 1.37: containerd 2 only */
        assert_string_equal(floor, "2.0.4");
        assert_false(preflight_containerd_below_floor("1.6.20", 25, floor)); /* before the table */
        assert_false(preflight_containerd_below_floor("", 30, floor));
        assert_false(preflight_containerd_below_floor("x", 30, floor));
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
                cmocka_unit_test_setup_teardown(preflight__master_below_1700_mb__blocking_with_fix, setup, teardown),
                cmocka_unit_test_setup_teardown(preflight__master_with_2_gb__fine, setup, teardown),
                cmocka_unit_test_setup_teardown(preflight__containerd_below_floor__warning_names_floor, setup,
                                                teardown),
                cmocka_unit_test(preflight_containerd_below_floor__table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
