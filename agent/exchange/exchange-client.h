/* SPDX-License-Identifier: MIT */
#pragma once

/* The exchange client on the agent's event loop: fetches a nonce from a server, sends the signed request,
 * and opens the sealed answer, which authenticates the server too (exchange-session.h over http-client.h).
 *
 * Errors passed to the callbacks:
 *   -EACCES          the server did not accept our proof (403): another cluster's secret, or our nonce
 *                    expired or was spent (retry once with a fresh one)
 *   -EBADMSG         the answer is not sealed for this request by a server knowing the secret: not
 *                    authentic, nothing from it is used
 *   -EBUSY           409: another node holds the control-plane ticket, or the server's provider is busy
 *   -EAGAIN          503 (not ready yet) or 429 (we failed too often): retry later
 *   -EOPNOTSUPP      501, 404, 405: the server does not serve that (not a master, another protocol)
 *   -EREMOTEIO       500: the server failed
 *   -EPROTO          400, any other status, or an answer that does not parse: protocol mismatch
 *   -EPROTONOSUPPORT the server speaks another protocol version
 *   transport:       -ECONNREFUSED, -ETIMEDOUT, -ECONNRESET, -EHOSTUNREACH, -E2BIG, -ENOMEM... */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "exchange-msg.h"
#include "exchange-session.h"

typedef struct ExchangeClient ExchangeClient;
typedef struct ExchangeClientCall ExchangeClientCall;

typedef struct ExchangeClientOptions {
        uint64_t timeout_usec;      /* one whole exchange (both round trips); 0: 10 s */
        const char *source_address; /* local IPv4 address to send from; NULL: the kernel's choice */
} ExchangeClientOptions;

/* answer / status are valid during the call only (answer secrets are wiped afterwards). */
typedef void (*ExchangeClientDone)(void *userdata, int error, const ExchangeAnswer *answer);
typedef void (*ExchangeStatusDone)(void *userdata, int error, const ExchangeStatus *status);

/* secret: the cluster secret; node: this node's id (both copied). o may be NULL. */
int exchange_client_new(sd_event *event, const char *secret, const char *node, const ExchangeClientOptions *o,
                        ExchangeClient **ret);
/* Calls still running are cancelled without their callbacks. Safe inside a callback. */
ExchangeClient *exchange_client_free(ExchangeClient *c);

/* Asks the server at address:port (an IPv4 address or host name) for q. done is called exactly once, unless
 * the call is cancelled first. ret may be NULL. */
int exchange_client_request(ExchangeClient *c, const char *address, uint16_t port, const ExchangeQuery *q,
                            ExchangeClientDone done, void *userdata, ExchangeClientCall **ret);
/* The unauthenticated status of the server (liveness): nothing in it is proven. */
int exchange_client_status(ExchangeClient *c, const char *address, uint16_t port, ExchangeStatusDone done,
                           void *userdata, ExchangeClientCall **ret);
void exchange_client_call_cancel(ExchangeClientCall *call);

static inline void exchange_client_freep(ExchangeClient **c)
{
        exchange_client_free(*c);
}
