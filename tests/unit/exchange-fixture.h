/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the loopback tests of the exchange: a server and a client on one sd-event loop, raw TCP clients
 * that send whatever a test wants from their own 127.0.0.x address, and a rogue server that answers like an
 * exchange server but without (or against) the rules. cmocka is included by the test first. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "exchange-client.h"
#include "exchange-server.h"
#include "exchange-session.h"
#include "exchange-test-provider.h"
#include "macro.h"

#define SECRET "0123456789abcdefghijklmnopqrstuvwxyzABCD"
#define OTHER  "another-cluster-secret-of-enough-length!!"
#define SEC    1000000ULL
#define MSEC   1000ULL
#define GOOD   "127.0.0.1" /* the good client's address; hostile ones use others */

typedef struct Fixture {
        sd_event *event;
        ExchangeTestProvider *provider;
        ExchangeServer *server;
        ExchangeClient *client;
        uint16_t port;
} Fixture;

typedef struct Outcome {
        bool done;
        int error;
        char token[24];
        char certificate_key[65];
        char server[EXCHANGE_NODE_MAX + 1];
        bool granted;
        char kubeconfig[8192];
} Outcome;

static inline uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec / 1000;
}

static inline ExchangeServerOptions test_server_options(void)
{
        return (ExchangeServerOptions){
                .http =
                        {
                                .address = "127.0.0.1",
                                .max_connections = 32,
                                .max_per_address = 4,
                                .request_timeout_usec = 1 * SEC,
                                .deadline_usec = 2 * SEC,
                        },
        };
}

static inline void fixture_start_server(Fixture *f, const ExchangeServerOptions *o)
{
        f->server = exchange_server_free(f->server);
        assert_int_equal(exchange_server_new(f->event, SECRET, o, &exchange_test_provider_ops, f->provider, &f->server),
                         0);
        f->port = exchange_server_get_port(f->server);
        assert_true(f->port > 0);
}

static inline int fixture_setup(void **state)
{
        Fixture *f = calloc(1, sizeof *f);
        ExchangeServerOptions o = test_server_options();

        assert_non_null(f);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(exchange_test_provider_new(f->event, "master-1", &f->provider), 0);
        fixture_start_server(f, &o);
        assert_int_equal(exchange_client_new(f->event, SECRET, "worker-a1b2c3",
                                             &(ExchangeClientOptions){.timeout_usec = 8 * SEC, .source_address = GOOD},
                                             &f->client),
                         0);
        *state = f;
        return 0;
}

static inline int fixture_teardown(void **state)
{
        Fixture *f = *state;

        exchange_client_free(f->client);
        exchange_server_free(f->server);
        exchange_test_provider_free(f->provider);
        sd_event_unref(f->event);
        free(f);
        return 0;
}

/* Turns the loop until *flag or timeout; returns whether *flag. */
static inline bool run_until(Fixture *f, const bool *flag, uint64_t timeout)
{
        uint64_t end = now_usec() + timeout;

        while (!*flag && now_usec() < end)
                assert_true(sd_event_run(f->event, 10 * MSEC) >= 0);
        return *flag;
}

static inline void run_for(Fixture *f, uint64_t usec)
{
        bool never = false;

        (void)run_until(f, &never, usec);
}

static inline void on_outcome(void *userdata, int error, const ExchangeAnswer *a)
{
        Outcome *o = userdata;

        o->done = true;
        o->error = error;
        if (!a)
                return;
        o->granted = a->granted;
        snprintf(o->server, sizeof o->server, "%s", a->server);
        if (a->join.token)
                snprintf(o->token, sizeof o->token, "%s", a->join.token);
        if (a->join.certificate_key)
                snprintf(o->certificate_key, sizeof o->certificate_key, "%s", a->join.certificate_key);
        if (a->kubeconfig)
                snprintf(o->kubeconfig, sizeof o->kubeconfig, "%s", a->kubeconfig);
}

/* One request with client c to port; returns the error. */
static inline int ask(Fixture *f, ExchangeClient *c, uint16_t port, ExchangeQuery q, Outcome *o)
{
        *o = (Outcome){};
        assert_int_equal(exchange_client_request(c, "127.0.0.1", port, &q, on_outcome, o, NULL), 0);
        assert_true(run_until(f, &o->done, 15 * SEC));
        return o->error;
}

static const ExchangeQuery JOIN_WORKER = {.op = EXCHANGE_OP_JOIN, .role = EXCHANGE_ROLE_WORKER};
static const ExchangeQuery JOIN_CP = {.op = EXCHANGE_OP_JOIN, .role = EXCHANGE_ROLE_CONTROL_PLANE};

