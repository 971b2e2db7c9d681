/* SPDX-License-Identifier: MIT */

#include <netinet/in.h>

#include "crypto.h"
#include "exchange-handler.h"
#include "exchange-ticket.h"
#include "fail-limit.h"
#include "log.h"
#include "nonce-store.h"
#include "version.h"

#define USEC_PER_SEC 1000000ULL

struct ExchangeCall {
        ExchangeHandler *handler; /* NULL once the handler is gone */
        ExchangeCall *prev, *next;
        ExchangeRequest request;
        uint8_t key[EXCHANGE_KEY_SIZE]; /* seals the answer */
        char peer[INET6_ADDRSTRLEN];
        ExchangeRespond respond; /* NULL once abandoned */
        void *userdata;
        bool holds_ticket; /* a control-plane join that took the ticket: released if it fails */
};

struct ExchangeHandler {
        char *secret;
        uint8_t mac_key[EXCHANGE_KEY_SIZE];
        const ExchangeProvider *provider;
        void *userdata;
        int (*random)(void *buf, size_t size);

        NonceStore *nonces;
        FailLimit *fails;
        ExchangeTicket ticket;
        uint64_t ticket_ttl;

        ExchangeCall *calls;     /* every call the provider has not completed yet */
        ExchangeCall *in_flight; /* the call being handed to the provider right now */
};

int exchange_handler_new(const char *secret, const ExchangeHandlerOptions *o, const ExchangeProvider *p, void *userdata,
                         ExchangeHandler **ret)
{
        static const ExchangeHandlerOptions none = {};
        ExchangeHandler *h;
        int r;

        o = o ?: &none;
        if (!secret || !*secret || !p || !p->status)
                return -EINVAL;
        h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        h->provider = p;
        h->userdata = userdata;
        h->random = o->random ?: crypto_random_bytes;
        h->ticket_ttl = o->ticket_ttl_usec ?: 15 * 60 * USEC_PER_SEC;
        h->secret = strdup(secret);
        r = h->secret ? 0 : -ENOMEM;
        if (r >= 0)
                r = exchange_mac_key(secret, h->mac_key);
        if (r >= 0)
                r = nonce_store_new(o->nonce_capacity ?: 1024, o->nonces_per_peer ?: 4,
                                    o->nonce_ttl_usec ?: 30 * USEC_PER_SEC, &h->nonces);
        if (r >= 0)
                r = fail_limit_new(o->fail_capacity ?: 1024, o->fail_interval_usec ?: USEC_PER_SEC, o->fail_burst ?: 10,
                                   &h->fails);
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
        /* Calls still with the provider live on until it completes them; their answers go nowhere. */
        for (ExchangeCall *c = h->calls; c; c = c->next)
                c->handler = NULL;
        erase_and_free(h->secret);
        erase(h->mac_key, sizeof h->mac_key);
        nonce_store_free(h->nonces);
        fail_limit_free(h->fails);
        free(h);
        return NULL;
}

const char *exchange_handler_ticket_holder(const ExchangeHandler *h, uint64_t now)
{
        return exchange_ticket_holder(&h->ticket, now);
}

ExchangeOp exchange_call_get_op(const ExchangeCall *call)
{
        return call->request.op;
}

