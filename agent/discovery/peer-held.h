/* SPDX-License-Identifier: MIT */
#pragma once

/* Signed records older than the newest seen from their node, held for a while before they count: a live node
 * answers a replay of its own old record by announcing its current one (which drops the held record), while a
 * node that restarted without its state (a re-flashed card counts from 1 again) stays silent and its record is
 * accepted after PEER_HELD_USEC (docs/discovery.md, "Freshness without a clock"). One record per node id, at
 * most PEER_HELD_MAX (the oldest goes). Pure: time is passed in. */

#include <netinet/in.h>
#include <stdint.h>

#include "identity.h"
#include "peer-txt.h"

#define PEER_HELD_MAX  16
#define PEER_HELD_USEC (30 * 1000000ULL)

typedef struct Held {
        PeerTxt txt;
        char *service;
        char hostname[HOSTNAME_SIZE]; /* "" if the SRV target was not a valid host name */
        struct in_addr address;
        uint16_t port;
        uint64_t since_usec; /* CLOCK_MONOTONIC: first held */
} Held;

typedef struct PeerHeld {
        Held items[PEER_HELD_MAX];
        size_t n;
} PeerHeld;

/* Holds the record (replacing one held for the same id; the time held runs from the first). -ENOMEM, -EINVAL. */
int peer_held_add(PeerHeld *h, const PeerTxt *txt, const char *service, const char *hostname, struct in_addr address,
                  uint16_t port, uint64_t now);
/* Something at least as new came from id, or its service is gone: forget it. */
void peer_held_drop_id(PeerHeld *h, const char *id);
void peer_held_drop_service(PeerHeld *h, const char *service);
/* The earliest time a held record is due (CLOCK_MONOTONIC), or UINT64_MAX when none is held. */
uint64_t peer_held_next_due(const PeerHeld *h);
/* Takes out a record due at now into *ret (the caller frees ret->service): true, or false when none is due. */
bool peer_held_pop_due(PeerHeld *h, uint64_t now, Held *ret);
void peer_held_clear(PeerHeld *h);
