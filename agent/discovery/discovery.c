/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>

#include "discovery.h"
#include "event-util.h"
#include "log.h"
#include "peer-fresh.h"
#include "peer-held.h"
#include "peer-rejected.h"
#include "strv.h"
#include "warn-limit.h"

#define WARN_INTERVAL_USEC (3600ULL * 1000 * 1000) /* one warning per bad service an hour */
#define WARN_FLOOD_MAX     32                      /* and this many rejection warnings an hour in all */
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
        uint8_t key[PEER_TXT_KEY_SIZE]; /* signs our record, verifies the peers' */
        struct in_addr address;         /* published as addr=; 0: not known yet, nothing published */
        uint32_t boot;                  /* seq=<boot>.<n> */
        uint32_t n_signed;

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
        uint64_t flood_window_usec; /* start of the hour WARN_FLOOD_MAX counts in */
        unsigned flood_warnings;

        PeerFresh *fresh;      /* the newest (boot, n) accepted per node id */
        PeerRejected *rejects; /* services whose records did not verify: shown, never decided on */
        PeerHeld held;         /* signed but older records, waiting */
        sd_event_source *hold; /* armed while something is held */
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

/* One warning per service and hour, WARN_FLOOD_MAX an hour in all; true when this one may be a warning. */
static bool rejection_warning_allowed(Discovery *d, const char *service)
{
        uint64_t now = now_usec(d);

        if (!warn_limit_allow(&d->bad, service, now))
                return false;
        if (d->flood_warnings == 0 || now - d->flood_window_usec >= WARN_INTERVAL_USEC) {
                d->flood_window_usec = now;
                d->flood_warnings = 0;
        }
        if (++d->flood_warnings <= WARN_FLOOD_MAX)
                return true;
        if (d->flood_warnings == WARN_FLOOD_MAX + 1)
                log_warning("Rejected %u mDNS services within the hour: further rejections are logged at debug "
                            "level ('piagent status' lists them)",
                            WARN_FLOOD_MAX);
        return false;
}

/* A record that does not count: kept apart (shown by `piagent status`), one warning. Whatever peer the service
 * stood for stays as its last verified record said: a rejected record never evicts a peer. claims: what the
 * record says, when it parsed that far. */
static void reject(Discovery *d, const MdnsService *s, const PeerTxt *claims, const char *reason)
{
        char a[INET_ADDRSTRLEN], claim[64] = "";
        int r;

        d->rejected++;
        if (claims && role_to_string(claims->role) && node_id_is_valid(claims->id))
                snprintf(claim, sizeof claim, " (claims %s %s)", role_to_string(claims->role), claims->id);
        r = peer_rejected_add(d->rejects,
                              &(RejectedUpdate){.service = s->name,
                                                .address = s->address,
                                                .id = claims ? claims->id : NULL,
                                                .role = claims ? claims->role : _ROLE_INVALID,
                                                .reason = reason},
                              now_usec(d));
        if (r < 0)
                log_debug_errno(r, "Failed to keep the rejected service '%s' for the status, ignoring: %m", s->name);
        if (rejection_warning_allowed(d, s->name))
                log_struct(LOG_WARNING, 0, LOG_FIELDS("PIAGENT_PEER_SERVICE", s->name),
                           "Ignoring mDNS service '%s' at %s: %s%s", s->name, addr_str(s->address, a), reason, claim);
        else
                log_debug("Ignoring mDNS service '%s' again: %s%s", s->name, reason, claim);
}

static void ignore(Discovery *d, const MdnsService *s, const PeerTxt *t)
{
        if (warn_limit_allow(&d->ignored, s->name, now_usec(d)))
                log_debug("Ignoring mDNS service '%s': another cluster (tag %s)", s->name, t->tag);
        (void)peer_rejected_remove(d->rejects, s->name); /* a neighbour, not an attack */
}

