/* SPDX-License-Identifier: MIT */
/* The exchange split in two over a SOCK_SEQPACKET socketpair in one process: the back's end (as in the root
 * daemon) and the worker's end (as in piagent-exchange.service), with a real client over loopback TCP. And each
 * end against a peer that sends what it must not. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "exchange-fixture.h"
#include "exchange-ipc.h"
#include "exchange-link.h"

typedef struct Split {
        Fixture f; /* event, provider, client (its server unused) */
        ExchangeBack *back;
        ExchangeBackLink *root_end;
        ExchangeWorker *worker;
        int root_events, worker_events;
        bool root_closed, worker_closed;
        int root_error, worker_error;
        uint16_t port;
} Split;

static void on_root_event(void *userdata, bool closed, int error, uint16_t port)
{
        Split *s = userdata;

        s->root_events++;
        s->root_error = error;
        if (closed) {
                s->root_closed = true;
                s->root_end = exchange_back_link_free(s->root_end);
        } else
                s->port = port;
}

static void on_worker_event(void *userdata, bool closed, int error, uint16_t port)
{
        Split *s = userdata;

        s->worker_events++;
        s->worker_error = error;
        if (closed) {
                s->worker_closed = true;
                s->worker = exchange_worker_free(s->worker);
        }
}

static bool run_until_true(Split *s, bool (*cond)(Split *), uint64_t timeout)
{
        uint64_t end = now_usec() + timeout;

        while (!cond(s) && now_usec() < end)
                assert_true(sd_event_run(s->f.event, 10 * MSEC) >= 0);
        return cond(s);
}

static bool listening(Split *s)
{
        return s->port > 0;
}

static int setup(void **state)
{
        Split *s = calloc(1, sizeof *s);
        ExchangeServerOptions o = test_server_options();
        int fds[2];

        assert_non_null(s);
        assert_int_equal(sd_event_new(&s->f.event), 0);
        assert_int_equal(exchange_test_provider_new(s->f.event, "master-1", &s->f.provider), 0);
        assert_int_equal(exchange_back_new(SECRET, NULL, &exchange_test_provider_ops, s->f.provider, &s->back), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
        assert_int_equal(exchange_worker_new(s->f.event, fds[1], &o, on_worker_event, s, &s->worker), 0);
        assert_int_equal(
                exchange_back_link_new(s->f.event, fds[0], s->back, "127.0.0.1", 0, on_root_event, s, &s->root_end), 0);
        assert_true(run_until_true(s, listening, 5 * SEC));
        assert_int_equal(s->root_error, 0);
        assert_int_equal(exchange_worker_get_port(s->worker), s->port);
        s->f.port = s->port;
        assert_int_equal(exchange_client_new(s->f.event, SECRET, "worker-a1b2c3",
                                             &(ExchangeClientOptions){.timeout_usec = 8 * SEC, .source_address = GOOD},
                                             &s->f.client),
                         0);
        *state = s;
        return 0;
}

static int teardown(void **state)
{
        Split *s = *state;

        exchange_client_free(s->f.client);
        exchange_worker_free(s->worker);
        exchange_back_link_free(s->root_end);
        exchange_back_free(s->back);
        exchange_test_provider_free(s->f.provider);
        sd_event_unref(s->f.event);
        free(s);
        return 0;
}

static void split__join__material_through_the_link(void **state)
{
        Split *s = *state;
        Outcome o;

        assert_int_equal(ask(&s->f, s->f.client, s->port, JOIN_WORKER, &o), 0);
        assert_string_equal(o.token, s->f.provider->last_token);
        assert_string_equal(o.server, "master-1");
        assert_int_equal(ask(&s->f, s->f.client, s->port, JOIN_CP, &o), 0);
        assert_int_equal(strlen(o.certificate_key), 64);
}

/* admin.conf's size: the sealed answer (twice the plaintext in hex) is one datagram of the link. */
static void split__kubeconfig__sealed_through_the_link(void **state)
{
        Split *s = *state;
        Outcome o = {};

        assert_true(strlen(exchange_test_kubeconfig) > 5000);
        assert_int_equal(ask(&s->f, s->f.client, s->port, (ExchangeQuery){.op = EXCHANGE_OP_KUBECONFIG}, &o), 0);
        assert_string_equal(o.kubeconfig, exchange_test_kubeconfig);
        assert_int_equal(s->f.provider->n_kubeconfig, 1);
}

static void on_status(void *userdata, int error, const ExchangeStatus *st)
{
        Outcome *o = userdata;

        o->done = true;
        o->error = error;
        if (st)
                snprintf(o->server, sizeof o->server, "%s", st->node);
}

static void split__status__answered_by_the_back(void **state)
{
        Split *s = *state;
        Outcome o = {};

        assert_int_equal(exchange_client_status(s->f.client, "127.0.0.1", s->port, on_status, &o, NULL), 0);
        assert_true(run_until(&s->f, &o.done, 5 * SEC));
        assert_int_equal(o.error, 0);
        assert_string_equal(o.server, "master-1");
}

static void split__wrong_secret__403_from_the_back_and_counted(void **state)
{
        Split *s = *state;
        ExchangeClient *other = NULL;
        Outcome o;

        assert_int_equal(exchange_client_new(s->f.event, OTHER, "worker-x",
                                             &(ExchangeClientOptions){.source_address = "127.0.0.50"}, &other),
                         0);
        /* Ten wrong MACs (found by the back), then the front turns the address away. */
        for (int i = 0; i < 10; i++)
                assert_int_equal(ask(&s->f, other, s->port, JOIN_WORKER, &o), -EACCES);
        assert_int_equal(ask(&s->f, other, s->port, JOIN_WORKER, &o), -EAGAIN);
        assert_int_equal(s->f.provider->n_join, 0);
        exchange_client_free(other);
        assert_int_equal(ask(&s->f, s->f.client, s->port, JOIN_WORKER, &o), 0);
}

static bool provider_holds_one(Split *s)
{
        return exchange_test_provider_pending(s->f.provider) == 1;
}

static void split__client_gone__call_abandoned_at_the_root(void **state)
{
        Split *s = *state;
        ExchangeClientCall *call = NULL;
        Outcome o = {};

        s->f.provider->hold = true;
        assert_int_equal(
                exchange_client_request(s->f.client, "127.0.0.1", s->port, &JOIN_WORKER, on_outcome, &o, &call), 0);
        assert_true(run_until_true(s, provider_holds_one, 5 * SEC));
        assert_int_equal(exchange_back_link_pending(s->root_end), 1);
        exchange_client_call_cancel(call);
        /* A suspended connection is not watched: the server gives up on it at its deadline (2 s here). */
        run_for(&s->f, 2500 * MSEC);
        assert_int_equal(exchange_back_link_pending(s->root_end), 0);
        /* The provider's answer now goes nowhere, and both ends carry on. */
        s->f.provider->hold = false;
        assert_int_equal(exchange_test_provider_release(s->f.provider), 1);
        run_for(&s->f, 100 * MSEC);
        assert_false(o.done);
        assert_false(s->root_closed || s->worker_closed);
        assert_int_equal(ask(&s->f, s->f.client, s->port, JOIN_WORKER, &o), 0);
}

/* A raw end that sends whatever a test wants to the other. */
static int raw_pair(Split *s, bool to_root)
{
        ExchangeServerOptions o = test_server_options();
        int fds[2];

        s->worker = exchange_worker_free(s->worker);
        s->root_end = exchange_back_link_free(s->root_end);
        s->root_closed = s->worker_closed = false;
        s->root_error = s->worker_error = 0;
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
        if (to_root)
                assert_int_equal(exchange_back_link_new(s->f.event, fds[0], s->back, "127.0.0.1", 0, on_root_event, s,
                                                        &s->root_end),
                                 0);
        else
                assert_int_equal(exchange_worker_new(s->f.event, fds[0], &o, on_worker_event, s, &s->worker), 0);
        return fds[1];
}

static void send_ipc(int fd, const ExchangeIpcMessage *m)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size;

        assert_int_equal(exchange_ipc_encode(m, &buf, &size), 0);
        assert_int_equal(send(fd, buf, size, MSG_NOSIGNAL), (ssize_t)size);
}

