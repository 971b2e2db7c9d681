/* SPDX-License-Identifier: MIT */
#pragma once

/* DNS-SD over mDNS on the agent's event loop: publish one service, browse one service type, resolve what is
 * found (IPv4). The implementation talks to avahi-daemon (mdns-avahi.c, the only file that includes avahi);
 * everything else sees this table of operations, so tests drive discovery with a fake.
 *
 * The backend keeps what it was asked for (the publication, the browse) and re-establishes it by itself whenever
 * the daemon comes back: after a restart, or when it was not running yet at start.
 *
 * The mDNS host name is the daemon's, read from the system's when it starts. It is not changed at run time: avahi
 * 0.8's SetHostName makes it see spurious conflicts with its own withdrawn records (avahi#117) and rename itself
 * to "name-2"; after changing the host name the agent restarts avahi-daemon instead (identity-setup.c). */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "peer-txt.h"

#define MDNS_DAEMON_BUS_NAME "org.freedesktop.Avahi" /* watched by the caller, see set_daemon_present */

typedef enum MdnsState {
        MDNS_CONNECTING,  /* waiting for avahi-daemon (not started yet, or restarting) */
        MDNS_REGISTERING, /* connected; the daemon is establishing its host name */
        MDNS_RUNNING,
        _MDNS_STATE_MAX,
} MdnsState;

const char *mdns_state_to_string(MdnsState s);

/* A resolved service. Everything in it comes from the network and is untrusted. */
typedef struct MdnsService {
        const char *name; /* service instance name */
        const char *host; /* SRV target, e.g. "master-0a1b2c.local" */
        struct in_addr address;
        uint16_t port;
        const TxtItem *txt;
        size_t n_txt;
} MdnsService;

/* What the backend reports. Strings are only valid during the call. error: a message from the daemon. */
typedef struct MdnsEvents {
        void (*state_changed)(void *userdata, MdnsState state, const char *error);
        void (*published)(void *userdata, const char *name);
        /* Our service name is taken on the LAN: published as new_name instead. */
        void (*collision)(void *userdata, const char *old_name, const char *new_name);
        void (*publish_failed)(void *userdata, const char *error);
        /* New, or its records changed. Returns whether it is a peer now: the backend frees the resolvers of services
         * that are not first when it needs room (a flood of forged services must not crowd out real ones). */
        bool (*found)(void *userdata, const MdnsService *s);
        void (*removed)(void *userdata, const char *name);
        void (*resolve_failed)(void *userdata, const char *name, const char *error);
        /* The browse has delivered what the daemon knew when it (re)started. */
        void (*browse_settled)(void *userdata);
        void (*browse_failed)(void *userdata, const char *error);
} MdnsEvents;

/* The TXT record for the service as it is about to be published under name (after collisions, "name #2") with
 * host as its SRV target (the daemon's host name, which it may change too): the record is signed for both, so the
 * backend asks for it again whenever either changes and for every update. ret: NULL-terminated "key=value"
 * strings, freed by the backend (strv_free). */
typedef int (*MdnsTxtBuilder)(void *userdata, const char *name, const char *host, char ***ret);

typedef struct MdnsPublication {
        const char *type; /* "_piagent._tcp" */
        const char *name; /* service instance name */
        int ifindex;      /* > 0 */
        uint16_t port;
        MdnsTxtBuilder txt;
        void *txt_userdata;
} MdnsPublication;

typedef struct MdnsOps {
        int (*new)(sd_event *e, const MdnsEvents *events, void *userdata, void **ret);
        void (*free)(void *backend);
        /* Publishes, or updates what is published (a new TXT record is sent as an update): the TXT record is asked
         * for from p->txt now and whenever it must be signed again. */
        int (*publish)(void *backend, const MdnsPublication *p);
        void (*unpublish)(void *backend);
        int (*browse)(void *backend, const char *type, int ifindex);
        void (*stop_browse)(void *backend);
        /* Whether the daemon's bus name has an owner (watched through bus.c). The backend connects only while it
         * has: avahi-client's first call would otherwise make D-Bus activate the daemon and block the loop until
         * that ends (25 s seen while a stop job was pending). Until the first call the backend waits. */
        void (*set_daemon_present)(void *backend, bool present);
} MdnsOps;
