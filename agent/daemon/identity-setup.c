/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "identity-setup.h"
#include "log.h"
#include "node-id.h"

#define INTERFACE_RETRY_USEC (2ULL * 1000 * 1000)
#define MDNS_DAEMON_UNIT     "avahi-daemon.service"

struct IdentitySetup {
        sd_event *event;
        Bus *bus;
        char *state_dir;
        bool manage_hostname;
        IdentityReadyFunc ready;
        IdentityWaitingFunc waiting;
        IdentityMdnsRestartFunc mdns_restarting;
        void *userdata;

        /* From the configuration of the current run. */
        Role role;
        char *hostname_override;
        char *interface;

        sd_event_source *retry;
        bool waiting_logged;
        NodeIdentity ident;
};

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata);

int identity_setup_new(sd_event *e, Bus *bus, const IdentitySetupOptions *o, IdentitySetup **ret)
{
        _cleanup_identity_setup_ IdentitySetup *s = NULL;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->bus = bus;
        s->manage_hostname = o->manage_hostname;
        s->ready = o->ready;
        s->waiting = o->waiting;
        s->mdns_restarting = o->mdns_restarting;
        s->userdata = o->userdata;
        s->state_dir = strdup(o->state_dir);
        if (!s->state_dir)
                return -ENOMEM;
        r = sd_event_add_time(e, &s->retry, CLOCK_MONOTONIC, 0, 0, on_retry, s);
        if (r < 0)
                return r;
        (void)sd_event_source_set_enabled(s->retry, SD_EVENT_OFF);
        *ret = TAKE_PTR(s);
        return 0;
}

IdentitySetup *identity_setup_free(IdentitySetup *s)
{
        if (!s)
                return NULL;
        if (s->bus) {
                bus_cancel_hostname(s->bus);
                bus_cancel_jobs(s->bus, s);
        }
        sd_event_source_disable_unref(s->retry);
        sd_event_unref(s->event);
        free(s->state_dir);
        free(s->hostname_override);
        free(s->interface);
        free(s);
        return NULL;
}

static void finish(IdentitySetup *s)
{
        s->ready(&s->ident, s->userdata);
}

static void on_mdns_restarted(int error, const char *result, void *userdata)
{
        IdentitySetup *s = userdata;

        if (error < 0)
                log_warning_errno(error,
                                  "Failed to restart " MDNS_DAEMON_UNIT " (%s); peers see this node under the "
                                  "mDNS name it had before: %m",
                                  result);
        finish(s);
}

/* avahi-daemon reads the host name when it starts. Telling it at run time (SetHostName) makes avahi 0.8 see its own
 * withdrawn records as conflicts and rename itself "name-2" (avahi#117); a restart is clean. TryRestartUnit: only
 * if it runs (a stopped one reads the new name when it starts). */
static void restart_mdns_daemon(IdentitySetup *s)
{
        int r;

        if (s->mdns_restarting)
                s->mdns_restarting(s->userdata);
        log_info("Restarting " MDNS_DAEMON_UNIT " so that it announces %s.local", s->ident.hostname);
        r = bus_unit_job(s->bus, "TryRestartUnit", MDNS_DAEMON_UNIT, on_mdns_restarted, s);
        if (r < 0)
                on_mdns_restarted(r, "not queued", s);
}

static void on_hostname_done(int error, const char *message, bool changed, void *userdata)
{
        IdentitySetup *s = userdata;
        char current[HOSTNAME_SIZE + 1] = "";

        if (error < 0) {
                (void)gethostname(current, sizeof current - 1);
                log_warning_errno(error,
                                  "Failed to set the host name to %s through hostname1 (%s); continuing as '%s', "
                                  "peers still tell this node apart by its id",
                                  s->ident.hostname, message ?: strerror(-error), current);
        } else if (changed) {
                log_notice("Host name set to %s", s->ident.hostname);
                restart_mdns_daemon(s);
                return;
        } else
                log_info("Host name is already %s", s->ident.hostname);
        finish(s);
}

