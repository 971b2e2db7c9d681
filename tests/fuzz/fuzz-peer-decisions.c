/* SPDX-License-Identifier: MIT */
/* Fuzzes what discovery decides from a sequence of mDNS events: records signed with the cluster's key (at their
 * address or copied to another), records forged with another key that are otherwise valid (the cluster's tag,
 * well-formed, any id, role, phase, freshness, any service name, including the real peers'), malformed records,
 * and removals. Two discoveries run side by side: one gets every event, the other only the signed records and
 * the removals. Invariant: after every event both have the same peers (id, role, phase, address, port, VIP) and
 * make the same decisions: the election (election_decide() for a master among them) and the LB's files
 * (keepalived.conf and haproxy.cfg rendered from the peers as role-lb.c does). Whatever is forged, nothing
 * changes. Also: the bounds (peers, rejected records per address and in all) hold, and the rendered files
 * never fail for peers that verified. */

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discovery.h"
#include "election.h"
#include "lb-conf.h"
#include "log.h"
#include "strv.h"

#define TAG       "76338c64fea54b45"
#define SELF      "0277000000ff"
#define N_IDS     8
#define MAX_STEPS 48

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t key[PEER_TXT_KEY_SIZE], forged_key[PEER_TXT_KEY_SIZE];

/* A backend that publishes nothing and hands its events to the test. */
typedef struct Fake {
        const MdnsEvents *ev;
        void *userdata;
} Fake;

static int fake_new(sd_event *e, const MdnsEvents *events, void *userdata, void **ret)
{
        Fake *f = calloc(1, sizeof *f);

        if (!f)
                return -ENOMEM;
        *f = (Fake){events, userdata};
        *ret = f;
        return 0;
}

static void fake_free(void *backend)
{
        free(backend);
}

static int fake_publish(void *backend, const MdnsPublication *p)
{
        char **l = NULL;
        int r = p->txt(p->txt_userdata, p->name, "self.local", &l);

        strv_free(l);
        return r;
}

static void fake_nop(void *backend)
{
}

static int fake_browse(void *backend, const char *type, int ifindex)
{
        return 0;
}

static void fake_present(void *backend, bool present)
{
}

static const MdnsOps fake_ops = {
        .new = fake_new,
        .free = fake_free,
        .publish = fake_publish,
        .unpublish = fake_nop,
        .browse = fake_browse,
        .stop_browse = fake_nop,
        .set_daemon_present = fake_present,
};

typedef struct Side {
        Discovery *d;
        Fake *fake;
        unsigned changes; /* DiscoveryChanged calls: the peers changed */
} Side;

static void on_changed(void *userdata)
{
        Side *s = userdata;
        s->changes++;
}

static Fake *captured;

static int capture_new(sd_event *e, const MdnsEvents *events, void *userdata, void **ret)
{
        int r = fake_new(e, events, userdata, ret);

        captured = r < 0 ? NULL : *ret;
        return r;
}

static int side_start(Side *s)
{
        struct in_addr self_addr;

        inet_pton(AF_INET, "10.77.0.254", &self_addr);
        if (discovery_start(s->d, &(DiscoverySelf){.id = SELF,
                                                   .hostname = "lb-0000ff",
                                                   .tag = TAG,
                                                   .role = ROLE_LB,
                                                   .phase = PHASE_READY,
                                                   .ifindex = 2,
                                                   .port = 9470,
                                                   .key = key,
                                                   .address = self_addr,
                                                   .boot = 1}) < 0)
                return -1;
        s->fake->ev->state_changed(s->fake->userdata, MDNS_RUNNING, NULL);
        return 0;
}

static int side_new(sd_event *e, Side *s)
{
        static MdnsOps ops;

        ops = fake_ops;
        ops.new = capture_new;
        if (discovery_new(e, &ops, on_changed, s, &s->d) < 0 || !captured)
                return -1;
        s->fake = captured;
        return 0;
}

typedef struct Reader {
        const uint8_t *p;
        size_t n;
} Reader;

static uint8_t next(Reader *r)
{
        if (r->n == 0)
                return 0;
        r->n--;
        return *r->p++;
}

