/* SPDX-License-Identifier: MIT */
/* Discovery driven through a fake mDNS backend: what is published, which services become peers, and that a bad
 * record costs one warning per service, never more. Log lines are read back from stderr. */

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

#define TAG   "76338c64fea54b45"
#define SELF  "027700000001"
#define OTHER "0123456789abcdef"

/* The fake backend: records what discovery asks for; the tests call the events it was given. */
typedef struct Fake {
        const MdnsEvents *ev;
        void *userdata;
        unsigned n_publish, n_unpublish, n_browse, n_stop_browse;
        char name[64], txt[512];
        int ifindex, browse_ifindex;
        uint16_t port;
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

static int fake_publish(void *backend, const MdnsPublication *p)
{
        fake.n_publish++;
        snprintf(fake.name, sizeof fake.name, "%s", p->name);
        fake.ifindex = p->ifindex;
        fake.port = p->port;
        fake.txt[0] = 0;
        for (size_t i = 0; p->txt[i]; i++) {
                strcat(fake.txt, p->txt[i]);
                strcat(fake.txt, " ");
        }
        return 0;
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

static void start(Ctx *c, Role role)
{
        DiscoverySelf self = {
                .id = SELF,
                .hostname = "master-000001",
                .tag = TAG,
                .role = role,
                .phase = PHASE_DISCOVERING,
                .ifindex = 2,
                .port = 9470,
        };

        assert_int_equal(discovery_start(c->d, &self), 0);
        fake.ev->state_changed(fake.userdata, MDNS_RUNNING, NULL);
}

/* A resolved service; items as C strings. */
static void found(const char *name, const char *addr, const char *const *items)
{
        TxtItem txt[32];
        MdnsService s = {.name = name, .host = "peer.local", .port = 9470, .txt = txt};

        for (; items[s.n_txt]; s.n_txt++)
                txt[s.n_txt] = (TxtItem){items[s.n_txt], strlen(items[s.n_txt])};
        assert_int_equal(inet_pton(AF_INET, addr, &s.address), 1);
        fake.ev->found(fake.userdata, &s);
}

#define FOUND(name, addr, ...) found(name, addr, (const char *const[]){__VA_ARGS__, NULL})
#define PEER(id, role, phase)  "v=1", "tag=" TAG, "role=" role, "phase=" phase, "id=" id

static void discovery_start__self__published_and_browsing(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        assert_int_equal(fake.n_publish, 1);
        assert_string_equal(fake.name, "master-000001");
        assert_string_equal(fake.txt, "v=1 tag=" TAG " role=master phase=discovering id=" SELF " ");
        assert_int_equal(fake.ifindex, 2);
        assert_int_equal(fake.port, 9470);
        assert_int_equal(fake.n_browse, 1);
        assert_int_equal(fake.browse_ifindex, 2);
        assert_true(discovery_is_started(c->d));
        assert_int_equal(discovery_mdns_state(c->d), MDNS_RUNNING);
        assert_null(discovery_published_name(c->d));
        fake.ev->published(fake.userdata, "master-000001");
        assert_string_equal(discovery_published_name(c->d), "master-000001");
}

static void discovery_start__invalid_self__einval(void **state)
{
        Ctx *c = *state;
        DiscoverySelf self = {.id = SELF,
                              .hostname = "ok",
                              .tag = TAG,
                              .role = ROLE_LB,
                              .phase = PHASE_CONFIGURED,
                              .ifindex = 2,
                              .port = 1};

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
        assert_int_equal(fake.n_publish, 0);
}

static void discovery_set_phase__started__txt_updated(void **state)
{
        Ctx *c = *state;

        assert_int_equal(discovery_set_phase(c->d, PHASE_CONFIGURED), 0); /* not started: nothing to publish */
        assert_int_equal(fake.n_publish, 0);
        start(c, ROLE_LB);
        assert_int_equal(discovery_set_phase(c->d, PHASE_DISCOVERING), 0); /* unchanged */
        assert_int_equal(fake.n_publish, 1);
        assert_int_equal(discovery_set_phase(c->d, PHASE_CONFIGURING), 0);
        assert_int_equal(fake.n_publish, 2);
        assert_string_equal(fake.txt, "v=1 tag=" TAG " role=lb phase=configuring id=" SELF " ");
        assert_int_equal(discovery_set_phase(c->d, PHASE_OTHER), -EINVAL);
        assert_int_equal(discovery_set_phase(c->d, _PHASE_MAX), -EINVAL);
}

static void discovery_found__valid_peer__added_and_logged_once(void **state)
{
        Ctx *c = *state;
        const Peer *p;

        start(c, ROLE_MASTER);
        n_changed = 0;
        FOUND("lb-000002", "10.77.0.11", PEER("027700000002", "lb", "discovering"));
        FOUND("lb-000002", "10.77.0.11", PEER("027700000002", "lb", "discovering"));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        p = peer_set_find(discovery_peers(c->d), "027700000002");
        assert_non_null(p);
        assert_int_equal(p->role, ROLE_LB);
        assert_string_equal(p->hostname, "peer");
        assert_int_equal(count("Peer 027700000002 appeared: peer, lb at 10.77.0.11:9470, phase discovering"), 1);
        assert_int_equal(n_changed, 1);

        FOUND("lb-000002", "10.77.0.11", PEER("027700000002", "lb", "configured"));
        assert_int_equal(count("Peer 027700000002 (peer): phase discovering -> configured"), 1);
        assert_int_equal(n_changed, 2);
}

static void discovery_found__junk_repeated__one_warning(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        for (int i = 0; i < 5; i++)
                FOUND("forged", "10.77.0.99", "v=1", "tag=" TAG, "role=king", "phase=x", "id=027700000099");
        FOUND("forged", "10.77.0.99", "v=1", "tag=" TAG, "role=lb", "role=lb", "phase=x", "id=027700000099");
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
}

static void discovery_found__other_cluster_or_version__ignored_quietly(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        FOUND("stranger", "10.77.0.50", "v=1", "tag=" OTHER, "role=master", "phase=x", "id=027700000050");
        FOUND("future", "10.77.0.51", "v=2", "whatever=1");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        assert_int_equal(discovery_rejected_count(c->d), 0);
        assert_int_equal(count("warning: "), 0);
}

static void discovery_found__our_own_id__ignored_with_one_warning(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        FOUND("clone", "10.77.0.60", PEER(SELF, "worker", "x"));
        FOUND("clone", "10.77.0.60", PEER(SELF, "worker", "y"));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        assert_int_equal(count("claims this node's id " SELF), 1);
}

static void discovery_found__peer_turns_bad__removed(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        FOUND("w", "10.77.0.13", PEER("027700000003", "worker", "x"));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        FOUND("w", "10.77.0.13", "v=1", "tag=" TAG, "role=worker", "phase=x");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        assert_int_equal(count("Peer 027700000003 (peer, worker at 10.77.0.13) left: its TXT record is no longer "
                               "valid"),
                         1);
        FOUND("w", "10.77.0.13", "v=1", "tag=" OTHER, "role=worker", "phase=x", "id=027700000003");
        FOUND("w", "10.77.0.13", PEER("027700000003", "worker", "x"));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        FOUND("w", "10.77.0.13", "v=1", "tag=" OTHER, "role=worker", "phase=x", "id=027700000003");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
}

static void discovery_removed__known_and_unknown__departure_logged(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        FOUND("m2", "10.77.0.12", PEER("027700000002", "master", "x"));
        FOUND("m3", "10.77.0.13", PEER("027700000003", "master", "x"));
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
        FOUND("w", "10.77.0.13", PEER("027700000003", "worker", "x"));
        FOUND("w #2", "10.77.0.13", PEER("027700000003", "worker", "x"));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        /* The old name's goodbye no longer belongs to the peer. */
        fake.ev->removed(fake.userdata, "w");
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        /* A name that is reused by another node id replaces the old peer. */
        FOUND("w #2", "10.77.0.14", PEER("027700000004", "worker", "x"));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        assert_non_null(peer_set_find(discovery_peers(c->d), "027700000004"));
}

static void discovery_daemon_lost__peers_kept_and_revived_quietly(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        FOUND("a", "10.77.0.11", PEER("027700000002", "lb", "x"));
        fake.ev->state_changed(fake.userdata, MDNS_CONNECTING, "Daemon connection failed");
        assert_int_equal(count("Lost avahi-daemon (Daemon connection failed); waiting for it to come back, keeping 1 "
                               "peers until then"),
                         1);
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 1);
        assert_true(peer_set_get(discovery_peers(c->d), 0)->stale);
        fake.ev->state_changed(fake.userdata, MDNS_REGISTERING, NULL);
        fake.ev->state_changed(fake.userdata, MDNS_RUNNING, NULL);
        assert_int_equal(count("Connected to avahi-daemon again"), 1);
        FOUND("a", "10.77.0.11", PEER("027700000002", "lb", "x"));
        assert_false(peer_set_get(discovery_peers(c->d), 0)->stale);
        assert_int_equal(count("appeared"), 1);
}

static void discovery_start__other_tag__peers_forgotten(void **state)
{
        Ctx *c = *state;
        DiscoverySelf self = {.id = SELF,
                              .hostname = "master-000001",
                              .tag = OTHER,
                              .role = ROLE_MASTER,
                              .phase = PHASE_CONFIGURED,
                              .ifindex = 2,
                              .port = 9470};

        start(c, ROLE_MASTER);
        FOUND("a", "10.77.0.11", PEER("027700000002", "lb", "x"));
        assert_int_equal(discovery_start(c->d, &self), 0);
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        assert_int_equal(fake.n_browse, 1); /* same interface: the browse goes on */
        assert_string_equal(fake.txt, "v=1 tag=" OTHER " role=master phase=configured id=" SELF " ");
}

static void discovery_stop__started__unpublished_and_forgotten(void **state)
{
        Ctx *c = *state;

        start(c, ROLE_MASTER);
        FOUND("a", "10.77.0.11", PEER("027700000002", "lb", "x"));
        discovery_stop(c->d);
        assert_int_equal(fake.n_unpublish, 1);
        assert_int_equal(fake.n_stop_browse, 1);
        assert_false(discovery_is_started(c->d));
        assert_int_equal(peer_set_size(discovery_peers(c->d)), 0);
        FOUND("a", "10.77.0.11", PEER("027700000002", "lb", "x"));
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
                T(discovery_start__self__published_and_browsing),
                T(discovery_start__invalid_self__einval),
                T(discovery_set_phase__started__txt_updated),
                T(discovery_found__valid_peer__added_and_logged_once),
                T(discovery_found__junk_repeated__one_warning),
                T(discovery_found__other_cluster_or_version__ignored_quietly),
                T(discovery_found__our_own_id__ignored_with_one_warning),
                T(discovery_found__peer_turns_bad__removed),
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
