/* SPDX-License-Identifier: MIT */
#pragma once

/* What an exchange server hands out comes from a provider: on a master, the masters/workers code with kubeadm
 * behind it (role-node-serve.c); in tests, the test provider (tests/lib/exchange-test-provider.h). The server
 * has already authenticated the requester (its node id is proven by the MAC) and serialised control-plane joins
 * when an operation reaches the provider.
 *
 * Every operation but status is asynchronous: it takes an ExchangeCall and either returns a negative errno at
 * once (the call is then answered with that error, and the provider must not touch it again), or returns 0
 * and completes the call exactly once, before or after returning, with one of the exchange_call_return_*()
 * functions. A call stays valid until it is completed, even if the client went away or the server was freed
 * meanwhile (the answer is then dropped). Strings passed in are borrowed for the duration of the op function
 * only; strings passed to exchange_call_return_*() are copied.
 *
 * Errors (returned, or passed to exchange_call_return_error()), and what the requester gets:
 *   -EAGAIN      not now, try again later: e.g. the control plane is not up yet, or kubeadm is busy (503)
 *   -EBUSY       refused while something else is in progress, e.g. this master is itself joining (409)
 *   -EOPNOTSUPP  this node does not serve that operation, e.g. a load balancer asked for join material (501)
 *   anything else: this node failed (e.g. kubeadm exited non-zero); the requester sees a bare 500, the detail
 *                stays in this node's journal.
 * An operation left NULL answers -EOPNOTSUPP. */

#include <stdbool.h>

#include "exchange-msg.h"
#include "exchange-proto.h"

typedef struct ExchangeCall ExchangeCall;

typedef struct ExchangeProvider {
        /* This node, for the unauthenticated status and as the "server" of every answer: node id, role, phase
         * (strings borrowed until the next call into the provider). Synchronous; must not fail. */
        void (*status)(void *userdata, ExchangeStatus *ret);

        /* Join material for node, joining as role (worker or control-plane). Complete with
         * exchange_call_return_join(); a certificate key is given for control-plane joins only. */
        int (*join)(void *userdata, ExchangeCall *call, const char *node, ExchangeRole role);

        /* node asks for this server's vote as the cluster's one initializer. Complete with
         * exchange_call_return_vote(); a refused vote is an answer, not an error, and may say why in a short
         * word ("voted-other", "cluster-exists"; [A-Za-z0-9._+~-], at most 63 characters). */
        int (*vote)(void *userdata, ExchangeCall *call, const char *node);

        /* The cluster CA certificate (PEM). Complete with exchange_call_return_ca(). */
        int (*ca)(void *userdata, ExchangeCall *call);

        /* node reports how its join as role went (its control-plane ticket is already released). Complete
         * with exchange_call_return_ok(). */
        int (*joined)(void *userdata, ExchangeCall *call, const char *node, ExchangeRole role, bool success);

        /* The cluster's admin kubeconfig (a credential for cluster-admin: only for requesters that proved the
         * cluster secret, as every operation's). Complete with exchange_call_return_kubeconfig(). */
        int (*kubeconfig)(void *userdata, ExchangeCall *call);

        /* node waits for this server to be ready (to hand out join material): complete with
         * exchange_call_return_ready() once it is, at once if it is already; or with -EAGAIN when it has waited
         * long enough (the client asks again). A call still waiting when the connection's deadline comes is
         * abandoned by the server (503), like any other. */
        int (*ready)(void *userdata, ExchangeCall *call, const char *node);
} ExchangeProvider;

void exchange_call_return_join(ExchangeCall *call, const ExchangeJoinMaterial *m);
void exchange_call_return_vote(ExchangeCall *call, bool granted, const char *refusal);
void exchange_call_return_ca(ExchangeCall *call, const char *pem);
void exchange_call_return_kubeconfig(ExchangeCall *call, const char *kubeconfig);
void exchange_call_return_ok(ExchangeCall *call);
void exchange_call_return_ready(ExchangeCall *call);
void exchange_call_return_error(ExchangeCall *call, int error);

/* The operation and requester of a call, for providers that keep calls in a queue. */
ExchangeOp exchange_call_get_op(const ExchangeCall *call);
const char *exchange_call_get_node(const ExchangeCall *call);
/* The requester's address, for the log only: in two processes it is what the exchange worker reports. */
const char *exchange_call_get_peer(const ExchangeCall *call);
