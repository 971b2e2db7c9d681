/* SPDX-License-Identifier: MIT */
/* The exchange's request handler, driven directly (no sockets, a fake clock): routes, nonces, MACs, tickets,
 * the failure limit, the provider's errors and asynchronous answers. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "exchange-handler.h"
#include "exchange-session.h"
#include "exchange-test-provider.h"
#include "macro.h"

#define SECRET "0123456789abcdefghijklmnopqrstuvwxyzABCD"
#define OTHER  "another-cluster-secret-of-enough-length!!"
#define SEC    1000000ULL
#define PEER   "192.168.3.50"

#define SWAP(a, b)                   \
        do {                         \
                typeof(a) _t_ = (a); \
                (a) = (b);           \
                (b) = _t_;           \
        } while (0)

typedef struct Reply {
        unsigned n; /* how often respond was called */
        unsigned status;
        char body[65536];
        size_t size;
        ExchangeForward *pending;
} Reply;

typedef struct Fixture {
        ExchangeHandler *h;
        ExchangeTestProvider *p;
        uint64_t now;
} Fixture;

static uint64_t counter;

/* Predictable "randomness": distinct bytes each call. */
static int fake_random(void *buf, size_t size)
{
        uint8_t *b = buf;

        for (size_t i = 0; i < size; i++)
                b[i] = (uint8_t)(counter * 131 + i * 7 + (counter >> 8));
        counter++;
        return 0;
}

static int setup(void **state)
{
        Fixture *f = calloc(1, sizeof *f);
        ExchangeHandlerOptions o = {.random = fake_random, .ticket_ttl_usec = 600 * SEC};

        assert_non_null(f);
        assert_int_equal(exchange_test_provider_new(NULL, "master-1", &f->p), 0);
        assert_int_equal(exchange_handler_new(SECRET, &o, &exchange_test_provider_ops, f->p, &f->h), 0);
        f->now = 1000 * SEC;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        Fixture *f = *state;

        exchange_handler_free(f->h);
        exchange_test_provider_free(f->p);
        free(f);
        return 0;
}

static void on_respond(void *userdata, unsigned status, const char *body, size_t size)
{
        Reply *r = userdata;

        assert_true(size < sizeof r->body);
        r->n++;
        r->status = status;
        memcpy(r->body, body, size);
        r->body[size] = 0;
        r->size = size;
}

static void send_to(Fixture *f, Reply *r, const char *method, const char *path, const char *peer, const char *body)
{
        ExchangeHttpRequest req = {
                .method = method,
                .path = path,
                .peer = peer,
                .body = body ?: "",
                .body_size = body ? strlen(body) : 0,
        };

        *r = (Reply){};
        exchange_handler_process(f->h, &req, f->now, on_respond, r, &r->pending);
}

static void get_nonce(Fixture *f, const char *peer, uint8_t nonce[static EXCHANGE_NONCE_SIZE])
{
        Reply r;

        send_to(f, &r, "POST", EXCHANGE_PATH_NONCE, peer, NULL);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.status, 200);
        assert_int_equal(exchange_nonce_from_json(r.body, r.size, nonce), 0);
}

/* A signed request for q (nonce from peer), as a client with secret would send it. */
static char *request_body(Fixture *f, const char *peer, const char *secret, const char *node, ExchangeQuery q,
                          ExchangeSession *ret)
{
        uint8_t sn[EXCHANGE_NONCE_SIZE], cn[EXCHANGE_NONCE_SIZE];
        char *body = NULL;

        get_nonce(f, peer, sn);
        memset(cn, 0xc1, sizeof cn);
        cn[0] = (uint8_t)counter++;
        assert_int_equal(exchange_session_init(ret, secret, node, &q, sn, cn), 0);
        assert_int_equal(exchange_session_request(ret, &body), 0);
        return body;
}

/* One whole exchange from a client with secret. Returns the status; opens a 200 answer into a. */
static unsigned exchange(Fixture *f, const char *secret, const char *node, ExchangeQuery q, ExchangeAnswer *a)
{
        ExchangeSession s;
        _cleanup_free_ char *body = request_body(f, PEER, secret, node, q, &s);
        Reply r;

        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, body);
        assert_int_equal(r.n, 1);
        assert_null(r.pending);
        if (r.status == 200) {
                assert_int_equal(exchange_session_open(&s, r.body, r.size, a), 0);
        } else
                assert_int_equal(r.size, 0); /* errors say nothing */
        exchange_session_done(&s);
        return r.status;
}

