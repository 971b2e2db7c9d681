/* SPDX-License-Identifier: MIT */

#include <assert.h>
#include <limits.h>
#include <stdio.h>

#include "bootstrap.h"
#include "log.h"

#define RECHECK_USEC          (2 * 1000000ULL)  /* endpoint, election, masters */
#define TICKET_RECHECK_USEC   (500 * 1000ULL)   /* another control-plane join holds the ticket */
#define ENDPOINT_RECHECK_USEC (500 * 1000ULL)   /* the control-plane endpoint did not answer */
#define CLOCK_RECHECK_USEC    (2 * 1000000ULL)  /* timesyncd synchronises by itself: looked at often */
#define PREFLIGHT_RETRY       (30 * 1000000ULL) /* a person may fix the blocking problem meanwhile */
#define BACKOFF_FIRST_USEC    (5 * 1000000ULL)
#define BACKOFF_MAX_USEC      (300 * 1000000ULL)

struct Bootstrap {
        const BootstrapOps *ops;
        void *userdata;
        Role role;
        bool pinned;
        unsigned masters;
        char self_id[ELECTION_ID_MAX];
        unsigned preflight_ignore;

        NodeState state;
        Phase phase;
        bool busy;          /* an operation is in flight: its completion continues the machine */
        bool timer_due;     /* the scheduled time came */
        BootstrapView view; /* the latest view (pointers valid until the next tick) */
        BootstrapMaterial material;
        char problem[512];
        unsigned votes_seen;       /* votes in the last round that fell short (UINT_MAX: none yet) */
        bool fetch_gated;          /* a request for join material was refused: the next one waits for the timer */
        bool preflight_blocking;   /* preflight found a blocking problem: re-checked on the timer only */
        unsigned preflight_warned; /* warnings said already (1 << PreflightCheck) */
        bool clock_waiting;        /* preflight passed; the clock is not synchronised yet */
};

uint64_t bootstrap_backoff_usec(unsigned attempt)
{
        uint64_t d = BACKOFF_FIRST_USEC;

        for (unsigned i = 1; i < attempt && d < BACKOFF_MAX_USEC; i++)
                d *= 2;
        return MIN(d, BACKOFF_MAX_USEC);
}

Phase bootstrap_phase(const Bootstrap *b)
{
        return b->phase;
}

const char *bootstrap_problem(const Bootstrap *b)
{
        return b->problem[0] ? b->problem : NULL;
}

const NodeState *bootstrap_state(const Bootstrap *b)
{
        return &b->state;
}

ElectionVote *bootstrap_vote(Bootstrap *b)
{
        return &b->state.vote;
}

static void step(Bootstrap *b);

static void set_phase(Bootstrap *b, Phase p, const char *detail)
{
        if (b->phase == p && !detail)
                return;
        b->phase = p;
        b->ops->phase_changed(b->userdata, p, detail);
}

static void set_problem(Bootstrap *b, const char *fmt, ...) _printf_(2, 3);
static void set_problem(Bootstrap *b, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(b->problem, sizeof b->problem, fmt, ap);
        va_end(ap);
}

static void save(Bootstrap *b)
{
        int r = b->ops->save_state(b->userdata, &b->state);
        if (r < 0)
                log_error_errno(r, "Failed to save the node state, continuing: %m");
}

void bootstrap_save(Bootstrap *b)
{
        save(b);
}

static void schedule(Bootstrap *b, uint64_t usec)
{
        b->timer_due = false;
        int r = b->ops->schedule(b->userdata, usec);
        if (r < 0)
                log_error_errno(r, "Failed to schedule the next step: %m");
}

/* A started attempt failed: count it, then clean up and wait, or give up. */
static void attempt_failed(Bootstrap *b, const char *what, int error, const char *detail)
{
        b->state.attempts++;
        save(b);
        erase(&b->material, sizeof b->material);
        if (b->state.attempts >= BOOTSTRAP_MAX_ATTEMPTS) {
                set_problem(b,
                            "%s failed %u times (last: %s); giving up. The journal has kubeadm's output; fix the "
                            "cause, then 'systemctl restart piagent' to try again",
                            what, b->state.attempts, detail ?: strerror(-error));
                set_phase(b, PHASE_FAILED, b->problem);
                return;
        }
        uint64_t wait = bootstrap_backoff_usec(b->state.attempts);
        set_problem(b, "%s failed (%s); attempt %u of %u, retrying in %llu s after cleaning up", what,
                    detail ?: strerror(-error), b->state.attempts, BOOTSTRAP_MAX_ATTEMPTS,
                    (unsigned long long)(wait / 1000000));
        set_phase(b, PHASE_BACKOFF, b->problem);
        schedule(b, wait);
}

