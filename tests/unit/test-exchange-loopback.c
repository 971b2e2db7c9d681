/* SPDX-License-Identifier: MIT */
/* Server and client of the exchange on loopback, on one sd-event loop: good exchanges, the control-plane
 * ticket across clients, a provider that answers late or never, and the client's side of the threat model:
 * servers that do not know the secret, tamper with or replay answers, or send junk. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exchange-fixture.h"

static void exchange__good_join__material_from_provider(void **state)
{
        Fixture *f = *state;
        Outcome o;

        assert_int_equal(ask(f, f->client, f->port, JOIN_WORKER, &o), 0);
        assert_string_equal(o.server, "master-1");
        assert_string_equal(o.token, f->provider->last_token);
        assert_string_equal(o.certificate_key, "");
        assert_int_equal(f->provider->n_join, 1);
}

static void exchange__every_operation__answered(void **state)
{
        Fixture *f = *state;
        Outcome o;

        assert_int_equal(ask(f, f->client, f->port, (ExchangeQuery){.op = EXCHANGE_OP_VOTE}, &o), 0);
        assert_true(o.granted);
        assert_int_equal(ask(f, f->client, f->port, (ExchangeQuery){.op = EXCHANGE_OP_CA}, &o), 0);
        assert_int_equal(ask(f, f->client, f->port,
                             (ExchangeQuery){.op = EXCHANGE_OP_JOINED,
                                             .role = EXCHANGE_ROLE_WORKER,
                                             .result = EXCHANGE_RESULT_FAILED},
                             &o),
                         0);
        assert_int_equal(f->provider->n_joined, 1);
        assert_int_equal(f->provider->n_joined_ok, 0);
        /* piagent kubeconfig: the admin kubeconfig, sealed like join material. */
        assert_int_equal(ask(f, f->client, f->port, (ExchangeQuery){.op = EXCHANGE_OP_KUBECONFIG}, &o), 0);
        assert_string_equal(o.kubeconfig, exchange_test_kubeconfig);
        assert_int_equal(f->provider->n_kubeconfig, 1);
}

static void on_status(void *userdata, int error, const ExchangeStatus *st)
{
        Outcome *o = userdata;

        o->done = true;
        o->error = error;
        if (st)
                snprintf(o->server, sizeof o->server, "%s/%s/%s", st->node, st->role, st->phase);
}

static void exchange_client_status__server__node_role_phase(void **state)
{
        Fixture *f = *state;
        Outcome o = {};

        assert_int_equal(exchange_client_status(f->client, "127.0.0.1", f->port, on_status, &o, NULL), 0);
        assert_true(run_until(f, &o.done, 5 * SEC));
        assert_int_equal(o.error, 0);
        assert_string_equal(o.server, "master-1/master/ready");
}

static void exchange__control_plane_ticket__second_refused_until_joined(void **state)
{
        Fixture *f = *state;
        ExchangeClient *m2 = NULL, *m3 = NULL;
        Outcome o;

        assert_int_equal(exchange_client_new(f->event, SECRET, "master-2", NULL, &m2), 0);
        assert_int_equal(exchange_client_new(f->event, SECRET, "master-3", NULL, &m3), 0);

        assert_int_equal(ask(f, m2, f->port, JOIN_CP, &o), 0);
        assert_int_equal(strlen(o.certificate_key), 64);
        assert_string_equal(exchange_server_ticket_holder(f->server), "master-2");
        assert_int_equal(ask(f, m3, f->port, JOIN_CP, &o), -EBUSY);
        assert_serving(f); /* workers are not held up */
        assert_int_equal(ask(f, m2, f->port,
                             (ExchangeQuery){.op = EXCHANGE_OP_JOINED,
                                             .role = EXCHANGE_ROLE_CONTROL_PLANE,
                                             .result = EXCHANGE_RESULT_OK},
                             &o),
                         0);
        assert_null(exchange_server_ticket_holder(f->server));
        assert_int_equal(ask(f, m3, f->port, JOIN_CP, &o), 0);
        assert_string_equal(exchange_server_ticket_holder(f->server), "master-3");

        exchange_client_free(m2);
        exchange_client_free(m3);
}

