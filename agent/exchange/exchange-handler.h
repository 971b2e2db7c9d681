/* SPDX-License-Identifier: MIT */
#pragma once

/* The exchange server's request handler in one process: the front (exchange-front.h: routes, limits, challenge
 * nonces, parsing) forwarding straight to the back (exchange-back.h: authentication, the control-plane ticket,
 * the provider, sealing). No sockets and no clock: it takes one HTTP request (method, path, peer address, body)
 * and the time, and answers with a status and a JSON body, so that tests, the fuzzer and `piagent exchange
 * serve` drive it directly. On a master the two halves run in two processes instead (exchange-service.h).
 *
 * Status codes are plain and say no more than needed: 400 malformed request (any reason), 403 not
 * authenticated (wrong MAC, or a nonce that is unknown, used, expired or another peer's: one answer for
 * all), 404, 405, 409 (another node holds the control-plane ticket, or the provider's -EBUSY), 429 too many
 * failures from this address, 500, 501, 503 (see exchange-provider.h). 400-405 count as failures. */

#include <stddef.h>
#include <stdint.h>

#include "exchange-back.h"
#include "exchange-front.h"

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

/* secret: the cluster secret (copied; wiped when the handler is freed). o may be NULL. */
int exchange_handler_new(const char *secret, const ExchangeHandlerOptions *o, const ExchangeProvider *p, void *userdata,
                         ExchangeHandler **ret);
ExchangeHandler *exchange_handler_free(ExchangeHandler *h);

/* Answers req at time now (microseconds, CLOCK_MONOTONIC), as exchange_front_process(). */
void exchange_handler_process(ExchangeHandler *h, const ExchangeHttpRequest *req, uint64_t now, ExchangeRespond respond,
                              void *userdata, ExchangeForward **ret_pending);

ExchangeFront *exchange_handler_front(ExchangeHandler *h);
/* The node holding the control-plane ticket, or NULL. */
const char *exchange_handler_ticket_holder(const ExchangeHandler *h, uint64_t now);

/* The front and back options of the handler's options. */
ExchangeFrontOptions exchange_handler_front_options(const ExchangeHandlerOptions *o);
ExchangeBackOptions exchange_handler_back_options(const ExchangeHandlerOptions *o);
