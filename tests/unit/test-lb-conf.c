/* SPDX-License-Identifier: MIT */
/* keepalived.conf and haproxy.cfg renderers against golden files, and accepted by the daemons' own checkers
 * (keepalived -t, haproxy -c) when they are installed, as they are in CI; VRID and ranking. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lb-conf.h"

static struct in_addr ip(const char *s)
{
        struct in_addr a;
        assert_int_equal(inet_pton(AF_INET, s, &a), 1);
        return a;
}

static char *read_file(const char *path)
{
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0;
        if (!f)
                return NULL;
        FILE *m = open_memstream(&buf, &size);
        int c;
        while ((c = fgetc(f)) != EOF)
                fputc(c, m);
        fclose(m);
        fclose(f);
        return buf;
}

/* Compares with tests/unit/data/NAME; PIAGENT_UPDATE_GOLDEN=1 rewrites the file instead. */
static void assert_golden(const char *text, const char *name)
{
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", PIAGENT_TEST_DATA_DIR, name);
        if (getenv("PIAGENT_UPDATE_GOLDEN")) {
                FILE *f = fopen(path, "we");
                assert_non_null(f);
                fputs(text, f);
                fclose(f);
                return;
        }
        char *want = read_file(path);
        if (!want)
                fail_msg("golden file %s missing (run with PIAGENT_UPDATE_GOLDEN=1)", path);
        assert_string_equal(text, want);
        free(want);
}

/* Runs argv with the rendered file as its last argument; returns the exit status. */
static int run_checker(const char *text, const char *const *argv_prefix, size_t n)
{
        char path[] = "/tmp/piagent-lbconf-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);

        const char *argv[8];
        for (size_t i = 0; i < n; i++)
                argv[i] = argv_prefix[i];
        argv[n] = path;
        argv[n + 1] = NULL;

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 1);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        int status;
        waitpid(pid, &status, 0);
        unlink(path);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static const char *find_tool(const char *name)
{
        static char path[256];
        const char *dirs[] = {"/usr/sbin", "/usr/bin", "/sbin"};
        for (size_t i = 0; i < 3; i++) {
                snprintf(path, sizeof path, "%s/%s", dirs[i], name);
                if (access(path, X_OK) == 0)
                        return path;
        }
        return NULL;
}

static KeepalivedParams two_lbs(struct in_addr *peer)
{
        *peer = ip("10.77.0.11");
        return (KeepalivedParams){
                .router_id = "lb-a1b2c3",
                .interface = "eth0",
                .self = ip("10.77.0.10"),
                .vip = {.addr = ip("10.77.0.240"), .prefix = 24},
                .vrid = 42,
                .priority = 200,
                .peers = peer,
                .n_peers = 1,
                .advert_ms = 250,
        };
}

static void keepalived_conf_render__two_lbs__golden_and_checker_accepts(void **state)
{
        struct in_addr peer;
        KeepalivedParams p = two_lbs(&peer);
        char *text = NULL;

        assert_int_equal(keepalived_conf_render(&p, &text), 0);
        assert_golden(text, "keepalived-two-lbs.conf");

        const char *k = find_tool("keepalived");
        if (!k)
                fail_msg("keepalived is not installed: tools/install-deps installs it");
        const char *argv[] = {k, "-t", "-f"};
        assert_int_equal(run_checker(text, argv, 3), 0);
        free(text);
}

static void keepalived_conf_render__lone_lb__no_unicast_and_checker_accepts(void **state)
{
        struct in_addr peer;
        KeepalivedParams p = two_lbs(&peer);
        char *text = NULL;

        p.n_peers = 0;
        assert_int_equal(keepalived_conf_render(&p, &text), 0);
        assert_null(strstr(text, "unicast"));
        const char *k = find_tool("keepalived");
        if (!k)
                fail_msg("keepalived is not installed: tools/install-deps installs it");
        const char *argv[] = {k, "-t", "-f"};
        assert_int_equal(run_checker(text, argv, 3), 0);
        free(text);
}

