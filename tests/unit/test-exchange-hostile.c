/* SPDX-License-Identifier: MIT */
/* The exchange server on loopback against hostile clients: each case is refused with the right status (or
 * the connection is cut), and a good client joins right afterwards. Hostile clients come from their own
 * 127.0.0.x addresses, as different machines on a LAN would; the good one from 127.0.0.1. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exchange-fixture.h"

#define GOOD_NODE "worker-a1b2c3"

/* POSTs body to /v1/exchange from source and checks the status; then the good client must still join. */
static void expect_refused(Fixture *f, const char *source, const char *body, int status)
{
        int got = raw_http(f, source, "POST", EXCHANGE_PATH_EXCHANGE, body, NULL, 0);

        if (got != status)
                print_error("%s: %d, expected %d\n", body, got, status);
        assert_int_equal(got, status);
        assert_int_equal(f->provider->n_join + f->provider->n_vote + f->provider->n_ca, 0);
        assert_serving(f);
}

/* A signed request with one field of its JSON replaced: field, then the new text up to the next field. */
static char *mutate(const char *body, const char *field, const char *value)
{
        const char *at = strstr(body, field), *end;
        char *out = NULL;

        assert_non_null(at);
        end = strpbrk(at + strlen(field), ",}");
        assert_non_null(end);
        assert_true(asprintf(&out, "%.*s%s%s", (int)(at - body), body, value, end) > 0);
        return out;
}

static void hostile__wrong_mac__403(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *good = raw_signed(f, "127.0.0.10", SECRET, GOOD_NODE, JOIN_WORKER, NULL);
        _cleanup_free_ char *bad = mutate(good, "\"mac\":",
                                          "\"mac\":\"00000000000000000000000000000000000000000000000000000000000000"
                                          "00\"");

        expect_refused(f, "127.0.0.10", bad, 403);
}

static void hostile__mac_for_other_role__403(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *good = raw_signed(f, "127.0.0.11", SECRET, "master-7", JOIN_WORKER, NULL);
        _cleanup_free_ char *bad = mutate(good, "\"role\":", "\"role\":\"control-plane\"");

        expect_refused(f, "127.0.0.11", bad, 403);
        assert_null(exchange_server_ticket_holder(f->server));
}

static void hostile__wrong_secret__403(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *body = raw_signed(f, "127.0.0.12", OTHER, GOOD_NODE, JOIN_WORKER, NULL);

        expect_refused(f, "127.0.0.12", body, 403);
}

static void hostile__replayed_request__403(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *body = raw_signed(f, "127.0.0.13", SECRET, GOOD_NODE, JOIN_WORKER, NULL);

        assert_int_equal(raw_http(f, "127.0.0.13", "POST", EXCHANGE_PATH_EXCHANGE, body, NULL, 0), 200);
        assert_int_equal(f->provider->n_join, 1);
        f->provider->n_join = 0;
        expect_refused(f, "127.0.0.13", body, 403);
}

static void hostile__expired_nonce__403(void **state)
{
        Fixture *f = *state;
        ExchangeServerOptions o = test_server_options();
        _cleanup_free_ char *body = NULL;

        o.handler.nonce_ttl_usec = 300 * MSEC;
        fixture_start_server(f, &o);
        body = raw_signed(f, "127.0.0.14", SECRET, GOOD_NODE, JOIN_WORKER, NULL);
        run_for(f, 400 * MSEC);
        expect_refused(f, "127.0.0.14", body, 403);
}

static void hostile__unknown_nonce__403(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *good = raw_signed(f, "127.0.0.15", SECRET, GOOD_NODE, JOIN_WORKER, NULL);
        _cleanup_free_ char *bad = mutate(good, "\"server_nonce\":",
                                          "\"server_nonce\":\"1111111111111111111111111111111111111111111111111111"
                                          "111111111111\"");

        expect_refused(f, "127.0.0.15", bad, 403);
}