static const ExchangeQuery JOIN_WORKER = {.op = EXCHANGE_OP_JOIN, .role = EXCHANGE_ROLE_WORKER};
static const ExchangeQuery JOIN_CP = {.op = EXCHANGE_OP_JOIN, .role = EXCHANGE_ROLE_CONTROL_PLANE};
static const ExchangeQuery JOINED_CP = {
        .op = EXCHANGE_OP_JOINED, .role = EXCHANGE_ROLE_CONTROL_PLANE, .result = EXCHANGE_RESULT_OK};

static void process__status__node_role_phase_version(void **state)
{
        Fixture *f = *state;
        ExchangeStatus st;
        Reply r;

        send_to(f, &r, "GET", EXCHANGE_PATH_STATUS, PEER, NULL);
        assert_int_equal(r.status, 200);
        assert_int_equal(exchange_status_from_json(r.body, r.size, &st), 0);
        assert_string_equal(st.node, "master-1");
        assert_string_equal(st.role, "master");
        assert_string_equal(st.phase, "ready");
        assert_non_null(strstr(r.body, "\"version\""));
        assert_null(strstr(r.body, SECRET));
        exchange_status_done(&st);
}

static void process__join_worker__sealed_material(void **state)
{
        Fixture *f = *state;
        ExchangeAnswer a;

        assert_int_equal(exchange(f, SECRET, "worker-a1b2c3", JOIN_WORKER, &a), 200);
        assert_string_equal(a.server, "master-1");
        assert_string_equal(a.join.endpoint, EXCHANGE_TEST_ENDPOINT);
        assert_string_equal(a.join.token, f->p->last_token);
        assert_string_equal(a.join.ca_cert_hash, exchange_test_ca_hash);
        assert_null(a.join.certificate_key);
        assert_int_equal(f->p->n_join, 1);
        assert_null(exchange_handler_ticket_holder(f->h, f->now));
        exchange_answer_done(&a);
}

static void process__answer_on_the_wire__no_secret_in_clear(void **state)
{
        Fixture *f = *state;
        ExchangeSession s;
        _cleanup_free_ char *body = request_body(f, PEER, SECRET, "w1", JOIN_WORKER, &s);
        Reply r;

        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, body);
        assert_int_equal(r.status, 200);
        assert_null(strstr(r.body, f->p->last_token));
        assert_null(strstr(r.body, "sha256"));
        assert_null(strstr(body, SECRET));
        exchange_session_done(&s);
}

static void process__control_plane_tickets__one_at_a_time(void **state)
{
        Fixture *f = *state;
        ExchangeAnswer a;

        assert_int_equal(exchange(f, SECRET, "master-2", JOIN_CP, &a), 200);
        assert_non_null(a.join.certificate_key);
        exchange_answer_done(&a);
        assert_string_equal(exchange_handler_ticket_holder(f->h, f->now), "master-2");

        /* Another master waits; workers do not. */
        assert_int_equal(exchange(f, SECRET, "master-3", JOIN_CP, &a), 409);
        assert_int_equal(exchange(f, SECRET, "worker-1", JOIN_WORKER, &a), 200);
        exchange_answer_done(&a);
        /* The holder may ask again (its answer may have been lost). */
        assert_int_equal(exchange(f, SECRET, "master-2", JOIN_CP, &a), 200);
        exchange_answer_done(&a);

        /* A report from a non-holder changes nothing; the holder's releases the ticket. */
        assert_int_equal(exchange(f, SECRET, "master-3", JOINED_CP, &a), 200);
        exchange_answer_done(&a);
        assert_string_equal(exchange_handler_ticket_holder(f->h, f->now), "master-2");
        assert_int_equal(exchange(f, SECRET, "master-2", JOINED_CP, &a), 200);
        assert_int_equal(a.op, EXCHANGE_OP_JOINED);
        exchange_answer_done(&a);
        assert_null(exchange_handler_ticket_holder(f->h, f->now));
        assert_int_equal(f->p->n_joined_ok, 2);

        assert_int_equal(exchange(f, SECRET, "master-3", JOIN_CP, &a), 200);
        exchange_answer_done(&a);
        assert_string_equal(exchange_handler_ticket_holder(f->h, f->now), "master-3");
}

static void process__control_plane_ticket__released_by_timeout(void **state)
{
        Fixture *f = *state;
        ExchangeAnswer a;

        assert_int_equal(exchange(f, SECRET, "master-2", JOIN_CP, &a), 200);
        exchange_answer_done(&a);
        f->now += 599 * SEC;
        assert_int_equal(exchange(f, SECRET, "master-3", JOIN_CP, &a), 409);
        f->now += SEC;
        assert_int_equal(exchange(f, SECRET, "master-3", JOIN_CP, &a), 200);
        exchange_answer_done(&a);
}