static void keepalived_conf_render__hostile_interface__einval(void **state)
{
        struct in_addr peer;
        KeepalivedParams p = two_lbs(&peer);
        char *text = NULL;

        p.interface = "eth0 }\nvrrp_instance x {";
        assert_int_equal(keepalived_conf_render(&p, &text), -EINVAL);
        assert_null(text);
}

static void keepalived_conf_render__advert_not_centiseconds__einval(void **state)
{
        struct in_addr peer;
        KeepalivedParams p = two_lbs(&peer);
        char *text = NULL;

        p.advert_ms = 255;
        assert_int_equal(keepalived_conf_render(&p, &text), -EINVAL);
}

static void keepalived_conf_render__broken_for_checker__checker_rejects(void **state)
{
        /* The checker really checks: a file with an unknown keyword in the instance fails. */
        const char *k = find_tool("keepalived");
        if (!k)
                fail_msg("keepalived is not installed: tools/install-deps installs it");
        const char *argv[] = {k, "-t", "-f"};
        assert_int_not_equal(run_checker("vrrp_instance x {\n  interface eth0\n  virtual_router_id 300\n}\n", argv, 3),
                             0);
}

static void haproxy_conf_render__three_masters__golden_and_checker_accepts(void **state)
{
        LbBackend b[] = {{"master-000001", ip("10.77.0.12"), false},
                         {"master-000002", ip("10.77.0.13"), false},
                         {"master-000003", ip("10.77.0.14"), false}};
        HaproxyParams p = {.api_port = 9000, .backends = b, .n_backends = 3};
        char *text = NULL;

        assert_int_equal(haproxy_conf_render(&p, &text), 0);
        assert_golden(text, "haproxy-three-masters.cfg");

        const char *h = find_tool("haproxy");
        if (!h)
                fail_msg("haproxy is not installed: tools/install-deps installs it");
        const char *argv[] = {h, "-c", "-q", "-f"};
        assert_int_equal(run_checker(text, argv, 4), 0);
        free(text);
}

/* The cluster's first master while kubeadm init runs: in rotation without a health check (a slow /readyz on a
 * loaded Pi must not keep it out while init waits for it through the VIP); the daemon's checker accepts it. */
static void haproxy_conf_render__initializing_master__unchecked(void **state)
{
        LbBackend b[] = {{"master-000001", ip("10.77.0.12"), true}};
        HaproxyParams p = {.api_port = 9000, .backends = b, .n_backends = 1};
        char *text = NULL;

        assert_int_equal(haproxy_conf_render(&p, &text), 0);
        assert_non_null(strstr(text, "    server master-000001 10.77.0.12:6443  # kubeadm init running"));
        assert_null(strstr(text, " check check-ssl"));
        const char *h = find_tool("haproxy");
        if (!h)
                fail_msg("haproxy is not installed: tools/install-deps installs it");
        const char *argv[] = {h, "-c", "-q", "-f"};
        assert_int_equal(run_checker(text, argv, 4), 0);
        free(text);
}

static void haproxy_conf_render__no_masters_yet__valid(void **state)
{
        HaproxyParams p = {.api_port = 9000};
        char *text = NULL;

        assert_int_equal(haproxy_conf_render(&p, &text), 0);
        assert_null(strstr(text, "    server "));
        const char *h = find_tool("haproxy");
        if (!h)
                fail_msg("haproxy is not installed: tools/install-deps installs it");
        const char *argv[] = {h, "-c", "-q", "-f"};
        assert_int_equal(run_checker(text, argv, 4), 0);
        free(text);
}

static void haproxy_conf_render__ca_known__verify_required(void **state)
{
        LbBackend b[] = {{"master-000001", ip("10.77.0.12"), false}};
        HaproxyParams p = {.api_port = 9000, .backends = b, .n_backends = 1, .ca_file = "/etc/piagent/ca.crt"};
        char *text = NULL;

        assert_int_equal(haproxy_conf_render(&p, &text), 0);
        assert_golden(text, "haproxy-with-ca.cfg");
        assert_non_null(strstr(text, "verify required ca-file /etc/piagent/ca.crt"));
        assert_null(strstr(text, "verify none"));
        free(text);
}