static void hostile__nonce_of_another_address__403(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *body = raw_signed(f, "127.0.0.16", SECRET, GOOD_NODE, JOIN_WORKER, NULL);

        expect_refused(f, "127.0.0.17", body, 403);
        /* Its owner can still use it. */
        assert_int_equal(raw_http(f, "127.0.0.16", "POST", EXCHANGE_PATH_EXCHANGE, body, NULL, 0), 200);
}

static void hostile__nonce_from_another_server__403(void **state)
{
        Fixture *f = *state;
        ExchangeTestProvider *p2 = NULL;
        ExchangeServer *s2 = NULL;
        ExchangeServerOptions o = test_server_options();
        _cleanup_free_ char *body = NULL;
        uint16_t port = f->port;

        /* Another server of the same cluster issues the nonce. */
        assert_int_equal(exchange_test_provider_new(f->event, "master-2", &p2), 0);
        assert_int_equal(exchange_server_new(f->event, SECRET, &o, &exchange_test_provider_ops, p2, &s2), 0);
        f->port = exchange_server_get_port(s2);
        body = raw_signed(f, "127.0.0.18", SECRET, GOOD_NODE, JOIN_WORKER, NULL);
        f->port = port;
        expect_refused(f, "127.0.0.18", body, 403);
        exchange_server_free(s2);
        exchange_test_provider_free(p2);
}

static void hostile__other_protocol_version__400(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *good = raw_signed(f, "127.0.0.19", SECRET, GOOD_NODE, JOIN_WORKER, NULL);
        _cleanup_free_ char *bad = mutate(good, "\"v\":", "\"v\":2");

        expect_refused(f, "127.0.0.19", bad, 400);
}

static void hostile__truncated_json__400(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *good = raw_signed(f, "127.0.0.20", SECRET, GOOD_NODE, JOIN_WORKER, NULL);

        good[strlen(good) / 2] = 0;
        expect_refused(f, "127.0.0.20", good, 400);
}

static void hostile__not_json__400(void **state)
{
        expect_refused(*state, "127.0.0.21", "op=join&node=w1&role=worker", 400);
}

static void hostile__deeply_nested_json__400(void **state)
{
        char deep[4001];

        memset(deep, '[', 2000);
        memset(deep + 2000, ']', 2000);
        deep[4000] = 0;
        expect_refused(*state, "127.0.0.22", deep, 400);
}

static void hostile__wrong_types__400(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *good = raw_signed(f, "127.0.0.23", SECRET, GOOD_NODE, JOIN_WORKER, NULL);
        _cleanup_free_ char *bad = mutate(good, "\"node\":", "\"node\":[\"" GOOD_NODE "\"]");

        expect_refused(f, "127.0.0.23", bad, 400);
}

static void hostile__missing_field__400(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *good = raw_signed(f, "127.0.0.24", SECRET, GOOD_NODE, JOIN_WORKER, NULL);
        _cleanup_free_ char *bad = mutate(good, "\"mac\":", "\"x\":0");

        expect_refused(f, "127.0.0.24", bad, 400);
}

static void hostile__unknown_operation__400(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *good = raw_signed(f, "127.0.0.25", SECRET, GOOD_NODE, JOIN_WORKER, NULL);
        _cleanup_free_ char *bad = mutate(good, "\"op\":", "\"op\":\"reset\"");

        expect_refused(f, "127.0.0.25", bad, 400);
}

static void hostile__wrong_methods_and_paths__405_404(void **state)
{
        Fixture *f = *state;

        assert_int_equal(raw_http(f, "127.0.0.26", "GET", EXCHANGE_PATH_EXCHANGE, NULL, NULL, 0), 405);
        assert_int_equal(raw_http(f, "127.0.0.26", "PUT", EXCHANGE_PATH_EXCHANGE, "{}", NULL, 0), 405);
        assert_int_equal(raw_http(f, "127.0.0.26", "DELETE", EXCHANGE_PATH_NONCE, NULL, NULL, 0), 405);
        assert_int_equal(raw_http(f, "127.0.0.26", "GET", "/v1/../etc/passwd", NULL, NULL, 0), 404);
        assert_int_equal(raw_http(f, "127.0.0.26", "GET", "/", NULL, NULL, 0), 404);
        assert_serving(f);
}

