/* SPDX-License-Identifier: MIT */
#pragma once

/* The exchange server's request handler: routes, limits, challenge nonces, authentication, the control-plane
 * ticket, the provider, sealing. No sockets and no clock: it takes one HTTP request (method, path, peer
 * address, body) and the time, and answers with a status and a JSON body, so that tests and the fuzzer
 * drive it directly. exchange-server.c puts it behind the HTTP server.
 *
 * Status codes are plain and say no more than needed: 400 malformed request (any reason), 403 not
 * authenticated (wrong MAC, or a nonce that is unknown, used, expired or another peer's: one answer for
 * all), 404, 405, 409 (another node holds the control-plane ticket, or the provider's -EBUSY), 429 too many
 * failures from this address, 500, 501, 503 (see exchange-provider.h). 400-405 count as failures. */

#include <stddef.h>
#include <stdint.h>

#include "exchange-provider.h"

typedef struct ExchangeHandler ExchangeHandler;

typedef struct ExchangeHandlerOptions {
        uint64_t nonce_ttl_usec;     /* a challenge nonce is valid this long (0: 30 s) */
        size_t nonce_capacity;       /* outstanding nonces at most (0: 1024) */
        unsigned nonces_per_peer;    /* outstanding nonces per peer address (0: 4) */
        uint64_t ticket_ttl_usec;    /* a control-plane join holds the ticket at most this long (0: 15 min) */
        uint64_t fail_interval_usec; /* a peer may fail once per interval (0: 1 s)... */
        unsigned fail_burst;         /* ...after a burst of this many failures (0: 10) */
        size_t fail_capacity;        /* peer addresses remembered by the failure limit (0: 1024) */
        /* Source of nonces and IVs; NULL: crypto_random_bytes(). Tests and the fuzzer make them predictable. */
        int (*random)(void *buf, size_t size);
} ExchangeHandlerOptions;

typedef struct ExchangeHttpRequest {
        const char *method;
        const char *path;
        const char *peer; /* textual IP address: the key of the per-address limits */
        const char *body;
        size_t body_size;
} ExchangeHttpRequest;

/* body (JSON, or empty when size is 0) is valid during the call only. */
typedef void (*ExchangeRespond)(void *userdata, unsigned status, const char *body, size_t size);

/* secret: the cluster secret (copied; wiped when the handler is freed). o may be NULL. */
int exchange_handler_new(const char *secret, const ExchangeHandlerOptions *o, const ExchangeProvider *p, void *userdata,
                         ExchangeHandler **ret);
ExchangeHandler *exchange_handler_free(ExchangeHandler *h);

/* Answers req at time now (microseconds, CLOCK_MONOTONIC): respond is called exactly once. If it was called
 * before this returns, *ret_pending is NULL; else *ret_pending is the provider's call still running, which
 * the caller abandons with exchange_call_abandon() if its client goes away first (respond is then never
 * called). */
void exchange_handler_process(ExchangeHandler *h, const ExchangeHttpRequest *req, uint64_t now, ExchangeRespond respond,
                              void *userdata, ExchangeCall **ret_pending);
void exchange_call_abandon(ExchangeCall *call);

/* The node holding the control-plane ticket, or NULL. */
const char *exchange_handler_ticket_holder(const ExchangeHandler *h, uint64_t now);
