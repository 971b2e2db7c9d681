/* SPDX-License-Identifier: MIT */
/* The LB pipeline with fake systemd operations and the real checkers (haproxy -c, keepalived -t): what is
 * written, in which order units are applied, nothing re-applied without a change, a rejected file never
 * installed, a failed job reported. */

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fileio.h"
#include "lb.h"

#define SECRET "cba47853ac7a856ad9c0cb5b817ce932c0a8424a9b33450c"

typedef struct Fake {
        sd_event *event;
        char calls[16][64];
        unsigned n_calls;
        int fail_unit;         /* apply of this call index fails */
        unsigned fail_reloads; /* this many daemon-reloads time out first */
        unsigned changed;
        /* When set: the first haproxy apply feeds these inputs to lb before systemd "answers", as when the
         * peers change while systemd reloads HAProxy. */
        Lb *lb;
        const LbInputs *during_reload;
} Fake;

static char dir[64], p_keepalived[128], p_haproxy[128], p_dropin[128];
static LbPaths paths;

static int unit_apply(void *userdata, const char *unit, LbJobDone done, void *done_userdata)
{
        Fake *f = userdata;
        int idx = (int)f->n_calls;
        snprintf(f->calls[f->n_calls++ % 16], 64, "apply %s", unit);
        if (f->during_reload && strcmp(unit, "haproxy.service") == 0) {
                const LbInputs *in = f->during_reload;
                f->during_reload = NULL;
                assert_int_equal(lb_update(f->lb, in), 0);
        }
        done(idx == f->fail_unit ? -EIO : 0, done_userdata);
        return 0;
}

static int daemon_reload(void *userdata, LbJobDone done, void *done_userdata)
{
        Fake *f = userdata;
        snprintf(f->calls[f->n_calls++ % 16], 64, "daemon-reload");
        if (f->fail_reloads > 0) {
                f->fail_reloads--;
                done(-ETIMEDOUT, done_userdata);
                return 0;
        }
        done(0, done_userdata);
        return 0;
}

static const LbOps fake_ops = {.unit_apply = unit_apply, .daemon_reload = daemon_reload};

static void on_changed(Lb *lb, void *userdata)
{
        ((Fake *)userdata)->changed++;
}

