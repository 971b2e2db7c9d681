/* SPDX-License-Identifier: MIT */
#pragma once

/* The two ends of the link between the exchange's halves when they run in two processes (exchange-ipc.h over
 * ipc-link.h):
 *   - the back's end, in the root daemon: tells the worker where to listen, answers its forwarded requests
 *     with the back (exchange-back.h), and drops the calls of clients that went away;
 *   - the worker's end, in the unprivileged piagent-exchange.service: listens where it is told (the HTTP server
 *     and the front, exchange-server.h) and forwards every request that passes the front.
 * On the event loop. Neither end trusts the other's datagrams: one that does not decode closes the link. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "exchange-back.h"
#include "exchange-server.h"

#define EXCHANGE_LINK_PENDING_MAX 256 /* requests the back holds for one worker; more get 503 */

typedef struct ExchangeBackLink ExchangeBackLink;
typedef struct ExchangeWorker ExchangeWorker;

/* The worker listens (error 0, port) or could not (error < 0); or the link closed (closed true, error 0 when
 * the worker hung up). The link must then be freed (it may be, inside). */
typedef void (*ExchangeLinkEvent)(void *userdata, bool closed, int error, uint16_t port);

/* fd: connected to a worker (taken over). Sends it the address (NULL: any) and port to listen on. back must
 * outlive the link. */
int exchange_back_link_new(sd_event *e, int fd, ExchangeBack *back, const char *address, uint16_t port,
                           ExchangeLinkEvent event, void *userdata, ExchangeBackLink **ret);
/* Calls still with the provider are abandoned. */
ExchangeBackLink *exchange_back_link_free(ExchangeBackLink *l);
int exchange_back_link_peer_pid(ExchangeBackLink *l, pid_t *ret);
/* Requests of the worker that the back has not answered yet. */
unsigned exchange_back_link_pending(const ExchangeBackLink *l);

/* fd: connected to the root daemon (taken over). o: the server's limits (address and port come from the
 * root). event reports listening (closed false) and the end of the link (closed true: the root went away, or
 * the link broke). */
int exchange_worker_new(sd_event *e, int fd, const ExchangeServerOptions *o, ExchangeLinkEvent event, void *userdata,
                        ExchangeWorker **ret);
ExchangeWorker *exchange_worker_free(ExchangeWorker *w);
/* For tests: the port the worker's server listens on (0 before it listens). */
uint16_t exchange_worker_get_port(const ExchangeWorker *w);