static void step_hostname(IdentitySetup *s)
{
        int r;

        r = hostname_derive(s->role, s->ident.id, s->hostname_override, s->ident.hostname);
        if (r < 0) {
                /* Cannot happen with a validated configuration; keep going without a new name. */
                log_warning_errno(r, "Failed to derive a host name, leaving it alone: %m");
                finish(s);
                return;
        }
        if (!s->manage_hostname) {
                log_info("Not run by systemd: leaving the host name alone (it would be %s)", s->ident.hostname);
                finish(s);
                return;
        }
        r = bus_set_hostname(s->bus, s->ident.hostname, on_hostname_done, s);
        if (r < 0)
                on_hostname_done(r, NULL, false, s);
}

static void step_node_id(IdentitySetup *s)
{
        const NetIf *n = &s->ident.netif;
        char mac[MAC_STRLEN], from_mac[NODE_ID_SIZE] = "";
        NodeIdOrigin origin;
        int r;

        mac_format(n->mac, mac);
        (void)node_id_from_mac(n->mac, from_mac);
        r = node_id_load_or_create(s->state_dir, n->mac, s->ident.id, &origin);
        if (r < 0) {
                log_warning_errno(r,
                                  "Failed to keep the node id in %s/" NODE_ID_FILE ", using %s (from the MAC) "
                                  "for this run: %m",
                                  s->state_dir, from_mac);
                memcpy(s->ident.id, from_mac, sizeof from_mac);
        } else
                switch (origin) {
                case NODE_ID_LOADED:
                        if (streq(s->ident.id, from_mac))
                                log_info("Node id %s", s->ident.id);
                        else
                                log_notice("Node id %s, kept from %s/" NODE_ID_FILE " (this card was first booted "
                                           "with another MAC; %s has %s)",
                                           s->ident.id, s->state_dir, n->name, mac);
                        break;
                case NODE_ID_CREATED:
                        log_notice("Node id %s, from the MAC of %s (%s)", s->ident.id, n->name, mac);
                        break;
                case NODE_ID_REPLACED:
                        log_warning("%s/" NODE_ID_FILE " was unreadable or invalid; node id %s from the MAC of %s "
                                    "written again",
                                    s->state_dir, s->ident.id, n->name);
                        break;
                case _NODE_ID_ORIGIN_MAX:
                        break;
                }
        step_hostname(s);
}

static void wait_for_interface(IdentitySetup *s, int error)
{
        char reason[128];
        int r;

        if (s->interface)
                snprintf(reason, sizeof reason, "waiting for interface %s (%s)", s->interface,
                         error == -ENODEV ? "not there" : "no usable MAC address");
        else
                snprintf(reason, sizeof reason, "waiting for an Ethernet interface with a MAC address");
        if (!s->waiting_logged) {
                log_warning_errno(error, "No cluster interface yet: %s; checking every %llu s", reason,
                                  INTERFACE_RETRY_USEC / 1000000);
                s->waiting_logged = true;
        }
        if (s->waiting)
                s->waiting(reason, s->userdata);
        r = sd_event_source_set_time_relative(s->retry, INTERFACE_RETRY_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->retry, SD_EVENT_ONESHOT);
        if (r < 0)
                log_error_errno(r, "Failed to schedule another look for the interface: %m");
}

static void step_interface(IdentitySetup *s)
{
        char mac[MAC_STRLEN];
        int r;

        r = netif_find_cluster(s->interface, &s->ident.netif);
        if (r < 0) {
                wait_for_interface(s, r);
                return;
        }
        log_info("Cluster interface %s (%s), MAC %s", s->ident.netif.name,
                 netif_source_to_string(s->ident.netif.source), mac_format(s->ident.netif.mac, mac));
        s->waiting_logged = false;
        step_node_id(s);
}

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
        step_interface(userdata);
        return 0;
}

static int set_string(char **dst, const char *src)
{
        char *s = NULL;

        if (src && !(s = strdup(src)))
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

int identity_setup_start(IdentitySetup *s, const Config *c)
{
        int r;

        if (s->bus) {
                bus_cancel_hostname(s->bus);
                bus_cancel_jobs(s->bus, s);
        }
        (void)sd_event_source_set_enabled(s->retry, SD_EVENT_OFF);
        r = set_string(&s->hostname_override, c->hostname);
        if (r >= 0)
                r = set_string(&s->interface, c->interface);
        if (r < 0)
                return r;
        s->role = c->role;
        s->ident = (NodeIdentity){};
        step_interface(s);
        return 0;
}