static int setup(void **state)
{
        snprintf(dir, sizeof dir, "/tmp/piagent-lb-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        snprintf(p_keepalived, sizeof p_keepalived, "%s/keepalived/keepalived.conf", dir);
        snprintf(p_haproxy, sizeof p_haproxy, "%s/haproxy/haproxy.cfg", dir);
        snprintf(p_dropin, sizeof p_dropin, "%s/keepalived.service.d/50-piagent.conf", dir);
        paths = (LbPaths){.keepalived_conf = p_keepalived,
                          .haproxy_cfg = p_haproxy,
                          .keepalived_dropin = p_dropin,
                          .keepalived_bin = "/usr/sbin/keepalived",
                          .haproxy_bin = "/usr/sbin/haproxy"};
        if (access(paths.keepalived_bin, X_OK) < 0 || access(paths.haproxy_bin, X_OK) < 0) {
                fprintf(stderr, "keepalived and haproxy must be installed (tools/install-deps)\n");
                return -1;
        }
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static Config *config(void)
{
        DiagList d = {};
        Config *c = NULL;
        const char *role = "role=lb\n", *cluster = "secret=" SECRET "\nvip=10.77.0.240/24\n";
        assert_int_equal(config_parse(role, strlen(role), cluster, strlen(cluster), &d, &c), 0);
        return c;
}

/* Runs the loop until the pipeline is idle (checkers are child processes). */
static void settle(Fake *f, Lb *lb, unsigned want_changed)
{
        for (unsigned i = 0; i < 400 && f->changed < want_changed; i++)
                assert_true(sd_event_run(f->event, 50 * 1000) >= 0);
        assert_true(f->changed >= want_changed);
}

static LbInputs inputs(const Config *c, const LbPeer *lbs, size_t n_lbs, const LbBackend *m, size_t n_m)
{
        struct in_addr self;
        inet_pton(AF_INET, "10.77.0.10", &self);
        return (LbInputs){.config = c,
                          .self_id = "a1",
                          .hostname = "lb-a1a1a1",
                          .interface = "eth0",
                          .self_addr = self,
                          .lbs = lbs,
                          .n_lbs = n_lbs,
                          .masters = m,
                          .n_masters = n_m};
}

static char *slurp(const char *path)
{
        char *s = NULL;
        if (read_file_full(path, 1 << 20, &s, NULL) < 0)
                return NULL;
        return s;
}

static void lb_update__first_inputs__files_checked_installed_units_applied_in_order(void **state)
{
        Fake f = {.fail_unit = -1};
        Config *c = config();
        Lb *lb = NULL;
        LbPeer peer = {"b2", {0}};
        LbBackend m = {"master-1", {0}, false};
        inet_pton(AF_INET, "10.77.0.11", &peer.addr);
        inet_pton(AF_INET, "10.77.0.12", &m.addr);

        assert_int_equal(sd_event_new(&f.event), 0);
        assert_int_equal(lb_new(f.event, &fake_ops, &f, &paths, on_changed, &f, &lb), 0);
        LbInputs in = inputs(c, &peer, 1, &m, 1);
        assert_int_equal(lb_update(lb, &in), 0);
        settle(&f, lb, 1);

        assert_true(lb_is_ready(lb));
        assert_null(lb_problem(lb));
        assert_int_equal(f.n_calls, 3);
        assert_string_equal(f.calls[0], "daemon-reload");
        assert_string_equal(f.calls[1], "apply haproxy.service");
        assert_string_equal(f.calls[2], "apply keepalived.service");

        char *h = slurp(p_haproxy), *k = slurp(p_keepalived), *d = slurp(p_dropin);
        assert_non_null(strstr(h, "server master-1 10.77.0.12:6443"));
        assert_non_null(strstr(k, "10.77.0.11"));
        assert_non_null(strstr(k, "priority 200"));
        assert_non_null(strstr(d, "ExecStopPost=-/sbin/ip -4 addr del 10.77.0.240/32 dev eth0"));
        free(h), free(k), free(d);

        /* The same inputs again: nothing to do. */
        assert_int_equal(lb_update(lb, &in), 0);
        for (unsigned i = 0; i < 5; i++)
                sd_event_run(f.event, 10 * 1000);
        assert_int_equal(f.n_calls, 3);

        lb_free(lb);
        sd_event_unref(f.event);
        config_unref(c);
}

static void lb_update__master_added__only_haproxy_reapplied(void **state)
{
        Fake f = {.fail_unit = -1};
        Config *c = config();
        Lb *lb = NULL;
        LbBackend m[2] = {{"master-1", {0}, false}, {"master-2", {0}, false}};
        inet_pton(AF_INET, "10.77.0.12", &m[0].addr);
        inet_pton(AF_INET, "10.77.0.13", &m[1].addr);

        assert_int_equal(sd_event_new(&f.event), 0);
        assert_int_equal(lb_new(f.event, &fake_ops, &f, &paths, on_changed, &f, &lb), 0);
        LbInputs in = inputs(c, NULL, 0, m, 1);
        assert_int_equal(lb_update(lb, &in), 0);
        settle(&f, lb, 1);
        assert_int_equal(f.n_calls, 3);

        in.n_masters = 2;
        assert_int_equal(lb_update(lb, &in), 0);
        settle(&f, lb, 2);
        assert_int_equal(f.n_calls, 4);
        assert_string_equal(f.calls[3], "apply haproxy.service");
        char *h = slurp(p_haproxy);
        assert_non_null(strstr(h, "server master-2 10.77.0.13:6443"));
        free(h);

        lb_free(lb);
        sd_event_unref(f.event);
        config_unref(c);
}

static void lb_update__change_while_reloading__latest_installed(void **state)
{
        Fake f = {.fail_unit = -1};
        Config *c = config();
        Lb *lb = NULL;
        LbBackend m[2] = {{"master-1", {0}, false}, {"master-2", {0}, false}};
        inet_pton(AF_INET, "10.77.0.12", &m[0].addr);
        inet_pton(AF_INET, "10.77.0.13", &m[1].addr);

        assert_int_equal(sd_event_new(&f.event), 0);
        assert_int_equal(lb_new(f.event, &fake_ops, &f, &paths, on_changed, &f, &lb), 0);
        LbInputs in = inputs(c, NULL, 0, m, 1), later = inputs(c, NULL, 0, m, 2);
        f.lb = lb;
        f.during_reload = &later;
        assert_int_equal(lb_update(lb, &in), 0);
        settle(&f, lb, 2);

        char *h = slurp(p_haproxy);
        assert_non_null(strstr(h, "server master-2 10.77.0.13:6443"));
        free(h);
        assert_true(lb_is_ready(lb));

        lb_free(lb);
        sd_event_unref(f.event);
        config_unref(c);
}

static void lb_update__checker_rejects__last_good_file_kept_and_reported(void **state)
{
        Fake f = {.fail_unit = -1};
        Config *c = config();
        Lb *lb = NULL;
        LbBackend m[2] = {{"master-1", {0}, false}, {"master-2", {0}, false}};
        inet_pton(AF_INET, "10.77.0.12", &m[0].addr);
        inet_pton(AF_INET, "10.77.0.13", &m[1].addr);

        assert_int_equal(sd_event_new(&f.event), 0);
        assert_int_equal(lb_new(f.event, &fake_ops, &f, &paths, on_changed, &f, &lb), 0);
        LbInputs in = inputs(c, NULL, 0, m, 1);
        assert_int_equal(lb_update(lb, &in), 0);
        settle(&f, lb, 1);
        char *good = slurp(p_haproxy);

        in.test_break = "haproxy"; /* PIAGENT_TEST_BREAK */
        in.n_masters = 2;
        assert_int_equal(lb_update(lb, &in), 0);
        settle(&f, lb, 2);

        char *now = slurp(p_haproxy);
        assert_string_equal(now, good);
        assert_int_equal(f.n_calls, 3);
        assert_non_null(lb_problem(lb));
        assert_non_null(strstr(lb_problem(lb), "rejected the new haproxy configuration"));
        assert_non_null(strstr(lb_problem(lb), "keeping the last good one"));
        char candidate[160];
        snprintf(candidate, sizeof candidate, "%s.piagent-check", p_haproxy);
        assert_int_equal(access(candidate, F_OK), -1);
        free(good), free(now);

        lb_free(lb);
        sd_event_unref(f.event);
        config_unref(c);
}

/* A checker that dies without a verdict (killed here; timed out on a loaded Pi) is not a rejection: the file is
 * checked again after a while, without new inputs, and installed once the checker says yes. */
static void lb_update__checker_gives_no_verdict__checked_again_later(void **state)
{
        Fake f = {.fail_unit = -1};
        Config *c = config();
        Lb *lb = NULL;
        LbBackend m[1] = {{"master-1", {0}, false}};
        char checker[160], marker[160], text[512];
        inet_pton(AF_INET, "10.77.0.12", &m[0].addr);

        /* First run: killed by a signal. Later runs: the real haproxy -c. */
        snprintf(checker, sizeof checker, "%s/haproxy-check", dir);
        snprintf(marker, sizeof marker, "%s/haproxy-check.ran", dir);
        snprintf(text, sizeof text,
                 "#!/bin/sh\nif [ ! -e %s ]; then touch %s; kill -9 $$; fi\nexec /usr/sbin/haproxy \"$@\"\n", marker,
                 marker);
        assert_int_equal(write_file_atomic(checker, text, strlen(text), 0755), 0);
        LbPaths p = paths;
        p.haproxy_bin = checker;
        p.check_retry_usec = 200 * 1000;

        assert_int_equal(sd_event_new(&f.event), 0);
        assert_int_equal(lb_new(f.event, &fake_ops, &f, &p, on_changed, &f, &lb), 0);
        LbInputs in = inputs(c, NULL, 0, m, 1);
        assert_int_equal(lb_update(lb, &in), 0);
        settle(&f, lb, 1);
        assert_int_equal(access(p_haproxy, F_OK), -1); /* not installed: no verdict yet */
        assert_non_null(strstr(strempty(lb_problem(lb)), "could not check the new haproxy configuration"));
        assert_non_null(strstr(strempty(lb_problem(lb)), "checking it again"));

        /* No new inputs: the retry timer alone gets it checked and installed. */
        settle(&f, lb, 2);
        char *installed = slurp(p_haproxy);
        assert_non_null(installed);
        assert_null(lb_problem(lb));
        free(installed);

        lb_free(lb);
        sd_event_unref(f.event);
        config_unref(c);
}

static void lb_update__unit_job_fails__problem_and_not_ready(void **state)
{
        Fake f = {.fail_unit = 1};
        Config *c = config();
        Lb *lb = NULL;

        assert_int_equal(sd_event_new(&f.event), 0);
        assert_int_equal(lb_new(f.event, &fake_ops, &f, &paths, on_changed, &f, &lb), 0);
        LbInputs in = inputs(c, NULL, 0, NULL, 0);
        assert_int_equal(lb_update(lb, &in), 0);
        settle(&f, lb, 1);
        assert_false(lb_is_ready(lb));
        assert_non_null(strstr(lb_problem(lb), "systemd failed to start or reload the unit for the new haproxy"));

        lb_free(lb);
        sd_event_unref(f.event);
        config_unref(c);
}

/* systemd did not take the drop-in (a daemon-reload timed out while it booted): keepalived is not started
 * without it; the drop-in and then keepalived are applied on the retry, without new inputs. */
static void lb_update__daemon_reload_fails__keepalived_waits_then_retried(void **state)
{
        Fake f = {.fail_unit = -1, .fail_reloads = 1};
        Config *c = config();
        Lb *lb = NULL;
        LbBackend m[1] = {{"master-1", {0}, false}};
        inet_pton(AF_INET, "10.77.0.12", &m[0].addr);
        LbPaths p = paths;
        p.check_retry_usec = 200 * 1000;

        assert_int_equal(sd_event_new(&f.event), 0);
        assert_int_equal(lb_new(f.event, &fake_ops, &f, &p, on_changed, &f, &lb), 0);
        LbInputs in = inputs(c, NULL, 0, m, 1);
        assert_int_equal(lb_update(lb, &in), 0);
        settle(&f, lb, 1);
        assert_int_equal(f.n_calls, 1);
        assert_string_equal(f.calls[0], "daemon-reload");
        assert_non_null(strstr(strempty(lb_problem(lb)), "trying again"));
        assert_false(lb_is_ready(lb));

        settle(&f, lb, 2);
        assert_int_equal(f.n_calls, 4);
        assert_string_equal(f.calls[1], "daemon-reload");
        assert_string_equal(f.calls[2], "apply haproxy.service");
        assert_string_equal(f.calls[3], "apply keepalived.service");
        assert_null(lb_problem(lb));

        lb_free(lb);
        sd_event_unref(f.event);
        config_unref(c);
}

static void lb_update__hostile_interface__einval_reported(void **state)
{
        Fake f = {.fail_unit = -1};
        Config *c = config();
        Lb *lb = NULL;

        assert_int_equal(sd_event_new(&f.event), 0);
        assert_int_equal(lb_new(f.event, &fake_ops, &f, &paths, on_changed, &f, &lb), 0);
        LbInputs in = inputs(c, NULL, 0, NULL, 0);
        in.interface = "eth0 }";
        assert_int_equal(lb_update(lb, &in), -EINVAL);
        assert_non_null(lb_problem(lb));
        assert_int_equal(f.n_calls, 0);

        lb_free(lb);
        sd_event_unref(f.event);
        config_unref(c);
}

/* keepalived adds and removes the VIP; the LB learns it from the kernel (a private network namespace; root only). */
static void lb_holds_vip__vip_added_and_removed__reported_without_polling(void **state)
{
        Fake f = {.fail_unit = -1};
        Config *c = config();
        Lb *lb = NULL;
        uint64_t before, after;

        if (unshare(CLONE_NEWNET) < 0 || system("ip link set lo up") != 0) {
                config_unref(c);
                skip();
                return;
        }
        assert_int_equal(sd_event_new(&f.event), 0);
        assert_int_equal(lb_new(f.event, &fake_ops, &f, &paths, on_changed, &f, &lb), 0);
        LbInputs in = inputs(c, NULL, 0, NULL, 0);
        assert_int_equal(lb_update(lb, &in), 0);
        settle(&f, lb, 1);
        assert_false(lb_holds_vip(lb));

        unsigned changed = f.changed;
        assert_int_equal(system("ip -4 addr add 10.77.0.240/32 scope link dev lo"), 0);
        settle(&f, lb, changed + 1);
        assert_true(lb_holds_vip(lb));

        /* Nothing polls: with nothing changing, the loop sleeps through 1.2 s in one iteration. */
        uint64_t now, deadline;
        assert_int_equal(sd_event_get_iteration(f.event, &before), 0);
        assert_true(sd_event_now(f.event, CLOCK_MONOTONIC, &now) >= 0);
        for (deadline = now + 1200 * 1000; now < deadline;
             assert_true(sd_event_now(f.event, CLOCK_MONOTONIC, &now) >= 0))
                assert_true(sd_event_run(f.event, deadline - now) >= 0);
        assert_int_equal(sd_event_get_iteration(f.event, &after), 0);
        assert_true(after - before <= 1);

        changed = f.changed;
        assert_int_equal(system("ip -4 addr del 10.77.0.240/32 dev lo"), 0);
        settle(&f, lb, changed + 1);
        assert_false(lb_holds_vip(lb));

        lb_free(lb);
        sd_event_unref(f.event);
        config_unref(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(lb_update__first_inputs__files_checked_installed_units_applied_in_order,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(lb_update__master_added__only_haproxy_reapplied, setup, teardown),
                cmocka_unit_test_setup_teardown(lb_update__change_while_reloading__latest_installed, setup, teardown),
                cmocka_unit_test_setup_teardown(lb_update__checker_rejects__last_good_file_kept_and_reported, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(lb_update__unit_job_fails__problem_and_not_ready, setup, teardown),
                cmocka_unit_test_setup_teardown(lb_update__checker_gives_no_verdict__checked_again_later, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(lb_update__daemon_reload_fails__keepalived_waits_then_retried, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(lb_update__hostile_interface__einval_reported, setup, teardown),
                cmocka_unit_test_setup_teardown(lb_holds_vip__vip_added_and_removed__reported_without_polling, setup,
                                                teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
