/* SPDX-License-Identifier: MIT */
#pragma once

/* The master/worker role's state, shared by its two halves: role-node.c (the bootstrap's operations: votes,
 * join material, kubeadm, the pod network) and role-node-serve.c (what a master serves other nodes over the
 * exchange). Nothing outside those two files includes this. */

#include "exchange-client.h"
#include "exchange-service.h"
#include "join-material.h"
#include "kubeadm.h"
#include "role-node.h"
#include "tcp-probe.h"
#include "timesync.h"

#define VOTE_LEASE_USEC (60 * 1000000ULL)
#define MAX_MASTERS     16
#define CA_FILE         "/etc/kubernetes/pki/ca.crt"
#define ADMIN_CONF      "/etc/kubernetes/admin.conf"

/* A master holds a node's "ready" request this long at most (then 503: the node asks again), and at most this
 * many at once: a held request keeps its HTTP connection busy, and the server (64 connections) must keep room
 * for votes and joins. Fifty nodes have 47 waiting; beyond, the rest learn it from mDNS. */
#define READY_HOLD_USEC   (5 * 1000000ULL)
#define READY_WAITERS_MAX 48

typedef struct VoteRound VoteRound;
typedef struct ReadyWaiter ReadyWaiter;

/* A master this node asked "tell me when you are ready" (the exchange's ready op): phase is the master's phase
 * in mDNS when asked; told, once it answered. The answer counts as ready while mDNS still shows that phase (the
 * TXT update is on its way); after that, mDNS says what the master is. */
typedef struct ReadyAsk {
        char id[NODE_ID_SIZE];
        Phase phase;
        bool told, failed;
        uint64_t asked_usec;
        ExchangeClientCall *call;
        NodeRole *role;
} ReadyAsk;

struct NodeRole {
        sd_event *event;
        Config *config; /* a reference */
        char *self_id, *hostname, *state_dir, *runtime_dir, *boot_dir, *kubeadm;
        struct in_addr address;
        NodeRoleChanged changed;
        void *userdata;

        Bootstrap *bootstrap;
        bool broken_state;     /* state.json unreadable: do nothing, say so */
        bool clock_kernel;     /* the kernel's NTP state counts (NodeRoleParams) */
        bool clock_trust_said; /* wait_for_clock=no is in the journal */
        char problem[256];
        const PeerSet *peers;
        ElectionPeer masters[MAX_MASTERS];
        BootstrapView view;

        sd_event_source *timer;
        ExchangeClient *client;
        ExchangeService *service;
        TcpProbe *probe;
        VoteRound *votes;
        ExchangeClientCall *material_call;
        Spawn *child;
        unsigned asked; /* join material requests so far: picks the next ready master */

        /* The operation in flight and its continuation. */
        BootstrapDone done;
        BootstrapMaterialDone material_done;
        void *done_userdata;
        BootstrapMaterial material; /* for kubeadm join; wiped after */
        bool control_plane;
        KubeadmVerb next_verb;
        char *config_path;
        bool cni_reported;                 /* the pod network's problem is in the journal at err level already */
        JoinMaterialCache *material_cache; /* join material shared by requests close in time (masters) */

        ReadyWaiter *ready_waiters; /* masters: nodes' ready requests held until this master is ready */
        unsigned n_ready_waiters;
        ReadyAsk ready_asks[MAX_MASTERS]; /* the masters this node waits on, told directly (id[0]: free slot) */
};

/* This master's vote for candidate, by the same rule as every other master's (persisted before it is told).
 * ret_refusal: a short word for the requester when refused. */
bool node_role_grant_vote(NodeRole *r, const char *candidate, const char **ret_refusal);

/* Completes every held ready request: error 0 when this master became ready, else that error. */
void node_role_ready_waiters_release(NodeRole *r, int error);

/* Is the clock synchronised, or trusted (wait_for_clock=no)? Join material (a token valid for 24 h from now,
 * uploaded certificates) is made only then. */
bool node_role_clock_synced(NodeRole *r);

/* What a master serves: status, votes, join material, the CA, join reports, ready. */
extern const ExchangeProvider node_role_master_provider;