/* A record that verified and is not older than the newest seen from its node. */
static bool apply_peer(Discovery *d, const char *service, const char *hostname, struct in_addr address, uint16_t port,
                       const PeerTxt *t)
{
        char phase[PHASE_WORD_MAX + 1] = "";
        const Peer *p = peer_set_find(d->peers, t->id), *owner = peer_set_find_service(d->peers, service);
        Role role = p ? p->role : _ROLE_INVALID;
        unsigned changes = 0;
        int r;

        if (owner && !streq(owner->id, t->id))
                remove_service(d, service, "its service now names another node id");
        if (p)
                snprintf(phase, sizeof phase, "%s", phase_word(p->phase, p->phase_other));

        r = peer_set_update(d->peers, &(PeerUpdate){service, hostname, t, address, port}, now_usec(d), &changes);
        if (r == -ENOSPC) {
                if (warn_limit_allow(&d->misc, "\1full", now_usec(d)))
                        log_warning("More than %u peers: ignoring the others", PEER_SET_MAX);
                return false;
        }
        if (r < 0) {
                log_warning_errno(r, "Failed to record peer %s, ignoring: %m", t->id);
                return false;
        }
        r = peer_fresh_note(d->fresh, t->id, t->seq, now_usec(d));
        if (r < 0)
                log_debug_errno(r, "Failed to note the freshness of %s, ignoring: %m", t->id);
        peer_held_drop_id(&d->held, t->id);
        (void)peer_rejected_remove(d->rejects, service);
        warn_limit_forget(&d->bad, service);
        p = peer_set_find(d->peers, t->id);
        if (p && changes != 0) {
                log_changes(p, changes, role, phase);
                notify_changed(d);
        }
        return true;
}

static void arm_hold(Discovery *d)
{
        uint64_t due = peer_held_next_due(&d->held);
        int r;

        if (due == UINT64_MAX) {
                (void)sd_event_source_set_enabled(d->hold, SD_EVENT_OFF);
                return;
        }
        r = sd_event_source_set_time(d->hold, due);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->hold, SD_EVENT_ONESHOT);
        if (r < 0)
                log_debug_errno(r, "Failed to schedule the held records, ignoring: %m");
}

/* The newest (boot, n) accepted from id: from the table, or the peer's own record. */
static bool newest_seen(Discovery *d, const char *id, PeerSeq *ret)
{
        const Peer *p = peer_set_find(d->peers, id);
        PeerSeq f;
        bool have = peer_fresh_get(d->fresh, id, &f) >= 0;

        if (p && (!have || peer_seq_compare(p->seq, f) > 0))
                f = p->seq, have = true;
        if (have)
                *ret = f;
        return have;
}

static bool accept_signed(Discovery *d, const MdnsService *s, const PeerTxt *t)
{
        char hostname[HOSTNAME_SIZE] = "", reason[PEER_TXT_REASON_MAX];
        PeerSeq newest;
        int r;

        if (streq(t->id, d->id)) {
                reject(d, s, t, "it claims this node's id (two cards with one MAC?)");
                return false;
        }
        (void)hostname_from_mdns(s->host, hostname);
        if (newest_seen(d, t->id, &newest) && peer_seq_compare(t->seq, newest) < 0 && t->seq.boot == newest.boot) {
                /* Within one start a node's records only get newer, and it is there to announce its newest: an
                 * older one is a replay, or a stale copy (an old service name after a rename). */
                snprintf(reason, sizeof reason,
                         "an older record (seq %" PRIu32 ".%" PRIu32 ", newest seen %" PRIu32 ".%" PRIu32 ")",
                         t->seq.boot, t->seq.n, newest.boot, newest.n);
                reject(d, s, t, reason);
                return false;
        }
        if (newest_seen(d, t->id, &newest) && peer_seq_compare(t->seq, newest) < 0) {
                r = peer_held_add(&d->held, t, s->name, hostname, s->address, s->port, now_usec(d));
                if (r < 0)
                        log_debug_errno(r, "Failed to hold an older record of %s, ignoring: %m", t->id);
                arm_hold(d);
                snprintf(reason, sizeof reason,
                         "a record of an earlier start (seq %" PRIu32 ".%" PRIu32 ", newest seen %" PRIu32 ".%" PRIu32
                         "): held for %llu s",
                         t->seq.boot, t->seq.n, newest.boot, newest.n, PEER_HELD_USEC / 1000000ULL);
                reject(d, s, t, reason);
                return false;
        }
        return apply_peer(d, s->name, hostname, s->address, s->port, t);
}

