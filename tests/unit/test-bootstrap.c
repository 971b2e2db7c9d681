/* SPDX-License-Identifier: MIT */
/* The master/worker phase machine driven through fake operations: happy paths for each role, the election,
 * retries with cleanup and backoff, giving up, and never touching a node that is already a member. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bootstrap.h"

#define SECRET "cba47853ac7a856ad9c0cb5b817ce932c0a8424a9b33450c"

typedef struct World {
        PreflightFacts facts;
        bool endpoint_up;
        unsigned votes;
        int material_error;
        int init_results[8], n_init; /* results of successive kubeadm init runs (0 = success) */
        int join_results[8], n_join;
        int reset_error;
        int cni_results[8], n_cni; /* results of successive pod network applies */
        char log[64][48];          /* calls in order */
        unsigned n_log;
        NodeState saved;
        unsigned saves;
        uint64_t scheduled;
        bool joined_reported, joined_success;
        Phase last_phase;
        unsigned phase_reports; /* phase_changed calls with a detail (what the journal gets) */
        bool clock_unsynced;    /* the clock is not synchronised (healthy(): it is) */
        int clock_error;
        unsigned clock_asked;
} World;

static void note(World *w, const char *what)
{
        if (w->n_log < 64)
                snprintf(w->log[w->n_log++], sizeof w->log[0], "%s", what);
}

static int op_probe(void *u, PreflightFacts *ret)
{
        *ret = ((World *)u)->facts;
        return 0;
}

static int op_fix(void *u, const PreflightFinding *f, size_t n, BootstrapDone done, void *d)
{
        World *w = u;
        note(w, "fix");
        w->facts.swap_active = false;
        w->facts.ip_forward = true;
        done(0, NULL, d);
        return 0;
}

static int op_clock(void *u, char *detail, size_t n)
{
        World *w = u;
        w->clock_asked++;
        if (w->clock_error < 0)
                return w->clock_error;
        if (w->clock_unsynced)
                snprintf(detail, n, "waiting for the clock: no NTP answer yet from ntp.lan");
        return !w->clock_unsynced;
}

static int op_endpoint(void *u, BootstrapDone done, void *d)
{
        done(((World *)u)->endpoint_up ? 0 : -ECONNREFUSED, NULL, d);
        return 0;
}

static int op_votes(void *u, BootstrapVotesDone done, void *d)
{
        note(u, "votes");
        done(((World *)u)->votes, d);
        return 0;
}

static int op_material(void *u, bool cp, BootstrapMaterialDone done, void *d)
{
        World *w = u;
        BootstrapMaterial m = {.token = "abcdef.0123456789abcdef", .ca_hash = "sha256:00", .server = "m-1"};
        if (cp)
                snprintf(m.certificate_key, sizeof m.certificate_key, "%064d", 7);
        note(w, cp ? "material control-plane" : "material worker");
        done(w->material_error, w->material_error < 0 ? NULL : &m, d);
        return 0;
}

static void op_report(void *u, const BootstrapMaterial *m, bool cp, bool success)
{
        World *w = u;
        w->joined_reported = true;
        w->joined_success = success;
        assert_string_equal(m->server, "m-1");
}

static int op_init(void *u, BootstrapDone done, void *d)
{
        World *w = u;
        int r = w->init_results[w->n_init++ % 8];
        note(w, "init");
        assert_int_equal(w->saved.membership, MEMBERSHIP_STARTED); /* persisted before kubeadm runs */
        done(r, r < 0 ? "exited with status 1" : NULL, d);
        return 0;
}

static int op_join(void *u, const BootstrapMaterial *m, bool cp, BootstrapDone done, void *d)
{
        World *w = u;
        int r = w->join_results[w->n_join++ % 8];
        note(w, cp ? "join control-plane" : "join");
        assert_string_equal(m->token, "abcdef.0123456789abcdef");
        assert_int_equal(w->saved.membership, MEMBERSHIP_STARTED);
        done(r, r < 0 ? "exited with status 1" : NULL, d);
        return 0;
}

static int op_reset(void *u, BootstrapDone done, void *d)
{
        note(u, "reset");
        done(((World *)u)->reset_error, NULL, d);
        return 0;
}

static int op_cni(void *u, BootstrapDone done, void *d)
{
        World *w = u;
        int r = w->cni_results[w->n_cni++ % 8];
        note(w, "cni");
        done(r, r < 0 ? "no manifest for cni=calico" : NULL, d);
        return 0;
}

