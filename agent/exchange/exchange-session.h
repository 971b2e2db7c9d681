/* SPDX-License-Identifier: MIT */
#pragma once

/* The client's half of one exchange, without I/O: from the server's nonce to a signed request, and from the
 * server's sealed answer back to its plaintext. exchange-client.c carries it over HTTP; tests and the fuzzer
 * use it directly. */

#include "exchange-msg.h"
#include "exchange-proto.h"

typedef struct ExchangeSession {
        ExchangeRequest request;
        uint8_t key[EXCHANGE_KEY_SIZE]; /* opens the answer */
} ExchangeSession;

/* What the client asks for. */
typedef struct ExchangeQuery {
        ExchangeOp op;
        ExchangeRole role;     /* join, joined */
        ExchangeResult result; /* joined */
} ExchangeQuery;

/* Signs q from node with the cluster secret over both nonces, and derives the answer key.
 * Returns 0 or -EINVAL (q inconsistent, node invalid) or -EIO. */
int exchange_session_init(ExchangeSession *s, const char *secret, const char *node, const ExchangeQuery *q,
                          const uint8_t server_nonce[static EXCHANGE_NONCE_SIZE],
                          const uint8_t client_nonce[static EXCHANGE_NONCE_SIZE]);

/* The request body to POST. */
int exchange_session_request(const ExchangeSession *s, char **ret);

/* Opens the server's answer body (the sealed envelope). Returns 0, -EBADMSG if it was not sealed by a server
 * that knows the secret for exactly this request, -EINVAL if it is malformed, -EPROTONOSUPPORT, -ENOMEM. */
int exchange_session_open(const ExchangeSession *s, const char *body, size_t size, ExchangeAnswer *ret);

/* Wipes the keys. */
void exchange_session_done(ExchangeSession *s);
