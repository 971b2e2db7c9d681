/* SPDX-License-Identifier: MIT */
#pragma once

/* The master and worker roles in the daemon: the phase machine (bootstrap.h) wired to the real world —
 * preflight on this node, the endpoint gate (VIP:api_port), votes and join material over the exchange,
 * kubeadm, the state file — and, on masters, the exchange server that hands out votes, join material and the
 * CA to the others. */

#include <netinet/in.h>
#include <systemd/sd-event.h>

#include "bootstrap.h"
#include "bus.h"
#include "config.h"
#include "peer-set.h"

typedef struct NodeRole NodeRole;

typedef struct NodeRoleParams {
        Config *config; /* the role takes a reference */
        const char *self_id;
        const char *hostname;
        struct in_addr address; /* this node's address on the cluster interface */
        const char *state_dir;
        const char *runtime_dir;      /* 0700, for kubeadm configuration files holding secrets */
        const char *boot_dir;         /* role.txt, cluster.txt, and a pod network manifest the user may add (cni.h) */
        const char *kubeadm;          /* PIAGENT_KUBEADM (settings.h): the kubeadm program, or NULL */
        const char *preflight_ignore; /* PIAGENT_PREFLIGHT_IGNORE (settings.h), or NULL */
        bool clock_kernel;            /* the kernel's NTP state counts as a synchronised clock (PIAGENT_CLOCK_KERNEL) */
        Bus *bus;                     /* systemd, for the exchange worker's unit */
        /* Masters: where the unprivileged exchange worker (piagent-exchange.service) connects; NULL: the
         * exchange is served in this process (not run by systemd). */
        const char *exchange_socket;
} NodeRoleParams;

/* The phase or the problem changed (for STATUS= and the TXT record). */
typedef void (*NodeRoleChanged)(void *userdata);

int node_role_new(sd_event *e, const NodeRoleParams *p, NodeRoleChanged changed, void *userdata, NodeRole **ret);
NodeRole *node_role_free(NodeRole *r);

/* Starts the machine (after discovery has started). */
void node_role_start(NodeRole *r, const PeerSet *peers);
/* The peers changed. */
void node_role_update(NodeRole *r, const PeerSet *peers);

/* The phase (PHASE_PREFLIGHT ... PHASE_FAILED), and the current problem in words or NULL. */
Phase node_role_phase(const NodeRole *r);
const char *node_role_problem(const NodeRole *r);