static bool root_closed(Split *s)
{
        return s->root_closed;
}

static bool worker_closed(Split *s)
{
        return s->worker_closed;
}

static void split__root_gets_junk_or_out_of_order__closes_without_calling_the_provider(void **state)
{
        Split *s = *state;
        static const char junk[] = "PX1\0\3\1\0\0\1\0\0\0\0\0\0\0\0\0\0\0";
        char body[] = "{\"v\":1}";
        int fd;

        /* Not a message. */
        fd = raw_pair(s, true);
        assert_int_equal(send(fd, "hello", 5, 0), 5);
        assert_true(run_until_true(s, root_closed, 2 * SEC));
        assert_int_equal(s->root_error, -EBADMSG);
        close(fd);

        /* A request before the worker said it listens. */
        fd = raw_pair(s, true);
        send_ipc(fd, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_REQUEST,
                                           .kind = EXCHANGE_FORWARD_EXCHANGE,
                                           .id = 1,
                                           .address = "10.0.0.9",
                                           .data = body,
                                           .size = strlen(body)});
        assert_true(run_until_true(s, root_closed, 2 * SEC));
        close(fd);

        /* A message only the root sends. */
        fd = raw_pair(s, true);
        send_ipc(fd, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_READY, .port = 9470});
        send_ipc(fd, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_ANSWER, .id = 1, .status = 200});
        assert_true(run_until_true(s, root_closed, 2 * SEC));
        close(fd);

        /* A request without an address (a header that says there is none). */
        fd = raw_pair(s, true);
        send_ipc(fd, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_READY, .port = 9470});
        assert_int_equal(send(fd, junk, sizeof junk - 1, 0), (ssize_t)sizeof junk - 1);
        assert_true(run_until_true(s, root_closed, 2 * SEC));
        close(fd);
        assert_int_equal(s->f.provider->n_join + s->f.provider->n_vote + s->f.provider->n_ca, 0);
}

