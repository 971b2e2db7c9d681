/* SPDX-License-Identifier: MIT */
/* What discovery keeps beside the peer set: the newest record seen per node (peer-fresh), the records that did not
 * verify (peer-rejected: bounded, per address and in all), the older records held for a while (peer-held); and the
 * start counter that makes a node's records fresher across restarts (boot-count). */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "boot-count.h"
#include "macro.h"
#include "peer-fresh.h"
#include "peer-held.h"
#include "peer-rejected.h"

static struct in_addr addr(const char *s)
{
        struct in_addr a;

        assert_int_equal(inet_pton(AF_INET, s, &a), 1);
        return a;
}

static void peer_fresh__note_get_and_bound(void **state)
{
        PeerFresh *f = NULL;
        PeerSeq q;
        char id[16];

        assert_int_equal(peer_fresh_new(&f), 0);
        assert_int_equal(peer_fresh_get(f, "027700000001", &q), -ENOENT);
        assert_int_equal(peer_fresh_note(f, "027700000001", (PeerSeq){3, 4}, 10), 0);
        assert_int_equal(peer_fresh_get(f, "027700000001", &q), 0);
        assert_int_equal(q.boot, 3);
        assert_int_equal(q.n, 4);
        /* Noting an older one is allowed (a held record accepted after all). */
        assert_int_equal(peer_fresh_note(f, "027700000001", (PeerSeq){1, 1}, 20), 0);
        assert_int_equal(peer_fresh_get(f, "027700000001", &q), 0);
        assert_int_equal(q.boot, 1);
        assert_int_equal(peer_fresh_note(f, "not an id", (PeerSeq){1, 1}, 20), -EINVAL);

        /* Past the bound, the id noted least recently is forgotten. */
        for (unsigned i = 0; i < PEER_FRESH_MAX + 5; i++) {
                snprintf(id, sizeof id, "aa00000%05x", i);
                assert_int_equal(peer_fresh_note(f, id, (PeerSeq){1, i + 1}, 100 + i), 0);
        }
        assert_int_equal(peer_fresh_size(f), PEER_FRESH_MAX);
        assert_int_equal(peer_fresh_get(f, "027700000001", &q), -ENOENT);
        assert_int_equal(peer_fresh_get(f, "aa0000000004", &q), -ENOENT);
        assert_int_equal(peer_fresh_get(f, "aa0000000005", &q), 0);
        assert_int_equal(q.n, 6);
        peer_fresh_clear(f);
        assert_int_equal(peer_fresh_size(f), 0);
        peer_fresh_free(f);
}

static int add(PeerRejected *s, const char *service, const char *a, uint64_t now)
{
        return peer_rejected_add(s,
                                 &(RejectedUpdate){.service = service,
                                                   .address = addr(a),
                                                   .id = "000000000001",
                                                   .role = ROLE_MASTER,
                                                   .reason = "not signed with this cluster's secret"},
                                 now);
}

static void peer_rejected__update_in_place(void **state)
{
        PeerRejected *s = NULL;
        const Rejected *r;

        assert_int_equal(peer_rejected_new(&s), 0);
        assert_int_equal(add(s, "b", "10.0.0.1", 10), 0);
        assert_int_equal(add(s, "a", "10.0.0.2", 11), 0);
        assert_int_equal(add(s, "b", "10.0.0.1", 12), 0);
        assert_int_equal(peer_rejected_size(s), 2);
        assert_string_equal(peer_rejected_get(s, 0)->service, "a"); /* sorted by service name */
        r = peer_rejected_find(s, "b");
        assert_int_equal(r->count, 2);
        assert_int_equal(r->first_seen_usec, 10);
        assert_int_equal(r->last_seen_usec, 12);
        assert_string_equal(r->id, "000000000001");
        assert_int_equal(r->role, ROLE_MASTER);
        /* Claims that do not parse are kept as none. */
        assert_int_equal(peer_rejected_add(s,
                                           &(RejectedUpdate){.service = "c",
                                                             .address = addr("10.0.0.3"),
                                                             .id = "junk",
                                                             .role = 99,
                                                             .reason = "bad TXT record"},
                                           13),
                         0);
        r = peer_rejected_find(s, "c");
        assert_string_equal(r->id, "");
        assert_int_equal(r->role, _ROLE_INVALID);
        assert_int_equal(peer_rejected_remove(s, "b"), 0);
        assert_int_equal(peer_rejected_remove(s, "b"), -ENOENT);
        assert_int_equal(peer_rejected_add(s, &(RejectedUpdate){.service = ""}, 1), -EINVAL);
        peer_rejected_free(s);
}

static void peer_rejected__bounded_per_address_and_in_all(void **state)
{
        PeerRejected *s = NULL;
        char name[32], a[16];

        assert_int_equal(peer_rejected_new(&s), 0);
        /* One address, many services: only the latest PEER_REJECTED_PER_ADDRESS stay. */
        for (unsigned i = 0; i < 600; i++) {
                snprintf(name, sizeof name, "one-%03u", i);
                assert_int_equal(add(s, name, "10.0.0.1", i), 0);
        }
        assert_int_equal(peer_rejected_size(s), PEER_REJECTED_PER_ADDRESS);
        assert_non_null(peer_rejected_find(s, "one-599"));
        assert_non_null(peer_rejected_find(s, "one-596"));
        assert_null(peer_rejected_find(s, "one-595"));
        /* Many addresses: PEER_REJECTED_MAX in all, the least recent go; the first address's latest are among the
         * oldest now. */
        for (unsigned i = 0; i < 300; i++) {
                snprintf(name, sizeof name, "many-%03u", i);
                snprintf(a, sizeof a, "10.1.%u.%u", i / 250, i % 250 + 1);
                assert_int_equal(add(s, name, a, 1000 + i), 0);
        }
        assert_int_equal(peer_rejected_size(s), PEER_REJECTED_MAX);
        assert_null(peer_rejected_find(s, "one-599"));
        assert_non_null(peer_rejected_find(s, "many-299"));
        assert_null(peer_rejected_find(s, "many-235"));
        /* A service moving to a crowded address counts against that address. */
        for (unsigned i = 0; i < PEER_REJECTED_PER_ADDRESS; i++) {
                snprintf(name, sizeof name, "crowd-%u", i);
                assert_int_equal(add(s, name, "10.9.9.9", 5000 + i), 0);
        }
        assert_int_equal(add(s, "many-299", "10.9.9.9", 6000), 0);
        assert_null(peer_rejected_find(s, "crowd-0"));
        unsigned n = 0;
        for (size_t i = 0; i < peer_rejected_size(s); i++)
                n += peer_rejected_get(s, i)->address.s_addr == addr("10.9.9.9").s_addr;
        assert_int_equal(n, PEER_REJECTED_PER_ADDRESS);
        peer_rejected_free(s);
}

