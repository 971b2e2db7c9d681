/* SPDX-License-Identifier: MIT */
#pragma once

/* The node's phase: the one vocabulary of what a node is doing, published in its TXT record (phase=), STATUS=,
 * `piagent status`, the exchange's status answer and the journal (PIAGENT_PHASE=). The words are the wire format:
 * a peer's word is parsed into this enum once, where its TXT record is decoded (peer-txt.c), and nothing
 * compares phase words after that. Renaming a word is a protocol change and touches only phase.c. */

#include <errno.h>
#include <stdbool.h>

#define PHASE_WORD_MAX 32 /* 1-32 of [a-z0-9-] */

typedef enum Phase {
        /* The daemon's own, before a role part runs. */
        PHASE_STARTING,
        PHASE_CONFIG_ERROR, /* role.txt/cluster.txt invalid: the node is left untouched until they are fixed */
        PHASE_CONFIGURED,   /* configuration valid */
        PHASE_DISCOVERING,  /* host name and node id set; published on mDNS, finding peers */
        /* A load balancer. */
        PHASE_CONFIGURING, /* keepalived and HAProxy not applied yet */
        /* A master or worker (the bootstrap phase machine, bootstrap.h). */
        PHASE_PREFLIGHT,            /* something this node needs is missing: the problem says what */
        PHASE_CLEANUP,              /* kubeadm reset -f after an interrupted attempt */
        PHASE_WAITING_FOR_ENDPOINT, /* master: VIP:api_port does not accept connections yet */
        PHASE_ELECTING,             /* master: deciding who initializes */
        PHASE_WAITING_FOR_MASTER,   /* waiting for a ready master to hand out join material */
        PHASE_INITIALIZING,         /* kubeadm init running */
        PHASE_JOINING,              /* fetching join material / kubeadm join running */
        PHASE_BACKOFF,              /* a failed attempt, waiting before the next */
        /* Any role. */
        PHASE_READY,  /* an LB serves the VIP; a master or worker is part of the cluster */
        PHASE_FAILED, /* needs a person: the problem says why */
        /* A well-formed word that this agent does not know (a newer agent's): shown, never decided on. */
        PHASE_OTHER,
        _PHASE_MAX,
        _PHASE_INVALID = -EINVAL,
} Phase;

/* The word for p; NULL for PHASE_OTHER and invalid values. */
const char *phase_to_string(Phase p);
/* The phase a word names: PHASE_OTHER for a well-formed word this agent does not know, _PHASE_INVALID for one
 * that is not well-formed (phase_word_is_valid). */
Phase phase_from_string(const char *s);
/* A word as a phase may be published: 1-32 of [a-z0-9-]. */
bool phase_word_is_valid(const char *s);
/* What to show for a phase received from a peer: its word, or other (the peer's own word) for PHASE_OTHER. */
const char *phase_word(Phase p, const char *other);
