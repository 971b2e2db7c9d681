/* SPDX-License-Identifier: MIT */
/* Fuzzes the exchange server's request handler (exchange-handler.h) without sockets, and the client's
 * decoders. The input is a sequence of requests separated by 0x1e; each starts with a flags byte:
 *   bits 0-1  path: 0 /v1/exchange, 1 /v1/nonce, 2 /v1/status, 3 /v1/other
 *   bit 2     GET instead of POST
 *   bit 3     fix up: if the body decodes as a request, put in the last nonce issued to this peer and sign
 *             it with the right key, so that the fuzzer gets past the MAC into tickets, provider and sealing
 *   bit 4     from peer B instead of peer A
 *   bit 5     31 s pass first (nonces expire)
 *   bit 6     the provider holds the call (answered at the end of the input)
 *   bit 7     the provider fails with -EAGAIN
 * and the rest is the body. Invariants checked (a violation traps): every request is answered exactly once;
 * only the documented status codes; a 200 to a fixed-up request opens with the client's session; nothing
 * but 200 has a body; a 200 to /v1/exchange only for a request signed with the secret. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exchange-handler.h"
#include "exchange-ipc.h"
#include "exchange-session.h"
#include "exchange-test-provider.h"
#include "log.h"
#include "macro.h"

#define SECRET   "0123456789abcdefghijklmnopqrstuvwxyzABCD"
#define SEC      1000000ULL
#define MAX_REQS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Reply {
        unsigned n;
        unsigned status;
        bool is_nonce;
        bool is_exchange;
        bool fixed;
        ExchangeSession session;
        const char *peer;
} Reply;

static uint64_t counter;
static uint8_t last_nonce[2][EXCHANGE_NONCE_SIZE];

static int fake_random(void *buf, size_t size)
{
        uint8_t *b = buf;

        for (size_t i = 0; i < size; i++)
                b[i] = (uint8_t)(counter * 131 + i * 7);
        counter++;
        return 0;
}

static void check(bool ok)
{
        if (!ok)
                __builtin_trap();
}

static void on_respond(void *userdata, unsigned status, const char *body, size_t size)
{
        Reply *r = userdata;
        ExchangeAnswer a;

        r->n++;
        r->status = status;
        check(status == 200 || status == 400 || status == 403 || status == 404 || status == 405 || status == 409 ||
              status == 429 || status == 500 || status == 501 || status == 503);
        check(status == 200 || size == 0);
        if (status != 200)
                return;
        if (r->is_nonce)
                check(exchange_nonce_from_json(body, size, last_nonce[streq(r->peer, "10.0.0.2")]) == 0);
        else if (r->is_exchange) {
                /* Only a request signed with the secret gets anywhere, and its answer opens. */
                check(r->fixed);
                check(exchange_session_open(&r->session, body, size, &a) == 0);
                exchange_answer_done(&a);
        }
}

/* Bit 3: a request with the peer's last nonce, signed with the right key. */
static char *fix_up(const char *body, size_t size, const uint8_t nonce[static EXCHANGE_NONCE_SIZE], Reply *r)
{
        ExchangeRequest req;
        ExchangeQuery q;
        char *out = NULL;

        if (exchange_request_from_json(body, size, &req) < 0)
                return NULL;
        q = (ExchangeQuery){.op = req.op, .role = req.role, .result = req.result};
        if (exchange_session_init(&r->session, SECRET, req.node, &q, nonce, req.client_nonce) < 0 ||
            exchange_session_request(&r->session, &out) < 0)
                return NULL;
        r->fixed = true;
        return out;
}