static PeerTxt txt(const char *id, uint32_t boot, uint32_t n)
{
        PeerTxt t = {.role = ROLE_MASTER, .phase = PHASE_READY, .seq = {boot, n}};

        snprintf(t.id, sizeof t.id, "%.12s", id);
        return t;
}

static void peer_held__due_after_the_hold(void **state)
{
        PeerHeld h = {};
        PeerTxt t = txt("027700000002", 1, 1);
        Held out;

        assert_int_equal(peer_held_next_due(&h), UINT64_MAX);
        assert_int_equal(peer_held_add(&h, &t, "m2", "master-000002", addr("10.0.0.2"), 9470, 1000), 0);
        assert_int_equal(peer_held_next_due(&h), 1000 + PEER_HELD_USEC);
        /* Held again (the node's record repeated): the time runs from the first. */
        t.seq.n = 2;
        assert_int_equal(peer_held_add(&h, &t, "m2", "master-000002", addr("10.0.0.2"), 9470, 5000), 0);
        assert_int_equal(h.n, 1);
        assert_int_equal(peer_held_next_due(&h), 1000 + PEER_HELD_USEC);
        assert_false(peer_held_pop_due(&h, 1000 + PEER_HELD_USEC - 1, &out));
        assert_true(peer_held_pop_due(&h, 1000 + PEER_HELD_USEC, &out));
        assert_string_equal(out.service, "m2");
        assert_string_equal(out.hostname, "master-000002");
        assert_int_equal(out.txt.seq.n, 2);
        assert_int_equal(out.port, 9470);
        free(out.service);
        assert_int_equal(h.n, 0);
        assert_int_equal(peer_held_add(&h, NULL, "m2", "", addr("10.0.0.2"), 1, 1), -EINVAL);
}

static void peer_held__dropped_and_bounded(void **state)
{
        PeerHeld h = {};
        char id[16], service[16];

        for (unsigned i = 0; i < PEER_HELD_MAX + 3; i++) {
                PeerTxt t;
                snprintf(id, sizeof id, "0277000000%02x", i);
                snprintf(service, sizeof service, "s%u", i);
                t = txt(id, 1, 1);
                assert_int_equal(peer_held_add(&h, &t, service, "", addr("10.0.0.2"), 1, 100 + i), 0);
        }
        assert_int_equal(h.n, PEER_HELD_MAX);
        assert_int_equal(peer_held_next_due(&h), 103 + PEER_HELD_USEC); /* the three oldest went */
        peer_held_drop_id(&h, "027700000003");
        assert_int_equal(h.n, PEER_HELD_MAX - 1);
        peer_held_drop_service(&h, "s4");
        assert_int_equal(h.n, PEER_HELD_MAX - 2);
        peer_held_drop_service(&h, "no such service");
        assert_int_equal(h.n, PEER_HELD_MAX - 2);
        peer_held_clear(&h);
        assert_int_equal(h.n, 0);
}

static void boot_count_next__counts_from_a_random_start(void **state)
{
        char dir[] = "/tmp/test-boot-count-XXXXXX", path[64];
        uint32_t n, first;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        /* A new card: a random point below 2^31, then one more each start. */
        assert_int_equal(boot_count_next(dir, &first), 0);
        assert_true(first >= 1 && first <= (UINT32_C(1) << 31));
        assert_int_equal(boot_count_next(dir, &n), 0);
        assert_int_equal(n, first + 1);
        snprintf(path, sizeof path, "%s/" BOOT_COUNT_FILE, dir);
        f = fopen(path, "w");
        fputs("41\n", f);
        fclose(f);
        assert_int_equal(boot_count_next(dir, &n), 0);
        assert_int_equal(n, 42);
        /* Junk, or the file lost: a random start again (two random starts are unlikely to be equal). */
        f = fopen(path, "w");
        fputs("junk\n", f);
        fclose(f);
        assert_int_equal(boot_count_next(dir, &first), 0);
        unlink(path);
        assert_int_equal(boot_count_next(dir, &n), 0);
        assert_true(n != first && n != first + 1);
        unlink(path);
        rmdir(dir);
        /* Cannot be written: a count all the same, with the error. */
        n = 0;
        assert_true(boot_count_next("/nonexistent/dir", &n) < 0);
        assert_true(n >= 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(peer_fresh__note_get_and_bound),
                cmocka_unit_test(peer_rejected__update_in_place),
                cmocka_unit_test(peer_rejected__bounded_per_address_and_in_all),
                cmocka_unit_test(peer_held__due_after_the_hold),
                cmocka_unit_test(peer_held__dropped_and_bounded),
                cmocka_unit_test(boot_count_next__counts_from_a_random_start),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
