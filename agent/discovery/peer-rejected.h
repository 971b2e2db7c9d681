/* SPDX-License-Identifier: MIT */
#pragma once

/* Services whose TXT record did not verify (malformed, unsigned, forged, replayed from another address, older than
 * the newest seen, another protocol version): kept apart from the peers, to be shown (`piagent status`), never
 * decided on. Bounded in total and per address; past a bound the record of that address (else of all) seen least
 * recently goes. Nothing here can evict a peer: the peer set is another table. Pure: time is passed in. */

#include <netinet/in.h>
#include <stdint.h>

#include "peer-txt.h"

#define PEER_REJECTED_MAX         64
#define PEER_REJECTED_PER_ADDRESS 4
#define PEER_REJECTED_NAME_MAX    255

typedef struct Rejected {
        char *service;
        struct in_addr address; /* where it resolved to */
        char id[NODE_ID_SIZE];  /* the id it claims; "" if none parsed */
        Role role;              /* the role it claims; _ROLE_INVALID if none parsed */
        char reason[PEER_TXT_REASON_MAX];
        uint64_t first_seen_usec, last_seen_usec; /* CLOCK_MONOTONIC */
        unsigned count;                           /* times received */
} Rejected;

/* What a rejected service said. id and role as far as they parsed ("" / _ROLE_INVALID otherwise). */
typedef struct RejectedUpdate {
        const char *service;
        struct in_addr address;
        const char *id;
        Role role;
        const char *reason;
} RejectedUpdate;

typedef struct PeerRejected PeerRejected;

int peer_rejected_new(PeerRejected **ret);
PeerRejected *peer_rejected_free(PeerRejected *s);

/* Adds the service, or updates it (reason, claims, address, last seen, count). -EINVAL, -ENOMEM. */
int peer_rejected_add(PeerRejected *s, const RejectedUpdate *u, uint64_t now);
/* The service verified after all, or is gone. -ENOENT if it was not there. */
int peer_rejected_remove(PeerRejected *s, const char *service);
void peer_rejected_clear(PeerRejected *s);

size_t peer_rejected_size(const PeerRejected *s);
/* The i-th record, sorted by service name; NULL past the end. */
const Rejected *peer_rejected_get(const PeerRejected *s, size_t i);
const Rejected *peer_rejected_find(const PeerRejected *s, const char *service);

static inline void peer_rejected_freep(PeerRejected **s)
{
        peer_rejected_free(*s);
}
#define _cleanup_peer_rejected_ _cleanup_(peer_rejected_freep)
