/* SPDX-License-Identifier: MIT */
#pragma once

/* The server's outstanding challenge nonces: each is bound to the address that asked for it, expires on the
 * server's monotonic clock and can be taken exactly once. The store is bounded: when a peer holds its limit
 * its own oldest nonce goes, when the store is full the oldest one does, so that a flood of requests costs
 * memory once, not without end. Pure: the caller passes the time (microseconds, CLOCK_MONOTONIC). */

#include <stddef.h>
#include <stdint.h>

#include "exchange-proto.h"

typedef struct NonceStore NonceStore;

int nonce_store_new(size_t capacity, unsigned per_peer, uint64_t ttl_usec, NonceStore **ret);
NonceStore *nonce_store_free(NonceStore *s);

/* Remembers nonce for peer (a textual address) until now + ttl. Returns 0 or -EINVAL. */
int nonce_store_add(NonceStore *s, const uint8_t nonce[static EXCHANGE_NONCE_SIZE], const char *peer, uint64_t now);

/* Takes nonce back, presented by peer. Returns 0 and forgets it; -ENOENT if unknown (never issued, already
 * taken, evicted); -ETIME if it expired (and forgets it); -EXDEV if another peer got it (it stays: a peer
 * that saw it on the wire cannot burn it for the one it belongs to). */
int nonce_store_take(NonceStore *s, const uint8_t nonce[static EXCHANGE_NONCE_SIZE], const char *peer, uint64_t now);

/* Nonces held, expired ones included until the next add or take. */
size_t nonce_store_size(const NonceStore *s);
