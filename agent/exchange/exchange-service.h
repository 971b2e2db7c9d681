/* SPDX-License-Identifier: MIT */
#pragma once

/* What a master serves over the exchange, as the root daemon runs it: either in this process (the HTTP server,
 * the front and the back together: a developer's run, tests), or split (docs/security.md): the network-facing
 * half (libmicrohttpd, the nonce store, the failure limit, the parsing) in the unprivileged, sandboxed
 * piagent-exchange.service, which this process starts and stops through systemd, and the half that holds the
 * secret and reaches the provider (kubeadm) here. The worker connects to a socket of ours; only a process of
 * that unit is accepted (its control group, through sd-login). A worker that dies is restarted by systemd and
 * connects again; requests meanwhile are refused by the kernel (nothing listens), and clients retry. */

#include <systemd/sd-event.h>

#include "bus.h"
#include "exchange-server.h"

#define EXCHANGE_UNIT "piagent-exchange.service"

typedef struct ExchangeService ExchangeService;

typedef struct ExchangeServiceOptions {
        ExchangeServerOptions server; /* address, port, limits */
        Bus *bus;                     /* NULL: serve in this process; else split, the worker's unit started here */
        const char *unit;             /* NULL: EXCHANGE_UNIT */
        const char *socket_path;      /* where the worker connects (required when split) */
} ExchangeServiceOptions;

/* secret: the cluster secret (copied, wiped on free). The provider and its userdata must outlive the service.
 * Split: returns once listening for the worker and its start is under way (its outcome goes to the journal). */
int exchange_service_new(sd_event *e, const char *secret, const ExchangeServiceOptions *o, const ExchangeProvider *p,
                         void *userdata, ExchangeService **ret);
/* Split: the worker is told to go (its link closes) and its unit is stopped. */
ExchangeService *exchange_service_free(ExchangeService *s);