static void split__root_gets_unsigned_request__403_never_the_provider(void **state)
{
        Split *s = *state;
        char answer[4096] = "";
        const char *body = "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\",\"server_nonce\":\""
                           "1111111111111111111111111111111111111111111111111111111111111111\",\"client_nonce\":\""
                           "2222222222222222222222222222222222222222222222222222222222222222\",\"mac\":\""
                           "3333333333333333333333333333333333333333333333333333333333333333\"}";
        ExchangeIpcMessage m;
        ssize_t n = -1;
        int fd;

        /* A compromised worker may skip the nonce: the MAC is still the back's to check. */
        fd = raw_pair(s, true);
        assert_true(recv(fd, answer, sizeof answer, 0) > 0); /* HELLO */
        send_ipc(fd, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_READY, .port = 9470});
        send_ipc(fd, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_REQUEST,
                                           .kind = EXCHANGE_FORWARD_EXCHANGE,
                                           .id = 7,
                                           .address = "10.0.0.9",
                                           .data = body,
                                           .size = strlen(body)});
        for (uint64_t end = now_usec() + 2 * SEC; n < 0 && now_usec() < end;) {
                assert_true(sd_event_run(s->f.event, 10 * MSEC) >= 0);
                n = recv(fd, answer, sizeof answer, MSG_DONTWAIT);
        }
        assert_true(n > 0);
        assert_int_equal(exchange_ipc_decode((const uint8_t *)answer, (size_t)n, &m), 0);
        assert_int_equal(m.type, EXCHANGE_IPC_ANSWER);
        assert_int_equal(m.id, 7);
        assert_int_equal(m.status, 403);
        assert_int_equal(s->f.provider->n_join, 0);
        close(fd);
}

static void split__worker_gets_junk__closes(void **state)
{
        Split *s = *state;
        int fd = raw_pair(s, false);

        /* An answer to nothing is dropped; a HELLO after the first is not allowed. */
        send_ipc(fd, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_ANSWER, .id = 99, .status = 200});
        send_ipc(fd, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_HELLO, .address = "127.0.0.1"});
        run_for(&s->f, 100 * MSEC);
        assert_false(s->worker_closed);
        send_ipc(fd, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_HELLO, .address = "127.0.0.1"});
        assert_true(run_until_true(s, worker_closed, 2 * SEC));
        assert_int_equal(s->worker_error, -EBADMSG);
        close(fd);
}

static void split__root_gone__worker_told(void **state)
{
        Split *s = *state;

        s->root_end = exchange_back_link_free(s->root_end);
        assert_true(run_until_true(s, worker_closed, 2 * SEC));
        assert_int_equal(s->worker_error, 0);
}

static void ipc__encode_decode__round_trip_and_refusals(void **state)
{
        ExchangeIpcMessage m = {.type = EXCHANGE_IPC_REQUEST,
                                .kind = EXCHANGE_FORWARD_EXCHANGE,
                                .id = 42,
                                .address = "192.168.3.7",
                                .data = "{}",
                                .size = 2},
                           d;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size;

        assert_int_equal(exchange_ipc_encode(&m, &buf, &size), 0);
        assert_int_equal(exchange_ipc_decode(buf, size, &d), 0);
        assert_int_equal(d.type, EXCHANGE_IPC_REQUEST);
        assert_int_equal(d.id, 42);
        assert_string_equal(d.address, "192.168.3.7");
        assert_int_equal(d.size, 2);
        assert_memory_equal(d.data, "{}", 2);
        /* Every byte of the header matters. */
        for (size_t i = 0; i < EXCHANGE_IPC_HEADER_SIZE; i++) {
                if (i >= 8 && i < 12)
                        continue; /* the id: any value */
                buf[i] ^= 0x40;
                assert_int_equal(exchange_ipc_decode(buf, size, &d), -EBADMSG);
                buf[i] ^= 0x40;
        }
        assert_int_equal(exchange_ipc_decode(buf, 10, &d), -EBADMSG);
        /* Inconsistent messages are not even encoded. */
        m.address[0] = 0;
        assert_int_equal(exchange_ipc_encode(&m, &buf, &size), -EINVAL);
        m = (ExchangeIpcMessage){.type = EXCHANGE_IPC_ANSWER, .status = 999};
        assert_int_equal(exchange_ipc_encode(&m, &buf, &size), -EINVAL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(split__join__material_through_the_link),
                T(split__kubeconfig__sealed_through_the_link),
                T(split__status__answered_by_the_back),
                T(split__wrong_secret__403_from_the_back_and_counted),
                T(split__client_gone__call_abandoned_at_the_root),
                T(split__root_gets_junk_or_out_of_order__closes_without_calling_the_provider),
                T(split__root_gets_unsigned_request__403_never_the_provider),
                T(split__worker_gets_junk__closes),
                T(split__root_gone__worker_told),
                cmocka_unit_test(ipc__encode_decode__round_trip_and_refusals),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