static void found(Side *s, const char *name, const char *host, struct in_addr a, const TxtItem *items, size_t n)
{
        MdnsService svc = {.name = name, .host = host, .address = a, .port = 9470, .txt = items, .n_txt = n};

        (void)s->fake->ev->found(s->fake->userdata, &svc);
}

static void found_strv(Side *s, const char *name, const char *host, struct in_addr a, char **l)
{
        TxtItem items[PEER_TXT_ITEMS_MAX];
        size_t n = 0;

        for (; l[n] && n < PEER_TXT_ITEMS_MAX; n++)
                items[n] = (TxtItem){l[n], strlen(l[n])};
        found(s, name, host, a, items, n);
}

/* The LB's two files from a peer set, as role-lb.c renders them; "" for a file that did not render. */
static void render(const PeerSet *peers, char **ret_k, char **ret_h)
{
        struct in_addr lbs[64], self;
        LbBackend masters[64];
        size_t n_lbs = 0, n_masters = 0;

        inet_pton(AF_INET, "10.77.0.254", &self);
        for (size_t i = 0; i < peer_set_size(peers); i++) {
                const Peer *p = peer_set_get(peers, i);
                if (p->role == ROLE_LB && n_lbs < 64)
                        lbs[n_lbs++] = p->address;
                else if (p->role == ROLE_MASTER && n_masters < 64)
                        masters[n_masters++] = (LbBackend){.name = p->id, .addr = p->address};
        }
        KeepalivedParams k = {.router_id = "lb-0000ff",
                              .interface = "eth0",
                              .self = self,
                              .vrid = 42,
                              .priority = 200,
                              .peers = lbs,
                              .n_peers = n_lbs,
                              .advert_ms = 250};
        HaproxyParams h = {.api_port = 9000, .backends = masters, .n_backends = n_masters};
        /* Every peer verified: its id is a valid name and unique, so both files render. */
        if (keepalived_conf_render(&k, ret_k) < 0 || haproxy_conf_render(&h, ret_h) < 0)
                abort();
}

static ElectionRole decide(const PeerSet *peers)
{
        ElectionPeer m[N_IDS + 1];
        size_t n = 0;

        for (size_t i = 0; i < peer_set_size(peers) && n < N_IDS; i++) {
                const Peer *p = peer_set_get(peers, i);
                if (p->role == ROLE_MASTER)
                        m[n++] = (ElectionPeer){.id = p->id, .initialized = p->phase == PHASE_READY};
        }
        return election_decide("027700000004", false, m, n);
}

/* decide: also the decisions (election, LB files), which only change with the peers. */
static void compare(const Side *all, const Side *signed_only, bool decide_too)
{
        const PeerSet *a = discovery_peers(all->d), *b = discovery_peers(signed_only->d);
        const PeerRejected *rej = discovery_rejected(all->d);
        char *ka = NULL, *ha = NULL, *kb = NULL, *hb = NULL;

        if (peer_set_size(a) != peer_set_size(b) || peer_set_size(a) > PEER_SET_MAX)
                abort();
        for (size_t i = 0; i < peer_set_size(a); i++) {
                const Peer *p = peer_set_get(a, i), *q = peer_set_get(b, i);
                if (strcmp(p->id, q->id) != 0 || p->role != q->role || p->phase != q->phase ||
                    p->address.s_addr != q->address.s_addr || p->port != q->port || p->vip != q->vip ||
                    strcmp(p->service, q->service) != 0 || peer_seq_compare(p->seq, q->seq) != 0)
                        abort();
        }
        if (peer_rejected_size(rej) > PEER_REJECTED_MAX)
                abort();
        for (size_t i = 0; i < peer_rejected_size(rej); i++) {
                unsigned same = 0;
                for (size_t j = 0; j < peer_rejected_size(rej); j++)
                        same += peer_rejected_get(rej, i)->address.s_addr == peer_rejected_get(rej, j)->address.s_addr;
                if (same > PEER_REJECTED_PER_ADDRESS)
                        abort();
        }
        if (!decide_too)
                return;
        if (decide(a) != decide(b))
                abort();
        render(a, &ka, &ha);
        render(b, &kb, &hb);
        if (strcmp(ka, kb) != 0 || strcmp(ha, hb) != 0)
                abort();
        free(ka), free(ha), free(kb), free(hb);
}

