/* SPDX-License-Identifier: MIT */
#pragma once

/* The exchange's unauthenticated half: what every HTTP request meets first. It routes (404, 405), turns away
 * addresses that failed too often (429), hands out challenge nonces and keeps them (bound to the asking
 * address, single use, 30 s), parses request bodies strictly (400) and spends their nonce (403); what passes is
 * forwarded to the back (exchange-back.h), which holds the secret, and the back's answer goes to the client.
 * It never sees the secret: on a master it runs in the unprivileged piagent-exchange.service and forwards over
 * a socket to the root daemon (docs/security.md); exchange-handler.h joins both halves in one process. No
 * sockets and no clock. */

#include <stddef.h>
#include <stdint.h>

#include "exchange-back.h"

typedef struct ExchangeFront ExchangeFront;
typedef struct ExchangeForward ExchangeForward;

typedef struct ExchangeFrontOptions {
        uint64_t nonce_ttl_usec;               /* a challenge nonce is valid this long (0: 30 s) */
        size_t nonce_capacity;                 /* outstanding nonces at most (0: 1024) */
        unsigned nonces_per_peer;              /* outstanding nonces per peer address (0: 4) */
        uint64_t fail_interval_usec;           /* a peer may fail once per interval (0: 1 s)... */
        unsigned fail_burst;                   /* ...after a burst of this many failures (0: 10) */
        size_t fail_capacity;                  /* peer addresses remembered by the failure limit (0: 1024) */
        int (*random)(void *buf, size_t size); /* source of nonces; NULL: crypto_random_bytes() */
} ExchangeFrontOptions;

typedef struct ExchangeHttpRequest {
        const char *method;
        const char *path;
        const char *peer; /* textual IP address: the key of the per-address limits */
        const char *body;
        size_t body_size;
} ExchangeHttpRequest;

typedef enum ExchangeForwardKind {
        EXCHANGE_FORWARD_STATUS,   /* GET /v1/status: the status document */
        EXCHANGE_FORWARD_EXCHANGE, /* POST /v1/exchange: a parsed request whose nonce was spent */
        _EXCHANGE_FORWARD_KIND_MAX,
        _EXCHANGE_FORWARD_KIND_INVALID = -EINVAL,
} ExchangeForwardKind;

/* Hands a request to the back. The forwarder answers it with exchange_forward_done() exactly once, before
 * returning or later; one that answers later sets an abandon hook first (exchange_forward_on_abandon()), after
 * which it must not touch fw again. Returns 0, or a negative errno (the client gets 500; fw is not touched). */
typedef int (*ExchangeForwardFunc)(void *userdata, ExchangeForward *fw, ExchangeForwardKind kind, const char *peer,
                                   const char *body, size_t size, uint64_t now);

int exchange_front_new(const ExchangeFrontOptions *o, ExchangeForwardFunc forward, void *userdata, ExchangeFront **ret);
/* Forwards still waiting are abandoned (their hooks run). */
ExchangeFront *exchange_front_free(ExchangeFront *f);

/* Answers req at time now: respond is called exactly once. If it was called before this returns, *ret_pending
 * is NULL; else *ret_pending is the forward still waiting for the back, which the caller abandons with
 * exchange_forward_abandon() if its client goes away first (respond is then never called). */
void exchange_front_process(ExchangeFront *f, const ExchangeHttpRequest *req, uint64_t now, ExchangeRespond respond,
                            void *userdata, ExchangeForward **ret_pending);

/* The back's answer. A 400-405 counts as a failure of the peer (a wrong MAC is found by the back). */
void exchange_forward_done(ExchangeForward *fw, unsigned status, const char *body, size_t size);
void exchange_forward_on_abandon(ExchangeForward *fw, void (*hook)(void *userdata), void *userdata);
void exchange_forward_abandon(ExchangeForward *fw);

const char *exchange_forward_kind_to_string(ExchangeForwardKind k);
ExchangeForwardKind exchange_forward_kind_from_string(const char *s);