static void hostile__declared_oversized_body__413(void **state)
{
        Fixture *f = *state;
        static const char req[] = "POST /v1/exchange HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n{";
        int fd = raw_connect(f, "127.0.0.27", f->port);

        assert_int_equal(raw_send(f, fd, req, sizeof req - 1), 0);
        assert_int_equal(raw_read(f, fd, 5 * SEC, NULL, 0), 413);
        close(fd);
        assert_serving(f);
}

static void hostile__oversized_body__413(void **state)
{
        Fixture *f = *state;
        size_t n = 64 * 1024;
        _cleanup_free_ char *big = malloc(n + 1);

        assert_non_null(big);
        memset(big, ' ', n);
        big[0] = '{';
        big[n - 1] = '}';
        big[n] = 0;
        expect_refused(f, "127.0.0.28", big, 413);
}

static void hostile__chunked_body_beyond_limit__connection_cut(void **state)
{
        Fixture *f = *state;
        static const char head[] = "POST /v1/exchange HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        char chunk[1100];
        int fd = raw_connect(f, "127.0.0.29", f->port), r = 0;

        memset(chunk, 'a', sizeof chunk);
        memcpy(chunk, "400\r\n", 5);
        memcpy(chunk + 5 + 1024, "\r\n", 2);
        assert_int_equal(raw_send(f, fd, head, sizeof head - 1), 0);
        for (int i = 0; i < 8 && r >= 0; i++)
                r = raw_send(f, fd, chunk, 5 + 1024 + 2);
        assert_int_equal(raw_read(f, fd, 5 * SEC, NULL, 0), 0);
        close(fd);
        assert_serving(f);
}

static void hostile__huge_headers__refused(void **state)
{
        Fixture *f = *state;
        size_t n = 64 * 1024;
        _cleanup_free_ char *req = malloc(n + 128);
        int fd, status;

        assert_non_null(req);
        strcpy(req, "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Junk: ");
        memset(req + strlen(req), 'j', n);
        strcpy(req + strlen("GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Junk: ") + n, "\r\n\r\n");
        fd = raw_connect(f, "127.0.0.30", f->port);
        (void)raw_send(f, fd, req, strlen(req));
        status = raw_read(f, fd, 5 * SEC, NULL, 0);
        close(fd);
        /* MHD answers 431 (or cuts the connection): anything but being served. */
        assert_true(status == 431 || status == 413 || status == 0);
        assert_serving(f);
}

static void hostile__many_headers__refused(void **state)
{
        Fixture *f = *state;
        char *req = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&req, &size);
        int fd, status;

        assert_non_null(m);
        fprintf(m, "GET /v1/status HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 5000; i++)
                fprintf(m, "X-%d: %d\r\n", i, i);
        fprintf(m, "\r\n");
        assert_int_equal(fclose(m), 0);
        fd = raw_connect(f, "127.0.0.31", f->port);
        (void)raw_send(f, fd, req, size);
        status = raw_read(f, fd, 5 * SEC, NULL, 0);
        close(fd);
        free(req);
        assert_true(status == 431 || status == 413 || status == 0);
        assert_serving(f);
}

