/* SPDX-License-Identifier: MIT */

#include <netinet/in.h>

#include "crypto.h"
#include "exchange-front.h"
#include "exchange-msg.h"
#include "fail-limit.h"
#include "log.h"
#include "nonce-store.h"

#define USEC_PER_SEC 1000000ULL

struct ExchangeForward {
        ExchangeFront *front;
        ExchangeForward *prev, *next;
        char peer[INET6_ADDRSTRLEN];
        uint64_t when;
        ExchangeRespond respond;
        void *userdata;
        void (*hook)(void *userdata);
        void *hook_userdata;
};

struct ExchangeFront {
        ExchangeForwardFunc forward;
        void *userdata;
        int (*random)(void *buf, size_t size);
        NonceStore *nonces;
        FailLimit *fails;
        ExchangeForward *pending;   /* forwards the back answers later */
        ExchangeForward *in_flight; /* the forward being handed over right now */
};

static const char *const kind_table[_EXCHANGE_FORWARD_KIND_MAX] = {
        [EXCHANGE_FORWARD_STATUS] = "status",
        [EXCHANGE_FORWARD_EXCHANGE] = "exchange",
};

const char *exchange_forward_kind_to_string(ExchangeForwardKind k)
{
        return k >= 0 && k < _EXCHANGE_FORWARD_KIND_MAX ? kind_table[k] : NULL;
}

ExchangeForwardKind exchange_forward_kind_from_string(const char *s)
{
        for (ExchangeForwardKind k = 0; k < _EXCHANGE_FORWARD_KIND_MAX; k++)
                if (s && streq(s, kind_table[k]))
                        return k;
        return _EXCHANGE_FORWARD_KIND_INVALID;
}

int exchange_front_new(const ExchangeFrontOptions *o, ExchangeForwardFunc forward, void *userdata, ExchangeFront **ret)
{
        static const ExchangeFrontOptions none = {};
        ExchangeFront *f;
        int r;

        o = o ?: &none;
        if (!forward)
                return -EINVAL;
        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->forward = forward;
        f->userdata = userdata;
        f->random = o->random ?: crypto_random_bytes;
        r = nonce_store_new(o->nonce_capacity ?: 1024, o->nonces_per_peer ?: 4, o->nonce_ttl_usec ?: 30 * USEC_PER_SEC,
                            &f->nonces);
        if (r >= 0)
                r = fail_limit_new(o->fail_capacity ?: 1024, o->fail_interval_usec ?: USEC_PER_SEC, o->fail_burst ?: 10,
                                   &f->fails);
        if (r < 0) {
                exchange_front_free(f);
                return r;
        }
        *ret = f;
        return 0;
}

static void forward_free(ExchangeForward *fw)
{
        ExchangeFront *f = fw->front;

        if (f->in_flight == fw)
                f->in_flight = NULL;
        if (fw->prev)
                fw->prev->next = fw->next;
        else if (f->pending == fw)
                f->pending = fw->next;
        if (fw->next)
                fw->next->prev = fw->prev;
        free(fw);
}

void exchange_forward_abandon(ExchangeForward *fw)
{
        void (*hook)(void *) = fw->hook;

        if (hook)
                hook(fw->hook_userdata);
        forward_free(fw);
}

ExchangeFront *exchange_front_free(ExchangeFront *f)
{
        if (!f)
                return NULL;
        while (f->pending)
                exchange_forward_abandon(f->pending);
        nonce_store_free(f->nonces);
        fail_limit_free(f->fails);
        free(f);
        return NULL;
}

static void respond_empty(ExchangeRespond respond, void *userdata, unsigned status)
{
        respond(userdata, status, "", 0);
}

/* Method and path are the client's: into the log only if short and printable. */
static const char *printable(const char *s)
{
        size_t n = strlen(s);

        if (n > 64)
                return "(long)";
        for (size_t i = 0; i < n; i++)
                if (s[i] < 0x20 || s[i] > 0x7e)
                        return "(unprintable)";
        return s;
}

static void record_failure(ExchangeFront *f, const char *peer, uint64_t now)
{
        if (fail_limit_record(f->fails, peer, now))
                log_struct(LOG_WARNING, 0, LOG_FIELDS("PIAGENT_PEER", peer),
                           "Exchange: too many failed requests from %s, turning it away for a while", peer);
}

/* A request that a well-behaved client never sends: answered plainly, counted against its address. */
static void reject(ExchangeFront *f, const ExchangeHttpRequest *req, uint64_t now, unsigned status, const char *why,
                   ExchangeRespond respond, void *userdata)
{
        log_debug("Exchange: %s %s from %s: %s (%u)", printable(req->method), printable(req->path), req->peer, why,
                  status);
        record_failure(f, req->peer, now);
        respond_empty(respond, userdata, status);
}

