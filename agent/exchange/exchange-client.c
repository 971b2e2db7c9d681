/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "crypto.h"
#include "exchange-client.h"
#include "http-client.h"
#include "macro.h"

#define USEC_PER_SEC 1000000ULL

typedef enum CallKind {
        CALL_EXCHANGE,
        CALL_STATUS,
        _CALL_KIND_MAX,
} CallKind;

struct ExchangeClientCall {
        ExchangeClient *client;
        ExchangeClientCall *prev, *next;
        CallKind kind;
        char *base; /* "http://address:port" */
        ExchangeQuery query;
        ExchangeSession session;
        HttpTransfer *transfer;
        uint64_t deadline;
        ExchangeClientDone done;
        ExchangeStatusDone status_done;
        void *userdata;
};

struct ExchangeClient {
        sd_event *event;
        HttpClient *http;
        char *secret;
        char node[EXCHANGE_NODE_MAX + 1];
        ExchangeClientOptions o;
        char *source_address;
        ExchangeClientCall *calls;
};

int exchange_client_new(sd_event *event, const char *secret, const char *node, const ExchangeClientOptions *o,
                        ExchangeClient **ret)
{
        ExchangeClient *c;
        int r;

        if (!secret || !*secret || !exchange_node_valid(node))
                return -EINVAL;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        strcpy(c->node, node);
        c->o = o ? *o : (ExchangeClientOptions){};
        c->o.timeout_usec = c->o.timeout_usec ?: 10 * USEC_PER_SEC;
        c->secret = strdup(secret);
        c->source_address = c->o.source_address ? strdup(c->o.source_address) : NULL;
        c->o.source_address = c->source_address;
        r = c->secret && (c->source_address || !o || !o->source_address) ? 0 : -ENOMEM;
        if (r >= 0)
                r = http_client_new(event, &c->http);
        if (r < 0) {
                exchange_client_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

static void call_free(ExchangeClientCall *call)
{
        ExchangeClient *c = call->client;

        if (call->prev)
                call->prev->next = call->next;
        else
                c->calls = call->next;
        if (call->next)
                call->next->prev = call->prev;
        http_transfer_cancel(call->transfer);
        exchange_session_done(&call->session);
        free(call->base);
        free(call);
}

void exchange_client_call_cancel(ExchangeClientCall *call)
{
        if (call)
                call_free(call);
}

ExchangeClient *exchange_client_free(ExchangeClient *c)
{
        if (!c)
                return NULL;
        while (c->calls)
                call_free(c->calls);
        http_client_free(c->http);
        erase_and_free(c->secret);
        free(c->source_address);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

/* Frees the call, then reports (the callback may free the client). */
static void call_fail(ExchangeClientCall *call, int error)
{
        CallKind kind = call->kind;
        ExchangeClientDone done = call->done;
        ExchangeStatusDone status_done = call->status_done;
        void *userdata = call->userdata;

        call->transfer = NULL; /* finished: its callback is the one running */
        call_free(call);
        if (kind == CALL_STATUS)
                status_done(userdata, error, NULL);
        else
                done(userdata, error, NULL);
}

static int error_of_status(unsigned status)
{
        switch (status) {
        case 403:
                return -EACCES;
        case 409:
                return -EBUSY;
        case 429:
        case 503:
                return -EAGAIN;
        case 404:
        case 405:
        case 501:
                return -EOPNOTSUPP;
        case 500:
                return -EREMOTEIO;
        default:
                return -EPROTO;
        }
}

static int call_send(ExchangeClientCall *call, const char *method, const char *path, const char *body,
                     HttpClientDone done);

static void on_exchange(void *userdata, int error, unsigned status, const char *body, size_t size)
{
        ExchangeClientCall *call = userdata;
        ExchangeClientDone done = call->done;
        void *data = call->userdata;
        ExchangeAnswer a = {};
        int r;

        call->transfer = NULL;
        if (error < 0)
                return call_fail(call, error);
        if (status != 200)
                return call_fail(call, error_of_status(status));
        r = exchange_session_open(&call->session, body, size, &a);
        if (r < 0)
                return call_fail(call, r == -EBADMSG || r == -EPROTONOSUPPORT || r == -ENOMEM ? r : -EPROTO);
        call_free(call);
        done(data, 0, &a);
        exchange_answer_done(&a);
}

static void on_nonce(void *userdata, int error, unsigned status, const char *body, size_t size)
{
        ExchangeClientCall *call = userdata;
        ExchangeClient *c = call->client;
        uint8_t sn[EXCHANGE_NONCE_SIZE], cn[EXCHANGE_NONCE_SIZE];
        _cleanup_erase_free_ char *request = NULL;
        int r;

        call->transfer = NULL;
        if (error < 0)
                return call_fail(call, error);
        if (status != 200)
                return call_fail(call, error_of_status(status));
        r = exchange_nonce_from_json(body, size, sn);
        if (r < 0)
                return call_fail(call, r == -EPROTONOSUPPORT ? r : -EPROTO);
        r = crypto_random_bytes(cn, sizeof cn);
        if (r >= 0)
                r = exchange_session_init(&call->session, c->secret, c->node, &call->query, sn, cn);
        if (r >= 0)
                r = exchange_session_request(&call->session, &request);
        if (r >= 0)
                r = call_send(call, "POST", EXCHANGE_PATH_EXCHANGE, request, on_exchange);
        if (r < 0)
                return call_fail(call, r);
}

static void on_status(void *userdata, int error, unsigned status, const char *body, size_t size)
{
        ExchangeClientCall *call = userdata;
        ExchangeStatusDone done = call->status_done;
        void *data = call->userdata;
        ExchangeStatus st = {};
        int r;

        call->transfer = NULL;
        if (error < 0)
                return call_fail(call, error);
        if (status != 200)
                return call_fail(call, error_of_status(status));
        r = exchange_status_from_json(body, size, &st);
        if (r < 0)
                return call_fail(call, r == -EPROTONOSUPPORT || r == -ENOMEM ? r : -EPROTO);
        call_free(call);
        done(data, 0, &st);
        exchange_status_done(&st);
}

static int call_send(ExchangeClientCall *call, const char *method, const char *path, const char *body,
                     HttpClientDone done)
{
        ExchangeClient *c = call->client;
        _cleanup_free_ char *url = NULL;
        uint64_t now;
        int r;

        r = sd_event_now(c->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        if (now >= call->deadline)
                return -ETIMEDOUT;
        if (asprintf(&url, "%s%s", call->base, path) < 0)
                return -ENOMEM;
        return http_client_start(c->http,
                                 &(HttpClientRequest){
                                         .method = method,
                                         .url = url,
                                         .body = body,
                                         .body_size = body ? strlen(body) : 0,
                                         .timeout_usec = call->deadline - now,
                                         .max_response_size = EXCHANGE_ANSWER_MAX,
                                         .source_address = c->o.source_address,
                                         /* the nonce's connection carries the exchange */
                                         .keep_alive = done == on_nonce,
                                 },
                                 done, call, &call->transfer);
}

/* Host names and addresses only: nothing that could change the URL's meaning. */
static bool address_valid(const char *s)
{
        size_t n = strlen(s);

        return n > 0 && n <= 253 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") == n;
}

static int call_new(ExchangeClient *c, CallKind kind, const char *address, uint16_t port, void *userdata,
                    ExchangeClientCall **ret)
{
        ExchangeClientCall *call;
        uint64_t now;
        int r;

        if (!address_valid(address) || port == 0)
                return -EINVAL;
        r = sd_event_now(c->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        call = calloc(1, sizeof *call);
        if (!call)
                return -ENOMEM;
        call->client = c;
        call->kind = kind;
        call->userdata = userdata;
        call->deadline = now + c->o.timeout_usec;
        if (asprintf(&call->base, strchr(address, ':') ? "http://[%s]:%u" : "http://%s:%u", address, port) < 0) {
                free(call);
                return -ENOMEM;
        }
        call->next = c->calls;
        if (c->calls)
                c->calls->prev = call;
        c->calls = call;
        *ret = call;
        return 0;
}

int exchange_client_request(ExchangeClient *c, const char *address, uint16_t port, const ExchangeQuery *q,
                            ExchangeClientDone done, void *userdata, ExchangeClientCall **ret)
{
        ExchangeRequest check = {.version = EXCHANGE_VERSION, .op = q->op, .role = q->role, .result = q->result};
        ExchangeClientCall *call;
        int r;

        strcpy(check.node, c->node);
        if (exchange_request_check(&check) < 0)
                return -EINVAL;
        r = call_new(c, CALL_EXCHANGE, address, port, userdata, &call);
        if (r < 0)
                return r;
        call->query = *q;
        call->done = done;
        r = call_send(call, "POST", EXCHANGE_PATH_NONCE, NULL, on_nonce);
        if (r < 0) {
                call_free(call);
                return r;
        }
        if (ret)
                *ret = call;
        return 0;
}

int exchange_client_status(ExchangeClient *c, const char *address, uint16_t port, ExchangeStatusDone done,
                           void *userdata, ExchangeClientCall **ret)
{
        ExchangeClientCall *call;
        int r;

        r = call_new(c, CALL_STATUS, address, port, userdata, &call);
        if (r < 0)
                return r;
        call->status_done = done;
        r = call_send(call, "GET", EXCHANGE_PATH_STATUS, NULL, on_status);
        if (r < 0) {
                call_free(call);
                return r;
        }
        if (ret)
                *ret = call;
        return 0;
}
