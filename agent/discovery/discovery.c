/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <stdio.h>

#include "discovery.h"
#include "event-util.h"
#include "log.h"
#include "strv.h"
#include "warn-limit.h"

#define WARN_INTERVAL_USEC (3600ULL * 1000 * 1000) /* one warning per bad service an hour */
/* After avahi-daemon comes back, peers that are not announced again within this time after the browse settled are
 * gone. Longer than avahi's 5 s resolver timeout. */
#define STALE_SWEEP_USEC (6ULL * 1000 * 1000)

struct Discovery {
        sd_event *event;
        const MdnsOps *ops;
        void *backend;
        DiscoveryChanged changed;
        void *userdata;

        bool started;
        char *id, *hostname, *tag;
        Phase phase;
        Role role;
        bool vip; /* published: this LB holds the VIP */
        int ifindex;
        uint16_t port;

        MdnsState state;
        bool was_connected;  /* to tell a first connection from a reconnection */
        bool away;           /* not connected to avahi-daemon since the last "connected" */
        bool expect_restart; /* the next disconnection is a restart we asked for */
        char *published;     /* service name as established */
        PeerSet *peers;
        sd_event_source *sweep;
        WarnLimit bad;     /* malformed records: one warning per service */
        WarnLimit ignored; /* other clusters or versions: one debug line per service */
        WarnLimit misc;    /* one-off conditions: set full, our own id claimed */
        unsigned rejected;
};

static uint64_t now_usec(Discovery *d)
{
        return event_now_usec(d->event);
}

static void notify_changed(Discovery *d)
{
        /* Not while discovery_new() is still creating the backend: the owner does not know d yet. */
        if (d->changed && d->backend)
                d->changed(d->userdata);
}

static const char *addr_str(struct in_addr a, char buf[static INET_ADDRSTRLEN])
{
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN) ?: "?";
}

static void log_departure(const Peer *p, const char *why)
{
        char a[INET_ADDRSTRLEN];

        log_struct(LOG_NOTICE, 0, LOG_FIELDS("PIAGENT_PEER", p->id, "PIAGENT_PEER_ROLE", role_to_string(p->role)),
                   "Peer %s (%s, %s at %s) left: %s", p->id, p->hostname[0] ? p->hostname : "?",
                   role_to_string(p->role), addr_str(p->address, a), why);
}

static void remove_service(Discovery *d, const char *name, const char *why)
{
        _cleanup_peer_ Peer *p = NULL;

        if (peer_set_remove_service(d->peers, name, &p) < 0)
                return;
        log_departure(p, why);
        notify_changed(d);
}

static void log_changes(const Peer *p, unsigned changes, Role old_role, const char *old_phase)
{
        const char *const *f = LOG_FIELDS("PIAGENT_PEER", p->id, "PIAGENT_PEER_ROLE", role_to_string(p->role));
        char a[INET_ADDRSTRLEN];

        if (changes & PEER_CHANGE_NEW) {
                log_struct(LOG_INFO, 0, f, "Peer %s appeared: %s, %s at %s:%u, phase %s", p->id,
                           p->hostname[0] ? p->hostname : "?", role_to_string(p->role), addr_str(p->address, a),
                           p->port, phase_word(p->phase, p->phase_other));
                return;
        }
        if (changes & PEER_CHANGE_ROLE)
                log_struct(LOG_NOTICE, 0, f, "Peer %s (%s) changed its role from %s to %s", p->id, p->hostname,
                           role_to_string(old_role), role_to_string(p->role));
        if (changes & PEER_CHANGE_PHASE)
                log_struct(LOG_INFO, 0, f, "Peer %s (%s): phase %s -> %s", p->id, p->hostname, old_phase,
                           phase_word(p->phase, p->phase_other));
        if (changes & (PEER_CHANGE_ADDRESS | PEER_CHANGE_HOSTNAME))
                log_struct(LOG_INFO, 0, f, "Peer %s is now %s at %s:%u", p->id, p->hostname[0] ? p->hostname : "?",
                           addr_str(p->address, a), p->port);
        if (changes & PEER_CHANGE_REVIVED)
                log_struct(LOG_DEBUG, 0, f, "Peer %s announced again after the reconnection", p->id);
}

