/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <stdio.h>

#include "arp-probe.h"
#include "crypto.h"
#include "exchange-client.h"
#include "fileio.h"
#include "log.h"
#include "role-lb.h"

#define CA_RETRY_USEC    (15 * 1000000ULL) /* after every ready master failed once */
#define CA_NEXT_USEC     (1 * 1000000ULL)  /* after one failed: the next */
#define CA_OVERDUE_USEC  (60 * 1000000ULL) /* a ready master seen this long without a CA: say so */
#define VIP_RECHECK_USEC (10 * 1000000ULL) /* another host answered for the VIP: probe again */
/* A first answer may come from an LB of this cluster that discovery has not shown yet (mDNS takes about a
 * second): said only when it answers again this much later. */
#define VIP_CONFIRM_USEC (2 * 1000000ULL)
#define LB_MAX_PEERS     64

struct LbRole {
        sd_event *event;
        Bus *bus;
        Lb *lb;
        Config *config; /* a reference */
        char *self_id, *hostname, *interface, *ca_path, *test_break;
        struct in_addr address;
        ExchangeClient *client;
        ExchangeClientCall *ca_call;
        sd_event_source *ca_retry;
        bool have_ca;
        unsigned ca_asked;  /* CA requests so far: picks the next ready master */
        unsigned ca_failed; /* in a row */
        char ca_asked_id[NODE_ID_SIZE];
        int ca_error;                /* of the last failed request */
        sd_event_source *ca_overdue; /* armed when the first ready master is seen without a CA */
        bool ca_late;                /* it fired: HAProxy's checks have not verified for a while; said in STATUS= */
        const PeerSet *peers;        /* the latest set seen (owned by discovery) */
        struct JobRelay *relays;

        /* Before this LB first claims the VIP: nobody else on the LAN may answer for it (arp-probe.h). */
        bool vip_clear;
        unsigned vip_conflicts; /* probes in a row that another host answered */
        ArpProbe *vip_probe;
        sd_event_source *vip_recheck;
        char vip_problem[320];
        LbChanged changed;
        void *changed_userdata;
};

/* systemd's answer, handed back to the LB pipeline. Relays in flight are listed so that freeing the role
 * cancels unit jobs and orphans a daemon-reload (whose answer then only frees its relay). */
typedef struct JobRelay JobRelay;
struct JobRelay {
        LbRole *owner; /* NULL: orphaned */
        LbJobDone done;
        void *userdata;
        bool reload; /* a daemon-reload: its answer cannot be cancelled */
        JobRelay *next;
};