static void step(Reader *r, Side *all, Side *signed_only)
{
        uint8_t op = next(r), svc = next(r), ad = next(r), who = next(r), what = next(r), b = next(r), n = next(r);
        char name[32], id[NODE_ID_SIZE], host[32], **l = NULL;
        struct in_addr a, signed_at;
        PeerTxt t = {.version = PEER_TXT_VERSION, .tag = TAG};

        /* Small domains, so that services, addresses and ids collide. */
        snprintf(name, sizeof name, (svc & 0x80) ? "svc-%u #2" : "svc-%u", svc % 6);
        snprintf(host, sizeof host, "host-%u.local", (svc >> 3) % 4);
        snprintf(id, sizeof id, "0277000000%02x", who % N_IDS);
        a.s_addr = htonl(0x0a4d000a + ad % 6);
        signed_at = (ad & 0x80) ? (struct in_addr){htonl(0x0a4d000a + (ad >> 3) % 6)} : a;
        memcpy(t.id, id, sizeof id);
        t.role = (Role)(what % _ROLE_MAX);
        t.phase = (Phase)((what / 3) % PHASE_OTHER);
        t.vip = what & 0x80;
        t.address = signed_at;
        t.seq = (PeerSeq){.boot = 1 + b % 3, .n = 1 + n};

        switch (op % 4) {
        case 0: /* signed with the cluster's key: both get it (misplaced ones are refused by both) */
                if (peer_txt_encode(&t, key, &(PeerTxtPlace){.service = name, .host = host, .port = 9470}, &l) < 0)
                        abort();
                found_strv(all, name, host, a, l);
                found_strv(signed_only, name, host, a, l);
                break;
        case 1: /* valid in every way but the key */
                if (peer_txt_encode(&t, forged_key, &(PeerTxtPlace){.service = name, .host = host, .port = 9470}, &l) <
                    0)
                        abort();
                found_strv(all, name, host, a, l);
                break;
        case 2: { /* junk: the rest of the input as one record, in DNS wire format */
                TxtItem items[PEER_TXT_ITEMS_MAX + 2];
                size_t k = 0, len = r->n < 64 ? r->n : 64;
                const uint8_t *p = r->p;
                for (size_t i = 0; i < len && k < PEER_TXT_ITEMS_MAX + 2;) {
                        size_t l1 = p[i++];
                        if (l1 > len - i)
                                l1 = len - i;
                        items[k++] = (TxtItem){p + i, l1};
                        i += l1;
                }
                r->p += len, r->n -= len;
                found(all, name, host, a, items, k);
                break;
        }
        case 3: /* removals are not authenticated in mDNS: both get them */
                all->fake->ev->removed(all->fake->userdata, name);
                signed_only->fake->ev->removed(signed_only->fake->userdata, name);
                break;
        }
        strv_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* Made once: discovery_stop() forgets every peer, rejected, held and newest record, and discovery_start()
         * begins afresh, so each input starts from the same state without the cost of new objects. */
        static sd_event *e;
        static Side all, signed_only;
        Reader r = {data, size};

        if (!e) {
                log_set_target(LOG_TARGET_STDERR);
                log_set_max_level(LOG_CRIT); /* warnings about forged records are expected by the thousand */
                if (peer_txt_key("the cluster's secret", key) < 0 ||
                    peer_txt_key("a forger's secret", forged_key) < 0 || sd_event_new(&e) < 0 ||
                    side_new(e, &all) < 0 || side_new(e, &signed_only) < 0)
                        abort();
        }
        if (side_start(&all) < 0 || side_start(&signed_only) < 0)
                abort();
        for (unsigned i = 0; i < MAX_STEPS && r.n > 0; i++) {
                unsigned before = all.changes + signed_only.changes;
                step(&r, &all, &signed_only);
                compare(&all, &signed_only, all.changes + signed_only.changes != before || r.n == 0);
        }
        discovery_stop(all.d);
        discovery_stop(signed_only.d);
        if (peer_set_size(discovery_peers(all.d)) != 0 || peer_rejected_size(discovery_rejected(all.d)) != 0)
                abort();
        return 0;
}