/* kubeadm init and join mint certificates valid from now (and check the others'), and tokens valid for 24 h from
 * now: on a Pi without a battery clock, "now" may be the image's build day or 1970 until NTP answered. So the
 * node waits in preflight, saying what for, and looks again every CLOCK_RECHECK_USEC. A member does not wait
 * here: it runs no kubeadm init or join (a master hands out join material only once its clock is synchronised,
 * role-node-serve.c). */
static bool clock_synced(Bootstrap *b)
{
        char detail[sizeof b->problem];
        int r;

        detail[0] = 0;
        r = b->ops->clock_synced(b->userdata, detail, sizeof detail);
        if (r > 0) {
                if (b->clock_waiting)
                        log_notice("The clock is synchronised: going on");
                b->clock_waiting = false;
                return true;
        }
        if (r < 0)
                snprintf(detail, sizeof detail, "waiting for the clock: cannot tell whether it is synchronised (%s)",
                         strerror(-r));
        if (!b->clock_waiting || !streq(b->problem, detail)) {
                set_problem(b, "%s", detail);
                set_phase(b, PHASE_PREFLIGHT, b->problem);
        }
        b->clock_waiting = true;
        schedule(b, CLOCK_RECHECK_USEC);
        return false;
}

static void after_preflight(Bootstrap *b)
{
        if (node_state_is_member(&b->state)) {
                b->problem[0] = 0;
                set_phase(b, PHASE_READY,
                          b->state.membership == MEMBERSHIP_INITIALIZED
                                  ? "this node is already part of the cluster (it initialized it): kubeadm init, "
                                    "join and reset are not run again"
                                  : "this node is already part of the cluster (it joined earlier): kubeadm init, "
                                    "join and reset are not run again");
                return;
        }
        if (b->state.membership == MEMBERSHIP_STARTED) {
                set_phase(b, PHASE_CLEANUP, "an earlier kubeadm run did not complete: cleaning up");
                return;
        }
        if (!clock_synced(b))
                return;
        set_phase(b, b->role == ROLE_MASTER ? PHASE_WAITING_FOR_ENDPOINT : PHASE_WAITING_FOR_MASTER, NULL);
}

static void on_preflight_fixed(int error, const char *detail, void *userdata)
{
        Bootstrap *b = userdata;

        b->busy = false;
        if (error < 0) {
                set_problem(b, "Could not fix the node for Kubernetes: %s", detail ?: strerror(-error));
                set_phase(b, PHASE_PREFLIGHT, b->problem);
                schedule(b, PREFLIGHT_RETRY);
                return;
        }
        step(b);
}

/* Something only a person (or a reboot) can fix: said once, in the journal and the status, then checked again
 * every PREFLIGHT_RETRY without repeating it (peer updates do not re-check). */
static void preflight_blocked(Bootstrap *b, const char *what)
{
        bool again = b->preflight_blocking && streq(b->problem, what);

        b->preflight_blocking = true;
        if (!again) {
                set_problem(b, "%s", what);
                set_phase(b, PHASE_PREFLIGHT, b->problem);
        }
        schedule(b, PREFLIGHT_RETRY);
}

