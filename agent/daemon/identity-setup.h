/* SPDX-License-Identifier: MIT */
#pragma once

/* Makes this node identifiable on the LAN before it is published: finds the cluster interface (waiting for it to
 * appear), loads or creates the node id, sets the unique host name through hostname1 and, when it changed,
 * restarts avahi-daemon (which reads the host name only when it starts). Asynchronous, on the event loop; logs
 * what it does. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "bus.h"
#include "config.h"
#include "netif.h"

typedef struct NodeIdentity {
        NetIf netif;
        char id[NODE_ID_SIZE];
        char hostname[HOSTNAME_SIZE]; /* the node's name: the system's, unless setting it failed or was not wanted */
} NodeIdentity;

typedef struct IdentitySetup IdentitySetup;

/* Called once per identity_setup_start(), when the identity is known (host name set, or setting it failed: that
 * is logged and not fatal). waiting: called with a short reason while the interface is missing (for STATUS). */
typedef void (*IdentityReadyFunc)(const NodeIdentity *ident, void *userdata);
typedef void (*IdentityWaitingFunc)(const char *reason, void *userdata);
/* avahi-daemon is about to be restarted (the mDNS client will lose it for a moment). */
typedef void (*IdentityMdnsRestartFunc)(void *userdata);

typedef struct IdentitySetupOptions {
        const char *state_dir;
        bool manage_hostname; /* false: leave the system's host name alone (not run by systemd) */
        IdentityReadyFunc ready;
        IdentityWaitingFunc waiting;
        IdentityMdnsRestartFunc mdns_restarting;
        void *userdata;
} IdentitySetupOptions;

int identity_setup_new(sd_event *e, Bus *bus, const IdentitySetupOptions *o, IdentitySetup **ret);
IdentitySetup *identity_setup_free(IdentitySetup *s);

/* (Re)starts for configuration c (borrowed until ready is called or the next start); cancels a run under way. */
int identity_setup_start(IdentitySetup *s, const Config *c);

static inline void identity_setup_freep(IdentitySetup **s)
{
        identity_setup_free(*s);
}
#define _cleanup_identity_setup_ _cleanup_(identity_setup_freep)
