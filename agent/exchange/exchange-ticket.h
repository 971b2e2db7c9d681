/* SPDX-License-Identifier: MIT */
#pragma once

/* The control-plane join ticket: etcd adds members one at a time, so a server lets one node at a time join
 * as control plane. A node holds the ticket from the join material it was given until it reports the result
 * (joined) or the ticket times out; asking again while holding it renews it (its answer may have been lost).
 * Pure: the caller passes the time (microseconds, CLOCK_MONOTONIC). */

#include <stdint.h>

#include "exchange-proto.h"

typedef struct ExchangeTicket {
        char holder[EXCHANGE_NODE_MAX + 1]; /* "" when free */
        uint64_t expires;
} ExchangeTicket;

/* Returns 0 if node now holds the ticket until now + ttl, -EBUSY if another node holds it. */
int exchange_ticket_acquire(ExchangeTicket *t, const char *node, uint64_t now, uint64_t ttl);

/* Returns 0 if node held the ticket and released it, -ENOENT if it did not hold it. */
int exchange_ticket_release(ExchangeTicket *t, const char *node, uint64_t now);

/* The node holding the ticket now, or NULL. */
const char *exchange_ticket_holder(const ExchangeTicket *t, uint64_t now);
