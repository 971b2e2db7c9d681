/* SPDX-License-Identifier: MIT */
/* Discovery driven through a fake mDNS backend: what is published (signed for the name and host it goes out
 * under), which services become peers (signed ones, at their address, not older than the newest seen), that the
 * others are kept apart and never evict a peer, and that a bad record costs one warning per service, never more.
 * Log lines are read back from stderr. */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "discovery.h"
#include "log.h"
#include "strv.h"

#define SECRET "a secret for the tests of discovery"
#define TAG    "76338c64fea54b45"
#define SELF   "027700000001"
#define OTHER  "0123456789abcdef"

static uint8_t key[PEER_TXT_KEY_SIZE], other_key[PEER_TXT_KEY_SIZE];

/* The fake backend: records what discovery asks for; the tests call the events it was given. */
typedef struct Fake {
        const MdnsEvents *ev;
        void *userdata;
        unsigned n_publish, n_unpublish, n_browse, n_stop_browse;
        char name[64], txt[512];
        int ifindex, browse_ifindex;
        uint16_t port;
        MdnsTxtBuilder builder;
        void *builder_userdata;
} Fake;

static Fake fake;
static unsigned n_changed;

static int fake_new(sd_event *e, const MdnsEvents *events, void *userdata, void **ret)
{
        fake.ev = events;
        fake.userdata = userdata;
        *ret = &fake;
        return 0;
}

static void fake_free(void *backend)
{
}

/* What a backend does before every publication: ask for the record signed for the name and host. */
static void fake_sign(const char *name)
{
        char **l = NULL;

        assert_int_equal(fake.builder(fake.builder_userdata, name, "self.local", &l), 0);
        fake.txt[0] = 0;
        for (size_t i = 0; l[i]; i++) {
                strcat(fake.txt, l[i]);
                strcat(fake.txt, " ");
        }
        strv_free(l);
}

static int fake_publish(void *backend, const MdnsPublication *p)
{
        fake.n_publish++;
        snprintf(fake.name, sizeof fake.name, "%s", p->name);
        fake.ifindex = p->ifindex;
        fake.port = p->port;
        fake.builder = p->txt;
        fake.builder_userdata = p->txt_userdata;
        fake_sign(p->name);
        return 0;
}

/* The published record without its MAC (which the tests check by verifying it). */
static const char *published(void)
{
        static char buf[512];
        char *m;

        snprintf(buf, sizeof buf, "%s", fake.txt);
        m = strstr(buf, "mac=");
        if (m)
                *m = 0;
        return buf;
}

static void fake_unpublish(void *backend)
{
        fake.n_unpublish++;
}

static int fake_browse(void *backend, const char *type, int ifindex)
{
        assert_string_equal(type, "_piagent._tcp");
        fake.n_browse++;
        fake.browse_ifindex = ifindex;
        return 0;
}

static void fake_stop_browse(void *backend)
{
        fake.n_stop_browse++;
}

static void fake_set_daemon_present(void *backend, bool present)
{
}

static const MdnsOps fake_ops = {
        .new = fake_new,
        .free = fake_free,
        .publish = fake_publish,
        .unpublish = fake_unpublish,
        .browse = fake_browse,
        .stop_browse = fake_stop_browse,
        .set_daemon_present = fake_set_daemon_present,
};

/* stderr into a memory file for the duration of a test. */
static int saved_stderr = -1, log_fd = -1;

static void on_changed(void *userdata)
{
        n_changed++;
}

typedef struct Ctx {
        sd_event *e;
        Discovery *d;
} Ctx;

static int setup(void **state)
{
        Ctx *c = calloc(1, sizeof *c);

        if (peer_txt_key(SECRET, key) < 0 || peer_txt_key("another secret, same tag", other_key) < 0)
                return -1;
        memset(&fake, 0, sizeof fake);
        n_changed = 0;
        log_set_target(LOG_TARGET_STDERR);
        log_set_max_level(LOG_INFO);
        fflush(stderr);
        saved_stderr = dup(STDERR_FILENO);
        log_fd = memfd_create("log", 0);
        if (!c || saved_stderr < 0 || log_fd < 0 || dup2(log_fd, STDERR_FILENO) < 0)
                return -1;
        if (sd_event_new(&c->e) < 0 || discovery_new(c->e, &fake_ops, on_changed, NULL, &c->d) < 0)
                return -1;
        *state = c;
        return 0;
}