/* The server still serves: a good client joins. */
static inline void assert_serving(Fixture *f)
{
        Outcome o;
        int r = ask(f, f->client, f->port, JOIN_WORKER, &o);

        if (r != 0)
                print_error("good client after a hostile one: %s\n", strerror(-r));
        assert_int_equal(r, 0);
        assert_string_equal(o.token, f->provider->last_token);
}

/* A raw TCP client from source (127.0.0.x). */
static inline int raw_connect(Fixture *f, const char *source, uint16_t port)
{
        struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET, .sin_port = htons(port)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(inet_pton(AF_INET, source, &src.sin_addr), 1);
        assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr), 1);
        assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof src), 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof dst), 0);
        return fd;
}

/* Sends all of data while the loop turns (the server must read for a large send to finish). Returns 0, or
 * -EPIPE/-ECONNRESET if the server closed first. */
static inline int raw_send(Fixture *f, int fd, const void *data, size_t size)
{
        const char *p = data;
        uint64_t end = now_usec() + 10 * SEC;

        while (size > 0 && now_usec() < end) {
                ssize_t n = send(fd, p, size, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0 && errno != EAGAIN)
                        return -errno;
                if (n > 0) {
                        p += n;
                        size -= (size_t)n;
                        continue;
                }
                assert_true(sd_event_run(f->event, 5 * MSEC) >= 0);
        }
        return size == 0 ? 0 : -ETIMEDOUT;
}

/* Reads until the server closes or timeout. Returns the HTTP status, 0 if it closed without an answer,
 * -ETIMEDOUT. The answer's body goes to body (if given). */
static inline int raw_read(Fixture *f, int fd, uint64_t timeout, char *body, size_t body_size)
{
        static char buf[1 << 20];
        size_t got = 0;
        uint64_t end = now_usec() + timeout;
        unsigned status = 0;
        const char *b;

        for (;;) {
                ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, MSG_DONTWAIT);
                if (n > 0) {
                        got += (size_t)n;
                        continue;
                }
                if (n == 0 || (n < 0 && errno != EAGAIN))
                        break;
                if (now_usec() >= end)
                        return -ETIMEDOUT;
                assert_true(sd_event_run(f->event, 5 * MSEC) >= 0);
        }
        buf[got] = 0;
        if (sscanf(buf, "HTTP/1.%*1[01] %u", &status) != 1)
                return 0;
        b = strstr(buf, "\r\n\r\n");
        if (body)
                snprintf(body, body_size, "%s", b ? b + 4 : "");
        return (int)status;
}

/* One request over a fresh connection from source. Returns the status (0: closed without one). */
static inline int raw_http(Fixture *f, const char *source, const char *method, const char *path, const char *body,
                           char *answer, size_t answer_size)
{
        _cleanup_free_ char *req = NULL;
        int fd, r, n;

        n = asprintf(&req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ?: "");
        assert_true(n > 0);
        fd = raw_connect(f, source, f->port);
        (void)raw_send(f, fd, req, (size_t)n); /* the server may answer and close before it read all */
        r = raw_read(f, fd, 5 * SEC, answer, answer_size);
        close(fd);
        return r;
}

/* A nonce from the server for source. */
static inline void raw_nonce(Fixture *f, const char *source, uint8_t nonce[static EXCHANGE_NONCE_SIZE])
{
        char body[4096];

        assert_int_equal(raw_http(f, source, "POST", EXCHANGE_PATH_NONCE, NULL, body, sizeof body), 200);
        assert_int_equal(exchange_nonce_from_json(body, strlen(body), nonce), 0);
}

/* A correctly signed request body for q from source's fresh nonce (with secret). */
static inline char *raw_signed(Fixture *f, const char *source, const char *secret, const char *node, ExchangeQuery q,
                               ExchangeSession *ret_session)
{
        uint8_t sn[EXCHANGE_NONCE_SIZE], cn[EXCHANGE_NONCE_SIZE];
        ExchangeSession s;
        char *body = NULL;

        raw_nonce(f, source, sn);
        assert_int_equal(crypto_random_bytes(cn, sizeof cn), 0);
        assert_int_equal(exchange_session_init(&s, secret, node, &q, sn, cn), 0);
        assert_int_equal(exchange_session_request(&s, &body), 0);
        if (ret_session)
                *ret_session = s;
        else
                exchange_session_done(&s);
        return body;
}
