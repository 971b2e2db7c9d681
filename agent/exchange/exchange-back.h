/* SPDX-License-Identifier: MIT */
#pragma once

/* The exchange's authenticated half: everything that needs the cluster secret. It takes a request that the
 * front (exchange-front.h) has already routed, parsed and matched to a challenge nonce of the asking address,
 * decodes it again (it trusts nothing the front says), checks its MAC in constant time, serialises
 * control-plane joins (the ticket), hands the operation to the provider and seals the answer. No sockets and
 * no clock. On a master it runs in the root daemon, while the front runs in the unprivileged
 * piagent-exchange.service (docs/security.md); exchange-handler.h puts both in one process.
 *
 * Statuses: 200 (sealed answer, or the status document), 400 (malformed), 403 (wrong MAC), 409, 500, 501, 503
 * (exchange-provider.h). */

#include <stddef.h>
#include <stdint.h>

#include "exchange-provider.h"

typedef struct ExchangeBack ExchangeBack;

typedef struct ExchangeBackOptions {
        uint64_t ticket_ttl_usec; /* a control-plane join holds the ticket at most this long (0: 15 min) */
        /* Source of IVs; NULL: crypto_random_bytes(). */
        int (*random)(void *buf, size_t size);
} ExchangeBackOptions;

/* body (JSON, or empty when size is 0) is valid during the call only. */
typedef void (*ExchangeRespond)(void *userdata, unsigned status, const char *body, size_t size);

/* secret: the cluster secret (copied; wiped when freed). o may be NULL. */
int exchange_back_new(const char *secret, const ExchangeBackOptions *o, const ExchangeProvider *p, void *userdata,
                      ExchangeBack **ret);
/* Calls still with the provider live on until it completes them; their answers go nowhere. */
ExchangeBack *exchange_back_free(ExchangeBack *b);

/* The unauthenticated status document (GET /v1/status): respond is called before this returns. */
void exchange_back_status(ExchangeBack *b, ExchangeRespond respond, void *userdata);

/* A request body from peer (its nonce already taken by the front) at time now: respond is called exactly once.
 * If it was called before this returns, *ret_pending is NULL; else *ret_pending is the provider's call still
 * running, which the caller abandons with exchange_call_abandon() if its client goes away first (respond is
 * then never called). */
void exchange_back_process(ExchangeBack *b, const char *peer, const char *body, size_t size, uint64_t now,
                           ExchangeRespond respond, void *userdata, ExchangeCall **ret_pending);
void exchange_call_abandon(ExchangeCall *call);

/* The node holding the control-plane ticket, or NULL. */
const char *exchange_back_ticket_holder(const ExchangeBack *b, uint64_t now);