static void process__control_plane_join_fails__ticket_released(void **state)
{
        Fixture *f = *state;
        ExchangeAnswer a;

        f->p->fail = -EAGAIN;
        assert_int_equal(exchange(f, SECRET, "master-2", JOIN_CP, &a), 503);
        assert_null(exchange_handler_ticket_holder(f->h, f->now));
        f->p->fail = 0;
        assert_int_equal(exchange(f, SECRET, "master-3", JOIN_CP, &a), 200);
        exchange_answer_done(&a);
}

static void process__vote_and_ca__answers(void **state)
{
        Fixture *f = *state;
        ExchangeAnswer a;

        assert_int_equal(exchange(f, SECRET, "master-1", (ExchangeQuery){.op = EXCHANGE_OP_VOTE}, &a), 200);
        assert_true(a.granted);
        exchange_answer_done(&a);
        assert_int_equal(exchange(f, SECRET, "master-2", (ExchangeQuery){.op = EXCHANGE_OP_VOTE}, &a), 200);
        assert_false(a.granted);
        assert_string_equal(a.refusal, "voted-other");
        exchange_answer_done(&a);
        assert_int_equal(exchange(f, SECRET, "lb-1", (ExchangeQuery){.op = EXCHANGE_OP_CA}, &a), 200);
        assert_string_equal(a.ca, exchange_test_ca_pem);
        exchange_answer_done(&a);
}

static void process__provider_errors__plain_statuses(void **state)
{
        static const struct {
                int error;
                unsigned status;
        } cases[] = {{-EAGAIN, 503}, {-EBUSY, 409}, {-EOPNOTSUPP, 501}, {-EIO, 500}, {-ENOMEM, 500}};
        Fixture *f = *state;
        ExchangeAnswer a;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                f->p->fail = cases[i].error;
                assert_int_equal(exchange(f, SECRET, "w1", JOIN_WORKER, &a), cases[i].status);
        }
        /* Provider failures are not the client's: no failure limit. */
        f->p->fail = 0;
        assert_int_equal(exchange(f, SECRET, "w1", JOIN_WORKER, &a), 200);
        exchange_answer_done(&a);
}

static void process__wrong_secret__403_and_nothing_handed_out(void **state)
{
        Fixture *f = *state;
        ExchangeAnswer a;

        assert_int_equal(exchange(f, OTHER, "w1", JOIN_WORKER, &a), 403);
        assert_int_equal(f->p->n_join, 0);
}

static void process__wrong_mac__403_and_nonce_spent(void **state)
{
        Fixture *f = *state;
        ExchangeSession s;
        _cleanup_free_ char *good = request_body(f, PEER, SECRET, "w1", JOIN_WORKER, &s), *bad = strdup(good);
        char *mac = strstr(bad, "\"mac\":\"") + 7;
        Reply r;

        mac[0] = mac[0] == '0' ? '1' : '0';
        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, bad);
        assert_int_equal(r.status, 403);
        /* The nonce went with the failed attempt: the good MAC comes too late. */
        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, good);
        assert_int_equal(r.status, 403);
        assert_int_equal(f->p->n_join, 0);
        exchange_session_done(&s);
}

static void process__replayed_request__403(void **state)
{
        Fixture *f = *state;
        ExchangeSession s;
        _cleanup_free_ char *body = request_body(f, PEER, SECRET, "w1", JOIN_WORKER, &s);
        Reply r;

        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, body);
        assert_int_equal(r.status, 200);
        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, body);
        assert_int_equal(r.status, 403);
        assert_int_equal(f->p->n_join, 1);
        exchange_session_done(&s);
}

static void process__expired_nonce__403(void **state)
{
        Fixture *f = *state;
        ExchangeSession s;
        _cleanup_free_ char *body = request_body(f, PEER, SECRET, "w1", JOIN_WORKER, &s);
        Reply r;

        f->now += 30 * SEC;
        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, body);
        assert_int_equal(r.status, 403);
        exchange_session_done(&s);
}

static void process__nonce_from_another_address__403_owner_still_served(void **state)
{
        Fixture *f = *state;
        ExchangeSession s;
        _cleanup_free_ char *body = request_body(f, PEER, SECRET, "w1", JOIN_WORKER, &s);
        Reply r;

        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, "192.168.3.66", body);
        assert_int_equal(r.status, 403);
        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, body);
        assert_int_equal(r.status, 200);
        exchange_session_done(&s);
}