static void relay_unlink(JobRelay *j)
{
        if (!j->owner)
                return;
        for (JobRelay **p = &j->owner->relays; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
}

static void on_job(int error, const char *result, void *userdata)
{
        JobRelay *j = userdata;
        LbJobDone done = j->owner ? j->done : NULL;
        void *u = j->userdata;

        relay_unlink(j);
        free(j);
        if (!done)
                return;
        if (error < 0)
                log_warning("systemd job ended with '%s'", strempty(result));
        done(error, u);
}

static JobRelay *relay_new(LbRole *r, LbJobDone done, void *userdata)
{
        JobRelay *j = malloc(sizeof *j);
        if (j) {
                *j = (JobRelay){.owner = r, .done = done, .userdata = userdata, .next = r->relays};
                r->relays = j;
        }
        return j;
}

static void relay_drop(JobRelay *j)
{
        relay_unlink(j);
        free(j);
}

static int unit_apply(void *userdata, const char *unit, LbJobDone done, void *done_userdata)
{
        LbRole *r = userdata;
        JobRelay *j = relay_new(r, done, done_userdata);
        int q;

        if (!j)
                return -ENOMEM;
        /* Starts the unit when it is not running, else reloads it (HAProxy and keepalived reload gracefully). */
        q = bus_unit_job(r->bus, "ReloadOrRestartUnit", unit, on_job, j);
        if (q < 0)
                relay_drop(j);
        return q;
}

static int daemon_reload(void *userdata, LbJobDone done, void *done_userdata)
{
        LbRole *r = userdata;
        JobRelay *j = relay_new(r, done, done_userdata);
        int q;

        if (!j)
                return -ENOMEM;
        j->reload = true;
        q = bus_daemon_reload(r->bus, on_job, j);
        if (q < 0)
                relay_drop(j);
        return q;
}

static const LbOps lb_role_ops = {.unit_apply = unit_apply, .daemon_reload = daemon_reload};

static void render(LbRole *r);
static bool vip_checked(LbRole *r);

static int on_vip_recheck(sd_event_source *s, uint64_t usec, void *userdata)
{
        LbRole *r = userdata;

        r->vip_recheck = sd_event_source_disable_unref(r->vip_recheck);
        render(r);
        return 0;
}

/* The MAC that answered is one of this cluster's LBs (a node id is its MAC in hex): it holds the VIP by right. */
static bool mac_is_our_lb(const LbRole *r, const uint8_t mac[6])
{
        char id[13];

        snprintf(id, sizeof id, "%02x%02x%02x%02x%02x%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
        for (size_t i = 0; r->peers && i < peer_set_size(r->peers); i++) {
                const Peer *p = peer_set_get(r->peers, i);
                if (p->role == ROLE_LB && strcasecmp(p->id, id) == 0)
                        return true;
        }
        return false;
}

static void on_vip_probe(int error, bool in_use, const uint8_t mac[6], void *userdata)
{
        LbRole *r = userdata;
        char vip[INET_ADDRSTRLEN], m[18], msg[sizeof r->vip_problem];

        r->vip_probe = arp_probe_free(r->vip_probe);
        if (error < 0) {
                /* Cannot look: not a reason to keep the cluster from its VIP. */
                log_warning_errno(error,
                                  "Cannot check that the virtual IP is free (ARP probe), claiming it anyway: %m");
                in_use = false;
        }
        if (in_use && !mac_is_our_lb(r, mac) && ++r->vip_conflicts < 2) {
                arp_mac_format(mac, m);
                log_info("%s answers for the virtual IP: probing again before deciding", m);
                if (!r->vip_recheck)
                        (void)sd_event_add_time_relative(r->event, &r->vip_recheck, CLOCK_MONOTONIC, VIP_CONFIRM_USEC,
                                                         0, on_vip_recheck, r);
                return;
        }
        if (in_use && !mac_is_our_lb(r, mac)) {
                inet_ntop(AF_INET, &r->config->vip.addr, vip, sizeof vip);
                arp_mac_format(mac, m);
                snprintf(msg, sizeof msg,
                         "Another host (MAC %s) answers for the virtual IP %s on %s: refusing to claim it. Give that "
                         "host another address, or set vip= in cluster.txt on every card to a free address; checking "
                         "again every %llu s",
                         m, vip, r->interface, VIP_RECHECK_USEC / 1000000ULL);
                if (!streq(msg, r->vip_problem))
                        log_error("%s", msg);
                snprintf(r->vip_problem, sizeof r->vip_problem, "%s", msg);
                if (!r->vip_recheck)
                        (void)sd_event_add_time_relative(r->event, &r->vip_recheck, CLOCK_MONOTONIC, VIP_RECHECK_USEC,
                                                         0, on_vip_recheck, r);
        } else {
                if (r->vip_problem[0])
                        log_notice("No other host answers for the virtual IP any more: claiming it");
                r->vip_problem[0] = 0;
                r->vip_conflicts = 0;
                r->vip_clear = true;
        }
        if (r->changed)
                r->changed(r->lb, r->changed_userdata);
        render(r);
}

/* True once the VIP may be claimed: an LB of this cluster says it holds it, or an ARP probe found nobody else
 * answering. Until then a probe runs (or waits for its next round) and nothing is configured. */
static bool vip_checked(LbRole *r)
{
        int q;

        if (r->vip_clear)
                return true;
        for (size_t i = 0; r->peers && i < peer_set_size(r->peers); i++)
                if (peer_set_get(r->peers, i)->role == ROLE_LB && peer_set_get(r->peers, i)->vip)
                        return r->vip_clear = true;
        if (r->vip_probe || r->vip_recheck)
                return false;
        q = arp_probe_start(r->event, r->interface, r->config->vip.addr, on_vip_probe, r, &r->vip_probe);
        if (q < 0) {
                log_warning_errno(q, "Cannot check that the virtual IP is free (ARP probe), claiming it anyway: %m");
                return r->vip_clear = true;
        }
        return false;
}

static void render(LbRole *r)
{
        LbPeer lbs[LB_MAX_PEERS];
        LbBackend masters[LB_MAX_PEERS];
        size_t n_lbs = 0, n_masters = 0;
        bool any_ready = false;

        if (!vip_checked(r))
                return;

        for (size_t i = 0; r->peers && i < peer_set_size(r->peers); i++)
                any_ready = any_ready || (peer_set_get(r->peers, i)->role == ROLE_MASTER &&
                                          peer_set_get(r->peers, i)->phase == PHASE_READY);
        for (size_t i = 0; r->peers && i < peer_set_size(r->peers); i++) {
                const Peer *p = peer_set_get(r->peers, i);
                if (p->address.s_addr == 0)
                        continue;
                if (p->role == ROLE_LB && n_lbs < LB_MAX_PEERS && !streq(p->id, r->self_id))
                        lbs[n_lbs++] = (LbPeer){.id = p->id, .addr = p->address};
                else if (p->role == ROLE_MASTER && n_masters < LB_MAX_PEERS)
                        /* By node id, which the record's signature covers and which is unique: never by an
                         * announced host name (two of those alike made `haproxy -c` refuse every later file). */
                        masters[n_masters++] = (LbBackend){.name = p->id,
                                                           .addr = p->address,
                                                           .unchecked = !any_ready && p->phase == PHASE_INITIALIZING};
        }

        LbInputs in = {
                .config = r->config,
                .self_id = r->self_id,
                .hostname = r->hostname,
                .interface = r->interface,
                .self_addr = r->address,
                .lbs = lbs,
                .n_lbs = n_lbs,
                .masters = masters,
                .n_masters = n_masters,
                .ca_file = r->have_ca ? r->ca_path : NULL,
                .test_break = r->test_break,
        };
        int q = lb_update(r->lb, &in);
        if (q < 0 && q != -EINVAL)
                log_error_errno(q, "Failed to update the load-balancer configuration: %m");
}

static void fetch_ca(LbRole *r);

static int on_ca_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        LbRole *r = userdata;

        r->ca_retry = sd_event_source_disable_unref(r->ca_retry);
        fetch_ca(r);
        return 0;
}

static void retry_ca_later(LbRole *r, uint64_t usec)
{
        if (!r->ca_retry &&
            sd_event_add_time_relative(r->event, &r->ca_retry, CLOCK_MONOTONIC, usec, 0, on_ca_retry, r) < 0)
                log_warning("Cannot schedule fetching the cluster CA again");
}

static size_t ready_masters(const LbRole *r, const Peer *ret[static LB_MAX_PEERS])
{
        size_t n = 0;

        for (size_t i = 0; r->peers && i < peer_set_size(r->peers) && n < LB_MAX_PEERS; i++) {
                const Peer *p = peer_set_get(r->peers, i);
                if (p->role == ROLE_MASTER && p->phase == PHASE_READY && p->address.s_addr != 0)
                        ret[n++] = p;
        }
        return n;
}

static void ca_failed(LbRole *r, int error)
{
        const Peer *ready[LB_MAX_PEERS];
        size_t n = ready_masters(r, ready);

        r->ca_error = error;
        r->ca_failed++;
        /* The next ready master at once; after each one failed in a row, a pause. */
        retry_ca_later(r, r->ca_failed >= MAX(n, (size_t)1) ? CA_RETRY_USEC : CA_NEXT_USEC);
        if (r->ca_failed >= MAX(n, (size_t)1))
                r->ca_failed = 0;
}

static void on_ca(void *userdata, int error, const ExchangeAnswer *answer)
{
        LbRole *r = userdata;
        char hash[CRYPTO_CA_HASH_SIZE];
        int q;

        r->ca_call = NULL;
        if (error >= 0 && (!answer->ca || !streq_ptr(answer->server, r->ca_asked_id)))
                error = -EPROTO; /* a CA from another master than the one asked: not what was asked for */
        if (error < 0) {
                log_info_errno(error, "Could not get the cluster CA from %s yet, trying %s: %m", r->ca_asked_id,
                               "the next ready master");
                ca_failed(r, error);
                return;
        }
        q = crypto_ca_cert_hash(answer->ca, strlen(answer->ca), hash);
        if (q >= 0)
                q = write_file_atomic(r->ca_path, answer->ca, strlen(answer->ca), 0644);
        if (q < 0) {
                log_warning_errno(q, "Cannot keep the cluster CA from %s, retrying: %m", strempty(answer->server));
                ca_failed(r, q);
                return;
        }
        log_notice("Got the cluster CA (%s) from %s: HAProxy now verifies the apiservers", hash,
                   strempty(answer->server));
        r->have_ca = true;
        r->ca_late = false;
        r->ca_overdue = sd_event_source_disable_unref(r->ca_overdue);
        render(r);
        if (r->changed)
                r->changed(r->lb, r->changed_userdata);
}

/* HAProxy checks the masters without verifying them until the CA is known: that is needed (the first master's
 * kubeadm init reaches its own apiserver through the VIP before any CA exists), but it must not last silently. */
static int on_ca_overdue(sd_event_source *s, uint64_t usec, void *userdata)
{
        LbRole *r = userdata;

        r->ca_late = true;
        log_warning("HAProxy still checks the apiservers without verifying their certificates: no ready master has "
                    "handed out the cluster CA for %llu s (last: %s); retrying",
                    CA_OVERDUE_USEC / 1000000ULL, r->ca_error < 0 ? strerror(-r->ca_error) : "no answer yet");
        if (r->changed)
                r->changed(r->lb, r->changed_userdata);
        return 0;
}

/* Once a master is ready, ask it for the CA (public data, but over the authenticated exchange, so that a
 * stranger on the LAN cannot make HAProxy trust its own apiserver): each ready master in turn, a different one
 * after each failure (a master that died without a goodbye lingers in mDNS for minutes). */
static void fetch_ca(LbRole *r)
{
        const Peer *ready[LB_MAX_PEERS], *p;
        ExchangeQuery q = {.op = EXCHANGE_OP_CA};
        char addr[INET_ADDRSTRLEN];
        size_t n;
        int k;

        if (r->have_ca || r->ca_call || r->ca_retry || !r->peers)
                return;
        n = ready_masters(r, ready);
        if (n == 0)
                return;
        if (!r->ca_overdue && sd_event_add_time_relative(r->event, &r->ca_overdue, CLOCK_MONOTONIC, CA_OVERDUE_USEC, 0,
                                                         on_ca_overdue, r) < 0)
                log_debug("Cannot schedule the missing-CA warning, ignoring");
        p = ready[r->ca_asked++ % n];
        snprintf(r->ca_asked_id, sizeof r->ca_asked_id, "%s", p->id);
        inet_ntop(AF_INET, &p->address, addr, sizeof addr);
        k = exchange_client_request(r->client, addr, p->port, &q, on_ca, r, &r->ca_call);
        if (k < 0)
                ca_failed(r, k);
}

void lb_role_update(LbRole *r, const PeerSet *peers)
{
        r->peers = peers;
        render(r);
        fetch_ca(r);
}

Phase lb_role_phase(const LbRole *r)
{
        return lb_is_ready(r->lb) ? PHASE_READY : PHASE_CONFIGURING;
}

const char *lb_role_problem(const LbRole *r)
{
        const char *p = r->vip_problem[0] ? r->vip_problem : lb_problem(r->lb);

        if (p || !r->ca_late || r->have_ca)
                return p;
        return "HAProxy checks the apiservers unverified: no cluster CA from any ready master yet";
}

bool lb_role_holds_vip(const LbRole *r)
{
        return lb_holds_vip(r->lb);
}

int lb_role_new(sd_event *e, Bus *bus, const LbRoleParams *p, LbChanged changed, void *userdata, LbRole **ret)
{
        LbRole *r;
        int q;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->event = sd_event_ref(e);
        r->bus = bus;
        r->config = config_ref(p->config);
        r->address = p->address;
        r->changed = changed;
        r->changed_userdata = userdata;
        r->self_id = strdup(p->self_id);
        r->hostname = strdup(p->hostname);
        r->interface = strdup(p->interface);
        r->test_break = p->test_break ? strdup(p->test_break) : NULL;
        if (!r->self_id || !r->hostname || !r->interface || (p->test_break && !r->test_break) ||
            asprintf(&r->ca_path, "%s/ca.crt", p->state_dir) < 0) {
                lb_role_free(r);
                return -ENOMEM;
        }
        /* A CA kept from an earlier run is used at once. */
        r->have_ca = access(r->ca_path, R_OK) == 0;

        q = exchange_client_new(e, p->config->secret, p->self_id, NULL, &r->client);
        if (q >= 0)
                q = lb_new(e, &lb_role_ops, r, p->paths ?: &lb_default_paths, changed, userdata, &r->lb);
        if (q < 0) {
                lb_role_free(r);
                return q;
        }
        *ret = r;
        return 0;
}

LbRole *lb_role_free(LbRole *r)
{
        if (!r)
                return NULL;
        while (r->relays) {
                JobRelay *j = r->relays;
                r->relays = j->next;
                /* A unit job can be forgotten; a daemon-reload's answer still comes and frees the relay. */
                if (j->reload) {
                        j->owner = NULL;
                        j->next = NULL;
                } else {
                        bus_cancel_jobs(r->bus, j);
                        free(j);
                }
        }
        exchange_client_free(r->client);
        sd_event_source_disable_unref(r->ca_retry);
        arp_probe_free(r->vip_probe);
        sd_event_source_disable_unref(r->vip_recheck);
        sd_event_source_disable_unref(r->ca_overdue);
        lb_free(r->lb);
        config_unref(r->config);
        sd_event_unref(r->event);
        free(r->self_id);
        free(r->hostname);
        free(r->interface);
        free(r->ca_path);
        free(r->test_break);
        free(r);
        return NULL;
}