static void do_preflight(Bootstrap *b)
{
        PreflightFinding f[_PREFLIGHT_CHECK_MAX];
        PreflightFacts facts;
        size_t n, fixable = 0;
        int r;

        r = b->ops->preflight_probe(b->userdata, &facts);
        if (r < 0) {
                char what[160];
                snprintf(what, sizeof what, "Could not examine the node: %s", strerror(-r));
                preflight_blocked(b, what);
                return;
        }
        n = preflight_evaluate(&facts, b->role == ROLE_MASTER, b->preflight_ignore, f);
        for (size_t i = 0; i < n; i++)
                if (f[i].severity == PREFLIGHT_BLOCKING) {
                        preflight_blocked(b, f[i].message);
                        return;
                }
        b->preflight_blocking = false;
        for (size_t i = 0; i < n; i++) {
                if (f[i].severity == PREFLIGHT_WARNING) {
                        /* Degraded, nothing to fix here: said once per agent run. */
                        if (!(b->preflight_warned & (1u << f[i].check)))
                                log_warning("%s", f[i].message);
                        b->preflight_warned |= 1u << f[i].check;
                        continue;
                }
                log_notice("%s", f[i].message);
                fixable++;
        }
        if (fixable > 0) {
                b->busy = true;
                r = b->ops->preflight_fix(b->userdata, f, n, on_preflight_fixed, b);
                if (r < 0)
                        on_preflight_fixed(r, NULL, b);
                return;
        }
        b->problem[0] = 0;
        after_preflight(b);
        step(b);
}

static void on_reset(int error, const char *detail, void *userdata)
{
        Bootstrap *b = userdata;

        b->busy = false;
        if (error < 0) {
                set_problem(b, "kubeadm reset failed (%s): this node needs a person ('piagent reset')",
                            detail ?: strerror(-error));
                set_phase(b, PHASE_FAILED, b->problem);
                return;
        }
        b->state.membership = MEMBERSHIP_NONE;
        save(b);
        after_preflight(b);
        step(b);
}

static void on_endpoint(int error, const char *detail, void *userdata)
{
        Bootstrap *b = userdata;

        b->busy = false;
        if (error < 0) {
                /* A TCP connect to the VIP is cheap, and the LBs usually come up within a second or two. */
                set_phase(b, PHASE_WAITING_FOR_ENDPOINT, NULL);
                schedule(b, ENDPOINT_RECHECK_USEC);
                return;
        }
        set_phase(b, PHASE_ELECTING, NULL);
        step(b);
}

static void on_votes(unsigned granted, void *userdata)
{
        Bootstrap *b = userdata;

        b->busy = false;
        if (b->phase != PHASE_ELECTING)
                return;
        if (!election_has_majority(granted, b->masters)) {
                /* Said once per change, not every round; the status line says it all the time. */
                if (granted != b->votes_seen) {
                        log_notice("Election: %u of %u votes, a majority is %u; waiting", granted, b->masters,
                                   b->masters / 2 + 1);
                        set_problem(b, "%u of %u votes, %u needed: waiting to see more masters", granted, b->masters,
                                    b->masters / 2 + 1);
                        b->ops->phase_changed(b->userdata, b->phase, NULL); /* the status line shows it */
                }
                b->votes_seen = granted;
                schedule(b, RECHECK_USEC);
                return;
        }
        b->problem[0] = 0;
        b->votes_seen = UINT_MAX;
        log_notice("Election: won with %u of %u votes; this master initializes the cluster", granted, b->masters);
        set_phase(b, PHASE_INITIALIZING, NULL);
        step(b);
}

/* This node stopped being a candidate (no vote round is in flight: rounds run while busy). Its own vote, if it
 * gave it to itself, is free at once for the candidate it now defers to, instead of a whole lease later: only
 * this node could count that vote, and it counts votes only in a new round. The votes other masters gave it
 * lapse as usual. */
static void release_own_vote(Bootstrap *b)
{
        if (b->votes_seen != UINT_MAX) {
                /* No longer counting votes: the "n of m votes" status is out of date. */
                b->votes_seen = UINT_MAX;
                b->problem[0] = 0;
                b->ops->phase_changed(b->userdata, b->phase, NULL);
        }
        if (!streq(b->state.vote.candidate, b->self_id))
                return;
        b->state.vote = (ElectionVote){};
        save(b);
        log_info("Election: deferring to another master; this master's own vote is free again");
}

static void do_elect(Bootstrap *b)
{
        int r;

        switch (election_decide(b->self_id, b->pinned, b->view.masters, b->view.n_masters)) {
        case ELECTION_JOIN:
                release_own_vote(b);
                set_phase(b, PHASE_WAITING_FOR_MASTER, "a cluster exists: joining it as a control-plane node");
                step(b);
                return;
        case ELECTION_WAIT:
                release_own_vote(b);
                schedule(b, RECHECK_USEC);
                return;
        case ELECTION_CANDIDATE:
                b->busy = true;
                r = b->ops->request_votes(b->userdata, on_votes, b);
                if (r < 0) {
                        b->busy = false;
                        schedule(b, RECHECK_USEC);
                }
                return;
        case _ELECTION_ROLE_MAX:
                break;
        }
}

