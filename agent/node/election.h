/* SPDX-License-Identifier: MIT */
#pragma once

/* Who runs `kubeadm init`: exactly one master in the cluster's life. Pure decisions; the manager carries
 * the votes over the exchange and persists the voter's state.
 *
 * - A master is a candidate when it sees no initialized master, and either role.txt pins it (init=yes), or
 *   no visible master is pinned and its id is the lowest among the masters it sees.
 * - A candidate needs votes from a majority of `masters` (cluster.txt), its own included.
 * - Each master grants one vote at a time (persisted across reboots). It grants again to the same candidate
 *   (renewal), and to another only after the one it voted for has been gone for a whole lease.
 * - A candidate runs kubeadm init only while it holds a majority renewed within half a lease.
 *
 * Two majorities of the same `masters` share at least one voter, and that voter's single vote can only be
 * with one candidate at a time, so two candidates never hold a majority at once. The lease makes the
 * guarantee depend on one assumption: a winning candidate that loses contact with its voters for longer than
 * a lease stops (it cannot renew) before another can win; see docs/election.md. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELECTION_ID_MAX 64

typedef struct ElectionPeer {
        const char *id;
        bool pinned;      /* init=yes in its role.txt (published) */
        bool initialized; /* it ran kubeadm init or joined: a cluster exists */
} ElectionPeer;

/* What a master persists about its vote. */
typedef struct ElectionVote {
        char candidate[ELECTION_ID_MAX]; /* "" = no vote given */
        uint64_t last_seen_usec;         /* monotonic: when the candidate last renewed or was seen alive */
} ElectionVote;

typedef enum ElectionRole {
        ELECTION_WAIT,      /* not the candidate: wait for one to initialize */
        ELECTION_CANDIDATE, /* ask for votes */
        ELECTION_JOIN,      /* a cluster exists: join it */
        _ELECTION_ROLE_MAX,
} ElectionRole;

/* self is included in masters or not; the result is the same. */
ElectionRole election_decide(const char *self_id, bool self_pinned, const ElectionPeer *masters, size_t n);

typedef enum ElectionRefusal {
        ELECTION_GRANTED,
        ELECTION_REFUSED_VOTED_OTHER,    /* voted for another candidate whose lease runs */
        ELECTION_REFUSED_CLUSTER_EXISTS, /* this voter knows of an initialized cluster: join it instead */
        ELECTION_REFUSED_INVALID,        /* malformed candidate id */
        _ELECTION_REFUSAL_MAX,
} ElectionRefusal;

/* A vote request from candidate at time now. Updates *vote when granted (the caller persists it before
 * answering). */
ElectionRefusal election_grant(ElectionVote *vote, const char *candidate, bool cluster_exists, uint64_t now_usec,
                               uint64_t lease_usec);

/* The voter saw its candidate still advertising candidacy or init progress (TXT phase, /status): keeps the
 * lease running. Merely being alive does not: a candidate that stepped down must free its votes. */
void election_candidate_seen(ElectionVote *vote, const char *candidate, uint64_t now_usec);

/* A candidate id as a vote may name it: 1-63 of [A-Za-z0-9_-]. */
bool election_id_is_valid(const char *id);

/* Majority of the expected number of masters. */
bool election_has_majority(size_t votes, unsigned expected_masters);

const char *election_refusal_to_string(ElectionRefusal r);
