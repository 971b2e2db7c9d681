/* SPDX-License-Identifier: MIT */
#pragma once

/* The newest record seen from each node: (boot, n) of the last signed record accepted per node id, so that an
 * older record played back later is refused (docs/discovery.md, "Freshness without a clock"). Only ids of
 * signed records enter, so the table holds at most the cluster's nodes; past PEER_FRESH_MAX the id noted
 * least recently is forgotten. Entries outlive the peers (a goodbye is not authenticated). Pure. */

#include <stdint.h>

#include "peer-txt.h"

#define PEER_FRESH_MAX 1024

typedef struct PeerFresh PeerFresh;

int peer_fresh_new(PeerFresh **ret);
PeerFresh *peer_fresh_free(PeerFresh *f);

/* The newest (boot, n) noted for id: 0, or -ENOENT when none is. */
int peer_fresh_get(const PeerFresh *f, const char *id, PeerSeq *ret);
/* Notes seq as the newest for id (also when it is older: a held record accepted after all). -ENOMEM, -EINVAL. */
int peer_fresh_note(PeerFresh *f, const char *id, PeerSeq seq, uint64_t now);
void peer_fresh_clear(PeerFresh *f);
size_t peer_fresh_size(const PeerFresh *f);

static inline void peer_fresh_freep(PeerFresh **f)
{
        peer_fresh_free(*f);
}
#define _cleanup_peer_fresh_ _cleanup_(peer_fresh_freep)