/* Held records whose node stayed silent: it restarted without its state (a re-flashed card counts from 1 again),
 * or its newer record is gone. They count now. */
static int on_hold(sd_event_source *es, uint64_t usec, void *userdata)
{
        Discovery *d = userdata;
        Held h;

        while (peer_held_pop_due(&d->held, now_usec(d), &h)) {
                PeerSeq newest = {};
                (void)newest_seen(d, h.txt.id, &newest);
                log_struct(LOG_NOTICE, 0, LOG_FIELDS("PIAGENT_PEER", h.txt.id),
                           "Peer %s: accepting its record seq %" PRIu32 ".%" PRIu32 " (older than %" PRIu32 ".%" PRIu32
                           "): nothing newer came for %llu s, so it restarted without its state or its "
                           "newer record is gone",
                           h.txt.id, h.txt.seq.boot, h.txt.seq.n, newest.boot, newest.n, PEER_HELD_USEC / 1000000ULL);
                (void)apply_peer(d, h.service, h.hostname, h.address, h.port, &h.txt);
                free(h.service);
        }
        arm_hold(d);
        return 0;
}

static bool on_found(void *userdata, const MdnsService *s)
{
        Discovery *d = userdata;
        char reason[PEER_TXT_REASON_MAX];
        PeerTxtVerdict v;
        PeerTxt t;
        int r;

        if (!d->started)
                return false;
        r = peer_txt_parse(
                s->txt, s->n_txt, d->tag, d->key,
                &(PeerTxtPlace){.service = s->name, .host = s->host ?: "", .port = s->port, .address = s->address}, &t,
                &v, reason, sizeof reason);
        if (r < 0) {
                char bad[PEER_TXT_REASON_MAX + 32];
                snprintf(bad, sizeof bad, "bad TXT record (%s)", reason);
                reject(d, s, NULL, bad);
                return false;
        }
        switch (v) {
        case PEER_TXT_ACCEPT:
                return accept_signed(d, s, &t);
        case PEER_TXT_OTHER_VERSION:
                /* Our cluster's tag, another version: an agent not upgraded (version 1 records are unsigned). */
                if (streq(t.tag, d->tag)) {
                        reject(d, s, NULL, reason);
                        return false;
                }
                if (warn_limit_allow(&d->ignored, s->name, now_usec(d)))
                        log_debug("Ignoring mDNS service '%s': %s", s->name, reason);
                return false;
        case PEER_TXT_OTHER_CLUSTER:
                ignore(d, s, &t);
                return false;
        case PEER_TXT_FORGED:
        case PEER_TXT_MISPLACED:
                reject(d, s, &t, reason);
                return false;
        case _PEER_TXT_VERDICT_MAX:
                break;
        }
        return false;
}

