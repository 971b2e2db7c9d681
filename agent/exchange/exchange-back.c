/* SPDX-License-Identifier: MIT */

#include <netinet/in.h>

#include "crypto.h"
#include "exchange-back.h"
#include "exchange-ticket.h"
#include "log.h"
#include "version.h"

#define USEC_PER_SEC 1000000ULL

struct ExchangeCall {
        ExchangeBack *back; /* NULL once the back is gone */
        ExchangeCall *prev, *next;
        ExchangeRequest request;
        uint8_t key[EXCHANGE_KEY_SIZE]; /* seals the answer */
        char peer[INET6_ADDRSTRLEN];
        ExchangeRespond respond; /* NULL once abandoned */
        void *userdata;
        bool holds_ticket; /* a control-plane join that took the ticket: released if it fails */
};

struct ExchangeBack {
        char *secret;
        uint8_t mac_key[EXCHANGE_KEY_SIZE];
        const ExchangeProvider *provider;
        void *userdata;
        int (*random)(void *buf, size_t size);

        ExchangeTicket ticket;
        uint64_t ticket_ttl;

        ExchangeCall *calls;     /* every call the provider has not completed yet */
        ExchangeCall *in_flight; /* the call being handed to the provider right now */
};

int exchange_back_new(const char *secret, const ExchangeBackOptions *o, const ExchangeProvider *p, void *userdata,
                      ExchangeBack **ret)
{
        static const ExchangeBackOptions none = {};
        ExchangeBack *b;
        int r;

        o = o ?: &none;
        if (!secret || !*secret || !p || !p->status)
                return -EINVAL;
        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->provider = p;
        b->userdata = userdata;
        b->random = o->random ?: crypto_random_bytes;
        b->ticket_ttl = o->ticket_ttl_usec ?: 15 * 60 * USEC_PER_SEC;
        b->secret = strdup(secret);
        r = b->secret ? 0 : -ENOMEM;
        if (r >= 0)
                r = exchange_mac_key(secret, b->mac_key);
        if (r < 0) {
                exchange_back_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

ExchangeBack *exchange_back_free(ExchangeBack *b)
{
        if (!b)
                return NULL;
        /* Calls still with the provider live on until it completes them; their answers go nowhere. */
        for (ExchangeCall *c = b->calls; c; c = c->next)
                c->back = NULL;
        erase_and_free(b->secret);
        erase(b->mac_key, sizeof b->mac_key);
        free(b);
        return NULL;
}

const char *exchange_back_ticket_holder(const ExchangeBack *b, uint64_t now)
{
        return exchange_ticket_holder(&b->ticket, now);
}

ExchangeOp exchange_call_get_op(const ExchangeCall *call)
{
        return call->request.op;
}

const char *exchange_call_get_node(const ExchangeCall *call)
{
        return call->request.node;
}

const char *exchange_call_get_peer(const ExchangeCall *call)
{
        return call->peer;
}

static void respond_empty(ExchangeRespond respond, void *userdata, unsigned status)
{
        respond(userdata, status, "", 0);
}

static void call_free(ExchangeCall *c)
{
        ExchangeBack *h = c->back;

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
        ExchangeBack *h = call->back;

        if (h && call->holds_ticket)
                (void)exchange_ticket_release(&h->ticket, call->request.node, 0);
        log_debug_errno(error, "Exchange: %s for %s failed: %m", exchange_op_to_string(call->request.op),
                        call->request.node);
        call_finish(call, status_of_error(error), "", 0);
}

/* Seals answer a for the call's request and finishes the call with it. */
static void call_seal(ExchangeCall *call, ExchangeAnswer *a)
{
        ExchangeBack *h = call->back;
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

void exchange_call_return_kubeconfig(ExchangeCall *call, const char *kubeconfig)
{
        if (call_expects(call, EXCHANGE_OP_KUBECONFIG))
                call_seal(call, &(ExchangeAnswer){.op = EXCHANGE_OP_KUBECONFIG, .kubeconfig = kubeconfig});
}

void exchange_call_return_ok(ExchangeCall *call)
{
        if (call_expects(call, EXCHANGE_OP_JOINED))
                call_seal(call, &(ExchangeAnswer){.op = EXCHANGE_OP_JOINED});
}

void exchange_call_return_ready(ExchangeCall *call)
{
        if (call_expects(call, EXCHANGE_OP_READY))
                call_seal(call, &(ExchangeAnswer){.op = EXCHANGE_OP_READY});
}

static int call_new(ExchangeBack *h, const ExchangeRequest *req, const char *peer, ExchangeRespond respond,
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
        c->back = h;
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
static ExchangeCall *dispatch(ExchangeBack *h, ExchangeCall *call, uint64_t now)
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
        case EXCHANGE_OP_KUBECONFIG:
                r = p->kubeconfig ? p->kubeconfig(h->userdata, call) : -EOPNOTSUPP;
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
        case EXCHANGE_OP_READY:
                r = p->ready ? p->ready(h->userdata, call, req->node) : -EOPNOTSUPP;
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

void exchange_back_status(ExchangeBack *b, ExchangeRespond respond, void *userdata)
{
        _cleanup_free_ char *json = NULL;
        ExchangeStatus st = {};

        b->provider->status(b->userdata, &st);
        st.version = PIAGENT_VERSION;
        if (exchange_status_to_json(&st, &json) < 0)
                return respond_empty(respond, userdata, 500);
        respond(userdata, 200, json, strlen(json));
}

void exchange_back_process(ExchangeBack *b, const char *peer, const char *body, size_t size, uint64_t now,
                           ExchangeRespond respond, void *userdata, ExchangeCall **ret_pending)
{
        ExchangeRequest r = {};
        ExchangeCall *call;
        int k;

        *ret_pending = NULL;
        /* Decoded again: whatever the front checked, the secret's side trusts nothing it did not check itself. */
        k = exchange_request_from_json(body, size, &r);
        if (k < 0) {
                log_debug("Exchange: malformed request from %s (400)", peer);
                return respond_empty(respond, userdata, 400);
        }
        k = exchange_request_verify(b->mac_key, &r);
        if (k < 0) {
                log_debug("Exchange: %s from %s: wrong MAC (403)", exchange_op_to_string(r.op), peer);
                return respond_empty(respond, userdata, 403);
        }
        log_debug("Exchange: %s (%s) for %s from %s", exchange_op_to_string(r.op), exchange_role_to_string(r.role),
                  r.node, peer);

        k = call_new(b, &r, peer, respond, userdata, &call);
        if (k < 0)
                return respond_empty(respond, userdata, 500);
        *ret_pending = dispatch(b, call, now);
}