static int op_save(void *u, const NodeState *s)
{
        World *w = u;
        w->saved = *s;
        w->saves++;
        return 0;
}

static int op_schedule(void *u, uint64_t usec)
{
        ((World *)u)->scheduled = usec;
        return 0;
}

static void op_phase(void *u, Phase p, const char *detail)
{
        ((World *)u)->last_phase = p;
        if (detail)
                ((World *)u)->phase_reports++;
}

static const BootstrapOps ops = {
        .preflight_probe = op_probe,
        .preflight_fix = op_fix,
        .clock_synced = op_clock,
        .probe_endpoint = op_endpoint,
        .request_votes = op_votes,
        .fetch_material = op_material,
        .report_joined = op_report,
        .kubeadm_init = op_init,
        .kubeadm_join = op_join,
        .kubeadm_reset = op_reset,
        .apply_cni = op_cni,
        .save_state = op_save,
        .schedule = op_schedule,
        .phase_changed = op_phase,
};

static World healthy(void)
{
        return (World){.facts = {.memory_cgroup = true,
                                 .br_netfilter = true,
                                 .ip_forward = true,
                                 .bridge_nf_call = true,
                                 .container_runtime = true,
                                 .kubeadm = true,
                                 .kubelet = true},
                       .endpoint_up = true};
}

static Config *config(const char *role)
{
        DiagList d = {};
        Config *c = NULL;
        const char *cluster = "secret=" SECRET "\nmasters=3\n";
        assert_int_equal(config_parse(role, strlen(role), cluster, strlen(cluster), &d, &c), 0);
        return c;
}

static Bootstrap *start(World *w, const char *role, const char *self, NodeState state)
{
        Config *c = config(role);
        Bootstrap *b = NULL;
        assert_int_equal(bootstrap_new(&ops, w, c, self, &state, NULL, &b), 0);
        config_unref(c);
        return b;
}

static void assert_log(const World *w, const char *const *want)
{
        size_t n = 0;
        for (; want[n]; n++) {
                if (n >= w->n_log)
                        fail_msg("call %zu: expected '%s', got nothing", n, want[n]);
                if (strcmp(w->log[n], want[n]) != 0)
                        fail_msg("call %zu: expected '%s', got '%s'", n, want[n], w->log[n]);
        }
        if (n != w->n_log)
                fail_msg("unexpected extra call '%s'", w->log[n]);
}

static const ElectionPeer three[] = {{.id = "m-1"}, {.id = "m-2"}, {.id = "m-3"}};

/* The cluster exists once init succeeded: a pod network that cannot be applied yet is retried from ready, and
 * never leads to a second kubeadm init or to a reset. */
static void bootstrap__cni_fails__ready_with_problem_retried_no_second_init(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=master\n", "m-1", (NodeState){});
        const BootstrapView v = {.masters = three, .n_masters = 3};

        w.votes = 2;
        w.cni_results[0] = w.cni_results[1] = -ENOENT;
        bootstrap_tick(b, &v);
        assert_log(&w, (const char *[]){"votes", "init", "cni", NULL});
        assert_int_equal(w.saved.membership, MEMBERSHIP_INITIALIZED);
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_non_null(strstr(strempty(bootstrap_problem(b)), "no manifest for cni=calico"));

        /* Peers changing is no reason to apply again; the timer is. */
        bootstrap_tick(b, &v);
        assert_int_equal(w.n_log, 3);
        bootstrap_timer(b, &v);
        bootstrap_tick(b, &v);
        assert_log(&w, (const char *[]){"votes", "init", "cni", "cni", NULL});
        assert_non_null(bootstrap_problem(b));
        bootstrap_timer(b, &v);
        assert_log(&w, (const char *[]){"votes", "init", "cni", "cni", "cni", NULL});
        assert_null(bootstrap_problem(b));
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_int_equal(w.saved.membership, MEMBERSHIP_INITIALIZED);

        bootstrap_timer(b, &v);
        assert_int_equal(w.n_log, 5);
        bootstrap_free(b);
}