static void reject(Discovery *d, const MdnsService *s, const char *reason)
{
        char a[INET_ADDRSTRLEN];

        d->rejected++;
        if (warn_limit_allow(&d->bad, s->name, now_usec(d)))
                log_struct(LOG_WARNING, 0, LOG_FIELDS("PIAGENT_PEER_SERVICE", s->name),
                           "Ignoring mDNS service '%s' at %s: bad TXT record (%s)", s->name, addr_str(s->address, a),
                           reason);
        else
                log_debug("Ignoring mDNS service '%s' again: %s", s->name, reason);
        remove_service(d, s->name, "its TXT record is no longer valid");
}

static void ignore(Discovery *d, const MdnsService *s, const PeerTxt *t, PeerTxtVerdict v)
{
        if (warn_limit_allow(&d->ignored, s->name, now_usec(d))) {
                if (v == PEER_TXT_OTHER_VERSION)
                        log_debug("Ignoring mDNS service '%s': protocol version %u, not %u", s->name, t->version,
                                  PEER_TXT_VERSION);
                else
                        log_debug("Ignoring mDNS service '%s': another cluster (tag %s)", s->name, t->tag);
        }
        remove_service(d, s->name, "it now belongs to another cluster or protocol version");
}

static void accept_peer(Discovery *d, const MdnsService *s, const PeerTxt *t)
{
        char hostname[HOSTNAME_SIZE] = "", phase[PHASE_WORD_MAX + 1] = "", a[INET_ADDRSTRLEN];
        const Peer *p = peer_set_find(d->peers, t->id), *owner = peer_set_find_service(d->peers, s->name);
        Role role = p ? p->role : _ROLE_INVALID;
        unsigned changes = 0;
        int r;

        if (streq(t->id, d->id)) {
                if (warn_limit_allow(&d->misc, s->name, now_usec(d)))
                        log_warning("mDNS service '%s' at %s claims this node's id %s (two cards with one MAC?); "
                                    "ignoring it",
                                    s->name, addr_str(s->address, a), t->id);
                return;
        }
        if (owner && !streq(owner->id, t->id))
                remove_service(d, s->name, "its service now names another node id");
        if (p)
                snprintf(phase, sizeof phase, "%s", phase_word(p->phase, p->phase_other));
        (void)hostname_from_mdns(s->host, hostname);

        r = peer_set_update(d->peers, &(PeerUpdate){s->name, hostname, t, s->address, s->port}, now_usec(d), &changes);
        if (r == -ENOSPC) {
                if (warn_limit_allow(&d->misc, "\1full", now_usec(d)))
                        log_warning("More than %u peers: ignoring the others", PEER_SET_MAX);
                return;
        }
        if (r < 0) {
                log_warning_errno(r, "Failed to record peer %s, ignoring: %m", t->id);
                return;
        }
        warn_limit_forget(&d->bad, s->name);
        p = peer_set_find(d->peers, t->id);
        if (p && changes != 0) {
                log_changes(p, changes, role, phase);
                notify_changed(d);
        }
}

static void on_found(void *userdata, const MdnsService *s)
{
        Discovery *d = userdata;
        char reason[PEER_TXT_REASON_MAX];
        PeerTxtVerdict v;
        PeerTxt t;
        int r;

        if (!d->started)
                return;
        r = peer_txt_parse(s->txt, s->n_txt, d->tag, &t, &v, reason, sizeof reason);
        if (r < 0) {
                reject(d, s, reason);
                return;
        }
        switch (v) {
        case PEER_TXT_ACCEPT:
                accept_peer(d, s, &t);
                break;
        case PEER_TXT_OTHER_VERSION:
        case PEER_TXT_OTHER_CLUSTER:
                ignore(d, s, &t, v);
                break;
        case _PEER_TXT_VERDICT_MAX:
                break;
        }
}

static void on_removed(void *userdata, const char *name)
{
        Discovery *d = userdata;

        remove_service(d, name, "its mDNS records were withdrawn");
}

static int on_sweep(sd_event_source *s, uint64_t usec, void *userdata)
{
        Discovery *d = userdata;
        Peer *p;

        while ((p = peer_set_pop_stale(d->peers))) {
                log_departure(p, "not announced again since avahi-daemon came back");
                peer_free(p);
                notify_changed(d);
        }
        return 0;
}

