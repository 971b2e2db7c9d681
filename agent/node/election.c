/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <stdio.h>

#include "election.h"
#include "macro.h"

ElectionRole election_decide(const char *self_id, bool self_pinned, const ElectionPeer *masters, size_t n)
{
        bool other_pinned = false, lower_seen = false;

        for (size_t i = 0; i < n; i++) {
                if (masters[i].initialized)
                        return ELECTION_JOIN;
                if (streq(masters[i].id, self_id))
                        continue;
                if (masters[i].pinned)
                        other_pinned = true;
                if (strcmp(masters[i].id, self_id) < 0)
                        lower_seen = true;
        }

        if (self_pinned)
                return ELECTION_CANDIDATE;
        if (other_pinned || lower_seen)
                return ELECTION_WAIT;
        return ELECTION_CANDIDATE;
}

bool election_id_is_valid(const char *id)
{
        size_t n = id ? strlen(id) : 0;

        if (n == 0 || n >= ELECTION_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_')
                        return false;
        return true;
}

ElectionRefusal election_grant(ElectionVote *vote, const char *candidate, bool cluster_exists, uint64_t now_usec,
                               uint64_t lease_usec)
{
        if (!election_id_is_valid(candidate))
                return ELECTION_REFUSED_INVALID;
        if (cluster_exists)
                return ELECTION_REFUSED_CLUSTER_EXISTS;

        if (vote->candidate[0] && !streq(vote->candidate, candidate)) {
                /* Another candidate holds this vote until it has been gone for a whole lease. A clock that went
                 * backwards (a reboot restarts the monotonic clock) counts as "just seen". */
                if (now_usec < vote->last_seen_usec || now_usec - vote->last_seen_usec < lease_usec)
                        return ELECTION_REFUSED_VOTED_OTHER;
        }

        snprintf(vote->candidate, sizeof vote->candidate, "%s", candidate);
        vote->last_seen_usec = now_usec;
        return ELECTION_GRANTED;
}

void election_candidate_seen(ElectionVote *vote, const char *candidate, uint64_t now_usec)
{
        if (vote->candidate[0] && streq(vote->candidate, candidate) && now_usec > vote->last_seen_usec)
                vote->last_seen_usec = now_usec;
}

bool election_has_majority(size_t votes, unsigned expected_masters)
{
        return votes >= expected_masters / 2 + 1;
}

const char *election_refusal_to_string(ElectionRefusal r)
{
        static const char *const names[_ELECTION_REFUSAL_MAX] = {
                [ELECTION_GRANTED] = "granted",
                [ELECTION_REFUSED_VOTED_OTHER] = "voted for another candidate",
                [ELECTION_REFUSED_CLUSTER_EXISTS] = "a cluster already exists",
                [ELECTION_REFUSED_INVALID] = "invalid candidate",
        };
        return r >= 0 && r < _ELECTION_REFUSAL_MAX ? names[r] : NULL;
}
