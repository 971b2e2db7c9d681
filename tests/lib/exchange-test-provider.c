/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "crypto.h"
#include "exchange-test-provider.h"
#include "log.h"
#include "macro.h"
#include "phase.h"
#include "secret.h"

/* The admin kubeconfig's shape and size as kubeadm writes it: a CA and a client certificate (~1.5 KB of base64
 * each) and the client's RSA-2048 key (~2.2 KB), 5.7 KB in all. Filler, not credentials. */
#define B64_100 "TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2sxSlNVTXZWRU5EUVdWWFowRjNTVUpCWjBsQ1FVUkJUa0ppYTNGb2"
#define B64_500 B64_100 B64_100 B64_100 B64_100 B64_100
const char exchange_test_kubeconfig[] =
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: " B64_500 B64_500 B64_500
        "\n    server: https://10.77.0.240:9000\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n"
        "    user: kubernetes-admin\n  name: kubernetes-admin@kubernetes\ncurrent-context: "
        "kubernetes-admin@kubernetes\n"
        "kind: Config\npreferences: {}\nusers:\n- name: kubernetes-admin\n  user:\n    "
        "client-certificate-data: " B64_500 B64_500 B64_500
        "\n    client-key-data: " B64_500 B64_500 B64_500 B64_500 B64_100 B64_100 "\n";

/* A self-signed P-256 certificate made for these tests (openssl req -x509 -newkey ec, CN=kubernetes). */
const char exchange_test_ca_pem[] = "-----BEGIN CERTIFICATE-----\n"
                                    "MIIBgTCCASegAwIBAgIUJxlVcHgSiD37jafnyLrU9eAiXKowCgYIKoZIzj0EAwIw\n"
                                    "FTETMBEGA1UEAwwKa3ViZXJuZXRlczAgFw0yNjExMjcwMTU0MTVaGA8yMTI2MTEw\n"
                                    "MzAxNTQxNVowFTETMBEGA1UEAwwKa3ViZXJuZXRlczBZMBMGByqGSM49AgEGCCqG\n"
                                    "SM49AwEHA0IABFY9h9FA6d9kpeF7VToHrG/Os32XADxi3zPiyTyCvoVZW1KMSvLm\n"
                                    "v6GDNK7dguwR14oHJlDkp2aYQPf5cx5a+p6jUzBRMB0GA1UdDgQWBBRVU0ZNsfiI\n"
                                    "O0GiTPWKVDPtU4dH9zAfBgNVHSMEGDAWgBRVU0ZNsfiIO0GiTPWKVDPtU4dH9zAP\n"
                                    "BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDnCKz5+F0iOv7QN2LB\n"
                                    "l5aYSD7b3aqF4h3yRxMVF2SoAQIgUQcuxFQHwXgMihjwGOsJgJYZHVzhb8f0SxvQ\n"
                                    "dgtIpdQ=\n"
                                    "-----END CERTIFICATE-----\n";
/* openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum */
const char exchange_test_ca_hash[] = "sha256:a826d25a43ab2fde0414e73ba531348ed83760cd953052818239967624757d91";

typedef struct TestCall {
        ExchangeTestProvider *provider;
        struct TestCall *next;
        ExchangeCall *call;
        sd_event_source *timer;
        ExchangeRole role;
        bool success;
        char node[EXCHANGE_NODE_MAX + 1];
} TestCall;

static void status(void *userdata, ExchangeStatus *ret)
{
        ExchangeTestProvider *p = userdata;

        *ret = (ExchangeStatus){.node = p->node, .role = p->role, .phase = p->phase};
}

