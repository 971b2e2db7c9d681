/* SPDX-License-Identifier: MIT */
#pragma once

/* A provider for the tests, the fuzzer, the benchmark and tests/tools/exchange-test-server (test-only code: the
 * daemon does not contain it): well-formed but fake join material (a fresh random token and certificate key
 * per join, a fixed test CA), the first candidate gets the vote, and behaviour a test can steer: answer at
 * once or after a delay, fail, or hold calls until released. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "exchange-provider.h"

#define EXCHANGE_TEST_ENDPOINT "192.0.2.240:9000"
extern const char exchange_test_ca_pem[];
/* What the test provider hands out as the admin kubeconfig (a stand-in, not a credential). */
extern const char exchange_test_kubeconfig[];
extern const char exchange_test_ca_hash[]; /* "sha256:…" of the test CA's public key, as kubeadm computes it */

typedef struct ExchangeTestProvider {
        sd_event *event;     /* for delayed answers */
        uint64_t delay_usec; /* 0: answer before the op function returns */
        int fail;            /* non-zero: every operation fails with this negative errno */
        bool hold;           /* keep calls until exchange_test_provider_release() */

        char node[EXCHANGE_NODE_MAX + 1]; /* the status of this "server" */
        const char *role;
        const char *phase;

        char voted_for[EXCHANGE_NODE_MAX + 1];
        unsigned n_join, n_vote, n_ca, n_joined, n_joined_ok, n_kubeconfig, n_ready; /* operations seen */
        char last_token[24];                                                         /* the token handed out last */

        struct TestCall *calls; /* delayed or held */
} ExchangeTestProvider;

extern const ExchangeProvider exchange_test_provider_ops;

/* event may be NULL when answers are never delayed. */
int exchange_test_provider_new(sd_event *event, const char *node, ExchangeTestProvider **ret);
/* Calls still delayed or held are answered with -ECANCELED. */
ExchangeTestProvider *exchange_test_provider_free(ExchangeTestProvider *p);
/* Answers every held call now. Returns how many there were. */
unsigned exchange_test_provider_release(ExchangeTestProvider *p);
unsigned exchange_test_provider_pending(const ExchangeTestProvider *p);

static inline void exchange_test_provider_freep(ExchangeTestProvider **p)
{
        exchange_test_provider_free(*p);
}