static void hostile__not_http__refused(void **state)
{
        Fixture *f = *state;
        static const char junk[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello TLS?\r\n\r\n";
        int fd = raw_connect(f, "127.0.0.32", f->port), status;

        (void)raw_send(f, fd, junk, sizeof junk - 1);
        status = raw_read(f, fd, 5 * SEC, NULL, 0);
        close(fd);
        assert_true(status == 400 || status == 0);
        assert_serving(f);
}

static void hostile__ambiguous_framing__400(void **state)
{
        static const char *const reqs[] = {
                "POST /v1/nonce HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n",
                ("POST /v1/nonce HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
                 "\r\n0\r\n\r\n"),
                "POST /v1/nonce HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                "GET /v1/status HTTP/1.1\r\n\r\n", /* no Host */
        };
        Fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(reqs); i++) {
                int fd = raw_connect(f, "127.0.0.33", f->port);
                (void)raw_send(f, fd, reqs[i], strlen(reqs[i]));
                assert_int_equal(raw_read(f, fd, 5 * SEC, NULL, 0), 400);
                close(fd);
        }
        assert_serving(f);
}

/* Whether the server has closed fd (EOF or reset), without blocking. */
static bool raw_closed(int fd)
{
        char c;
        ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

        return n == 0 || (n < 0 && errno != EAGAIN);
}

static void hostile__slowloris__cut_at_request_timeout(void **state)
{
        Fixture *f = *state;
        static const char req[] =
                "POST /v1/exchange HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        int fd = raw_connect(f, "127.0.0.34", f->port);
        uint64_t start = now_usec();
        size_t i = 0;

        /* One byte every 100 ms: never idle, but no complete request within the request timeout (1 s). */
        while (now_usec() - start < 5 * SEC && !raw_closed(fd)) {
                if (send(fd, &req[i % (sizeof req - 1)], 1, MSG_NOSIGNAL) < 0)
                        break;
                i++;
                run_for(f, 100 * MSEC);
        }
        close(fd);
        assert_true(now_usec() - start < 2 * SEC); /* before the deadline (2 s) */
        assert_true(now_usec() - start > 800 * MSEC);
        assert_serving(f);
}

static void hostile__silent_connection__closed_at_request_timeout(void **state)
{
        Fixture *f = *state;
        int fd = raw_connect(f, "127.0.0.37", f->port);

        run_for(f, 500 * MSEC);
        assert_false(raw_closed(fd));
        assert_int_equal(raw_read(f, fd, 3 * SEC, NULL, 0), 0); /* closed without an answer */
        close(fd);
        assert_serving(f);
}

static void hostile__keep_alive_requests__cut_at_deadline(void **state)
{
        Fixture *f = *state;
        static const char req[] = "POST /v1/nonce HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
        int fd = raw_connect(f, "127.0.0.38", f->port);
        uint64_t start = now_usec();
        char buf[4096];

        /* A complete request every 300 ms on one connection: within the request timeout each time, but the
         * connection as a whole ends at the deadline (2 s). */
        while (now_usec() - start < 5 * SEC && !raw_closed(fd)) {
                if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) < 0)
                        break;
                run_for(f, 300 * MSEC);
                while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
                        ;
        }
        close(fd);
        assert_true(now_usec() - start < 3 * SEC);
        assert_true(now_usec() - start > 1500 * MSEC);
        assert_serving(f);
}

static void hostile__connection_flood_from_many_addresses__good_client_served(void **state)
{
        Fixture *f = *state;
        char source[32];
        int fds[120];

        /* Far beyond the 32 connections the server takes; they send nothing. */
        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                snprintf(source, sizeof source, "127.0.1.%zu", 1 + i);
                fds[i] = raw_connect(f, source, f->port);
        }
        run_for(f, 100 * MSEC);
        /* The table holds half again its size while none has waited long enough to be evicted. */
        assert_true(exchange_server_get_connections(f->server) <= 32 + 16 + 4);
        assert_serving(f);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                close(fds[i]);
}