/* The client's decoders get every body too, and the link's. */
static void decode_all(const char *body, size_t size)
{
        uint8_t nonce[EXCHANGE_NONCE_SIZE];
        ExchangeStatus st;
        ExchangeAnswer a;
        ExchangeIpcMessage m;
        char *hex = NULL;

        if (exchange_status_from_json(body, size, &st) == 0)
                exchange_status_done(&st);
        for (ExchangeOp op = 0; op < _EXCHANGE_OP_MAX; op++)
                if (exchange_answer_from_json(body, size, op, EXCHANGE_ROLE_CONTROL_PLANE, &a) == 0)
                        exchange_answer_done(&a);
        (void)exchange_nonce_from_json(body, size, nonce);
        if (exchange_sealed_from_json(body, size, &hex) == 0)
                free(hex);
        /* And as a datagram of the link between the worker and the daemon: what decodes encodes the same. */
        if (exchange_ipc_decode((const uint8_t *)body, size, &m) == 0) {
                uint8_t *again = NULL;
                size_t again_size = 0;
                check(exchange_ipc_encode(&m, &again, &again_size) == 0);
                check(again_size == size && memcmp(again, body, size) == 0);
                free(again);
        }
}

static void one(ExchangeHandler *h, ExchangeTestProvider *p, const uint8_t *rec, size_t size, uint64_t *now, Reply *r)
{
        static const char *const paths[] = {EXCHANGE_PATH_EXCHANGE, EXCHANGE_PATH_NONCE, EXCHANGE_PATH_STATUS,
                                            "/v1/other"};
        uint8_t flags = size > 0 ? rec[0] : 0;
        const char *body = size > 0 ? (const char *)rec + 1 : "";
        size_t body_size = size > 0 ? size - 1 : 0;
        char *fixed = NULL;
        ExchangeForward *pending = NULL;

        r->peer = flags & 0x10 ? "10.0.0.2" : "10.0.0.1";
        r->is_nonce = (flags & 3) == 1 && !(flags & 4);
        r->is_exchange = (flags & 3) == 0 && !(flags & 4);
        if (flags & 0x20)
                *now += 31 * SEC;
        p->hold = flags & 0x40;
        p->fail = flags & 0x80 ? -EAGAIN : 0;
        if ((flags & 8) && (fixed = fix_up(body, body_size, last_nonce[!!(flags & 0x10)], r))) {
                body = fixed;
                body_size = strlen(fixed);
        }
        decode_all(body, body_size);

        exchange_handler_process(h,
                                 &(ExchangeHttpRequest){
                                         .method = flags & 4 ? "GET" : "POST",
                                         .path = paths[flags & 3],
                                         .peer = r->peer,
                                         .body = body,
                                         .body_size = body_size,
                                 },
                                 *now, on_respond, r, &pending);
        check(pending ? r->n == 0 : r->n == 1);
        free(fixed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        Reply replies[MAX_REQS] = {};
        ExchangeTestProvider *p = NULL;
        ExchangeHandler *h = NULL;
        uint64_t now = 1000 * SEC;
        size_t n = 0;

        log_set_max_level(LOG_CRIT);
        counter = 0;
        memset(last_nonce, 0, sizeof last_nonce);
        if (exchange_test_provider_new(NULL, "master-1", &p) < 0)
                return 0;
        if (exchange_handler_new(SECRET, &(ExchangeHandlerOptions){.random = fake_random}, &exchange_test_provider_ops,
                                 p, &h) < 0) {
                exchange_test_provider_free(p);
                return 0;
        }

        for (size_t start = 0; start <= size && n < MAX_REQS; n++) {
                const uint8_t *sep = memchr(data + start, 0x1e, size - start);
                size_t end = sep ? (size_t)(sep - data) : size;
                one(h, p, data + start, end - start, &now, &replies[n]);
                start = end + 1;
        }
        p->hold = false;
        p->fail = 0;
        (void)exchange_test_provider_release(p);
        for (size_t i = 0; i < n; i++) {
                check(replies[i].n == 1);
                exchange_session_done(&replies[i].session);
        }
        exchange_handler_free(h);
        exchange_test_provider_free(p);
        return 0;
}