static void bootstrap__worker__waits_for_master_then_joins(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=worker\n", "w-1", (NodeState){});

        bootstrap_tick(b, &(BootstrapView){});
        assert_int_equal(bootstrap_phase(b), PHASE_WAITING_FOR_MASTER);
        assert_int_equal(w.n_log, 0);

        bootstrap_tick(b, &(BootstrapView){.ready_master = true});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_log(&w, (const char *[]){"material worker", "join", NULL});
        assert_int_equal(w.saved.membership, MEMBERSHIP_JOINED);
        assert_true(w.joined_reported && w.joined_success);
        bootstrap_free(b);
}

static void bootstrap__lowest_master_with_majority__initializes_once(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=master\n", "m-1", (NodeState){});

        w.votes = 2;
        bootstrap_tick(b, &(BootstrapView){.masters = three, .n_masters = 3});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_log(&w, (const char *[]){"votes", "init", "cni", NULL});
        assert_int_equal(w.saved.membership, MEMBERSHIP_INITIALIZED);

        /* Further ticks in any view never run kubeadm again. */
        bootstrap_tick(b, &(BootstrapView){.masters = three, .n_masters = 3, .ready_master = true});
        bootstrap_timer(b, &(BootstrapView){});
        assert_int_equal(w.n_log, 3);
        bootstrap_free(b);
}

/* A master that campaigned (its own vote for itself, persisted), then sees a lower id, steps down: its own vote is
 * free at once for that master. A vote it gave another master is kept (it lapses only after a lease). */
static void bootstrap__candidate_steps_down__own_vote_freed_others_kept(void **state)
{
        World w = healthy();
        NodeState st = {.vote = {.candidate = "m-2", .last_seen_usec = 5}};
        Bootstrap *b = start(&w, "role=master\n", "m-2", st);
        const BootstrapView v = {.masters = three, .n_masters = 3};

        bootstrap_tick(b, &v);
        assert_int_equal(bootstrap_phase(b), PHASE_ELECTING);
        assert_log(&w, (const char *[]){NULL}); /* waits: no vote round, no kubeadm */
        assert_string_equal(w.saved.vote.candidate, "");
        assert_string_equal(bootstrap_vote(b)->candidate, "");
        bootstrap_free(b);

        w = healthy();
        st.vote = (ElectionVote){.candidate = "m-1", .last_seen_usec = 5};
        b = start(&w, "role=master\n", "m-2", st);
        bootstrap_tick(b, &v);
        assert_int_equal(bootstrap_phase(b), PHASE_ELECTING);
        assert_string_equal(bootstrap_vote(b)->candidate, "m-1");
        assert_int_equal(w.saves, 0);
        bootstrap_free(b);
}

static void bootstrap__minority_of_votes__no_init(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=master\n", "m-1", (NodeState){});

        w.votes = 1;
        bootstrap_tick(b, &(BootstrapView){.masters = three, .n_masters = 3});
        assert_int_equal(bootstrap_phase(b), PHASE_ELECTING);
        assert_string_equal(strempty(bootstrap_problem(b)), "1 of 3 votes, 2 needed: waiting to see more masters");
        bootstrap_timer(b, &(BootstrapView){.masters = three, .n_masters = 3});
        assert_log(&w, (const char *[]){"votes", "votes", NULL});
        /* A majority at last: the status no longer speaks of votes. */
        w.votes = 2;
        bootstrap_timer(b, &(BootstrapView){.masters = three, .n_masters = 3});
        assert_log(&w, (const char *[]){"votes", "votes", "votes", "init", "cni", NULL});
        assert_null(bootstrap_problem(b));
        bootstrap_free(b);
}

/* Nothing that mints certificates or tokens before the clock is synchronised: the node waits in preflight with
 * the reason in its status, looks again on the timer only (peer updates do not), and goes on by itself. */
