/* SPDX-License-Identifier: MIT */
/* The worker role against a master that is an exchange test server on loopback: a worker waiting for a ready
 * master asks the masters it sees to tell it directly (the exchange's ready op) and acts on the answer without
 * waiting for the master's mDNS update; a master that cannot tell is not asked again until mDNS shows it changed,
 * and mDNS alone still leads to the join. No kubeadm runs: the one named does not exist. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "exchange-fixture.h"
#include "fileio.h"
#include "peer-set.h"
#include "role-node.h"

#define CLUSTER_SECRET "cba47853ac7a856ad9c0cb5b817ce932c0a8424a9b33450c"
#define MASTER_ID      "00000000000a"
#define WORKER_ID      "00000000000b"
#define ALL_CHECKS                                                                                              \
        "memory-cgroup,swap,br_netfilter,ip_forward,bridge-nf-call-iptables,container-runtime,kubeadm,kubelet," \
        "memory,containerd-version"

typedef struct World {
        Fixture f;
        char dir[64];
        PeerSet *peers;
        NodeRole *role;
        unsigned changes;
} World;

static void on_changed(void *userdata)
{
        World *w = userdata;
        w->changes++;
}

static void set_master(World *w, Phase phase)
{
        PeerTxt txt = {.version = PEER_TXT_VERSION, .role = ROLE_MASTER, .phase = phase, .id = MASTER_ID};
        unsigned changes;

        assert_int_equal(peer_set_update(w->peers,
                                         &(PeerUpdate){.service = "master",
                                                       .hostname = "master-00000a",
                                                       .txt = &txt,
                                                       .address = {htonl(INADDR_LOOPBACK)},
                                                       .port = w->f.port},
                                         now_usec(), &changes),
                         0);
}

static int setup(void **state)
{
        World *w = calloc(1, sizeof *w);
        /* wait_for_clock=no: whether this host's clock is synchronised is not this test's business. */
        const char *role = "role=worker\n", *cluster = "secret=" CLUSTER_SECRET "\nmasters=1\nwait_for_clock=no\n";
        DiagList d = {};
        Config *c = NULL;

        assert_non_null(w);
        snprintf(w->dir, sizeof w->dir, "/tmp/test-role-node-XXXXXX");
        assert_non_null(mkdtemp(w->dir));
        assert_int_equal(sd_event_new(&w->f.event), 0);
        assert_int_equal(exchange_test_provider_new(w->f.event, MASTER_ID, &w->f.provider), 0);
        ExchangeServerOptions o = test_server_options();
        o.http.deadline_usec = 8 * SEC;
        assert_int_equal(exchange_server_new(w->f.event, CLUSTER_SECRET, &o, &exchange_test_provider_ops, w->f.provider,
                                             &w->f.server),
                         0);
        w->f.port = exchange_server_get_port(w->f.server);
        assert_int_equal(peer_set_new(&w->peers), 0);
        assert_int_equal(config_parse(role, strlen(role), cluster, strlen(cluster), &d, &c), 0);
        char run[96];
        snprintf(run, sizeof run, "%s/run", w->dir);
        NodeRoleParams p = {.config = c,
                            .self_id = WORKER_ID,
                            .hostname = "worker-00000b",
                            .address = {htonl(INADDR_LOOPBACK)},
                            .state_dir = w->dir,
                            .runtime_dir = run,
                            .boot_dir = w->dir,
                            .kubeadm = "/nonexistent/kubeadm",
                            .preflight_ignore = ALL_CHECKS};
        assert_int_equal(node_role_new(w->f.event, &p, on_changed, w, &w->role), 0);
        config_unref(c);
        *state = w;
        return 0;
}

static int teardown(void **state)
{
        World *w = *state;
        char cmd[96];

        node_role_free(w->role);
        peer_set_free(w->peers);
        exchange_server_free(w->f.server);
        exchange_test_provider_free(w->f.provider);
        sd_event_unref(w->f.event);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
        assert_int_equal(system(cmd), 0);
        free(w);
        return 0;
}

/* Turns the loop until *counter reaches want, or 5 s. */
static bool run_until_count(World *w, const unsigned *counter, unsigned want)
{
        for (uint64_t end = now_usec() + 5 * SEC; *counter < want && now_usec() < end;)
                assert_true(sd_event_run(w->f.event, 10 * MSEC) >= 0);
        return *counter >= want;
}

static void worker__master_says_ready__joins_before_mdns_tells(void **state)
{
        World *w = *state;

        w->f.provider->hold = true;
        set_master(w, PHASE_INITIALIZING);
        node_role_start(w->role, w->peers);
        assert_true(run_until_count(w, &w->f.provider->n_ready, 1));
        run_for(&w->f, 200 * MSEC);
        assert_int_equal(node_role_phase(w->role), PHASE_WAITING_FOR_MASTER);
        assert_int_equal(w->f.provider->n_join, 0);
        assert_int_equal(exchange_test_provider_pending(w->f.provider), 1);

        /* The master is ready: it answers the held call, and the worker asks it for join material at once, while
         * mDNS still shows it initializing. */
        w->f.provider->hold = false;
        assert_int_equal(exchange_test_provider_release(w->f.provider), 1);
        assert_true(run_until_count(w, &w->f.provider->n_join, 1));
        assert_int_equal(w->f.provider->n_ready, 1);
        assert_int_not_equal(node_role_phase(w->role), PHASE_WAITING_FOR_MASTER);
}

static void worker__master_cannot_tell__mdns_still_leads_to_the_join(void **state)
{
        World *w = *state;

        w->f.provider->fail = -EAGAIN; /* "not now" at once: not asked again in a loop */
        set_master(w, PHASE_INITIALIZING);
        node_role_start(w->role, w->peers);
        assert_true(run_until_count(w, &w->f.provider->n_ready, 1));
        run_for(&w->f, 500 * MSEC);
        assert_int_equal(w->f.provider->n_ready, 1);
        assert_int_equal(node_role_phase(w->role), PHASE_WAITING_FOR_MASTER);

        /* Its phase in mDNS changed: asked again. */
        set_master(w, PHASE_JOINING);
        node_role_update(w->role, w->peers);
        assert_true(run_until_count(w, &w->f.provider->n_ready, 2));

        /* mDNS says ready: the join goes ahead without the ready op. */
        w->f.provider->fail = 0;
        set_master(w, PHASE_READY);
        node_role_update(w->role, w->peers);
        assert_true(run_until_count(w, &w->f.provider->n_join, 1));
        assert_int_equal(w->f.provider->n_ready, 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(worker__master_says_ready__joins_before_mdns_tells, setup, teardown),
                cmocka_unit_test_setup_teardown(worker__master_cannot_tell__mdns_still_leads_to_the_join, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
