/* SPDX-License-Identifier: MIT */
/* The peer set: arrivals, updates, renames, departures, the reconnection sweep, limits. */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "peer-set.h"

#define TAG "76338c64fea54b45"

static PeerTxt txt(const char *id, Role role, const char *phase)
{
        PeerTxt t = {.version = 1, .tag = TAG, .role = role};

        snprintf(t.id, sizeof t.id, "%s", id);
        t.phase = phase_from_string(phase); /* as peer_txt_parse() does */
        if (t.phase == PHASE_OTHER)
                snprintf(t.phase_other, sizeof t.phase_other, "%s", phase);
        return t;
}

static int update(PeerSet *s, const char *service, const char *id, Role role, const char *phase, const char *addr,
                  uint64_t now, unsigned *changes)
{
        PeerTxt t = txt(id, role, phase);
        PeerUpdate u = {.service = service, .hostname = service, .txt = &t, .port = 9470};

        assert_int_equal(inet_pton(AF_INET, addr, &u.address), 1);
        return peer_set_update(s, &u, now, changes);
}

static void peer_set_update__new_peer__added_with_fields(void **state)
{
        PeerSet *s = NULL;
        unsigned c = 0;
        const Peer *p;
        char a[INET_ADDRSTRLEN];

        assert_int_equal(peer_set_new(&s), 0);
        assert_int_equal(update(s, "master-000002", "027700000002", ROLE_MASTER, "discovering", "10.77.0.12", 100, &c),
                         0);
        assert_int_equal(c, PEER_CHANGE_NEW);
        assert_int_equal(peer_set_size(s), 1);
        p = peer_set_find(s, "027700000002");
        assert_non_null(p);
        assert_string_equal(p->service, "master-000002");
        assert_string_equal(p->hostname, "master-000002");
        assert_int_equal(p->role, ROLE_MASTER);
        assert_int_equal(p->phase, PHASE_DISCOVERING);
        assert_string_equal(inet_ntop(AF_INET, &p->address, a, sizeof a), "10.77.0.12");
        assert_int_equal(p->port, 9470);
        assert_int_equal(p->first_seen_usec, 100);
        assert_int_equal(p->last_seen_usec, 100);
        assert_ptr_equal(peer_set_find_service(s, "master-000002"), p);
        assert_null(peer_set_find(s, "027700000003"));
        peer_set_free(s);
}

static void peer_set_update__same_record__only_seen(void **state)
{
        PeerSet *s = NULL;
        unsigned c = 0;

        assert_int_equal(peer_set_new(&s), 0);
        assert_int_equal(update(s, "lb-000001", "027700000001", ROLE_LB, "configured", "10.77.0.10", 100, &c), 0);
        assert_int_equal(update(s, "lb-000001", "027700000001", ROLE_LB, "configured", "10.77.0.10", 250, &c), 0);
        assert_int_equal(c, 0);
        assert_int_equal(peer_set_get(s, 0)->first_seen_usec, 100);
        assert_int_equal(peer_set_get(s, 0)->last_seen_usec, 250);
        peer_set_free(s);
}

static void peer_set_update__changes__reported(void **state)
{
        PeerSet *s = NULL;
        unsigned c = 0;

        assert_int_equal(peer_set_new(&s), 0);
        assert_int_equal(update(s, "lb-000001", "027700000001", ROLE_LB, "configured", "10.77.0.10", 1, &c), 0);
        assert_int_equal(update(s, "lb-000001", "027700000001", ROLE_LB, "discovering", "10.77.0.10", 2, &c), 0);
        assert_int_equal(c, PEER_CHANGE_PHASE);
        assert_int_equal(update(s, "lb-000001", "027700000001", ROLE_MASTER, "discovering", "10.77.0.99", 3, &c), 0);
        assert_int_equal(c, PEER_CHANGE_ROLE | PEER_CHANGE_ADDRESS);
        assert_int_equal(update(s, "lb-000001 #2", "027700000001", ROLE_MASTER, "discovering", "10.77.0.99", 4, &c), 0);
        assert_int_equal(c, PEER_CHANGE_SERVICE | PEER_CHANGE_HOSTNAME);
        assert_string_equal(peer_set_get(s, 0)->service, "lb-000001 #2");
        assert_int_equal(peer_set_size(s), 1);
        peer_set_free(s);
}