static void on_cni(int error, const char *detail, void *userdata)
{
        Bootstrap *b = userdata;

        b->busy = false;
        if (error < 0) {
                /* The cluster exists; pods lack a network until this succeeds. Not a reason to reset anything,
                 * nor to run init again: ready (others may join), with the problem, retried from there. */
                set_problem(b, "Applying the pod network failed (%s); retrying", detail ?: strerror(-error));
                log_warning("%s", b->problem);
                set_phase(b, PHASE_READY, NULL);
                schedule(b, bootstrap_backoff_usec(2));
                return;
        }
        bool retried = b->problem[0];
        b->problem[0] = 0;
        set_phase(b, PHASE_READY, retried ? "the pod network is applied" : NULL);
}

static void on_init(int error, const char *detail, void *userdata)
{
        Bootstrap *b = userdata;
        int r;

        b->busy = false;
        if (error < 0) {
                attempt_failed(b, "kubeadm init", error, detail);
                return;
        }
        b->state.membership = MEMBERSHIP_INITIALIZED;
        b->state.attempts = 0;
        save(b);
        log_notice("kubeadm init completed: this master initialized the cluster");
        b->busy = true;
        r = b->ops->apply_cni(b->userdata, on_cni, b);
        if (r < 0)
                on_cni(r, NULL, b);
}

static void do_init(Bootstrap *b)
{
        int r;

        b->state.membership = MEMBERSHIP_STARTED;
        save(b);
        b->busy = true;
        r = b->ops->kubeadm_init(b->userdata, on_init, b);
        if (r < 0)
                on_init(r, NULL, b);
}

static void on_join(int error, const char *detail, void *userdata)
{
        Bootstrap *b = userdata;
        bool cp = b->role == ROLE_MASTER;

        b->busy = false;
        b->ops->report_joined(b->userdata, &b->material, cp, error >= 0);
        erase(&b->material, sizeof b->material);
        if (error < 0) {
                attempt_failed(b, cp ? "kubeadm join --control-plane" : "kubeadm join", error, detail);
                return;
        }
        b->state.membership = MEMBERSHIP_JOINED;
        b->state.attempts = 0;
        save(b);
        b->problem[0] = 0;
        log_notice("kubeadm join completed: this node is part of the cluster");
        set_phase(b, PHASE_READY, NULL);
}

static void on_material(int error, const BootstrapMaterial *m, void *userdata)
{
        Bootstrap *b = userdata;
        int r;

        b->busy = false;
        /* Whatever the answer, the next request waits for the timer, not for the next peer update: a cluster
         * of peers changing phase would otherwise turn each refusal into a burst of requests. */
        if (error == -EBUSY) {
                /* Another control-plane join holds the ticket: no attempt used, still joining; asked again soon,
                 * the join holding it may be about to finish. */
                b->fetch_gated = true;
                schedule(b, TICKET_RECHECK_USEC);
                return;
        }
        if (error == -EAGAIN) {
                /* The master asked is not ready (any more): wait for one, no attempt used. */
                set_phase(b, PHASE_WAITING_FOR_MASTER, NULL);
                b->fetch_gated = true;
                schedule(b, RECHECK_USEC);
                return;
        }
        if (error < 0) {
                log_warning_errno(error, "Could not get join material, retrying: %m");
                set_phase(b, PHASE_WAITING_FOR_MASTER, NULL);
                b->fetch_gated = true;
                schedule(b, bootstrap_backoff_usec(1));
                return;
        }
        b->material = *m;
        b->state.membership = MEMBERSHIP_STARTED;
        save(b);
        b->busy = true;
        r = b->ops->kubeadm_join(b->userdata, &b->material, b->role == ROLE_MASTER, on_join, b);
        if (r < 0)
                on_join(r, NULL, b);
}

static void do_fetch(Bootstrap *b)
{
        int r;

        set_phase(b, PHASE_JOINING, NULL);
        b->busy = true;
        r = b->ops->fetch_material(b->userdata, b->role == ROLE_MASTER, on_material, b);
        if (r < 0)
                on_material(r, NULL, b);
}

