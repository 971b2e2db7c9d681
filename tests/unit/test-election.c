/* SPDX-License-Identifier: MIT */
/* Who initializes: candidate choice, vote granting with leases, and a randomized simulation (fixed seed) of
 * three and five masters under random partitions, asserting that two candidates never hold a majority at
 * the same time and that a candidate is eventually elected once the network heals. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "election.h"

#define LEASE (30 * 1000000ULL)

static void election_decide__lowest_id__candidate_others_wait(void **state)
{
        ElectionPeer m[] = {{.id = "b"}, {.id = "a"}, {.id = "c"}};

        assert_int_equal(election_decide("a", false, m, 3), ELECTION_CANDIDATE);
        assert_int_equal(election_decide("b", false, m, 3), ELECTION_WAIT);
        assert_int_equal(election_decide("c", false, m, 3), ELECTION_WAIT);
}

static void election_decide__alone__candidate(void **state)
{
        assert_int_equal(election_decide("z", false, NULL, 0), ELECTION_CANDIDATE);
}

static void election_decide__pinned_other__wait_even_if_lowest(void **state)
{
        ElectionPeer m[] = {{.id = "a"}, {.id = "c", .pinned = true}};

        assert_int_equal(election_decide("a", false, m, 2), ELECTION_WAIT);
        assert_int_equal(election_decide("c", true, m, 2), ELECTION_CANDIDATE);
}

static void election_decide__initialized_master_seen__join(void **state)
{
        ElectionPeer m[] = {{.id = "a"}, {.id = "c", .initialized = true}};

        assert_int_equal(election_decide("a", false, m, 2), ELECTION_JOIN);
        assert_int_equal(election_decide("a", true, m, 2), ELECTION_JOIN);
}

static void election_grant__fresh_voter__granted_and_recorded(void **state)
{
        ElectionVote v = {};

        assert_int_equal(election_grant(&v, "a", false, 100, LEASE), ELECTION_GRANTED);
        assert_string_equal(v.candidate, "a");
        assert_int_equal(v.last_seen_usec, 100);
}

static void election_grant__other_candidate_within_lease__refused(void **state)
{
        ElectionVote v = {};

        assert_int_equal(election_grant(&v, "a", false, 100, LEASE), ELECTION_GRANTED);
        assert_int_equal(election_grant(&v, "b", false, 100 + LEASE - 1, LEASE), ELECTION_REFUSED_VOTED_OTHER);
        assert_string_equal(v.candidate, "a");
}

static void election_grant__same_candidate__renewed(void **state)
{
        ElectionVote v = {};

        assert_int_equal(election_grant(&v, "a", false, 100, LEASE), ELECTION_GRANTED);
        assert_int_equal(election_grant(&v, "a", false, 5000, LEASE), ELECTION_GRANTED);
        assert_int_equal(v.last_seen_usec, 5000);
}

static void election_grant__candidate_gone_for_lease__other_granted(void **state)
{
        ElectionVote v = {};

        assert_int_equal(election_grant(&v, "a", false, 100, LEASE), ELECTION_GRANTED);
        election_candidate_seen(&v, "a", 200);
        assert_int_equal(election_grant(&v, "b", false, 200 + LEASE - 1, LEASE), ELECTION_REFUSED_VOTED_OTHER);
        assert_int_equal(election_grant(&v, "b", false, 200 + LEASE, LEASE), ELECTION_GRANTED);
        assert_string_equal(v.candidate, "b");
}

static void election_grant__clock_went_back_after_reboot__vote_kept(void **state)
{
        ElectionVote v = {.candidate = "a", .last_seen_usec = 10 * LEASE};

        /* After a reboot the monotonic clock starts near zero: the persisted vote must not look expired. */
        assert_int_equal(election_grant(&v, "b", false, 5, LEASE), ELECTION_REFUSED_VOTED_OTHER);
}

static void election_grant__cluster_exists__refused(void **state)
{
        ElectionVote v = {};

        assert_int_equal(election_grant(&v, "a", true, 100, LEASE), ELECTION_REFUSED_CLUSTER_EXISTS);
        assert_string_equal(v.candidate, "");
}

static void election_grant__hostile_id__refused(void **state)
{
        ElectionVote v = {};
        char long_id[100];

        memset(long_id, 'a', sizeof long_id - 1);
        long_id[sizeof long_id - 1] = 0;
        assert_int_equal(election_grant(&v, "", false, 1, LEASE), ELECTION_REFUSED_INVALID);
        assert_int_equal(election_grant(&v, "a\"b", false, 1, LEASE), ELECTION_REFUSED_INVALID);
        assert_int_equal(election_grant(&v, long_id, false, 1, LEASE), ELECTION_REFUSED_INVALID);
        assert_string_equal(v.candidate, "");
}

static void election_has_majority__counts__expected(void **state)
{
        assert_false(election_has_majority(1, 3));
        assert_true(election_has_majority(2, 3));
        assert_true(election_has_majority(1, 1));
        assert_false(election_has_majority(2, 5));
        assert_true(election_has_majority(3, 5));
}

