/* SPDX-License-Identifier: MIT */
#pragma once

/* Rate limit on failures per peer address (a generic cell rate algorithm): each failure costs one interval
 * of credit, credit comes back at one interval per interval, and a peer that has used up burst intervals is
 * blocked until some comes back. A well-behaved client never fails, so it never notices; a client that
 * guesses gets burst tries, then one per interval. Bounded: when the table is full the peer closest to
 * being forgiven is forgotten. Pure: the caller passes the time (microseconds, CLOCK_MONOTONIC). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct FailLimit FailLimit;

int fail_limit_new(size_t capacity, uint64_t interval_usec, unsigned burst, FailLimit **ret);
FailLimit *fail_limit_free(FailLimit *l);

/* Whether peer must be turned away now. */
bool fail_limit_blocked(const FailLimit *l, const char *peer, uint64_t now);

/* Counts a failure of peer. Returns true if this failure blocks it (the moment to log once). */
bool fail_limit_record(FailLimit *l, const char *peer, uint64_t now);