static void on_browse_settled(void *userdata)
{
        Discovery *d = userdata;
        int r;

        r = sd_event_source_set_time_relative(d->sweep, STALE_SWEEP_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->sweep, SD_EVENT_ONESHOT);
        if (r < 0)
                log_debug_errno(r, "Failed to schedule the sweep of stale peers, ignoring: %m");
}

static void on_state_changed(void *userdata, MdnsState state, const char *error)
{
        Discovery *d = userdata;
        MdnsState old = d->state;

        d->state = state;
        switch (state) {
        case MDNS_CONNECTING:
                free(d->published);
                d->published = NULL;
                if (old != MDNS_CONNECTING) {
                        log_full(d->expect_restart ? LOG_INFO : LOG_WARNING,
                                 "%s (%s); waiting for it to come back, keeping %zu peers until then",
                                 d->expect_restart ? "avahi-daemon is restarting" : "Lost avahi-daemon",
                                 strempty(error), peer_set_size(d->peers));
                        d->expect_restart = false;
                        peer_set_mark_stale(d->peers);
                } else
                        log_info("Waiting for avahi-daemon%s%s", error ? ": " : "", strempty(error));
                d->away = true;
                break;
        case MDNS_REGISTERING:
                break;
        case MDNS_RUNNING:
                if (d->away)
                        log_full(d->was_connected ? LOG_NOTICE : LOG_INFO, "Connected to avahi-daemon%s",
                                 d->was_connected ? " again; publishing and browsing again" : "");
                d->was_connected = true;
                d->away = false;
                break;
        case _MDNS_STATE_MAX:
                break;
        }
        notify_changed(d);
}

static void on_published(void *userdata, const char *name)
{
        Discovery *d = userdata;

        if (!streq_ptr(d->published, name)) {
                char *n = strdup(name);
                if (n) {
                        free(d->published);
                        d->published = n;
                }
        }
        log_info("Published '%s' (%s) on port %u: role %s, phase %s", name, DISCOVERY_SERVICE_TYPE, d->port,
                 role_to_string(d->role), phase_to_string(d->phase));
        notify_changed(d);
}

static void on_collision(void *userdata, const char *old_name, const char *new_name)
{
        log_warning("mDNS service name '%s' is taken on the LAN; publishing as '%s' instead", old_name, new_name);
}

static void on_publish_failed(void *userdata, const char *error)
{
        log_warning("Failed to publish this node on mDNS: %s", error);
}

static void on_resolve_failed(void *userdata, const char *name, const char *error)
{
        log_debug("mDNS: resolving '%s' failed for now: %s", name, error);
}

static void on_browse_failed(void *userdata, const char *error)
{
        log_warning("Failed to browse for peers on mDNS: %s", error);
}

const MdnsEvents discovery_mdns_events = {
        .state_changed = on_state_changed,
        .published = on_published,
        .collision = on_collision,
        .publish_failed = on_publish_failed,
        .found = on_found,
        .removed = on_removed,
        .resolve_failed = on_resolve_failed,
        .browse_settled = on_browse_settled,
        .browse_failed = on_browse_failed,
};