static void exchange__concurrent_clients__all_served(void **state)
{
        Fixture *f = *state;
        ExchangeClient *c[8];
        Outcome o[8] = {};
        char node[32], source[32];
        bool all = false;

        /* Eight nodes, eight addresses: the per-address limit (4 here) is for one address. */
        for (int i = 0; i < 8; i++) {
                snprintf(node, sizeof node, "worker-%d", i);
                snprintf(source, sizeof source, "127.0.0.%d", 2 + i);
                assert_int_equal(exchange_client_new(f->event, SECRET, node,
                                                     &(ExchangeClientOptions){.source_address = source}, &c[i]),
                                 0);
                assert_int_equal(
                        exchange_client_request(c[i], "127.0.0.1", f->port, &JOIN_WORKER, on_outcome, &o[i], NULL), 0);
        }
        for (uint64_t end = now_usec() + 10 * SEC; !all && now_usec() < end;) {
                assert_true(sd_event_run(f->event, 10 * MSEC) >= 0);
                all = true;
                for (int i = 0; i < 8; i++)
                        all = all && o[i].done;
        }
        assert_true(all);
        for (int i = 0; i < 8; i++) {
                assert_int_equal(o[i].error, 0);
                exchange_client_free(c[i]);
        }
        assert_int_equal(f->provider->n_join, 8);
}

static void exchange__nonce_then_status__connection_kept_then_closed(void **state)
{
        static const char reqs[] = "POST /v1/nonce HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                                   "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n";
        Fixture *f = *state;
        int fd = raw_connect(f, "127.0.0.40", f->port);
        uint64_t t = now_usec();
        char buf[8192];
        size_t got = 0;
        ssize_t n;

        assert_int_equal(raw_send(f, fd, reqs, sizeof reqs - 1), 0);
        /* Both answered on one connection, then the server closes it: long before the idle timeout (1 s). */
        while ((n = recv(fd, buf + got, sizeof buf - 1 - got, MSG_DONTWAIT)) != 0 && now_usec() - t < 3 * SEC) {
                if (n > 0)
                        got += (size_t)n;
                else
                        assert_true(sd_event_run(f->event, 5 * MSEC) >= 0);
        }
        buf[got] = 0;
        close(fd);
        assert_true(now_usec() - t < 500 * MSEC);
        assert_non_null(strstr(buf, "\"nonce\""));
        assert_non_null(strstr(buf, "\"phase\""));
        assert_non_null(strstr(buf, "Connection: close"));
}

static void exchange__delayed_provider__answered_when_ready(void **state)
{
        Fixture *f = *state;
        uint64_t t = now_usec();
        Outcome o;

        f->provider->delay_usec = 300 * MSEC;
        assert_int_equal(ask(f, f->client, f->port, JOIN_WORKER, &o), 0);
        assert_true(now_usec() - t >= 300 * MSEC);
}

/* A node waiting for this master asks "ready": the call waits in the provider until the master is ready (here: the
 * test provider releases it), then the sealed answer comes at once; a provider that says "not yet" is -EAGAIN. */
static void exchange__ready__answered_when_the_server_is_ready(void **state)
{
        Fixture *f = *state;
        ExchangeClientCall *call = NULL;
        Outcome o = {};

        f->provider->hold = true;
        assert_int_equal(exchange_client_request(f->client, "127.0.0.1", f->port,
                                                 &(ExchangeQuery){.op = EXCHANGE_OP_READY}, on_outcome, &o, &call),
                         0);
        for (uint64_t end = now_usec() + 5 * SEC; exchange_test_provider_pending(f->provider) == 0 && now_usec() < end;)
                assert_true(sd_event_run(f->event, 10 * MSEC) >= 0);
        assert_int_equal(f->provider->n_ready, 1);
        run_for(f, 200 * MSEC);
        assert_false(o.done);
        uint64_t t = now_usec();
        assert_int_equal(exchange_test_provider_release(f->provider), 1);
        assert_true(run_until(f, &o.done, 5 * SEC));
        assert_int_equal(o.error, 0);
        assert_true(now_usec() - t < 500 * MSEC);
        f->provider->hold = false;

        f->provider->fail = -EAGAIN;
        assert_int_equal(ask(f, f->client, f->port, (ExchangeQuery){.op = EXCHANGE_OP_READY}, &o), -EAGAIN);
        f->provider->fail = 0;
        assert_serving(f);
}

static void exchange__hung_provider__503_at_deadline_and_still_serving(void **state)
{
        Fixture *f = *state;
        uint64_t t = now_usec();
        Outcome o;

        f->provider->hold = true;
        assert_int_equal(ask(f, f->client, f->port, JOIN_WORKER, &o), -EAGAIN);
        assert_true(now_usec() - t >= 2 * SEC - 100 * MSEC); /* the server's deadline, not the client's */
        assert_int_equal(exchange_test_provider_pending(f->provider), 1);
        /* The late answer goes nowhere. */
        assert_int_equal(exchange_test_provider_release(f->provider), 1);
        f->provider->hold = false;
        assert_serving(f);
}