static char *logged(void);

static int teardown(void **state)
{
        Ctx *c = *state;
        const char *text;

        discovery_free(c->d);
        sd_event_unref(c->e);
        free(c);
        /* Shown whatever happened: cmocka's own failure messages went to the same place. */
        text = logged();
        dup2(saved_stderr, STDERR_FILENO);
        fputs(text, stderr);
        close(saved_stderr);
        close(log_fd);
        return 0;
}

/* Everything logged so far. */
static char *logged(void)
{
        static char buf[65536];
        ssize_t n;

        fflush(stderr);
        n = pread(log_fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = 0;
        return buf;
}

static unsigned count(const char *needle)
{
        unsigned n = 0;

        for (const char *p = logged(); (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static DiscoverySelf self_at(const char *tag, uint32_t boot)
{
        DiscoverySelf self = {
                .id = SELF,
                .hostname = "master-000001",
                .tag = tag,
                .role = ROLE_MASTER,
                .phase = PHASE_DISCOVERING,
                .ifindex = 2,
                .port = 9470,
                .key = key,
                .boot = boot,
        };

        inet_pton(AF_INET, "10.77.0.10", &self.address);
        return self;
}

static void start(Ctx *c, Role role)
{
        DiscoverySelf self = self_at(TAG, 5);

        self.role = role;
        assert_int_equal(discovery_start(c->d, &self), 0);
        fake.ev->state_changed(fake.userdata, MDNS_RUNNING, NULL);
}

/* A resolved service; items as C strings. Returns whether discovery made it a peer. */
static bool found_at(const char *name, const char *host, const char *addr, const char *const *items)
{
        TxtItem txt[32];
        MdnsService s = {.name = name, .host = host, .port = 9470, .txt = txt};

        for (; items[s.n_txt]; s.n_txt++)
                txt[s.n_txt] = (TxtItem){items[s.n_txt], strlen(items[s.n_txt])};
        assert_int_equal(inet_pton(AF_INET, addr, &s.address), 1);
        return fake.ev->found(fake.userdata, &s);
}

#define FOUND(name, addr, ...) found_at(name, "peer.local", addr, (const char *const[]){__VA_ARGS__, NULL})

/* A record as a peer publishes it: signed with k for the service name, host "peer.local" and port 9470. */
static bool found_signed(const char *name, const char *addr, const char *signed_addr, const uint8_t *k, const char *id,
                         Role role, const char *phase, uint32_t boot, uint32_t n)
{
        PeerTxt t = {.version = PEER_TXT_VERSION, .tag = TAG, .role = role, .seq = {boot, n}};
        char **l = NULL;
        bool peer;

        snprintf(t.id, sizeof t.id, "%s", id);
        t.phase = phase_from_string(phase);
        assert_true(t.phase >= 0 && t.phase != PHASE_OTHER);
        assert_int_equal(inet_pton(AF_INET, signed_addr, &t.address), 1);
        assert_int_equal(
                peer_txt_encode(&t, k, &(PeerTxtPlace){.service = name, .host = "peer.local", .port = 9470}, &l), 0);
        peer = found_at(name, "peer.local", addr, (const char *const *)l);
        strv_free(l);
        return peer;
}

/* A peer's record, signed, at its own address, seq 1.1. */
#define PEER_FOUND(name, addr, id, role, phase) found_signed(name, addr, addr, key, id, role, phase, 1, 1)

static const Rejected *rejected(Ctx *c, const char *service)
{
        return peer_rejected_find(discovery_rejected(c->d), service);
}

static void discovery_start__self__published_signed_and_browsing(void **state)
{
        Ctx *c = *state;
        char **l = NULL;
        PeerTxt t;
        PeerTxtVerdict v;
        char reason[PEER_TXT_REASON_MAX];
        TxtItem items[16];
        size_t n = 0;

        start(c, ROLE_MASTER);
        assert_int_equal(fake.n_publish, 1);
        assert_string_equal(fake.name, "master-000001");
        assert_string_equal(published(),
                            "v=2 tag=" TAG " role=master phase=discovering id=" SELF " addr=10.77.0.10 seq=5.1 ");
        assert_int_equal(fake.ifindex, 2);
        assert_int_equal(fake.port, 9470);
        assert_int_equal(fake.n_browse, 1);
        assert_int_equal(fake.browse_ifindex, 2);
        assert_true(discovery_is_started(c->d));
        assert_int_equal(discovery_mdns_state(c->d), MDNS_RUNNING);
        assert_null(discovery_published_name(c->d));
        fake.ev->published(fake.userdata, "master-000001");
        assert_string_equal(discovery_published_name(c->d), "master-000001");

        /* What a peer receives verifies with the cluster's key, for the name and host it went out under. */
        assert_int_equal(fake.builder(fake.builder_userdata, "master-000001 #2", "self-2.local", &l), 0);
        for (; l[n]; n++)
                items[n] = (TxtItem){l[n], strlen(l[n])};
        PeerTxtPlace pl = {.service = "master-000001 #2", .host = "self-2.local", .port = 9470};
        inet_pton(AF_INET, "10.77.0.10", &pl.address);
        assert_int_equal(peer_txt_parse(items, n, TAG, key, &pl, &t, &v, reason, sizeof reason), 0);
        assert_int_equal(v, PEER_TXT_ACCEPT);
        assert_int_equal(t.seq.n, 2); /* every signing is fresher than the last */
        pl.service = "master-000001";
        assert_int_equal(peer_txt_parse(items, n, TAG, key, &pl, &t, &v, reason, sizeof reason), 0);
        assert_int_equal(v, PEER_TXT_FORGED);
        strv_free(l);
}

static void discovery_start__no_address__published_once_known(void **state)
{
        Ctx *c = *state;
        DiscoverySelf self = self_at(TAG, 5);
        struct in_addr a;

        self.address.s_addr = 0;
        assert_int_equal(discovery_start(c->d, &self), 0);
        assert_int_equal(fake.n_publish, 0);
        assert_int_equal(fake.n_browse, 1); /* peers are found meanwhile */
        assert_int_equal(discovery_set_phase(c->d, PHASE_CONFIGURED), 0);
        assert_int_equal(fake.n_publish, 0);
        inet_pton(AF_INET, "10.77.0.99", &a);
        assert_int_equal(discovery_set_address(c->d, a), 0);
        assert_int_equal(fake.n_publish, 1);
        assert_string_equal(published(),
                            "v=2 tag=" TAG " role=master phase=configured id=" SELF " addr=10.77.0.99 seq=5.1 ");
        assert_int_equal(discovery_set_address(c->d, a), 0); /* the same: nothing to do */
        assert_int_equal(fake.n_publish, 1);
}

static void discovery_start__invalid_self__einval(void **state)
{
        Ctx *c = *state;
        DiscoverySelf self = self_at(TAG, 5);

        self.ifindex = 0;
        assert_int_equal(discovery_start(c->d, &self), -EINVAL);
        self.ifindex = 2, self.tag = "secret";
        assert_int_equal(discovery_start(c->d, &self), -EINVAL);
        self.tag = TAG, self.hostname = "Bad Name";
        assert_int_equal(discovery_start(c->d, &self), -EINVAL);
        self.hostname = "ok", self.role = _ROLE_INVALID;
        assert_int_equal(discovery_start(c->d, &self), -EINVAL);
        self.role = ROLE_LB, self.phase = PHASE_OTHER; /* a word only a peer may publish */
        assert_int_equal(discovery_start(c->d, &self), -EINVAL);
        self.phase = PHASE_CONFIGURED, self.key = NULL;
        assert_int_equal(discovery_start(c->d, &self), -EINVAL);
        self.key = key, self.boot = 0;
        assert_int_equal(discovery_start(c->d, &self), -EINVAL);
        assert_int_equal(fake.n_publish, 0);
}

static void discovery_set_phase__started__txt_updated_and_fresher(void **state)
{
        Ctx *c = *state;

        assert_int_equal(discovery_set_phase(c->d, PHASE_CONFIGURED), 0); /* not started: nothing to publish */
        assert_int_equal(fake.n_publish, 0);
        start(c, ROLE_LB);
        assert_int_equal(discovery_set_phase(c->d, PHASE_DISCOVERING), 0); /* unchanged */
        assert_int_equal(fake.n_publish, 1);
        assert_int_equal(discovery_set_phase(c->d, PHASE_CONFIGURING), 0);
        assert_int_equal(fake.n_publish, 2);
        assert_string_equal(published(),
                            "v=2 tag=" TAG " role=lb phase=configuring id=" SELF " addr=10.77.0.10 seq=5.2 ");
        assert_int_equal(discovery_set_vip(c->d, true), 0);
        assert_string_equal(published(),
                            "v=2 tag=" TAG " role=lb phase=configuring id=" SELF " addr=10.77.0.10 seq=5.3 vip=1 ");
        assert_int_equal(discovery_set_phase(c->d, PHASE_OTHER), -EINVAL);
        assert_int_equal(discovery_set_phase(c->d, _PHASE_MAX), -EINVAL);
}

static void discovery_found__valid_peer__added_and_logged_once(void **state)
{
        Ctx *c = *state;
        const Peer *p;

        start(c, ROLE_MASTER);
        n_changed = 0;
        assert_true(PEER_FOUND("lb-000002", "10.77.0.11", "027700000002", ROLE_LB, "discovering"));
        assert_true(PEER_FOUND("lb-000002", "10.77.0.11", "027700000002", ROLE_LB, "discovering"));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        p = peer_set_find(discovery_peers(c->d), "027700000002");
        assert_non_null(p);
        assert_int_equal(p->role, ROLE_LB);
        assert_string_equal(p->hostname, "peer");
        assert_int_equal(count("Peer 027700000002 appeared: peer, lb at 10.77.0.11:9470, phase discovering"), 1);
        assert_int_equal(n_changed, 1);

        assert_true(found_signed("lb-000002", "10.77.0.11", "10.77.0.11", key, "027700000002", ROLE_LB, "configured", 1,
                                 2));
        assert_int_equal(count("Peer 027700000002 (peer): phase discovering -> configured"), 1);
        assert_int_equal(n_changed, 2);
        assert_int_equal(peer_rejected_size(discovery_rejected(c->d)), 0);
}

static void discovery_found__junk_repeated__one_warning(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        for (int i = 0; i < 5; i++)
                assert_false(
                        FOUND("forged", "10.77.0.99", "v=2", "tag=" TAG, "role=king", "phase=x", "id=027700000099"));
        FOUND("forged", "10.77.0.99", "v=2", "tag=" TAG, "role=lb", "role=lb", "phase=x", "id=027700000099");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        assert_int_equal(discovery_rejected_count(c->d), 6);
        assert_int_equal(count("warning: "), 1);
        assert_int_equal(count("Ignoring mDNS service 'forged' at 10.77.0.99: bad TXT record (bad value for 'role': "
                               "'king')"),
                         1);

        FOUND("forged-too", "10.77.0.98", "junk");
        assert_int_equal(count("warning: "), 2);
        assert_int_equal(count("Ignoring mDNS service 'forged-too' at 10.77.0.98: bad TXT record (item 'junk' is "
                               "not key=value)"),
                         1);
        assert_int_equal(peer_rejected_size(discovery_rejected(c->d)), 2);
        assert_string_equal(rejected(c, "forged-too")->reason, "bad TXT record (item 'junk' is not key=value)");
        assert_int_equal(rejected(c, "forged")->count, 6);
        assert_string_equal(rejected(c, "forged")->id, ""); /* malformed: claims nothing */
}

static void discovery_found__forged_master__not_a_peer_shown_apart(void **state)
{
        Ctx *c = *state;
        const Rejected *r;

        start(c, ROLE_MASTER);
        n_changed = 0;
        /* Well-formed, the cluster's tag, the lowest id, ready: signed with another key. */
        assert_false(found_signed("master-000000", "10.77.0.15", "10.77.0.15", other_key, "000000000001", ROLE_MASTER,
                                  "ready", 9, 9));
        /* Unsigned, as version 1 was. */
        assert_false(
                FOUND("old-agent", "10.77.0.16", "v=1", "tag=" TAG, "role=master", "phase=ready", "id=000000000002"));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        assert_int_equal(n_changed, 0);
        r = rejected(c, "master-000000");
        assert_non_null(r);
        assert_string_equal(r->reason, "not signed with this cluster's secret");
        assert_string_equal(r->id, "000000000001");
        assert_int_equal(r->role, ROLE_MASTER);
        assert_string_equal(inet_ntoa(r->address), "10.77.0.15");
        assert_int_equal(count("Ignoring mDNS service 'master-000000' at 10.77.0.15: not signed with this cluster's "
                               "secret (claims master 000000000001)"),
                         1);
        assert_string_equal(rejected(c, "old-agent")->reason, "protocol version 1 (unsigned records), not 2");
        /* The rejected record goes with its service. */
        fake.ev->removed(fake.userdata, "master-000000");
        assert_null(rejected(c, "master-000000"));
}

static void discovery_found__replayed_elsewhere_or_id_reused__peer_untouched(void **state)
{
        Ctx *c = *state;
        const Peer *p;

        start(c, ROLE_MASTER);
        assert_true(PEER_FOUND("master-000002", "10.77.0.12", "027700000002", ROLE_MASTER, "electing"));
        n_changed = 0;
        /* The real record, copied by another host: signed for .12, resolved at .15. */
        assert_false(found_signed("master-000002", "10.77.0.15", "10.77.0.12", key, "027700000002", ROLE_MASTER,
                                  "electing", 1, 1));
        assert_string_equal(rejected(c, "master-000002")->reason, "signed for 10.77.0.12, announced at 10.77.0.15");
        /* The real record under another service name (a second peer made of one node): the MAC covers the name. */
        PeerTxt t = {.version = PEER_TXT_VERSION,
                     .tag = TAG,
                     .role = ROLE_MASTER,
                     .phase = PHASE_READY,
                     .id = "027700000002",
                     .seq = {1, 5}};
        char **l = NULL;
        inet_pton(AF_INET, "10.77.0.12", &t.address);
        assert_int_equal(
                peer_txt_encode(&t, key,
                                &(PeerTxtPlace){.service = "master-000002", .host = "peer.local", .port = 9470}, &l),
                0);
        assert_false(found_at("copy", "peer.local", "10.77.0.12", (const char *const *)l));
        assert_false(found_at("master-000002", "other.local", "10.77.0.12", (const char *const *)l));
        assert_string_equal(rejected(c, "copy")->reason, "not signed with this cluster's secret");
        strv_free(l);
        /* The real id, forged, under its own service name and address. */
        assert_false(found_signed("master-000002", "10.77.0.12", "10.77.0.12", other_key, "027700000002", ROLE_MASTER,
                                  "ready", 9, 9));
        p = peer_set_find(discovery_peers(c->d), "027700000002");
        assert_non_null(p);
        assert_int_equal(p->phase, PHASE_ELECTING);
        assert_string_equal(inet_ntoa(p->address), "10.77.0.12");
        assert_int_equal(n_changed, 0);
        assert_int_equal(count(" left: "), 0);
        /* The peer's next real record clears the rejection under its name. */
        assert_true(found_signed("master-000002", "10.77.0.12", "10.77.0.12", key, "027700000002", ROLE_MASTER,
                                 "initializing", 1, 2));
        assert_null(rejected(c, "master-000002"));
}

static void discovery_found__older_record__refused_or_held_then_dropped_by_newer(void **state)
{
        Ctx *c = *state;
        const Peer *p;

        start(c, ROLE_MASTER);
        assert_true(
                found_signed("m2", "10.77.0.12", "10.77.0.12", key, "027700000002", ROLE_MASTER, "initializing", 3, 9));
        n_changed = 0;
        /* An earlier phase of the same start: a replay or a stale copy, refused. */
        assert_false(
                found_signed("m2", "10.77.0.12", "10.77.0.12", key, "027700000002", ROLE_MASTER, "electing", 3, 4));
        assert_string_equal(rejected(c, "m2")->reason, "an older record (seq 3.4, newest seen 3.9)");
        /* One of an earlier start (or of a card counting again after it was re-flashed): held for now. */
        assert_false(found_signed("m2", "10.77.0.12", "10.77.0.12", key, "027700000002", ROLE_MASTER, "ready", 2, 50));
        assert_string_equal(rejected(c, "m2")->reason,
                            "a record of an earlier start (seq 2.50, newest seen 3.9): held for 30 s");
        p = peer_set_find(discovery_peers(c->d), "027700000002");
        assert_int_equal(p->phase, PHASE_INITIALIZING);
        assert_int_equal(n_changed, 0);
        /* The live node announces its current record again: the held one is dropped. */
        assert_true(
                found_signed("m2", "10.77.0.12", "10.77.0.12", key, "027700000002", ROLE_MASTER, "initializing", 3, 9));
        assert_null(rejected(c, "m2"));
        /* A newer start counts at once. */
        assert_true(
                found_signed("m2", "10.77.0.12", "10.77.0.12", key, "027700000002", ROLE_MASTER, "preflight", 4, 1));
        assert_int_equal(peer_set_find(discovery_peers(c->d), "027700000002")->phase, PHASE_PREFLIGHT);
        /* The newest seen outlives the peer: a goodbye is not authenticated. */
        fake.ev->removed(fake.userdata, "m2");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        assert_false(found_signed("m2", "10.77.0.12", "10.77.0.12", key, "027700000002", ROLE_MASTER, "ready", 3, 9));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
}

static void discovery_found__other_cluster_or_version__ignored_quietly(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        FOUND("stranger", "10.77.0.50", "v=2", "tag=" OTHER, "role=master", "phase=x", "id=027700000050");
        FOUND("future", "10.77.0.51", "v=3", "whatever=1");
        FOUND("old-stranger", "10.77.0.52", "v=1", "tag=" OTHER, "role=master", "phase=x", "id=027700000052");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        assert_int_equal(discovery_rejected_count(c->d), 0);
        assert_int_equal(peer_rejected_size(discovery_rejected(c->d)), 0);
        assert_int_equal(count("warning: "), 0);
}

static void discovery_found__our_own_id__ignored_with_one_warning(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        assert_false(PEER_FOUND("clone", "10.77.0.60", SELF, ROLE_WORKER, "preflight"));
        assert_false(found_signed("clone", "10.77.0.60", "10.77.0.60", key, SELF, ROLE_WORKER, "joining", 1, 2));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        assert_int_equal(count("claims this node's id (two cards with one MAC?) (claims worker " SELF ")"), 1);
}

static void discovery_found__peer_record_turns_bad__peer_kept(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        assert_true(PEER_FOUND("w", "10.77.0.13", "027700000003", ROLE_WORKER, "joining"));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        /* Anyone can publish junk, another cluster's or an unsigned record under the peer's name: none of it is the
         * peer's word, so the peer stays as its last signed record said. */
        FOUND("w", "10.77.0.13", "v=2", "tag=" TAG, "role=worker", "phase=x");
        FOUND("w", "10.77.0.13", "v=2", "tag=" OTHER, "role=worker", "phase=x", "id=027700000003");
        FOUND("w", "10.77.0.13", "v=1", "tag=" TAG, "role=worker", "phase=ready", "id=027700000003");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        assert_int_equal(peer_set_get(discovery_peers(c->d), 0)->phase, PHASE_JOINING);
        assert_int_equal(count(" left: "), 0);
        /* Its goodbye removes it. */
        fake.ev->removed(fake.userdata, "w");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
}

static void discovery_found__flood__bounded_and_peers_kept(void **state)
{
        Ctx *c = *state;
        char name[32], id[16], addr[16];

        start(c, ROLE_MASTER);
        assert_true(PEER_FOUND("m2", "10.77.0.12", "027700000002", ROLE_MASTER, "ready"));
        for (unsigned i = 0; i < 600; i++) {
                snprintf(name, sizeof name, "forged-%u", i);
                snprintf(id, sizeof id, "0000000%05x", i);
                snprintf(addr, sizeof addr, "10.77.%u.%u", 1 + i / 200, i % 200 + 1);
                assert_false(found_signed(name, i % 2 ? addr : "10.77.0.15", i % 2 ? addr : "10.77.0.15", other_key, id,
                                          ROLE_MASTER, "ready", 1, 1));
        }
        /* A real peer arriving during the flood still gets in. */
        assert_true(PEER_FOUND("m3", "10.77.0.13", "027700000003", ROLE_MASTER, "ready"));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 2);
        assert_int_equal(discovery_rejected_count(c->d), 600);
        assert_int_equal(peer_rejected_size(discovery_rejected(c->d)), PEER_REJECTED_MAX);
        unsigned at_15 = 0;
        for (size_t i = 0; i < peer_rejected_size(discovery_rejected(c->d)); i++)
                at_15 += streq(inet_ntoa(peer_rejected_get(discovery_rejected(c->d), i)->address), "10.77.0.15");
        assert_int_equal(at_15, PEER_REJECTED_PER_ADDRESS);
        /* One warning per service, a bounded number in all, and one saying the rest go to debug. */
        assert_int_equal(count("warning: Ignoring mDNS service"), 32);
        assert_int_equal(count("further rejections are logged at debug level"), 1);
}

static void discovery_removed__known_and_unknown__departure_logged(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        PEER_FOUND("m2", "10.77.0.12", "027700000002", ROLE_MASTER, "electing");
        PEER_FOUND("m3", "10.77.0.13", "027700000003", ROLE_MASTER, "electing");
        fake.ev->removed(fake.userdata, "m2");
        fake.ev->removed(fake.userdata, "never-seen");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        assert_int_equal(count("Peer 027700000002 (peer, master at 10.77.0.12) left: its mDNS records were "
                               "withdrawn"),
                         1);
        assert_int_equal(count(" left: "), 1);
}

static void discovery_service_renamed__same_id__one_peer(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        PEER_FOUND("w", "10.77.0.13", "027700000003", ROLE_WORKER, "joining");
        assert_true(
                found_signed("w #2", "10.77.0.13", "10.77.0.13", key, "027700000003", ROLE_WORKER, "joining", 1, 2));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        /* The old name's goodbye no longer belongs to the peer. */
        fake.ev->removed(fake.userdata, "w");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        /* A name that is reused by another node id replaces the old peer. */
        PEER_FOUND("w #2", "10.77.0.14", "027700000004", ROLE_WORKER, "joining");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        assert_non_null(peer_set_find(discovery_peers(c->d), "027700000004"));
}

static void discovery_daemon_lost__peers_kept_and_revived_quietly(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        PEER_FOUND("a", "10.77.0.11", "027700000002", ROLE_LB, "configuring");
        fake.ev->state_changed(fake.userdata, MDNS_CONNECTING, "Daemon connection failed");
        assert_int_equal(count("Lost avahi-daemon (Daemon connection failed); waiting for it to come back, keeping 1 "
                               "peers until then"),
                         1);
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        assert_true(peer_set_get(discovery_peers(c->d), 0)->stale);
        fake.ev->state_changed(fake.userdata, MDNS_REGISTERING, NULL);
        fake.ev->state_changed(fake.userdata, MDNS_RUNNING, NULL);
        assert_int_equal(count("Connected to avahi-daemon again"), 1);
        PEER_FOUND("a", "10.77.0.11", "027700000002", ROLE_LB, "configuring"); /* the same record again */
        assert_false(peer_set_get(discovery_peers(c->d), 0)->stale);
        assert_int_equal(count("appeared"), 1);
}

static void discovery_start__other_tag__peers_forgotten(void **state)
{
        Ctx *c = *state;
        DiscoverySelf self = self_at(OTHER, 5);

        start(c, ROLE_MASTER);
        PEER_FOUND("a", "10.77.0.11", "027700000002", ROLE_LB, "configuring");
        FOUND("junk", "10.77.0.12", "x");
        self.phase = PHASE_CONFIGURED;
        assert_int_equal(discovery_start(c->d, &self), 0);
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        assert_int_equal(peer_rejected_size(discovery_rejected(c->d)), 0);
        assert_int_equal(fake.n_browse, 1); /* same interface: the browse goes on */
        assert_string_equal(published(),
                            "v=2 tag=" OTHER " role=master phase=configured id=" SELF " addr=10.77.0.10 seq=5.2 ");
}

static void discovery_stop__started__unpublished_and_forgotten(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        PEER_FOUND("a", "10.77.0.11", "027700000002", ROLE_LB, "configuring");
        discovery_stop(c->d);
        assert_int_equal(fake.n_unpublish, 1);
        assert_int_equal(fake.n_stop_browse, 1);
        assert_false(discovery_is_started(c->d));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        assert_false(PEER_FOUND("a", "10.77.0.11", "027700000002", ROLE_LB, "configuring"));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
}

static void discovery_expect_daemon_restart__disconnection__not_a_warning(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        discovery_expect_daemon_restart(c->d);
        fake.ev->state_changed(fake.userdata, MDNS_CONNECTING, "Daemon connection failed");
        assert_int_equal(count("avahi-daemon is restarting (Daemon connection failed)"), 1);
        assert_int_equal(count("warning: "), 0);
        fake.ev->state_changed(fake.userdata, MDNS_RUNNING, NULL);
        fake.ev->state_changed(fake.userdata, MDNS_CONNECTING, "Daemon connection failed");
        assert_int_equal(count("warning: Lost avahi-daemon"), 1);
}

static void discovery_collision__reported(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        fake.ev->collision(fake.userdata, "master-000001", "master-000001 #2");
        assert_int_equal(count("mDNS service name 'master-000001' is taken on the LAN; publishing as "
                               "'master-000001 #2' instead"),
                         1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(discovery_start__self__published_signed_and_browsing),
                T(discovery_start__no_address__published_once_known),
                T(discovery_start__invalid_self__einval),
                T(discovery_set_phase__started__txt_updated_and_fresher),
                T(discovery_found__valid_peer__added_and_logged_once),
                T(discovery_found__junk_repeated__one_warning),
                T(discovery_found__forged_master__not_a_peer_shown_apart),
                T(discovery_found__replayed_elsewhere_or_id_reused__peer_untouched),
                T(discovery_found__older_record__refused_or_held_then_dropped_by_newer),
                T(discovery_found__other_cluster_or_version__ignored_quietly),
                T(discovery_found__our_own_id__ignored_with_one_warning),
                T(discovery_found__peer_record_turns_bad__peer_kept),
                T(discovery_found__flood__bounded_and_peers_kept),
                T(discovery_removed__known_and_unknown__departure_logged),
                T(discovery_service_renamed__same_id__one_peer),
                T(discovery_daemon_lost__peers_kept_and_revived_quietly),
                T(discovery_start__other_tag__peers_forgotten),
                T(discovery_stop__started__unpublished_and_forgotten),
                T(discovery_expect_daemon_restart__disconnection__not_a_warning),
                T(discovery_collision__reported),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