void exchange_forward_done(ExchangeForward *fw, unsigned status, const char *body, size_t size)
{
        if (status >= 400 && status <= 405)
                record_failure(fw->front, fw->peer, fw->when);
        fw->respond(fw->userdata, status, body, size);
        forward_free(fw);
}

void exchange_forward_on_abandon(ExchangeForward *fw, void (*hook)(void *userdata), void *userdata)
{
        fw->hook = hook;
        fw->hook_userdata = userdata;
}

static ExchangeForward *forward(ExchangeFront *f, ExchangeForwardKind kind, const ExchangeHttpRequest *req,
                                uint64_t now, ExchangeRespond respond, void *userdata)
{
        ExchangeForward *fw = calloc(1, sizeof *fw);
        int r;

        if (!fw) {
                respond_empty(respond, userdata, 500);
                return NULL;
        }
        *fw = (ExchangeForward){.front = f, .when = now, .respond = respond, .userdata = userdata};
        strncpy(fw->peer, req->peer, sizeof fw->peer - 1);
        fw->next = f->pending;
        if (f->pending)
                f->pending->prev = fw;
        f->pending = fw;

        f->in_flight = fw;
        r = f->forward(f->userdata, fw, kind, req->peer, req->body, req->body_size, now);
        if (f->in_flight != fw)
                return NULL; /* answered already */
        f->in_flight = NULL;
        if (r < 0) {
                forward_free(fw);
                respond_empty(respond, userdata, 500);
                return NULL;
        }
        return fw;
}

static ExchangeForward *process_exchange(ExchangeFront *f, const ExchangeHttpRequest *req, uint64_t now,
                                         ExchangeRespond respond, void *userdata)
{
        ExchangeRequest r = {};
        int k;

        k = exchange_request_from_json(req->body, req->body_size, &r);
        if (k < 0) {
                reject(f, req, now, 400, "malformed request", respond, userdata);
                return NULL;
        }
        /* The nonce is spent by any attempt from its peer, so each one buys a single MAC check. */
        k = nonce_store_take(f->nonces, r.server_nonce, req->peer, now);
        erase(&r, sizeof r);
        if (k < 0) {
                reject(f, req, now, 403, "bad nonce", respond, userdata);
                return NULL;
        }
        return forward(f, EXCHANGE_FORWARD_EXCHANGE, req, now, respond, userdata);
}

static void process_nonce(ExchangeFront *f, const ExchangeHttpRequest *req, uint64_t now, ExchangeRespond respond,
                          void *userdata)
{
        uint8_t nonce[EXCHANGE_NONCE_SIZE];
        _cleanup_free_ char *body = NULL;
        int r;

        if (req->body_size > 0)
                return reject(f, req, now, 400, "body in a nonce request", respond, userdata);
        r = f->random(nonce, sizeof nonce);
        if (r >= 0)
                r = nonce_store_add(f->nonces, nonce, req->peer, now);
        if (r >= 0)
                r = exchange_nonce_to_json(nonce, &body);
        if (r < 0)
                return respond_empty(respond, userdata, 500);
        respond(userdata, 200, body, strlen(body));
}

void exchange_front_process(ExchangeFront *f, const ExchangeHttpRequest *req, uint64_t now, ExchangeRespond respond,
                            void *userdata, ExchangeForward **ret_pending)
{
        const char *want = NULL;

        *ret_pending = NULL;
        if (fail_limit_blocked(f->fails, req->peer, now))
                return respond_empty(respond, userdata, 429);

        if (streq(req->path, EXCHANGE_PATH_STATUS))
                want = "GET";
        else if (streq(req->path, EXCHANGE_PATH_NONCE) || streq(req->path, EXCHANGE_PATH_EXCHANGE))
                want = "POST";
        if (!want)
                return reject(f, req, now, 404, "unknown path", respond, userdata);
        if (!streq(req->method, want))
                return reject(f, req, now, 405, "wrong method", respond, userdata);

        if (streq(req->path, EXCHANGE_PATH_STATUS))
                *ret_pending = forward(f, EXCHANGE_FORWARD_STATUS, req, now, respond, userdata);
        else if (streq(req->path, EXCHANGE_PATH_NONCE))
                process_nonce(f, req, now, respond, userdata);
        else
                *ret_pending = process_exchange(f, req, now, respond, userdata);
}
