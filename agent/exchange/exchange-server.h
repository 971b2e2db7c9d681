/* SPDX-License-Identifier: MIT */
#pragma once

/* The exchange server: the request handler (exchange-handler.h) behind the HTTP server (http-server.h), on
 * the agent's event loop. The manager creates one on a master once it can hand out join material, with a
 * provider that knows how (exchange-provider.h). */

#include <systemd/sd-event.h>

#include "exchange-handler.h"
#include "http-server.h"

typedef struct ExchangeServer ExchangeServer;

typedef struct ExchangeServerOptions {
        HttpServerOptions http;         /* address, port (Config.exchange_port; 0: ephemeral), limits */
        ExchangeHandlerOptions handler; /* nonce lifetime, ticket timeout, failure limit */
} ExchangeServerOptions;

/* secret: the cluster secret (copied, wiped on free). The provider and its userdata must outlive the
 * server. Returns 0 or a negative errno (-EADDRINUSE, -EINVAL...). */
int exchange_server_new(sd_event *event, const char *secret, const ExchangeServerOptions *o, const ExchangeProvider *p,
                        void *userdata, ExchangeServer **ret);
/* A server whose front forwards to a back elsewhere (the unprivileged worker of piagent-exchange.service):
 * no secret, no provider. o->handler's ticket option is not used. */
int exchange_server_new_forwarding(sd_event *event, const ExchangeServerOptions *o, ExchangeForwardFunc forward,
                                   void *userdata, ExchangeServer **ret);
ExchangeServer *exchange_server_free(ExchangeServer *s);
uint16_t exchange_server_get_port(const ExchangeServer *s);
unsigned exchange_server_get_connections(const ExchangeServer *s);
/* For the fuzzer: serves a connected socket as if accepted from peer (http_server_add_connection()). */
int exchange_server_add_connection(ExchangeServer *s, int fd, const char *peer);
/* The node holding the control-plane ticket, or NULL. */
const char *exchange_server_ticket_holder(const ExchangeServer *s);

static inline void exchange_server_freep(ExchangeServer **s)
{
        exchange_server_free(*s);
}