/* Random characters from set, for tokens and keys that look like kubeadm's. */
static int random_text(char *out, size_t n, const char *set)
{
        uint8_t raw[64];
        size_t m = strlen(set);
        int r;

        if (n > sizeof raw)
                return -EINVAL;
        r = crypto_random_bytes(raw, n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                out[i] = set[raw[i] % m];
        out[n] = 0;
        erase(raw, sizeof raw);
        return 0;
}

static void answer_join(ExchangeTestProvider *p, ExchangeCall *call, ExchangeRole role)
{
        char token[24], key[65];
        int r;

        r = random_text(token, 6, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (r >= 0) {
                token[6] = '.';
                r = random_text(token + 7, 16, "abcdefghijklmnopqrstuvwxyz0123456789");
        }
        if (r >= 0)
                r = random_text(key, 64, "0123456789abcdef");
        if (r < 0)
                return exchange_call_return_error(call, r);
        memcpy(p->last_token, token, sizeof token);
        exchange_call_return_join(call, &(ExchangeJoinMaterial){
                                                .endpoint = EXCHANGE_TEST_ENDPOINT,
                                                .token = token,
                                                .ca_cert_hash = exchange_test_ca_hash,
                                                .certificate_key = role == EXCHANGE_ROLE_CONTROL_PLANE ? key : NULL,
                                        });
        erase(token, sizeof token);
        erase(key, sizeof key);
}

static void answer(ExchangeTestProvider *p, TestCall *t)
{
        ExchangeCall *call = t->call;

        if (p->fail != 0)
                return exchange_call_return_error(call, p->fail);
        switch (exchange_call_get_op(call)) {
        case EXCHANGE_OP_JOIN:
                return answer_join(p, call, t->role);
        case EXCHANGE_OP_VOTE:
                if (!p->voted_for[0])
                        strcpy(p->voted_for, t->node);
                return exchange_call_return_vote(call, streq(p->voted_for, t->node), "voted-other");
        case EXCHANGE_OP_CA:
                return exchange_call_return_ca(call, exchange_test_ca_pem);
        case EXCHANGE_OP_JOINED:
                return exchange_call_return_ok(call);
        case EXCHANGE_OP_KUBECONFIG:
                return exchange_call_return_kubeconfig(call, exchange_test_kubeconfig);
        case EXCHANGE_OP_READY:
                return exchange_call_return_ready(call);
        case _EXCHANGE_OP_MAX:
        case _EXCHANGE_OP_INVALID:
                break;
        }
        exchange_call_return_error(call, -EINVAL);
}

static void test_call_unlink_free(TestCall *t)
{
        ExchangeTestProvider *p = t->provider;

        for (TestCall **i = &p->calls; *i; i = &(*i)->next)
                if (*i == t) {
                        *i = t->next;
                        break;
                }
        sd_event_source_disable_unref(t->timer);
        free(t);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        TestCall *t = userdata;
        ExchangeTestProvider *p = t->provider;
        TestCall copy = *t;

        test_call_unlink_free(t);
        answer(p, &copy);
        return 0;
}

/* Answers now, or queues the call for a timer or a release. */
static int take(ExchangeTestProvider *p, ExchangeCall *call, const char *node, ExchangeRole role, bool success)
{
        TestCall t = {.provider = p, .call = call, .role = role, .success = success}, *q;
        int r;

        snprintf(t.node, sizeof t.node, "%s", node);
        if (!p->hold && p->delay_usec == 0) {
                answer(p, &t);
                return 0;
        }
        q = malloc(sizeof *q);
        if (!q)
                return -ENOMEM;
        *q = t;
        if (!p->hold) {
                r = sd_event_add_time_relative(p->event, &q->timer, CLOCK_MONOTONIC, p->delay_usec, 1, on_timer, q);
                if (r < 0) {
                        free(q);
                        return r;
                }
        }
        q->next = p->calls;
        p->calls = q;
        return 0;
}

static int join(void *userdata, ExchangeCall *call, const char *node, ExchangeRole role)
{
        ExchangeTestProvider *p = userdata;

        p->n_join++;
        return take(p, call, node, role, false);
}

static int vote(void *userdata, ExchangeCall *call, const char *node)
{
        ExchangeTestProvider *p = userdata;

        p->n_vote++;
        return take(p, call, node, EXCHANGE_ROLE_NONE, false);
}

static int ca(void *userdata, ExchangeCall *call)
{
        ExchangeTestProvider *p = userdata;

        p->n_ca++;
        return take(p, call, exchange_call_get_node(call), EXCHANGE_ROLE_NONE, false);
}

static int kubeconfig(void *userdata, ExchangeCall *call)
{
        ExchangeTestProvider *p = userdata;

        p->n_kubeconfig++;
        return take(p, call, exchange_call_get_node(call), EXCHANGE_ROLE_NONE, false);
}

static int joined(void *userdata, ExchangeCall *call, const char *node, ExchangeRole role, bool success)
{
        ExchangeTestProvider *p = userdata;

        p->n_joined++;
        p->n_joined_ok += success;
        return take(p, call, node, role, success);
}

static int ready(void *userdata, ExchangeCall *call, const char *node)
{
        ExchangeTestProvider *p = userdata;

        p->n_ready++;
        return take(p, call, node, EXCHANGE_ROLE_NONE, false);
}

const ExchangeProvider exchange_test_provider_ops = {
        .status = status,
        .join = join,
        .vote = vote,
        .ca = ca,
        .kubeconfig = kubeconfig,
        .joined = joined,
        .ready = ready,
};

int exchange_test_provider_new(sd_event *event, const char *node, ExchangeTestProvider **ret)
{
        ExchangeTestProvider *p;

        if (!exchange_node_valid(node))
                return -EINVAL;
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->event = event ? sd_event_ref(event) : NULL;
        strcpy(p->node, node);
        p->role = "master";
        p->phase = phase_to_string(PHASE_READY);
        *ret = p;
        return 0;
}

unsigned exchange_test_provider_release(ExchangeTestProvider *p)
{
        unsigned n = 0;

        while (p->calls) {
                TestCall copy = *p->calls;
                test_call_unlink_free(p->calls);
                answer(p, &copy);
                n++;
        }
        return n;
}

unsigned exchange_test_provider_pending(const ExchangeTestProvider *p)
{
        unsigned n = 0;

        for (const TestCall *t = p->calls; t; t = t->next)
                n++;
        return n;
}

ExchangeTestProvider *exchange_test_provider_free(ExchangeTestProvider *p)
{
        if (!p)
                return NULL;
        while (p->calls) {
                ExchangeCall *call = p->calls->call;
                test_call_unlink_free(p->calls);
                exchange_call_return_error(call, -ECANCELED);
        }
        sd_event_unref(p->event);
        free(p);
        return NULL;
}
