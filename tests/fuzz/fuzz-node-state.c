/* SPDX-License-Identifier: MIT */
/* Fuzzes the parser of state.json, which a master or worker reads at every start to decide whether it may run
 * kubeadm init, join or reset (a damaged file must be refused, never half-read). Invariants: what parses has every
 * field in range (a role or none, a membership, a vote for a valid candidate or nobody); written back and parsed
 * again it is the same state; and what the agent writes always parses. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node-state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const NodeState *a, const NodeState *b)
{
        return a->role == b->role && a->membership == b->membership && a->attempts == b->attempts &&
               strcmp(a->vote.candidate, b->vote.candidate) == 0 && a->vote.last_seen_usec == b->vote.last_seen_usec;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NodeState s, again;
        char *text = NULL;

        if (node_state_from_json((const char *)data, size, &s) < 0)
                return 0;
        if ((s.role != _ROLE_INVALID && (s.role < 0 || s.role >= _ROLE_MAX)) || s.membership < 0 ||
            s.membership >= _MEMBERSHIP_MAX || strnlen(s.vote.candidate, ELECTION_ID_MAX) >= ELECTION_ID_MAX ||
            (s.vote.candidate[0] && !election_id_is_valid(s.vote.candidate)))
                abort();
        if (node_state_to_json(&s, &text) < 0)
                abort();
        if (node_state_from_json(text, strlen(text), &again) < 0 || !same(&s, &again))
                abort();
        free(text);
        return 0;
}