static void bootstrap__clock_unsynced__waits_then_goes_on(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=worker\n", "w-1", (NodeState){});
        const BootstrapView v = {.ready_master = true};

        w.clock_unsynced = true;
        bootstrap_tick(b, &v);
        assert_int_equal(bootstrap_phase(b), PHASE_PREFLIGHT);
        assert_string_equal(strempty(bootstrap_problem(b)), "waiting for the clock: no NTP answer yet from ntp.lan");
        assert_int_equal(w.scheduled, 2000000);
        assert_log(&w, (const char *[]){NULL});
        unsigned reports = w.phase_reports, asked = w.clock_asked;

        bootstrap_tick(b, &v); /* a peer update */
        assert_int_equal(w.clock_asked, asked);
        bootstrap_timer(b, &v); /* still not: said once */
        assert_int_equal(w.clock_asked, asked + 1);
        assert_int_equal(w.phase_reports, reports);
        assert_int_equal(bootstrap_phase(b), PHASE_PREFLIGHT);
        assert_log(&w, (const char *[]){NULL});

        w.clock_unsynced = false;
        bootstrap_timer(b, &v);
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_null(bootstrap_problem(b));
        assert_log(&w, (const char *[]){"material worker", "join", NULL});
        bootstrap_free(b);

        /* A master does not even take part in the election meanwhile; one that cannot tell waits too. */
        w = healthy();
        w.clock_error = -EPERM;
        w.votes = 2;
        b = start(&w, "role=master\n", "m-1", (NodeState){});
        bootstrap_tick(b, &(BootstrapView){.masters = three, .n_masters = 3});
        assert_int_equal(bootstrap_phase(b), PHASE_PREFLIGHT);
        assert_non_null(strstr(strempty(bootstrap_problem(b)), "cannot tell whether it is synchronised"));
        assert_log(&w, (const char *[]){NULL});
        w.clock_error = 0;
        bootstrap_timer(b, &(BootstrapView){.masters = three, .n_masters = 3});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_log(&w, (const char *[]){"votes", "init", "cni", NULL});
        bootstrap_free(b);
}

/* A member (rebooted) is ready from its state without waiting for the clock: it runs no kubeadm init or join. */
static void bootstrap__member_clock_unsynced__ready_at_once(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=master\n", "m-1", (NodeState){.membership = MEMBERSHIP_JOINED});

        w.clock_unsynced = true;
        bootstrap_tick(b, &(BootstrapView){});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_int_equal(w.clock_asked, 0);
        assert_log(&w, (const char *[]){NULL});
        bootstrap_free(b);
}

static void bootstrap__endpoint_down__master_waits(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=master\n", "m-1", (NodeState){});

        w.endpoint_up = false;
        w.votes = 3;
        bootstrap_tick(b, &(BootstrapView){.masters = three, .n_masters = 3});
        assert_int_equal(bootstrap_phase(b), PHASE_WAITING_FOR_ENDPOINT);
        assert_int_equal(w.n_log, 0);
        w.endpoint_up = true;
        bootstrap_timer(b, &(BootstrapView){.masters = three, .n_masters = 3});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        bootstrap_free(b);
}

static void bootstrap__higher_master__joins_initialized_cluster_as_control_plane(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=master\n", "m-2", (NodeState){});
        ElectionPeer inited[] = {{.id = "m-1", .initialized = true}, {.id = "m-2"}};

        bootstrap_tick(b, &(BootstrapView){.masters = three, .n_masters = 3});
        assert_int_equal(bootstrap_phase(b), PHASE_ELECTING);
        assert_int_equal(w.n_log, 0);

        bootstrap_tick(b, &(BootstrapView){.masters = inited, .n_masters = 2, .ready_master = true});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_log(&w, (const char *[]){"material control-plane", "join control-plane", NULL});
        assert_int_equal(w.saved.membership, MEMBERSHIP_JOINED);
        bootstrap_free(b);
}

static void bootstrap__member_after_reboot__never_runs_kubeadm(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=master\n", "m-1", (NodeState){.membership = MEMBERSHIP_INITIALIZED});

        w.votes = 3;
        bootstrap_tick(b, &(BootstrapView){.masters = three, .n_masters = 3, .ready_master = true});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_int_equal(w.n_log, 0);
        bootstrap_free(b);

        World w2 = healthy();
        b = start(&w2, "role=worker\n", "w-1", (NodeState){.membership = MEMBERSHIP_JOINED});
        bootstrap_tick(b, &(BootstrapView){.ready_master = true});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_int_equal(w2.n_log, 0);
        bootstrap_free(b);
}

static void bootstrap__interrupted_attempt__reset_first(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=worker\n", "w-1", (NodeState){.membership = MEMBERSHIP_STARTED});

        bootstrap_tick(b, &(BootstrapView){.ready_master = true});
        assert_log(&w, (const char *[]){"reset", "material worker", "join", NULL});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        bootstrap_free(b);
}