static void hostile__table_full_of_silent_connections__oldest_evicted(void **state)
{
        Fixture *f = *state;
        ExchangeServerOptions o = test_server_options();
        char source[32];
        int fds[40];

        /* Silent connections would stay for a minute: only eviction can let the good client in. */
        o.http.request_timeout_usec = 60 * SEC;
        o.http.deadline_usec = 60 * SEC;
        o.http.evict_idle_usec = 1 * SEC;
        fixture_start_server(f, &o);
        for (size_t i = 0; i < 32; i++) {
                snprintf(source, sizeof source, "127.0.2.%zu", 1 + i);
                fds[i] = raw_connect(f, source, f->port);
                run_for(f, 2 * MSEC); /* one after the other: a clear order */
        }
        run_for(f, 50 * MSEC);
        assert_int_equal(exchange_server_get_connections(f->server), 32);
        for (size_t i = 0; i < 32; i++)
                assert_false(raw_closed(fds[i]));

        /* Eight more, at once: none is evicted while they are all young... */
        for (size_t i = 32; i < ELEMENTSOF(fds); i++) {
                snprintf(source, sizeof source, "127.0.2.%zu", 1 + i);
                fds[i] = raw_connect(f, source, f->port);
        }
        run_for(f, 20 * MSEC);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                assert_false(raw_closed(fds[i]));
        /* ...then the eight that have waited longest make room, and only they. */
        run_for(f, 1500 * MSEC);
        assert_int_equal(exchange_server_get_connections(f->server), 32);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                assert_int_equal(raw_closed(fds[i]), i < 8);

        /* And the good client joins, although no connection timed out. */
        assert_serving(f);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                close(fds[i]);
}

static void hostile__table_full_of_busy_requests__none_evicted(void **state)
{
        Fixture *f = *state;
        static const char req[] = "GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        ExchangeServerOptions o = test_server_options();
        ExchangeClient *c[8] = {};
        Outcome out[8];
        char source[32];
        int late;

        o.http.request_timeout_usec = 60 * SEC;
        o.http.deadline_usec = 60 * SEC;
        o.http.max_connections = 8;
        fixture_start_server(f, &o);
        f->provider->hold = true;
        /* Eight joins held by the provider: busy, never evicted. */
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                snprintf(source, sizeof source, "127.0.3.%zu", 1 + i);
                assert_int_equal(exchange_client_new(
                                         f->event, SECRET, "worker-b1",
                                         &(ExchangeClientOptions){.timeout_usec = 20 * SEC, .source_address = source},
                                         &c[i]),
                                 0);
                out[i] = (Outcome){};
                assert_int_equal(
                        exchange_client_request(c[i], "127.0.0.1", f->port, &JOIN_WORKER, on_outcome, &out[i], NULL),
                        0);
        }
        for (uint64_t end = now_usec() + 5 * SEC; exchange_test_provider_pending(f->provider) < 8 && now_usec() < end;)
                run_for(f, 10 * MSEC);
        assert_int_equal(exchange_test_provider_pending(f->provider), 8);

        /* A newcomer finds no connection to evict: the table holds it beyond its size (up to half again), and
         * it is served; the held ones are not touched, however long they wait. */
        late = raw_connect(f, "127.0.3.100", f->port);
        (void)raw_send(f, late, req, sizeof req - 1);
        assert_int_equal(raw_read(f, late, 3 * SEC, NULL, 0), 200);
        close(late);
        run_for(f, 1 * SEC);
        assert_int_equal(exchange_test_provider_pending(f->provider), 8);

        f->provider->hold = false;
        assert_int_equal(exchange_test_provider_release(f->provider), 8);
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                assert_true(run_until(f, &out[i].done, 5 * SEC));
                assert_int_equal(out[i].error, 0);
                exchange_client_free(c[i]);
        }
        assert_serving(f);
}

static void hostile__connection_flood_from_one_address__capped(void **state)
{
        Fixture *f = *state;
        int fds[50], refused = 0;
        char c;

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = raw_connect(f, "127.0.0.35", f->port);
        run_for(f, 200 * MSEC);
        assert_true(exchange_server_get_connections(f->server) <= 4);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                ssize_t n = recv(fds[i], &c, 1, MSG_DONTWAIT);
                refused += n == 0 || (n < 0 && errno != EAGAIN);
        }
        assert_true(refused >= 46);
        assert_serving(f); /* meanwhile, from another address */
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                close(fds[i]);
}

