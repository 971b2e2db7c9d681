/* SPDX-License-Identifier: MIT */

#include "exchange-handler.h"
#include "macro.h"

struct ExchangeHandler {
        ExchangeFront *front;
        ExchangeBack *back;
};

ExchangeFrontOptions exchange_handler_front_options(const ExchangeHandlerOptions *o)
{
        return (ExchangeFrontOptions){
                .nonce_ttl_usec = o->nonce_ttl_usec,
                .nonce_capacity = o->nonce_capacity,
                .nonces_per_peer = o->nonces_per_peer,
                .fail_interval_usec = o->fail_interval_usec,
                .fail_burst = o->fail_burst,
                .fail_capacity = o->fail_capacity,
                .random = o->random,
        };
}

ExchangeBackOptions exchange_handler_back_options(const ExchangeHandlerOptions *o)
{
        return (ExchangeBackOptions){.ticket_ttl_usec = o->ticket_ttl_usec, .random = o->random};
}

static void on_back_answer(void *userdata, unsigned status, const char *body, size_t size)
{
        exchange_forward_done(userdata, status, body, size);
}

static void on_forward_abandoned(void *userdata)
{
        exchange_call_abandon(userdata);
}

static int forward_to_back(void *userdata, ExchangeForward *fw, ExchangeForwardKind kind, const char *peer,
                           const char *body, size_t size, uint64_t now)
{
        ExchangeHandler *h = userdata;
        ExchangeCall *call = NULL;

        switch (kind) {
        case EXCHANGE_FORWARD_STATUS:
                exchange_back_status(h->back, on_back_answer, fw);
                return 0;
        case EXCHANGE_FORWARD_EXCHANGE:
                exchange_back_process(h->back, peer, body, size, now, on_back_answer, fw, &call);
                if (call)
                        exchange_forward_on_abandon(fw, on_forward_abandoned, call);
                return 0;
        case _EXCHANGE_FORWARD_KIND_MAX:
        case _EXCHANGE_FORWARD_KIND_INVALID:
                break;
        }
        return -EINVAL;
}

int exchange_handler_new(const char *secret, const ExchangeHandlerOptions *o, const ExchangeProvider *p, void *userdata,
                         ExchangeHandler **ret)
{
        static const ExchangeHandlerOptions none = {};
        ExchangeFrontOptions fo;
        ExchangeBackOptions bo;
        ExchangeHandler *h;
        int r;

        o = o ?: &none;
        fo = exchange_handler_front_options(o);
        bo = exchange_handler_back_options(o);
        h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        r = exchange_back_new(secret, &bo, p, userdata, &h->back);
        if (r >= 0)
                r = exchange_front_new(&fo, forward_to_back, h, &h->front);
        if (r < 0) {
                exchange_handler_free(h);
                return r;
        }
        *ret = h;
        return 0;
}

ExchangeHandler *exchange_handler_free(ExchangeHandler *h)
{
        if (!h)
                return NULL;
        /* The front first: it abandons the calls its forwards still wait for. */
        exchange_front_free(h->front);
        exchange_back_free(h->back);
        free(h);
        return NULL;
}

void exchange_handler_process(ExchangeHandler *h, const ExchangeHttpRequest *req, uint64_t now, ExchangeRespond respond,
                              void *userdata, ExchangeForward **ret_pending)
{
        exchange_front_process(h->front, req, now, respond, userdata, ret_pending);
}

ExchangeFront *exchange_handler_front(ExchangeHandler *h)
{
        return h->front;
}

const char *exchange_handler_ticket_holder(const ExchangeHandler *h, uint64_t now)
{
        return exchange_back_ticket_holder(h->back, now);
}