const char *exchange_call_get_node(const ExchangeCall *call)
{
        return call->request.node;
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

/* A request that a well-behaved client never sends: answered plainly, counted against its address. */
static void reject(ExchangeHandler *h, const ExchangeHttpRequest *req, uint64_t now, unsigned status, const char *why,
                   ExchangeRespond respond, void *userdata)
{
        log_debug("Exchange: %s %s from %s: %s (%u)", printable(req->method), printable(req->path), req->peer, why,
                  status);
        if (fail_limit_record(h->fails, req->peer, now))
                log_struct(LOG_WARNING, 0, LOG_FIELDS("PIAGENT_PEER", req->peer),
                           "Exchange: too many failed requests from %s, turning it away for a while", req->peer);
        respond_empty(respond, userdata, status);
}

static void call_free(ExchangeCall *c)
{
        ExchangeHandler *h = c->handler;

        if (h) {
                if (h->in_flight == c)
                        h->in_flight = NULL;
                if (c->prev)
                        c->prev->next = c->next;
                else
                        h->calls = c->next;
                if (c->next)
                        c->next->prev = c->prev;
        }
        erase(c, sizeof *c);
        free(c);
}

static void call_finish(ExchangeCall *c, unsigned status, const char *body, size_t size)
{
        if (c->respond)
                c->respond(c->userdata, status, body, size);
        call_free(c);
}

void exchange_call_abandon(ExchangeCall *call)
{
        if (call)
                call->respond = NULL;
}

static unsigned status_of_error(int error)
{
        switch (error) {
        case -EAGAIN:
                return 503;
        case -EBUSY:
                return 409;
        case -EOPNOTSUPP:
                return 501;
        default:
                return 500;
        }
}

void exchange_call_return_error(ExchangeCall *call, int error)
{
        ExchangeHandler *h = call->handler;

        if (h && call->holds_ticket)
                (void)exchange_ticket_release(&h->ticket, call->request.node, 0);
        log_debug_errno(error, "Exchange: %s for %s failed: %m", exchange_op_to_string(call->request.op),
                        call->request.node);
        call_finish(call, status_of_error(error), "", 0);
}

/* Seals answer a for the call's request and finishes the call with it. */
static void call_seal(ExchangeCall *call, ExchangeAnswer *a)
{
        ExchangeHandler *h = call->handler;
        _cleanup_erase_free_ char *plain = NULL;
        _cleanup_free_ char *hex = NULL, *body = NULL;
        uint8_t iv[EXCHANGE_IV_SIZE];
        ExchangeStatus st = {};
        int r;

        if (!h || !call->respond)
                return call_free(call);
        h->provider->status(h->userdata, &st);
        a->server = st.node;
        r = exchange_answer_to_json(a, call->request.role, &plain);
        if (r < 0) {
                log_error_errno(r, "Exchange: the %s answer for %s is invalid, refusing it: %m",
                                exchange_op_to_string(a->op), call->request.node);
                return call_finish(call, 500, "", 0);
        }
        r = h->random(iv, sizeof iv);
        if (r >= 0)
                r = exchange_seal(call->key, iv, &call->request, plain, strlen(plain), &hex);
        if (r >= 0)
                r = exchange_sealed_to_json(hex, &body);
        if (r < 0)
                return exchange_call_return_error(call, r);
        call_finish(call, 200, body, strlen(body));
}

static bool call_expects(ExchangeCall *call, ExchangeOp op)
{
        if (call->request.op == op)
                return true;
        log_error("Exchange: the provider answered a %s call as %s", exchange_op_to_string(call->request.op),
                  exchange_op_to_string(op));
        exchange_call_return_error(call, -EINVAL);
        return false;
}

void exchange_call_return_join(ExchangeCall *call, const ExchangeJoinMaterial *m)
{
        if (call_expects(call, EXCHANGE_OP_JOIN))
                call_seal(call, &(ExchangeAnswer){.op = EXCHANGE_OP_JOIN, .join = *m});
}

void exchange_call_return_vote(ExchangeCall *call, bool granted, const char *refusal)
{
        if (call_expects(call, EXCHANGE_OP_VOTE))
                call_seal(call, &(ExchangeAnswer){.op = EXCHANGE_OP_VOTE,
                                                  .granted = granted,
                                                  .refusal = granted ? NULL : refusal});
}

void exchange_call_return_ca(ExchangeCall *call, const char *pem)
{
        if (call_expects(call, EXCHANGE_OP_CA))
                call_seal(call, &(ExchangeAnswer){.op = EXCHANGE_OP_CA, .ca = pem});
}

void exchange_call_return_ok(ExchangeCall *call)
{
        if (call_expects(call, EXCHANGE_OP_JOINED))
                call_seal(call, &(ExchangeAnswer){.op = EXCHANGE_OP_JOINED});
}

static int call_new(ExchangeHandler *h, const ExchangeRequest *req, const char *peer, ExchangeRespond respond,
                    void *userdata, ExchangeCall **ret)
{
        ExchangeCall *c;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        r = exchange_answer_key(h->secret, req->server_nonce, req->client_nonce, c->key);
        if (r < 0) {
                free(c);
                return r;
        }
        c->handler = h;
        c->request = *req;
        strncpy(c->peer, peer, sizeof c->peer - 1);
        c->respond = respond;
        c->userdata = userdata;
        c->next = h->calls;
        if (h->calls)
                h->calls->prev = c;
        h->calls = c;
        *ret = c;
        return 0;
}

/* Hands the call to the provider. Returns the call if it is still running afterwards. */
static ExchangeCall *dispatch(ExchangeHandler *h, ExchangeCall *call, uint64_t now)
{
        const ExchangeProvider *p = h->provider;
        const ExchangeRequest *req = &call->request;
        int r = -EOPNOTSUPP;

        h->in_flight = call;
        switch (req->op) {
        case EXCHANGE_OP_JOIN:
                if (req->role == EXCHANGE_ROLE_CONTROL_PLANE) {
                        r = exchange_ticket_acquire(&h->ticket, req->node, now, h->ticket_ttl);
                        if (r < 0)
                                break;
                        call->holds_ticket = true;
                }
                r = p->join ? p->join(h->userdata, call, req->node, req->role) : -EOPNOTSUPP;
                break;
        case EXCHANGE_OP_VOTE:
                r = p->vote ? p->vote(h->userdata, call, req->node) : -EOPNOTSUPP;
                break;
        case EXCHANGE_OP_CA:
                r = p->ca ? p->ca(h->userdata, call) : -EOPNOTSUPP;
                break;
        case EXCHANGE_OP_JOINED:
                if (req->role == EXCHANGE_ROLE_CONTROL_PLANE)
                        (void)exchange_ticket_release(&h->ticket, req->node, now);
                if (p->joined)
                        r = p->joined(h->userdata, call, req->node, req->role, req->result == EXCHANGE_RESULT_OK);
                else {
                        exchange_call_return_ok(call);
                        r = 0;
                }
                break;
        case _EXCHANGE_OP_MAX:
        case _EXCHANGE_OP_INVALID:
                break;
        }
        if (h->in_flight != call)
                return NULL; /* completed already */
        h->in_flight = NULL;
        if (r < 0) {
                exchange_call_return_error(call, r);
                return NULL;
        }
        return call;
}

static ExchangeCall *process_exchange(ExchangeHandler *h, const ExchangeHttpRequest *req, uint64_t now,
                                      ExchangeRespond respond, void *userdata)
{
        ExchangeRequest r = {};
        ExchangeCall *call;
        int k;

        k = exchange_request_from_json(req->body, req->body_size, &r);
        if (k < 0) {
                reject(h, req, now, 400, "malformed request", respond, userdata);
                return NULL;
        }
        /* The nonce is spent by any attempt from its peer, so each one buys a single MAC check. */
        k = nonce_store_take(h->nonces, r.server_nonce, req->peer, now);
        if (k >= 0)
                k = exchange_request_verify(h->mac_key, &r);
        if (k < 0) {
                reject(h, req, now, 403, k == -EBADMSG ? "wrong MAC" : "bad nonce", respond, userdata);
                return NULL;
        }
        log_debug("Exchange: %s (%s) for %s from %s", exchange_op_to_string(r.op), exchange_role_to_string(r.role),
                  r.node, req->peer);

        k = call_new(h, &r, req->peer, respond, userdata, &call);
        if (k < 0) {
                respond_empty(respond, userdata, 500);
                return NULL;
        }
        return dispatch(h, call, now);
}

static void process_nonce(ExchangeHandler *h, const ExchangeHttpRequest *req, uint64_t now, ExchangeRespond respond,
                          void *userdata)
{
        uint8_t nonce[EXCHANGE_NONCE_SIZE];
        _cleanup_free_ char *body = NULL;
        int r;

        if (req->body_size > 0)
                return reject(h, req, now, 400, "body in a nonce request", respond, userdata);
        r = h->random(nonce, sizeof nonce);
        if (r >= 0)
                r = nonce_store_add(h->nonces, nonce, req->peer, now);
        if (r >= 0)
                r = exchange_nonce_to_json(nonce, &body);
        if (r < 0)
                return respond_empty(respond, userdata, 500);
        respond(userdata, 200, body, strlen(body));
}

static void process_status(ExchangeHandler *h, ExchangeRespond respond, void *userdata)
{
        _cleanup_free_ char *body = NULL;
        ExchangeStatus st = {};

        h->provider->status(h->userdata, &st);
        st.version = PIAGENT_VERSION;
        if (exchange_status_to_json(&st, &body) < 0)
                return respond_empty(respond, userdata, 500);
        respond(userdata, 200, body, strlen(body));
}

void exchange_handler_process(ExchangeHandler *h, const ExchangeHttpRequest *req, uint64_t now, ExchangeRespond respond,
                              void *userdata, ExchangeCall **ret_pending)
{
        const char *want = NULL;

        *ret_pending = NULL;
        if (fail_limit_blocked(h->fails, req->peer, now))
                return respond_empty(respond, userdata, 429);

        if (streq(req->path, EXCHANGE_PATH_STATUS))
                want = "GET";
        else if (streq(req->path, EXCHANGE_PATH_NONCE) || streq(req->path, EXCHANGE_PATH_EXCHANGE))
                want = "POST";
        if (!want)
                return reject(h, req, now, 404, "unknown path", respond, userdata);
        if (!streq(req->method, want))
                return reject(h, req, now, 405, "wrong method", respond, userdata);

        if (streq(req->path, EXCHANGE_PATH_STATUS))
                process_status(h, respond, userdata);
        else if (streq(req->path, EXCHANGE_PATH_NONCE))
                process_nonce(h, req, now, respond, userdata);
        else
                *ret_pending = process_exchange(h, req, now, respond, userdata);
}