static void hostile__failure_burst__429_for_that_address_only(void **state)
{
        Fixture *f = *state;
        uint8_t nonce[EXCHANGE_NONCE_SIZE];

        for (int i = 0; i < 10; i++)
                assert_int_equal(raw_http(f, "127.0.0.36", "POST", EXCHANGE_PATH_EXCHANGE, "guess", NULL, 0), 400);
        assert_int_equal(raw_http(f, "127.0.0.36", "POST", EXCHANGE_PATH_EXCHANGE, "guess", NULL, 0), 429);
        assert_int_equal(raw_http(f, "127.0.0.36", "POST", EXCHANGE_PATH_NONCE, NULL, NULL, 0), 429);
        assert_serving(f);
        run_for(f, 1100 * MSEC);
        raw_nonce(f, "127.0.0.36", nonce);
}

static void hostile__second_control_plane_ticket__409_while_held(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ char *first = raw_signed(f, "127.0.0.37", SECRET, "master-2", JOIN_CP, NULL);
        _cleanup_free_ char *second = NULL;

        assert_int_equal(raw_http(f, "127.0.0.37", "POST", EXCHANGE_PATH_EXCHANGE, first, NULL, 0), 200);
        second = raw_signed(f, "127.0.0.38", SECRET, "master-3", JOIN_CP, NULL);
        assert_int_equal(raw_http(f, "127.0.0.38", "POST", EXCHANGE_PATH_EXCHANGE, second, NULL, 0), 409);
        assert_string_equal(exchange_server_ticket_holder(f->server), "master-2");
        assert_serving(f);
}

static void hostile__status_endpoint__no_secrets(void **state)
{
        Fixture *f = *state;
        char body[4096];

        assert_int_equal(raw_http(f, "127.0.0.39", "GET", EXCHANGE_PATH_STATUS, NULL, body, sizeof body), 200);
        assert_null(strstr(body, SECRET));
        assert_null(strstr(body, "token"));
        assert_non_null(strstr(body, "\"node\":\"master-1\""));
}

#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(hostile__wrong_mac__403),
                T(hostile__mac_for_other_role__403),
                T(hostile__wrong_secret__403),
                T(hostile__replayed_request__403),
                T(hostile__expired_nonce__403),
                T(hostile__unknown_nonce__403),
                T(hostile__nonce_of_another_address__403),
                T(hostile__nonce_from_another_server__403),
                T(hostile__other_protocol_version__400),
                T(hostile__truncated_json__400),
                T(hostile__not_json__400),
                T(hostile__deeply_nested_json__400),
                T(hostile__wrong_types__400),
                T(hostile__missing_field__400),
                T(hostile__unknown_operation__400),
                T(hostile__wrong_methods_and_paths__405_404),
                T(hostile__declared_oversized_body__413),
                T(hostile__oversized_body__413),
                T(hostile__chunked_body_beyond_limit__connection_cut),
                T(hostile__huge_headers__refused),
                T(hostile__many_headers__refused),
                T(hostile__not_http__refused),
                T(hostile__ambiguous_framing__400),
                T(hostile__slowloris__cut_at_request_timeout),
                T(hostile__silent_connection__closed_at_request_timeout),
                T(hostile__keep_alive_requests__cut_at_deadline),
                T(hostile__connection_flood_from_many_addresses__good_client_served),
                T(hostile__table_full_of_silent_connections__oldest_evicted),
                T(hostile__table_full_of_busy_requests__none_evicted),
                T(hostile__connection_flood_from_one_address__capped),
                T(hostile__failure_burst__429_for_that_address_only),
                T(hostile__second_control_plane_ticket__409_while_held),
                T(hostile__status_endpoint__no_secrets),
        };
        if (getenv("TEST_FILTER")) /* e.g. TEST_FILTER='*slowloris*' */
                cmocka_set_test_filter(getenv("TEST_FILTER"));
        return cmocka_run_group_tests(tests, NULL, NULL);
}
