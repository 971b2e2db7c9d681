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

#define VOTE_LEASE_USEC (60 * 1000000ULL)
#define MAX_MASTERS     16
#define CA_FILE         "/etc/kubernetes/pki/ca.crt"
#define ADMIN_CONF      "/etc/kubernetes/admin.conf"

typedef struct VoteRound VoteRound;

struct NodeRole {
        sd_event *event;
        Config *config; /* a reference */
        char *self_id, *hostname, *state_dir, *runtime_dir, *boot_dir, *kubeadm;
        struct in_addr address;
        NodeRoleChanged changed;
        void *userdata;

        Bootstrap *bootstrap;
        bool broken_state; /* state.json unreadable: do nothing, say so */
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
};

/* This master's vote for candidate, by the same rule as every other master's (persisted before it is told).
 * ret_refusal: a short word for the requester when refused. */
bool node_role_grant_vote(NodeRole *r, const char *candidate, const char **ret_refusal);

/* What a master serves: status, votes, join material, the CA, join reports. */
extern const ExchangeProvider node_role_master_provider;