static void step(Bootstrap *b)
{
        int r;

        if (b->busy)
                return;
        switch (b->phase) {
        case PHASE_PREFLIGHT:
                if ((b->preflight_blocking || b->clock_waiting) && !b->timer_due)
                        return;
                if (b->clock_waiting) {
                        b->timer_due = false;
                        if (clock_synced(b)) {
                                b->problem[0] = 0;
                                set_phase(b,
                                          b->role == ROLE_MASTER ? PHASE_WAITING_FOR_ENDPOINT
                                                                 : PHASE_WAITING_FOR_MASTER,
                                          NULL);
                                step(b);
                        }
                        return;
                }
                do_preflight(b);
                return;
        case PHASE_CLEANUP:
                b->busy = true;
                r = b->ops->kubeadm_reset(b->userdata, on_reset, b);
                if (r < 0)
                        on_reset(r, NULL, b);
                return;
        case PHASE_WAITING_FOR_ENDPOINT:
                b->busy = true;
                r = b->ops->probe_endpoint(b->userdata, on_endpoint, b);
                if (r < 0)
                        on_endpoint(r, NULL, b);
                return;
        case PHASE_ELECTING:
                do_elect(b);
                return;
        case PHASE_WAITING_FOR_MASTER:
                if (b->fetch_gated && !b->timer_due)
                        return;
                b->fetch_gated = false;
                if (b->view.ready_master)
                        do_fetch(b);
                else
                        schedule(b, RECHECK_USEC);
                return;
        case PHASE_INITIALIZING:
                do_init(b);
                return;
        case PHASE_JOINING:
                if (b->fetch_gated && !b->timer_due)
                        return;
                b->fetch_gated = false;
                do_fetch(b);
                return;
        case PHASE_BACKOFF:
                if (!b->timer_due)
                        return;
                set_phase(b, PHASE_CLEANUP, "cleaning up before the next attempt");
                step(b);
                return;
        case PHASE_READY:
                /* A failed CNI apply is retried from here. */
                if (b->problem[0] && b->timer_due && b->state.membership == MEMBERSHIP_INITIALIZED) {
                        b->busy = true;
                        r = b->ops->apply_cni(b->userdata, on_cni, b);
                        if (r < 0)
                                on_cni(r, NULL, b);
                }
                return;
        case PHASE_FAILED:
                return;
        case PHASE_STARTING:
        case PHASE_CONFIG_ERROR:
        case PHASE_CONFIGURED:
        case PHASE_DISCOVERING:
        case PHASE_CONFIGURING:
        case PHASE_OTHER:
        case _PHASE_MAX:
        case _PHASE_INVALID:
                assert(!"not a phase of the bootstrap");
                return;
        }
}

void bootstrap_tick(Bootstrap *b, const BootstrapView *view)
{
        b->view = *view;
        step(b);
}

void bootstrap_timer(Bootstrap *b, const BootstrapView *view)
{
        b->timer_due = true;
        bootstrap_tick(b, view);
}

int bootstrap_new(const BootstrapOps *ops, void *userdata, const Config *config, const char *self_id,
                  const NodeState *state, const char *ignore, Bootstrap **ret)
{
        Bootstrap *b;

        if (config->role != ROLE_MASTER && config->role != ROLE_WORKER)
                return -EINVAL;
        if (!self_id || strlen(self_id) >= ELECTION_ID_MAX)
                return -EINVAL;
        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        if (ignore && preflight_ignore_from_string(ignore, &b->preflight_ignore) < 0)
                log_warning("PIAGENT_PREFLIGHT_IGNORE=%s names an unknown check, ignoring it", ignore);
        else if (ignore && *ignore)
                log_warning("Preflight checks skipped by PIAGENT_PREFLIGHT_IGNORE: %s", ignore);
        b->ops = ops;
        b->userdata = userdata;
        b->role = config->role;
        b->pinned = config->init;
        b->masters = config->masters;
        snprintf(b->self_id, sizeof b->self_id, "%s", self_id);
        b->state = *state;
        b->state.role = config->role;
        b->phase = PHASE_PREFLIGHT;
        b->votes_seen = UINT_MAX;
        *ret = b;
        return 0;
}

Bootstrap *bootstrap_free(Bootstrap *b)
{
        if (!b)
                return NULL;
        erase(&b->material, sizeof b->material);
        free(b);
        return NULL;
}