/* ---- simulation ---- */

#define SIM_MAX 5

typedef struct Sim {
        unsigned n;
        char ids[SIM_MAX][12];
        ElectionVote votes[SIM_MAX];
        uint64_t granted_at[SIM_MAX][SIM_MAX]; /* [candidate][voter]: time of the last grant, 0 = none */
        bool link[SIM_MAX][SIM_MAX];
} Sim;

static bool holds_majority(const Sim *s, unsigned c, uint64_t now)
{
        size_t votes = 0;
        for (unsigned v = 0; v < s->n; v++)
                if (s->granted_at[c][v] && now - s->granted_at[c][v] < LEASE / 2)
                        votes++;
        return election_has_majority(votes, s->n);
}

static void sim_partition(Sim *s, unsigned heal_percent)
{
        for (unsigned a = 0; a < s->n; a++)
                for (unsigned b = a; b < s->n; b++)
                        s->link[a][b] = s->link[b][a] = a == b || (unsigned)(rand() % 100) < heal_percent;
}

/* One round at time now: every master looks at whom it can reach, candidates ask for votes. Returns the
 * number of candidates holding a majority. */
static unsigned sim_round(Sim *s, uint64_t now)
{
        unsigned winners = 0;

        bool candidate[SIM_MAX];

        for (unsigned m = 0; m < s->n; m++) {
                ElectionPeer seen[SIM_MAX];
                size_t k = 0;
                for (unsigned o = 0; o < s->n; o++)
                        if (s->link[m][o])
                                seen[k++] = (ElectionPeer){.id = s->ids[o]};
                candidate[m] = election_decide(s->ids[m], false, seen, k) == ELECTION_CANDIDATE;
        }
        for (unsigned m = 0; m < s->n; m++) {
                /* Voters that see their candidate still advertising candidacy keep its lease running; one that
                 * stepped down is not renewed, so its votes free up after a lease. */
                for (unsigned o = 0; o < s->n; o++)
                        if (s->link[m][o] && candidate[o])
                                election_candidate_seen(&s->votes[m], s->ids[o], now);
                if (!candidate[m])
                        continue;
                for (unsigned v = 0; v < s->n; v++)
                        if (s->link[m][v] &&
                            election_grant(&s->votes[v], s->ids[m], false, now, LEASE) == ELECTION_GRANTED)
                                s->granted_at[m][v] = now;
        }
        for (unsigned c = 0; c < s->n; c++)
                winners += holds_majority(s, c, now);
        return winners;
}

static void simulate(unsigned n, unsigned seed)
{
        Sim s = {.n = n};
        uint64_t now = 1;
        unsigned elected_after_heal = 0;

        srand(seed);
        for (unsigned i = 0; i < n; i++)
                snprintf(s.ids[i], sizeof s.ids[i], "m%u", (i * 7 + 3) % n);
        for (unsigned step = 0; step < 20000; step++) {
                if (step % 50 == 0)
                        sim_partition(&s, step % 1000 < 900 ? (unsigned)(rand() % 100) : 100);
                now += (uint64_t)(rand() % 4000000); /* up to 4 s between rounds */
                unsigned winners = sim_round(&s, now);
                if (winners > 1)
                        fail_msg("seed %u step %u: %u candidates hold a majority at once", seed, step, winners);
                if (step % 1000 == 999 && winners == 1)
                        elected_after_heal++;
        }
        /* Liveness: after each fully healed stretch (100 rounds of up to 4 s, several leases) someone won. */
        assert_true(elected_after_heal >= 15);
}

static void election__random_partitions_3_masters__never_two_majorities(void **state)
{
        for (unsigned seed = 1; seed <= 20; seed++)
                simulate(3, seed);
}

static void election__random_partitions_5_masters__never_two_majorities(void **state)
{
        for (unsigned seed = 1; seed <= 20; seed++)
                simulate(5, seed);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(election_decide__lowest_id__candidate_others_wait),
                cmocka_unit_test(election_decide__alone__candidate),
                cmocka_unit_test(election_decide__pinned_other__wait_even_if_lowest),
                cmocka_unit_test(election_decide__initialized_master_seen__join),
                cmocka_unit_test(election_grant__fresh_voter__granted_and_recorded),
                cmocka_unit_test(election_grant__other_candidate_within_lease__refused),
                cmocka_unit_test(election_grant__same_candidate__renewed),
                cmocka_unit_test(election_grant__candidate_gone_for_lease__other_granted),
                cmocka_unit_test(election_grant__clock_went_back_after_reboot__vote_kept),
                cmocka_unit_test(election_grant__cluster_exists__refused),
                cmocka_unit_test(election_grant__hostile_id__refused),
                cmocka_unit_test(election_has_majority__counts__expected),
                cmocka_unit_test(election__random_partitions_3_masters__never_two_majorities),
                cmocka_unit_test(election__random_partitions_5_masters__never_two_majorities),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
