/* SPDX-License-Identifier: MIT */
#pragma once

/* Peer discovery: publishes this node as a _piagent._tcp service, browses for the others, checks what they publish
 * and keeps the peer set. mDNS itself goes through an MdnsOps backend (avahi in the daemon, a fake in tests).
 * Only records signed with the cluster secret, at their address and not older than the newest seen become peers;
 * the others are kept apart (discovery_rejected()). Logs arrivals, departures and changes of peers (PIAGENT_PEER=),
 * and one warning per rejected service and hour. */

#include <netinet/in.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "mdns.h"
#include "peer-rejected.h"
#include "peer-set.h"

#define DISCOVERY_SERVICE_TYPE "_piagent._tcp"

typedef struct Discovery Discovery;

/* Who this node is, as published. Copied by discovery_start(). */
typedef struct DiscoverySelf {
        const char *id;
        const char *hostname; /* also the service name */
        const char *tag;
        Role role;
        Phase phase;
        int ifindex;
        uint16_t port;
        const uint8_t *key;     /* PEER_TXT_KEY_SIZE bytes (peer_txt_key()): signs our record, verifies the peers' */
        struct in_addr address; /* published as addr=; 0 while the interface has none (then nothing is published) */
        uint32_t boot;          /* this start's number (boot-count.h): seq=<boot>.<n> */
} DiscoverySelf;

/* Something shown in the status changed: peers, the connection to the mDNS daemon, the published name. */
typedef void (*DiscoveryChanged)(void *userdata);

/* Creates the backend at once, so that the connection to the daemon is under way while the node gets ready. */
int discovery_new(sd_event *e, const MdnsOps *ops, DiscoveryChanged changed, void *userdata, Discovery **ret);
Discovery *discovery_free(Discovery *d);

/* Publishes self and browses for peers; called again with another identity, re-publishes (peers are forgotten
 * when the cluster tag changes). Returns 0, -EINVAL or -ENOMEM. */
int discovery_start(Discovery *d, const DiscoverySelf *self);
/* Whether the mDNS daemon's bus name (MDNS_DAEMON_BUS_NAME) has an owner: see MdnsOps.set_daemon_present. */
void discovery_set_daemon_present(Discovery *d, bool present);
/* avahi-daemon is about to be restarted on purpose: the next disconnection is expected, not a warning. */
void discovery_expect_daemon_restart(Discovery *d);
/* Re-publishes the TXT record with the new phase. */
int discovery_set_phase(Discovery *d, Phase phase);
/* The node's address on the cluster interface (appeared or changed): publishes the record signed for it. */
int discovery_set_address(Discovery *d, struct in_addr address);
/* Re-publishes the TXT record saying whether this LB holds the virtual IP (vip=1). */
int discovery_set_vip(Discovery *d, bool vip);
void discovery_stop(Discovery *d);

bool discovery_is_started(const Discovery *d);
const PeerSet *discovery_peers(const Discovery *d);
MdnsState discovery_mdns_state(const Discovery *d);
/* The service name as published (after collisions), or NULL while not published. */
const char *discovery_published_name(const Discovery *d);
/* Services rejected so far (malformed, unsigned, forged, misplaced or older records; for status and tests). */
unsigned discovery_rejected_count(const Discovery *d);
/* The rejected services kept to be shown (bounded; never peers). */
const PeerRejected *discovery_rejected(const Discovery *d);

/* The backend's events, exposed for tests that drive discovery without a daemon. */
extern const MdnsEvents discovery_mdns_events;

static inline void discovery_freep(Discovery **d)
{
        discovery_free(*d);
}
#define _cleanup_discovery_ _cleanup_(discovery_freep)