int discovery_new(sd_event *e, const MdnsOps *ops, DiscoveryChanged changed, void *userdata, Discovery **ret)
{
        _cleanup_discovery_ Discovery *d = NULL;
        int r;

        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->event = sd_event_ref(e);
        d->ops = ops;
        d->changed = changed;
        d->userdata = userdata;
        d->state = MDNS_CONNECTING;
        d->away = true;
        warn_limit_init(&d->bad, WARN_INTERVAL_USEC);
        warn_limit_init(&d->ignored, WARN_LIMIT_FOREVER);
        warn_limit_init(&d->misc, WARN_INTERVAL_USEC);
        r = peer_set_new(&d->peers);
        if (r < 0)
                return r;
        r = sd_event_add_time(e, &d->sweep, CLOCK_MONOTONIC, 0, 0, on_sweep, d);
        if (r < 0)
                return r;
        (void)sd_event_source_set_enabled(d->sweep, SD_EVENT_OFF);
        r = ops->new (e, &discovery_mdns_events, d, &d->backend);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

static void self_clear(Discovery *d)
{
        free(d->id);
        free(d->hostname);
        free(d->tag);
        d->id = d->hostname = d->tag = NULL;
}

Discovery *discovery_free(Discovery *d)
{
        if (!d)
                return NULL;
        if (d->backend)
                d->ops->free(d->backend);
        sd_event_source_disable_unref(d->sweep);
        peer_set_free(d->peers);
        self_clear(d);
        free(d->published);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}

static int publish(Discovery *d)
{
        _cleanup_strv_free_ char **txt = NULL;
        PeerTxt t = {.version = PEER_TXT_VERSION, .role = d->role, .vip = d->vip};
        int r;

        snprintf(t.tag, sizeof t.tag, "%s", d->tag);
        t.phase = d->phase;
        snprintf(t.id, sizeof t.id, "%s", d->id);
        r = peer_txt_encode(&t, &txt);
        if (r < 0)
                return r;
        return d->ops->publish(d->backend, &(MdnsPublication){
                                                   .type = DISCOVERY_SERVICE_TYPE,
                                                   .name = d->hostname,
                                                   .ifindex = d->ifindex,
                                                   .port = d->port,
                                                   .txt = txt,
                                           });
}

static void forget_peers(Discovery *d)
{
        PeerSet *fresh = NULL;

        if (peer_set_size(d->peers) == 0 || peer_set_new(&fresh) < 0)
                return;
        log_info("Forgetting %zu peers of the previous configuration", peer_set_size(d->peers));
        peer_set_free(d->peers);
        d->peers = fresh;
        warn_limit_init(&d->bad, WARN_INTERVAL_USEC);
        warn_limit_init(&d->ignored, WARN_LIMIT_FOREVER);
}

int discovery_start(Discovery *d, const DiscoverySelf *self)
{
        bool rebrowse = !d->started || d->ifindex != self->ifindex;
        int r;

        if (!node_id_is_valid(self->id) || !hostname_is_valid(self->hostname) || !cluster_tag_is_valid(self->tag) ||
            !phase_to_string(self->phase) || self->ifindex <= 0 || !role_to_string(self->role))
                return -EINVAL;
        if (d->tag && !streq(d->tag, self->tag))
                forget_peers(d);

        d->started = false; /* until self is complete again */
        self_clear(d);
        d->id = strdup(self->id);
        d->hostname = strdup(self->hostname);
        d->tag = strdup(self->tag);
        d->phase = self->phase;
        if (!d->id || !d->hostname || !d->tag)
                return -ENOMEM;
        d->role = self->role;
        d->ifindex = self->ifindex;
        d->port = self->port;
        d->started = true;

        r = publish(d);
        if (r < 0)
                return r;
        if (rebrowse)
                return d->ops->browse(d->backend, DISCOVERY_SERVICE_TYPE, d->ifindex);
        return 0;
}

void discovery_set_daemon_present(Discovery *d, bool present)
{
        d->ops->set_daemon_present(d->backend, present);
}

void discovery_expect_daemon_restart(Discovery *d)
{
        d->expect_restart = true;
}

int discovery_set_phase(Discovery *d, Phase phase)
{
        if (!phase_to_string(phase))
                return -EINVAL;
        if (!d->started || d->phase == phase)
                return 0;
        d->phase = phase;
        return publish(d);
}

int discovery_set_vip(Discovery *d, bool vip)
{
        if (!d->started || d->vip == vip)
                return 0;
        d->vip = vip;
        return publish(d);
}

void discovery_stop(Discovery *d)
{
        if (!d->started)
                return;
        d->ops->unpublish(d->backend);
        d->ops->stop_browse(d->backend);
        d->started = false;
        free(d->published);
        d->published = NULL;
        forget_peers(d);
        notify_changed(d);
}

bool discovery_is_started(const Discovery *d)
{
        return d && d->started;
}

const PeerSet *discovery_peers(const Discovery *d)
{
        return d->peers;
}

MdnsState discovery_mdns_state(const Discovery *d)
{
        return d->state;
}

const char *discovery_published_name(const Discovery *d)
{
        return d->published;
}

unsigned discovery_rejected_count(const Discovery *d)
{
        return d->rejected;
}