static void peer_set_update__service_of_other_id__eexist(void **state)
{
        PeerSet *s = NULL;
        unsigned c = 0;
        Peer *p = NULL;

        assert_int_equal(peer_set_new(&s), 0);
        assert_int_equal(update(s, "name", "027700000001", ROLE_LB, "x", "10.77.0.10", 1, &c), 0);
        assert_int_equal(update(s, "name", "027700000009", ROLE_LB, "x", "10.77.0.10", 2, &c), -EEXIST);
        assert_int_equal(peer_set_remove_service(s, "name", &p), 0);
        peer_free(p);
        assert_int_equal(update(s, "name", "027700000009", ROLE_LB, "x", "10.77.0.10", 2, &c), 0);
        assert_int_equal(c, PEER_CHANGE_NEW);
        peer_set_free(s);
}

static void peer_set_update__invalid__einval(void **state)
{
        PeerSet *s = NULL;
        unsigned c = 0;
        PeerTxt t = txt("027700000001", ROLE_LB, "x");
        PeerUpdate u = {.service = "a", .hostname = "a", .txt = &t};

        assert_int_equal(peer_set_new(&s), 0);
        u.service = "";
        assert_int_equal(peer_set_update(s, &u, 0, &c), -EINVAL);
        u.service = "a";
        u.hostname = NULL;
        assert_int_equal(peer_set_update(s, &u, 0, &c), -EINVAL);
        u.hostname = "a";
        t.id[0] = 'X';
        assert_int_equal(peer_set_update(s, &u, 0, &c), -EINVAL);
        t = txt("027700000001", _ROLE_MAX, "x");
        assert_int_equal(peer_set_update(s, &u, 0, &c), -EINVAL);
        t = txt("027700000001", ROLE_LB, "");
        assert_int_equal(peer_set_update(s, &u, 0, &c), -EINVAL);
        t = txt("027700000001", ROLE_LB, "x");
        t.phase_other[0] = 0; /* PHASE_OTHER without its word */
        assert_int_equal(peer_set_update(s, &u, 0, &c), -EINVAL);
        t.phase = _PHASE_MAX;
        assert_int_equal(peer_set_update(s, &u, 0, &c), -EINVAL);
        assert_int_equal(peer_set_size(s), 0);
        peer_set_free(s);
}

static void peer_set_get__many__sorted_by_id_and_counted(void **state)
{
        static const char *const ids[] = {"027700000005", "027700000001", "027700000003", "027700000004",
                                          "027700000002"};
        static const Role roles[] = {ROLE_WORKER, ROLE_LB, ROLE_MASTER, ROLE_MASTER, ROLE_LB};
        PeerSet *s = NULL;
        unsigned c, n[_ROLE_MAX];

        assert_int_equal(peer_set_new(&s), 0);
        for (size_t i = 0; i < 5; i++)
                assert_int_equal(update(s, ids[i], ids[i], roles[i], "x", "10.77.0.10", i, &c), 0);
        for (size_t i = 0; i < 5; i++) {
                char want[NODE_ID_SIZE];
                snprintf(want, sizeof want, "02770000000%zu", i + 1);
                assert_string_equal(peer_set_get(s, i)->id, want);
        }
        assert_null(peer_set_get(s, 5));
        peer_set_count_roles(s, n);
        assert_int_equal(n[ROLE_LB], 2);
        assert_int_equal(n[ROLE_MASTER], 2);
        assert_int_equal(n[ROLE_WORKER], 1);
        peer_set_free(s);
}