static void haproxy_conf_render__hostile_backend_name__einval(void **state)
{
        LbBackend b[] = {{"m1 10.0.0.1:22\n    server evil", ip("10.77.0.12"), false}};
        HaproxyParams p = {.api_port = 9000, .backends = b, .n_backends = 1};
        char *text = NULL;

        assert_int_equal(haproxy_conf_render(&p, &text), -EINVAL);
        assert_null(text);
}

/* Backends are named by node id; two alike (two hosts announcing one name) would make haproxy -c refuse the file. */
static void haproxy_conf_render__duplicate_backend_name__einval(void **state)
{
        LbBackend b[] = {{.name = "027700000001", .addr = ip("10.77.0.12")},
                         {.name = "027700000002", .addr = ip("10.77.0.13")},
                         {.name = "027700000001", .addr = ip("10.77.0.15")}};
        HaproxyParams p = {.api_port = 9000, .backends = b, .n_backends = 3};
        char *text = NULL;

        assert_int_equal(haproxy_conf_render(&p, &text), -EINVAL);
        assert_null(text);
        p.n_backends = 2;
        assert_int_equal(haproxy_conf_render(&p, &text), 0);
        assert_non_null(strstr(text, "    server 027700000001 10.77.0.12:6443 check"));
        assert_non_null(strstr(text, "    server 027700000002 10.77.0.13:6443 check"));
        free(text);
}

static void lb_vrid__same_secret__same_id_in_range(void **state)
{
        uint8_t a, b, c;

        assert_int_equal(lb_vrid("0123456789abcdefghijklmnopqrstuvwxyz", &a), 0);
        assert_int_equal(lb_vrid("0123456789abcdefghijklmnopqrstuvwxyz", &b), 0);
        assert_int_equal(lb_vrid("another-secret-0123456789abcdefghijkl", &c), 0);
        assert_int_equal(a, b);
        assert_in_range(a, 1, 255);
        assert_in_range(c, 1, 255);
}

static void lb_vrid__many_secrets__spread_over_range(void **state)
{
        bool seen[256] = {};
        unsigned distinct = 0;
        char s[64];

        for (unsigned i = 0; i < 1000; i++) {
                uint8_t v;
                snprintf(s, sizeof s, "secret-%u-0123456789abcdefghijklmnop", i);
                assert_int_equal(lb_vrid(s, &v), 0);
                assert_int_not_equal(v, 0);
                distinct += !seen[v];
                seen[v] = true;
        }
        /* 1000 draws over 255 values leave about 5 unseen. */
        assert_true(distinct > 230);
}

static void lb_priority__ranked_by_id__every_lb_agrees(void **state)
{
        const char *ids[] = {"c3", "a1", "b2"};

        assert_int_equal(lb_priority("a1", ids, 3), 200);
        assert_int_equal(lb_priority("b2", ids, 3), 190);
        assert_int_equal(lb_priority("c3", ids, 3), 180);
        /* Self not (yet) in the list it saw: ranks among them all the same. */
        assert_int_equal(lb_priority("b2", (const char *[]){"a1", "c3"}, 2), 190);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(keepalived_conf_render__two_lbs__golden_and_checker_accepts),
                cmocka_unit_test(keepalived_conf_render__lone_lb__no_unicast_and_checker_accepts),
                cmocka_unit_test(keepalived_conf_render__hostile_interface__einval),
                cmocka_unit_test(keepalived_conf_render__advert_not_centiseconds__einval),
                cmocka_unit_test(keepalived_conf_render__broken_for_checker__checker_rejects),
                cmocka_unit_test(haproxy_conf_render__three_masters__golden_and_checker_accepts),
                cmocka_unit_test(haproxy_conf_render__no_masters_yet__valid),
                cmocka_unit_test(haproxy_conf_render__initializing_master__unchecked),
                cmocka_unit_test(haproxy_conf_render__ca_known__verify_required),
                cmocka_unit_test(haproxy_conf_render__hostile_backend_name__einval),
                cmocka_unit_test(haproxy_conf_render__duplicate_backend_name__einval),
                cmocka_unit_test(lb_vrid__same_secret__same_id_in_range),
                cmocka_unit_test(lb_vrid__many_secrets__spread_over_range),
                cmocka_unit_test(lb_priority__ranked_by_id__every_lb_agrees),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
