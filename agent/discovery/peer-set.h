/* SPDX-License-Identifier: MIT */
#pragma once

/* The peers this node has discovered: one entry per node id, kept sorted by id. Only records that verified (signed
 * with the cluster secret, at their address, not older than the newest seen) enter: see discovery.c. mDNS tells who
 * exists, not who is alive: entries come and go with the announcements and goodbyes avahi reports. Pure: time is passed
 * in. */

#include <netinet/in.h>
#include <stdint.h>

#include "peer-txt.h"

#define PEER_SET_MAX 512 /* a flood of forged services cannot grow the set without bound */

typedef struct Peer {
        char id[NODE_ID_SIZE];
        char *service;                /* the mDNS service instance name it is published under */
        char hostname[HOSTNAME_SIZE]; /* from the SRV record's target; "" if it was not a valid host name */
        Role role;
        Phase phase;
        char phase_other[PHASE_WORD_MAX + 1]; /* PHASE_OTHER's word, only shown (phase_word()) */
        struct in_addr address;
        uint16_t port;
        uint64_t first_seen_usec; /* CLOCK_MONOTONIC */
        uint64_t last_seen_usec;  /* last announcement or update */
        bool stale;               /* not confirmed since the mDNS daemon came back (see peer_set_mark_stale) */
        bool vip;                 /* an LB that says it holds the virtual IP */
        PeerSeq seq;              /* of the record in use */
} Peer;

/* What a resolved service says. */
typedef struct PeerUpdate {
        const char *service;
        const char *hostname; /* "" if unknown */
        const PeerTxt *txt;   /* a record that verified */
        struct in_addr address;
        uint16_t port;
} PeerUpdate;

/* What peer_set_update() changed. */
typedef enum PeerChange {
        PEER_CHANGE_NEW = 1 << 0,
        PEER_CHANGE_ROLE = 1 << 1,
        PEER_CHANGE_PHASE = 1 << 2,   /* the enum: a new word this agent does not know either is no change */
        PEER_CHANGE_ADDRESS = 1 << 3, /* address or port */
        PEER_CHANGE_HOSTNAME = 1 << 4,
        PEER_CHANGE_SERVICE = 1 << 5, /* republished under another service name */
        PEER_CHANGE_REVIVED = 1 << 6, /* was stale */
} PeerChange;

typedef struct PeerSet PeerSet;

int peer_set_new(PeerSet **ret);
PeerSet *peer_set_free(PeerSet *s);
Peer *peer_free(Peer *p);

/* Adds or updates the peer u->txt->id, marks it seen at now. *ret_changes: a mask of PeerChange (0: only seen).
 * -EEXIST if u->service belongs to a peer with another id (remove that one first), -ENOSPC if the set is full,
 * -EINVAL for an invalid update, -ENOMEM. */
int peer_set_update(PeerSet *s, const PeerUpdate *u, uint64_t now, unsigned *ret_changes);

/* Takes the peer published as service out of the set; the caller frees it. -ENOENT if there is none. */
int peer_set_remove_service(PeerSet *s, const char *service, Peer **ret);

/* After the mDNS daemon restarts, every announcement is repeated: mark all peers stale, let the updates revive
 * the ones that still exist, then pop the rest. */
void peer_set_mark_stale(PeerSet *s);
/* A stale peer taken out of the set (the caller frees it), or NULL when there is none left. */
Peer *peer_set_pop_stale(PeerSet *s);

size_t peer_set_size(const PeerSet *s);
/* The i-th peer in id order; NULL past the end. */
const Peer *peer_set_get(const PeerSet *s, size_t i);
const Peer *peer_set_find(const PeerSet *s, const char *id);
const Peer *peer_set_find_service(const PeerSet *s, const char *service);
void peer_set_count_roles(const PeerSet *s, unsigned ret[static _ROLE_MAX]);

static inline void peer_set_freep(PeerSet **s)
{
        peer_set_free(*s);
}
#define _cleanup_peer_set_ _cleanup_(peer_set_freep)
static inline void peer_freep(Peer **p)
{
        peer_free(*p);
}
#define _cleanup_peer_ _cleanup_(peer_freep)