static void peer_set_remove_service__known_and_unknown__expected(void **state)
{
        PeerSet *s = NULL;
        Peer *p = NULL;
        unsigned c;

        assert_int_equal(peer_set_new(&s), 0);
        assert_int_equal(update(s, "a", "027700000001", ROLE_LB, "x", "10.77.0.10", 1, &c), 0);
        assert_int_equal(update(s, "b", "027700000002", ROLE_LB, "x", "10.77.0.11", 1, &c), 0);
        assert_int_equal(peer_set_remove_service(s, "zzz", &p), -ENOENT);
        assert_int_equal(peer_set_remove_service(s, "a", &p), 0);
        assert_string_equal(p->id, "027700000001");
        peer_free(p);
        assert_int_equal(peer_set_size(s), 1);
        assert_string_equal(peer_set_get(s, 0)->id, "027700000002");
        peer_set_free(s);
}

static void peer_set_pop_stale__after_reconnection__only_unconfirmed(void **state)
{
        PeerSet *s = NULL;
        Peer *p;
        unsigned c;

        assert_int_equal(peer_set_new(&s), 0);
        assert_int_equal(update(s, "a", "027700000001", ROLE_LB, "x", "10.77.0.10", 1, &c), 0);
        assert_int_equal(update(s, "b", "027700000002", ROLE_LB, "x", "10.77.0.11", 1, &c), 0);
        assert_int_equal(update(s, "c", "027700000003", ROLE_LB, "x", "10.77.0.12", 1, &c), 0);
        peer_set_mark_stale(s);
        assert_int_equal(update(s, "b", "027700000002", ROLE_LB, "x", "10.77.0.11", 2, &c), 0);
        assert_int_equal(c, PEER_CHANGE_REVIVED);

        p = peer_set_pop_stale(s);
        assert_non_null(p);
        assert_string_equal(p->id, "027700000001");
        peer_free(p);
        p = peer_set_pop_stale(s);
        assert_non_null(p);
        assert_string_equal(p->id, "027700000003");
        peer_free(p);
        assert_null(peer_set_pop_stale(s));
        assert_int_equal(peer_set_size(s), 1);
        peer_set_free(s);
}

static void peer_set_update__full__enospc(void **state)
{
        PeerSet *s = NULL;
        unsigned c;

        assert_int_equal(peer_set_new(&s), 0);
        for (unsigned i = 0; i < PEER_SET_MAX; i++) {
                char id[NODE_ID_SIZE], name[32];
                snprintf(id, sizeof id, "02770000%04x", i);
                snprintf(name, sizeof name, "n%u", i);
                assert_int_equal(update(s, name, id, ROLE_WORKER, "x", "10.77.0.10", i, &c), 0);
        }
        assert_int_equal(update(s, "extra", "02ffffffffff", ROLE_WORKER, "x", "10.77.0.10", 0, &c), -ENOSPC);
        /* Existing peers can still be updated. */
        assert_int_equal(update(s, "n7", "027700000007", ROLE_WORKER, "ready", "10.77.0.10", 1, &c), 0);
        assert_int_equal(c, PEER_CHANGE_PHASE);
        assert_int_equal(peer_set_size(s), PEER_SET_MAX);
        peer_set_free(s);
}

static void peer_set__null_and_empty__safe(void **state)
{
        unsigned n[_ROLE_MAX];

        assert_int_equal(peer_set_size(NULL), 0);
        assert_null(peer_set_get(NULL, 0));
        assert_null(peer_set_find(NULL, "027700000001"));
        assert_null(peer_set_find_service(NULL, "a"));
        peer_set_count_roles(NULL, n);
        assert_int_equal(n[ROLE_LB] + n[ROLE_MASTER] + n[ROLE_WORKER], 0);
        assert_null(peer_set_free(NULL));
        assert_null(peer_free(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(peer_set_update__new_peer__added_with_fields),
                cmocka_unit_test(peer_set_update__same_record__only_seen),
                cmocka_unit_test(peer_set_update__changes__reported),
                cmocka_unit_test(peer_set_update__service_of_other_id__eexist),
                cmocka_unit_test(peer_set_update__invalid__einval),
                cmocka_unit_test(peer_set_get__many__sorted_by_id_and_counted),
                cmocka_unit_test(peer_set_remove_service__known_and_unknown__expected),
                cmocka_unit_test(peer_set_pop_stale__after_reconnection__only_unconfirmed),
                cmocka_unit_test(peer_set_update__full__enospc),
                cmocka_unit_test(peer_set__null_and_empty__safe),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