static void process__nonce_from_another_server__403(void **state)
{
        Fixture *f = *state;
        ExchangeHandler *other = NULL;
        ExchangeSession s;
        _cleanup_free_ char *body = NULL;
        Reply r;

        /* A second server of the same cluster issues the nonce; it means nothing to the first. */
        assert_int_equal(exchange_handler_new(SECRET, NULL, &exchange_test_provider_ops, f->p, &other), 0);
        SWAP(f->h, other);
        body = request_body(f, PEER, SECRET, "w1", JOIN_WORKER, &s);
        SWAP(f->h, other);
        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, body);
        assert_int_equal(r.status, 403);
        exchange_handler_free(other);
        exchange_session_done(&s);
}

static void process__routes_and_methods__404_405(void **state)
{
        static const struct {
                const char *method, *path;
                unsigned status;
        } cases[] = {
                {"GET", "/", 404},
                {"GET", "/v1/status/", 404},
                {"GET", "/v1/STATUS", 404},
                {"GET", "/v2/exchange", 404},
                {"POST", "/v1/status", 405},
                {"GET", "/v1/nonce", 405},
                {"GET", "/v1/exchange", 405},
                {"PUT", "/v1/exchange", 405},
                {"DELETE", "/v1/nonce", 405},
        };
        Fixture *f = *state;
        Reply r;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                send_to(f, &r, cases[i].method, cases[i].path, "10.0.0.1", NULL);
                assert_int_equal(r.n, 1);
                assert_int_equal(r.status, cases[i].status);
                assert_int_equal(r.size, 0);
        }
}

static void process__malformed_bodies__400(void **state)
{
        static const char *const bodies[] = {
                "", "{", "not json", "{\"v\":2}", "[1,2,3]", "{\"v\":1,\"op\":\"join\"}",
        };
        Fixture *f = *state;
        Reply r;

        for (size_t i = 0; i < ELEMENTSOF(bodies); i++) {
                send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, "10.0.0.2", bodies[i]);
                assert_int_equal(r.status, 400);
        }
        send_to(f, &r, "POST", EXCHANGE_PATH_NONCE, "10.0.0.2", "{}");
        assert_int_equal(r.status, 400);
}

static void process__repeated_failures__429_for_that_address_only(void **state)
{
        Fixture *f = *state;
        ExchangeAnswer a;
        Reply r;

        for (int i = 0; i < 10; i++) {
                send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, "10.0.0.3", "junk");
                assert_int_equal(r.status, 400);
        }
        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, "10.0.0.3", "junk");
        assert_int_equal(r.status, 429);
        send_to(f, &r, "POST", EXCHANGE_PATH_NONCE, "10.0.0.3", NULL);
        assert_int_equal(r.status, 429);
        /* Others are served meanwhile. */
        assert_int_equal(exchange(f, SECRET, "w1", JOIN_WORKER, &a), 200);
        exchange_answer_done(&a);
        /* One interval later, one more try. */
        f->now += SEC;
        send_to(f, &r, "POST", EXCHANGE_PATH_NONCE, "10.0.0.3", NULL);
        assert_int_equal(r.status, 200);
}

static void process__held_call__answered_later(void **state)
{
        Fixture *f = *state;
        ExchangeSession s;
        _cleanup_free_ char *body = request_body(f, PEER, SECRET, "w1", JOIN_WORKER, &s);
        ExchangeAnswer a;
        Reply r;

        f->p->hold = true;
        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, body);
        assert_int_equal(r.n, 0);
        assert_non_null(r.pending);
        assert_int_equal(exchange_test_provider_pending(f->p), 1);
        assert_int_equal(f->p->n_join, 1);
        assert_int_equal(exchange_test_provider_release(f->p), 1);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.status, 200);
        assert_int_equal(exchange_session_open(&s, r.body, r.size, &a), 0);
        exchange_answer_done(&a);
        exchange_session_done(&s);
}

static void process__abandoned_call__never_answered(void **state)
{
        Fixture *f = *state;
        ExchangeSession s;
        _cleanup_free_ char *body = request_body(f, PEER, SECRET, "w1", JOIN_WORKER, &s);
        Reply r;

        f->p->hold = true;
        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, body);
        assert_non_null(r.pending);
        exchange_forward_abandon(r.pending);
        assert_int_equal(exchange_test_provider_release(f->p), 1);
        assert_int_equal(r.n, 0);
        exchange_session_done(&s);
}