static void bootstrap__init_fails_once__cleanup_backoff_retry(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=master\n", "m-1", (NodeState){});
        BootstrapView v = {.masters = three, .n_masters = 3};

        w.votes = 2;
        w.init_results[0] = -EIO;
        bootstrap_tick(b, &v);
        assert_int_equal(bootstrap_phase(b), PHASE_BACKOFF);
        assert_int_equal(w.saved.attempts, 1);
        assert_int_equal(w.scheduled, bootstrap_backoff_usec(1));
        assert_non_null(strstr(bootstrap_problem(b), "kubeadm init failed (exited with status 1); attempt 1 of 6"));

        /* A view change during the backoff does not cut it short. */
        bootstrap_tick(b, &v);
        assert_int_equal(bootstrap_phase(b), PHASE_BACKOFF);

        bootstrap_timer(b, &v);
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_log(&w, (const char *[]){"votes", "init", "reset", "votes", "init", "cni", NULL});
        assert_int_equal(w.saved.attempts, 0);
        bootstrap_free(b);
}

static void bootstrap__join_keeps_failing__gives_up_with_reason(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=worker\n", "w-1", (NodeState){});
        BootstrapView v = {.ready_master = true};

        for (unsigned i = 0; i < 8; i++)
                w.join_results[i] = -EIO;
        bootstrap_tick(b, &v);
        for (unsigned i = 1; i < BOOTSTRAP_MAX_ATTEMPTS; i++) {
                assert_int_equal(bootstrap_phase(b), PHASE_BACKOFF);
                bootstrap_timer(b, &v);
        }
        assert_int_equal(bootstrap_phase(b), PHASE_FAILED);
        assert_int_equal(w.n_join, BOOTSTRAP_MAX_ATTEMPTS);
        assert_non_null(strstr(bootstrap_problem(b), "kubeadm join failed 6 times"));
        assert_non_null(strstr(bootstrap_problem(b), "systemctl restart piagent"));
        assert_false(w.joined_success);
        bootstrap_free(b);
}

static void bootstrap__blocking_preflight__stops_before_kubeadm(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=worker\n", "w-1", (NodeState){});

        w.facts.memory_cgroup = false;
        bootstrap_tick(b, &(BootstrapView){.ready_master = true});
        assert_int_equal(bootstrap_phase(b), PHASE_PREFLIGHT);
        assert_non_null(strstr(bootstrap_problem(b), "cgroup_enable=memory"));
        assert_int_equal(w.n_log, 0);
        assert_int_equal(w.phase_reports, 1);

        /* Said once: neither peer updates nor the periodic re-check repeat an unchanged problem. */
        bootstrap_tick(b, &(BootstrapView){.ready_master = true});
        bootstrap_timer(b, &(BootstrapView){.ready_master = true});
        assert_int_equal(w.phase_reports, 1);
        assert_int_equal(bootstrap_phase(b), PHASE_PREFLIGHT);

        w.facts.memory_cgroup = true;
        bootstrap_timer(b, &(BootstrapView){.ready_master = true});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        bootstrap_free(b);
}

static void bootstrap__fixable_preflight__fixed_then_continues(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=worker\n", "w-1", (NodeState){});

        w.facts.swap_active = true;
        bootstrap_tick(b, &(BootstrapView){.ready_master = true});
        assert_log(&w, (const char *[]){"fix", "material worker", "join", NULL});
        bootstrap_free(b);
}

/* A master with too little memory for kubeadm stops before any kubeadm run, with the fix; a worker with as
 * little goes on. */
static void bootstrap__master_below_kubeadm_memory__no_kubeadm(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=master\n", "m-1", (NodeState){});

        w.facts.mem_mb = 906;
        bootstrap_tick(b, &(BootstrapView){});
        assert_int_equal(bootstrap_phase(b), PHASE_PREFLIGHT);
        assert_non_null(strstr(bootstrap_problem(b), "2 GB or more"));
        assert_int_equal(w.n_log, 0);
        bootstrap_free(b);

        w = healthy();
        w.facts.mem_mb = 906;
        b = start(&w, "role=worker\n", "w-1", (NodeState){});
        bootstrap_tick(b, &(BootstrapView){.ready_master = true});
        assert_log(&w, (const char *[]){"material worker", "join", NULL});
        bootstrap_free(b);
}

/* A warning (containerd below its floor) is not a fix to run and stops nothing. */
static void bootstrap__preflight_warning__goes_on(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=worker\n", "w-1", (NodeState){});

        snprintf(w.facts.containerd_version, sizeof w.facts.containerd_version, "1.6.20");
        snprintf(w.facts.kubeadm_version, sizeof w.facts.kubeadm_version, "1.30.14");
        bootstrap_tick(b, &(BootstrapView){.ready_master = true});
        assert_log(&w, (const char *[]){"material worker", "join", NULL});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        bootstrap_free(b);
}