static void on_removed(void *userdata, const char *name)
{
        Discovery *d = userdata;

        (void)peer_rejected_remove(d->rejects, name);
        peer_held_drop_service(&d->held, name);
        arm_hold(d);

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
        r = peer_fresh_new(&d->fresh);
        if (r < 0)
                return r;
        r = peer_rejected_new(&d->rejects);
        if (r < 0)
                return r;
        r = sd_event_add_time(e, &d->sweep, CLOCK_MONOTONIC, 0, 0, on_sweep, d);
        if (r < 0)
                return r;
        (void)sd_event_source_set_enabled(d->sweep, SD_EVENT_OFF);
        r = sd_event_add_time(e, &d->hold, CLOCK_MONOTONIC, 0, 0, on_hold, d);
        if (r < 0)
                return r;
        (void)sd_event_source_set_enabled(d->hold, SD_EVENT_OFF);
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
        sd_event_source_disable_unref(d->hold);
        peer_set_free(d->peers);
        peer_fresh_free(d->fresh);
        peer_rejected_free(d->rejects);
        peer_held_clear(&d->held);
        explicit_bzero(d->key, sizeof d->key);
        self_clear(d);
        free(d->published);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}

/* Our record as published under name with host as its SRV target: signed for them, and fresher than the last. */
static int build_txt(void *userdata, const char *name, const char *host, char ***ret)
{
        Discovery *d = userdata;
        PeerTxt t = {.version = PEER_TXT_VERSION,
                     .role = d->role,
                     .phase = d->phase,
                     .vip = d->vip,
                     .address = d->address,
                     .seq = {.boot = d->boot, .n = d->n_signed + 1}};
        int r;

        snprintf(t.tag, sizeof t.tag, "%s", d->tag);
        snprintf(t.id, sizeof t.id, "%s", d->id);
        r = peer_txt_encode(&t, d->key, &(PeerTxtPlace){.service = name, .host = host, .port = d->port}, ret);
        if (r >= 0)
                d->n_signed++;
        return r;
}

static int publish(Discovery *d)
{
        /* Nothing to sign for until the node has its address (DHCP): avahi could not publish it anyway. */
        if (d->address.s_addr == 0)
                return 0;
        return d->ops->publish(d->backend, &(MdnsPublication){
                                                   .type = DISCOVERY_SERVICE_TYPE,
                                                   .name = d->hostname,
                                                   .ifindex = d->ifindex,
                                                   .port = d->port,
                                                   .txt = build_txt,
                                                   .txt_userdata = d,
                                           });
}

static void forget_peers(Discovery *d)
{
        PeerSet *fresh = NULL;

        peer_fresh_clear(d->fresh);
        peer_rejected_clear(d->rejects);
        peer_held_clear(&d->held);
        (void)sd_event_source_set_enabled(d->hold, SD_EVENT_OFF);
        warn_limit_init(&d->bad, WARN_INTERVAL_USEC);
        warn_limit_init(&d->ignored, WARN_LIMIT_FOREVER);
        if (peer_set_size(d->peers) == 0 || peer_set_new(&fresh) < 0)
                return;
        log_info("Forgetting %zu peers of the previous configuration", peer_set_size(d->peers));
        peer_set_free(d->peers);
        d->peers = fresh;
}

int discovery_start(Discovery *d, const DiscoverySelf *self)
{
        bool rebrowse = !d->started || d->ifindex != self->ifindex;
        int r;

        if (!node_id_is_valid(self->id) || !hostname_is_valid(self->hostname) || !cluster_tag_is_valid(self->tag) ||
            !phase_to_string(self->phase) || self->ifindex <= 0 || !role_to_string(self->role) || !self->key ||
            self->boot == 0)
                return -EINVAL;
        /* Another secret: another tag and key, another cluster. */
        if (d->tag && (!streq(d->tag, self->tag) || memcmp(d->key, self->key, sizeof d->key) != 0))
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
        memcpy(d->key, self->key, sizeof d->key);
        d->address = self->address;
        if (d->boot != self->boot)
                d->n_signed = 0;
        d->boot = self->boot;
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

int discovery_set_address(Discovery *d, struct in_addr address)
{
        if (!d->started || d->address.s_addr == address.s_addr)
                return 0;
        d->address = address;
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

const PeerRejected *discovery_rejected(const Discovery *d)
{
        return d->rejects;
}