static void process__handler_freed_with_held_call__answer_dropped(void **state)
{
        Fixture *f = *state;
        ExchangeSession s;
        _cleanup_free_ char *body = request_body(f, PEER, SECRET, "m2", JOIN_CP, &s);
        Reply r;

        f->p->hold = true;
        send_to(f, &r, "POST", EXCHANGE_PATH_EXCHANGE, PEER, body);
        assert_non_null(r.pending);
        exchange_forward_abandon(r.pending);
        f->h = exchange_handler_free(f->h);
        assert_int_equal(exchange_test_provider_release(f->p), 1);
        assert_int_equal(r.n, 0);
        exchange_session_done(&s);
}

/* Providers that misbehave: invalid material, a wrong kind of answer, no operations at all. */
static void bad_status(void *userdata, ExchangeStatus *ret)
{
        *ret = (ExchangeStatus){.node = "bad node", .role = "master", .phase = "x"};
}

static void good_status(void *userdata, ExchangeStatus *ret)
{
        *ret = (ExchangeStatus){.node = "m1", .role = "master", .phase = "x"};
}

static int bad_join(void *userdata, ExchangeCall *call, const char *node, ExchangeRole role)
{
        if (role == EXCHANGE_ROLE_WORKER)
                exchange_call_return_join(call, &(ExchangeJoinMaterial){.endpoint = "h:1", .token = "bad"});
        else
                exchange_call_return_vote(call, true, NULL);
        return 0;
}

static void process__misbehaving_providers__500_501(void **state)
{
        const ExchangeProvider bad = {.status = good_status, .join = bad_join}, worse = {.status = bad_status};
        Fixture *f = *state;
        ExchangeAnswer a;
        Reply r;

        exchange_handler_free(f->h);
        assert_int_equal(exchange_handler_new(SECRET, NULL, &bad, NULL, &f->h), 0);
        assert_int_equal(exchange(f, SECRET, "w1", JOIN_WORKER, &a), 500);
        assert_int_equal(exchange(f, SECRET, "m2", JOIN_CP, &a), 500);
        assert_null(exchange_handler_ticket_holder(f->h, f->now));
        assert_int_equal(exchange(f, SECRET, "m2", (ExchangeQuery){.op = EXCHANGE_OP_VOTE}, &a), 501);
        assert_int_equal(exchange(f, SECRET, "m2", (ExchangeQuery){.op = EXCHANGE_OP_CA}, &a), 501);
        /* joined is acknowledged without a provider operation. */
        assert_int_equal(exchange(f, SECRET, "m2", JOINED_CP, &a), 200);
        exchange_answer_done(&a);

        exchange_handler_free(f->h);
        assert_int_equal(exchange_handler_new(SECRET, NULL, &worse, NULL, &f->h), 0);
        send_to(f, &r, "GET", EXCHANGE_PATH_STATUS, PEER, NULL);
        assert_int_equal(r.status, 500);
}

static void exchange_handler_new__bad_arguments__einval(void **state)
{
        ExchangeHandler *h = NULL;
        const ExchangeProvider none = {};

        assert_int_equal(exchange_handler_new("", NULL, &exchange_test_provider_ops, NULL, &h), -EINVAL);
        assert_int_equal(exchange_handler_new(NULL, NULL, &exchange_test_provider_ops, NULL, &h), -EINVAL);
        assert_int_equal(exchange_handler_new(SECRET, NULL, &none, NULL, &h), -EINVAL);
        assert_null(h);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(process__status__node_role_phase_version),
                T(process__join_worker__sealed_material),
                T(process__answer_on_the_wire__no_secret_in_clear),
                T(process__control_plane_tickets__one_at_a_time),
                T(process__control_plane_ticket__released_by_timeout),
                T(process__control_plane_join_fails__ticket_released),
                T(process__vote_and_ca__answers),
                T(process__provider_errors__plain_statuses),
                T(process__wrong_secret__403_and_nothing_handed_out),
                T(process__wrong_mac__403_and_nonce_spent),
                T(process__replayed_request__403),
                T(process__expired_nonce__403),
                T(process__nonce_from_another_address__403_owner_still_served),
                T(process__nonce_from_another_server__403),
                T(process__routes_and_methods__404_405),
                T(process__malformed_bodies__400),
                T(process__repeated_failures__429_for_that_address_only),
                T(process__held_call__answered_later),
                T(process__abandoned_call__never_answered),
                T(process__handler_freed_with_held_call__answer_dropped),
                T(process__misbehaving_providers__500_501),
                cmocka_unit_test(exchange_handler_new__bad_arguments__einval),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
