/* SPDX-License-Identifier: MIT */
#pragma once

/* The master and worker phase machine: preflight, waiting for the control-plane endpoint or a ready master,
 * the election, kubeadm init or join, retries with backoff, and "ready". It reaches the outside only through
 * BootstrapOps, so tests drive it with fakes; the manager wires the ops to kubeadm, the exchange, discovery
 * and the state file.
 *
 * Never destroy: a node whose state says it initialized or joined never runs init, join or reset again; only
 * an attempt that was started and never completed is cleaned up (kubeadm reset -f) before the next one. */

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "election.h"
#include "node-state.h"
#include "phase.h"
#include "preflight.h"

/* The machine's states are the published phases of a master or worker (phase.h): PHASE_PREFLIGHT up to
 * PHASE_BACKOFF, PHASE_READY and PHASE_FAILED. */

/* How an operation ended: 0, or a negative errno; detail: words for the journal (may be NULL). */
typedef void (*BootstrapDone)(int error, const char *detail, void *userdata);

typedef struct BootstrapMaterial {
        char token[32]; /* secret */
        char ca_hash[80];
        char certificate_key[72]; /* secret; control plane only */
        char server[64];          /* the master that handed it out (for "joined") */
} BootstrapMaterial;

typedef void (*BootstrapMaterialDone)(int error, const BootstrapMaterial *m, void *userdata);
typedef void (*BootstrapVotesDone)(unsigned granted, void *userdata);

typedef struct BootstrapOps {
        /* Facts for the preflight; fix: apply the runtime fixes for the fixable findings. */
        int (*preflight_probe)(void *userdata, PreflightFacts *ret);
        int (*preflight_fix)(void *userdata, const PreflightFinding *f, size_t n, BootstrapDone done, void *d);
        /* Is the clock synchronised (timesync.h)? 1: yes (or the person said to trust it), 0: not yet, with what
         * the node waits for in detail (a sentence for the status), or a negative errno. */
        int (*clock_synced)(void *userdata, char *detail, size_t n);
        /* TCP connect to VIP:api_port; done(0) when it accepted. */
        int (*probe_endpoint)(void *userdata, BootstrapDone done, void *d);
        /* Ask every master seen (self included) for its vote; done with the number granted. */
        int (*request_votes)(void *userdata, BootstrapVotesDone done, void *d);
        /* Join material from a ready master; control_plane selects the role. -EAGAIN: none ready. */
        int (*fetch_material)(void *userdata, bool control_plane, BootstrapMaterialDone done, void *d);
        /* Tell the master that handed out the material how the join went (best effort). */
        void (*report_joined)(void *userdata, const BootstrapMaterial *m, bool control_plane, bool success);
        /* kubeadm init / join with rendered config (the ops own rendering, secret files and kubeadm). */
        int (*kubeadm_init)(void *userdata, BootstrapDone done, void *d);
        int (*kubeadm_join)(void *userdata, const BootstrapMaterial *m, bool control_plane, BootstrapDone done,
                            void *d);
        int (*kubeadm_reset)(void *userdata, BootstrapDone done, void *d);
        /* Apply the CNI after init (cni=none: done(0) at once). */
        int (*apply_cni)(void *userdata, BootstrapDone done, void *d);
        int (*save_state)(void *userdata, const NodeState *s);
        /* Call bootstrap_tick() after usec (replacing an earlier request). */
        int (*schedule)(void *userdata, uint64_t usec);
        /* The phase changed (for STATUS=, TXT and the journal). */
        void (*phase_changed)(void *userdata, Phase phase, const char *detail);
} BootstrapOps;

/* What the node sees of the other masters, refreshed by the caller before each tick. */
typedef struct BootstrapView {
        const ElectionPeer *masters; /* masters seen, self included or not */
        size_t n_masters;
        bool ready_master; /* a master in phase ready is seen (join material can be had) */
} BootstrapView;

typedef struct Bootstrap Bootstrap;

#define BOOTSTRAP_MAX_ATTEMPTS 6

/* preflight_ignore: PIAGENT_PREFLIGHT_IGNORE (settings.h), preflight checks to skip, or NULL. */
int bootstrap_new(const BootstrapOps *ops, void *userdata, const Config *config, const char *self_id,
                  const NodeState *state, const char *preflight_ignore, Bootstrap **ret);
Bootstrap *bootstrap_free(Bootstrap *b);

/* Re-evaluates: call on start and whenever the view changes. */
void bootstrap_tick(Bootstrap *b, const BootstrapView *view);
/* The time asked for with ops->schedule has come. */
void bootstrap_timer(Bootstrap *b, const BootstrapView *view);

/* The vote this node grants in the election: the exchange's vote handler updates it, then saves. */
ElectionVote *bootstrap_vote(Bootstrap *b);
void bootstrap_save(Bootstrap *b);

Phase bootstrap_phase(const Bootstrap *b);
const char *bootstrap_problem(const Bootstrap *b);
const NodeState *bootstrap_state(const Bootstrap *b);

/* Backoff before attempt n (1-based): 5 s, 10 s, 20 s … capped at 5 min. */
uint64_t bootstrap_backoff_usec(unsigned attempt);
