/* SPDX-License-Identifier: MIT */
#pragma once

/* What a master or worker must remember across reboots and agent crashes: whether kubeadm init/join
 * completed (then it never runs init, join or reset again), failed attempts (for backoff), and its election
 * vote. Kept in <state dir>/state.json, written atomically, mode 0600. */

#include <stdbool.h>

#include "config.h"
#include "election.h"

#define NODE_STATE_FILE "state.json"

typedef enum Membership {
        MEMBERSHIP_NONE,        /* nothing done yet */
        MEMBERSHIP_STARTED,     /* kubeadm init/join was started and has not completed: clean up before retrying */
        MEMBERSHIP_INITIALIZED, /* this node ran kubeadm init successfully */
        MEMBERSHIP_JOINED,      /* this node joined (control plane or worker) successfully */
        _MEMBERSHIP_MAX,
        _MEMBERSHIP_INVALID = -EINVAL,
} Membership;

typedef struct NodeState {
        Role role; /* the role this state was written for; _ROLE_INVALID when never written */
        Membership membership;
        unsigned attempts; /* failed bootstrap attempts since the last success */
        ElectionVote vote;
} NodeState;

const char *membership_to_string(Membership b);
Membership membership_from_string(const char *s);

static inline bool node_state_is_member(const NodeState *s)
{
        return s->membership == MEMBERSHIP_INITIALIZED || s->membership == MEMBERSHIP_JOINED;
}

/* Serialisation (pure). Parsing treats the file as untrusted: wrong types, unknown values and oversized
 * strings are -EINVAL (the caller reports a damaged state file and does nothing destructive). */
int node_state_to_json(const NodeState *s, char **ret);
int node_state_from_json(const char *text, size_t size, NodeState *ret);

/* In dir. load: -ENOENT when there is no state yet. */
int node_state_load(const char *dir, NodeState *ret);
int node_state_save(const char *dir, const NodeState *s);