static void exchange__client_cancels_while_provider_works__server_unharmed(void **state)
{
        Fixture *f = *state;
        ExchangeClientCall *call = NULL;
        Outcome o = {};

        f->provider->hold = true;
        assert_int_equal(exchange_client_request(f->client, "127.0.0.1", f->port, &JOIN_WORKER, on_outcome, &o, &call),
                         0);
        for (uint64_t end = now_usec() + 5 * SEC; exchange_test_provider_pending(f->provider) == 0 && now_usec() < end;)
                assert_true(sd_event_run(f->event, 10 * MSEC) >= 0);
        assert_int_equal(exchange_test_provider_pending(f->provider), 1);
        exchange_client_call_cancel(call); /* closes the connection */
        run_for(f, 200 * MSEC);
        assert_false(o.done);
        assert_int_equal(exchange_test_provider_release(f->provider), 1);
        f->provider->hold = false;
        assert_serving(f);
}

static void exchange__server_freed_with_held_call__clean(void **state)
{
        Fixture *f = *state;
        Outcome o = {};

        f->provider->hold = true;
        assert_int_equal(exchange_client_request(f->client, "127.0.0.1", f->port, &JOIN_WORKER, on_outcome, &o, NULL),
                         0);
        for (uint64_t end = now_usec() + 5 * SEC; exchange_test_provider_pending(f->provider) == 0 && now_usec() < end;)
                assert_true(sd_event_run(f->event, 10 * MSEC) >= 0);
        f->server = exchange_server_free(f->server);
        assert_true(run_until(f, &o.done, 5 * SEC));
        assert_true(o.error < 0);
        assert_int_equal(exchange_test_provider_release(f->provider), 1);
}

static void exchange__no_server__econnrefused(void **state)
{
        Fixture *f = *state;
        uint16_t port = f->port;
        Outcome o;

        f->server = exchange_server_free(f->server);
        assert_int_equal(ask(f, f->client, port, JOIN_WORKER, &o), -ECONNREFUSED);
}

static void exchange__client_with_other_secret__eacces_and_nothing_handed_out(void **state)
{
        Fixture *f = *state;
        ExchangeClient *stranger = NULL;
        Outcome o;

        assert_int_equal(exchange_client_new(f->event, OTHER, "worker-x", NULL, &stranger), 0);
        assert_int_equal(ask(f, stranger, f->port, JOIN_WORKER, &o), -EACCES);
        assert_int_equal(ask(f, stranger, f->port, (ExchangeQuery){.op = EXCHANGE_OP_CA}, &o), -EACCES);
        assert_int_equal(ask(f, stranger, f->port, (ExchangeQuery){.op = EXCHANGE_OP_KUBECONFIG}, &o), -EACCES);
        assert_int_equal(f->provider->n_join + f->provider->n_ca + f->provider->n_kubeconfig, 0);
        exchange_client_free(stranger);
        assert_serving(f);
}

/* A server that looks like an exchange server but breaks the rules in one way. */
typedef enum RogueMode {
        ROGUE_OTHER_SECRET, /* accepts anything, seals with another cluster's secret */
        ROGUE_TAMPER,       /* a real server's answer with one hex digit changed on the way */
        ROGUE_REPLAY,       /* a real answer, served again to the next request */
        ROGUE_WRONG_OP,     /* knows the secret, answers a join with a vote */
        ROGUE_HUGE,         /* an endless answer */
        ROGUE_JUNK,         /* 200 and not JSON */
        ROGUE_STATUS,       /* a bare status code */
} RogueMode;

typedef struct Rogue {
        RogueMode mode;
        unsigned status;
        HttpServer *http;
        ExchangeHandler *real;
        ExchangeTestProvider *provider;
        char *saved;
        HttpRequest *req;
} Rogue;

static void rogue_forward(void *userdata, unsigned status, const char *body, size_t size)
{
        Rogue *r = userdata;
        _cleanup_free_ char *copy = strndup(body, size);
        char *hex = strstr(copy, "\"sealed\":\"");

        assert_non_null(copy);
        if (r->mode == ROGUE_TAMPER && hex) {
                hex += 10 + 40;
                *hex = *hex == '0' ? '1' : '0';
        }
        if (r->mode == ROGUE_REPLAY && status == 200 && hex) {
                if (r->saved) {
                        http_request_reply(r->req, 200, r->saved, strlen(r->saved));
                        return;
                }
                r->saved = strdup(copy);
        }
        http_request_reply(r->req, status, copy, size);
}