/* A control-plane joiner refused the ticket stays "joining" (no phase flapping on mDNS) and asks again when its
 * short timer fires, not on every peer update in between. */
static void bootstrap__ticket_busy__asks_again_on_timer_only(void **state)
{
        World w = healthy();
        ElectionPeer inited[] = {{.id = "m-1", .initialized = true}, {.id = "m-2"}};
        Bootstrap *b = start(&w, "role=master\n", "m-2", (NodeState){});
        const BootstrapView v = {.masters = inited, .n_masters = 2, .ready_master = true};

        w.material_error = -EBUSY;
        bootstrap_tick(b, &v);
        assert_log(&w, (const char *[]){"material control-plane", NULL});
        assert_int_equal(bootstrap_phase(b), PHASE_JOINING);
        assert_true(w.scheduled <= 1000000);
        bootstrap_tick(b, &v);
        bootstrap_tick(b, &v);
        assert_int_equal(w.n_log, 1);
        bootstrap_timer(b, &v);
        assert_log(&w, (const char *[]){"material control-plane", "material control-plane", NULL});
        w.material_error = 0;
        bootstrap_timer(b, &v);
        assert_log(&w, (const char *[]){"material control-plane", "material control-plane", "material control-plane",
                                        "join control-plane", NULL});
        assert_int_equal(bootstrap_phase(b), PHASE_READY);
        assert_int_equal(w.saved.attempts, 0);
        bootstrap_free(b);
}

static void bootstrap__no_master_ready__no_attempt_counted(void **state)
{
        World w = healthy();
        Bootstrap *b = start(&w, "role=worker\n", "w-1", (NodeState){});

        w.material_error = -EAGAIN;
        bootstrap_tick(b, &(BootstrapView){.ready_master = true});
        assert_int_equal(bootstrap_phase(b), PHASE_WAITING_FOR_MASTER);
        assert_int_equal(w.saved.attempts, 0);
        assert_int_equal(w.n_join, 0);
        bootstrap_free(b);
}

static void bootstrap_backoff_usec__doubles_and_caps(void **state)
{
        assert_int_equal(bootstrap_backoff_usec(1), 5000000);
        assert_int_equal(bootstrap_backoff_usec(2), 10000000);
        assert_int_equal(bootstrap_backoff_usec(4), 40000000);
        assert_int_equal(bootstrap_backoff_usec(20), 300000000);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(bootstrap__worker__waits_for_master_then_joins),
                cmocka_unit_test(bootstrap__lowest_master_with_majority__initializes_once),
                cmocka_unit_test(bootstrap__cni_fails__ready_with_problem_retried_no_second_init),
                cmocka_unit_test(bootstrap__minority_of_votes__no_init),
                cmocka_unit_test(bootstrap__candidate_steps_down__own_vote_freed_others_kept),
                cmocka_unit_test(bootstrap__endpoint_down__master_waits),
                cmocka_unit_test(bootstrap__clock_unsynced__waits_then_goes_on),
                cmocka_unit_test(bootstrap__member_clock_unsynced__ready_at_once),
                cmocka_unit_test(bootstrap__higher_master__joins_initialized_cluster_as_control_plane),
                cmocka_unit_test(bootstrap__member_after_reboot__never_runs_kubeadm),
                cmocka_unit_test(bootstrap__interrupted_attempt__reset_first),
                cmocka_unit_test(bootstrap__init_fails_once__cleanup_backoff_retry),
                cmocka_unit_test(bootstrap__join_keeps_failing__gives_up_with_reason),
                cmocka_unit_test(bootstrap__blocking_preflight__stops_before_kubeadm),
                cmocka_unit_test(bootstrap__fixable_preflight__fixed_then_continues),
                cmocka_unit_test(bootstrap__master_below_kubeadm_memory__no_kubeadm),
                cmocka_unit_test(bootstrap__preflight_warning__goes_on),
                cmocka_unit_test(bootstrap__no_master_ready__no_attempt_counted),
                cmocka_unit_test(bootstrap__ticket_busy__asks_again_on_timer_only),
                cmocka_unit_test(bootstrap_backoff_usec__doubles_and_caps),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