/* Seals answer a for the request in body with secret. */
static char *rogue_seal(const char *body, size_t size, const char *secret, const ExchangeAnswer *a)
{
        ExchangeRequest req;
        uint8_t key[EXCHANGE_KEY_SIZE], iv[EXCHANGE_IV_SIZE] = {};
        _cleanup_free_ char *plain = NULL, *hex = NULL;
        char *out = NULL;

        assert_int_equal(exchange_request_from_json(body, size, &req), 0);
        assert_int_equal(exchange_answer_key(secret, req.server_nonce, req.client_nonce, key), 0);
        assert_int_equal(exchange_answer_to_json(a, req.role, &plain), 0);
        assert_int_equal(exchange_seal(key, iv, &req, plain, strlen(plain), &hex), 0);
        assert_int_equal(exchange_sealed_to_json(hex, &out), 0);
        return out;
}

static void rogue_exchange(Rogue *r, HttpRequest *req, const char *body, size_t size)
{
        static const ExchangeAnswer join = {
                .op = EXCHANGE_OP_JOIN,
                .server = "rogue",
                .join = {.endpoint = "203.0.113.1:9000",
                         .token = "rogue0.0123456789abcdef",
                         .ca_cert_hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000"},
        };
        _cleanup_free_ char *out = NULL, *huge = NULL;

        switch (r->mode) {
        case ROGUE_OTHER_SECRET:
                out = rogue_seal(body, size, OTHER, &join);
                return http_request_reply(req, 200, out, strlen(out));
        case ROGUE_WRONG_OP:
                out = rogue_seal(body, size, SECRET, &(ExchangeAnswer){.op = EXCHANGE_OP_VOTE, .server = "rogue"});
                return http_request_reply(req, 200, out, strlen(out));
        case ROGUE_HUGE:
                huge = malloc(4 << 20);
                assert_non_null(huge);
                memset(huge, '0', 4 << 20);
                return http_request_reply(req, 200, huge, 4 << 20);
        case ROGUE_JUNK:
                return http_request_reply(req, 200, "<html>hello</html>", 18);
        case ROGUE_STATUS:
                return http_request_reply(req, r->status, "", 0);
        case ROGUE_TAMPER:
        case ROGUE_REPLAY:
                break;
        }
}

static void rogue_on_request(void *userdata, HttpRequest *req)
{
        Rogue *r = userdata;
        ExchangeHttpRequest x = {
                .method = http_request_method(req),
                .path = http_request_path(req),
                .peer = http_request_peer(req),
        };
        ExchangeForward *pending = NULL;

        x.body = http_request_body(req, &x.body_size);
        if (r->mode == ROGUE_TAMPER || r->mode == ROGUE_REPLAY || streq(x.path, EXCHANGE_PATH_NONCE)) {
                r->req = req;
                exchange_handler_process(r->real, &x, now_usec(), rogue_forward, r, &pending);
                assert_null(pending);
                return;
        }
        rogue_exchange(r, req, x.body, x.body_size);
}

static Rogue *rogue_new(Fixture *f, RogueMode mode)
{
        Rogue *r = calloc(1, sizeof *r);

        assert_non_null(r);
        r->mode = mode;
        assert_int_equal(exchange_test_provider_new(NULL, "master-9", &r->provider), 0);
        assert_int_equal(exchange_handler_new(SECRET, NULL, &exchange_test_provider_ops, r->provider, &r->real), 0);
        assert_int_equal(
                http_server_new(f->event, &(HttpServerOptions){.address = "127.0.0.1"}, rogue_on_request, r, &r->http),
                0);
        return r;
}

static void rogue_free(Rogue *r)
{
        http_server_free(r->http);
        exchange_handler_free(r->real);
        exchange_test_provider_free(r->provider);
        free(r->saved);
        free(r);
}

static int ask_rogue(Fixture *f, RogueMode mode, unsigned status)
{
        Rogue *r = rogue_new(f, mode);
        Outcome o;
        int k;

        r->status = status;
        k = ask(f, f->client, http_server_get_port(r->http), JOIN_WORKER, &o);
        if (mode == ROGUE_REPLAY) {
                assert_int_equal(k, 0);
                k = ask(f, f->client, http_server_get_port(r->http), JOIN_WORKER, &o);
        }
        if (k != 0)
                assert_string_equal(o.token, ""); /* nothing of a refused answer reaches the caller */
        rogue_free(r);
        return k;
}

static void exchange_client__server_without_secret__ebadmsg(void **state)
{
        assert_int_equal(ask_rogue(*state, ROGUE_OTHER_SECRET, 0), -EBADMSG);
}

static void exchange_client__tampered_answer__ebadmsg(void **state)
{
        assert_int_equal(ask_rogue(*state, ROGUE_TAMPER, 0), -EBADMSG);
}

static void exchange_client__replayed_answer__ebadmsg(void **state)
{
        assert_int_equal(ask_rogue(*state, ROGUE_REPLAY, 0), -EBADMSG);
}

static void exchange_client__answer_for_another_operation__eproto(void **state)
{
        assert_int_equal(ask_rogue(*state, ROGUE_WRONG_OP, 0), -EPROTO);
}

static void exchange_client__endless_answer__e2big(void **state)
{
        assert_int_equal(ask_rogue(*state, ROGUE_HUGE, 0), -E2BIG);
}

static void exchange_client__junk_answer__eproto(void **state)
{
        assert_int_equal(ask_rogue(*state, ROGUE_JUNK, 0), -EPROTO);
}

static void exchange_client__statuses__errnos(void **state)
{
        static const struct {
                unsigned status;
                int error;
        } cases[] = {{400, -EPROTO},    {403, -EACCES},     {404, -EOPNOTSUPP}, {409, -EBUSY},  {429, -EAGAIN},
                     {500, -EREMOTEIO}, {501, -EOPNOTSUPP}, {503, -EAGAIN},     {302, -EPROTO}, {204, -EPROTO}};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(ask_rogue(*state, ROGUE_STATUS, cases[i].status), cases[i].error);
}

static void exchange_client_request__bad_arguments__einval(void **state)
{
        Fixture *f = *state;
        ExchangeClient *c = NULL;
        Outcome o = {};

        assert_int_equal(
                exchange_client_request(f->client, "127.0.0.1/evil?", f->port, &JOIN_WORKER, on_outcome, &o, NULL),
                -EINVAL);
        assert_int_equal(exchange_client_request(f->client, "127.0.0.1", 0, &JOIN_WORKER, on_outcome, &o, NULL),
                         -EINVAL);
        assert_int_equal(
                exchange_client_request(f->client, "127.0.0.1", f->port, &(ExchangeQuery){}, on_outcome, &o, NULL),
                -EINVAL);
        assert_int_equal(exchange_client_new(f->event, SECRET, "bad node", NULL, &c), -EINVAL);
        assert_int_equal(exchange_client_new(f->event, "", "n", NULL, &c), -EINVAL);
        assert_null(c);
        assert_false(o.done);
}

static void on_outcome_free_client(void *userdata, int error, const ExchangeAnswer *a)
{
        Fixture *f = userdata;

        f->client = exchange_client_free(f->client);
}

static void exchange_client_free__inside_callback__safe(void **state)
{
        Fixture *f = *state;

        assert_int_equal(
                exchange_client_request(f->client, "127.0.0.1", f->port, &JOIN_WORKER, on_outcome_free_client, f, NULL),
                0);
        for (uint64_t end = now_usec() + 5 * SEC; f->client && now_usec() < end;)
                assert_true(sd_event_run(f->event, 10 * MSEC) >= 0);
        assert_null(f->client);
        run_for(f, 100 * MSEC);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(exchange__good_join__material_from_provider),
                T(exchange__every_operation__answered),
                T(exchange_client_status__server__node_role_phase),
                T(exchange__control_plane_ticket__second_refused_until_joined),
                T(exchange__concurrent_clients__all_served),
                T(exchange__nonce_then_status__connection_kept_then_closed),
                T(exchange__delayed_provider__answered_when_ready),
                T(exchange__ready__answered_when_the_server_is_ready),
                T(exchange__hung_provider__503_at_deadline_and_still_serving),
                T(exchange__client_cancels_while_provider_works__server_unharmed),
                T(exchange__server_freed_with_held_call__clean),
                T(exchange__no_server__econnrefused),
                T(exchange__client_with_other_secret__eacces_and_nothing_handed_out),
                T(exchange_client__server_without_secret__ebadmsg),
                T(exchange_client__tampered_answer__ebadmsg),
                T(exchange_client__replayed_answer__ebadmsg),
                T(exchange_client__answer_for_another_operation__eproto),
                T(exchange_client__endless_answer__e2big),
                T(exchange_client__junk_answer__eproto),
                T(exchange_client__statuses__errnos),
                T(exchange_client_request__bad_arguments__einval),
                T(exchange_client_free__inside_callback__safe),
        };
        if (getenv("TEST_FILTER")) /* e.g. TEST_FILTER='*slowloris*' */
                cmocka_set_test_filter(getenv("TEST_FILTER"));
        return cmocka_run_group_tests(tests, NULL, NULL);
}
