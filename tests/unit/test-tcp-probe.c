/* SPDX-License-Identifier: MIT */
/* The endpoint probe on loopback: a listening port is reported open, a closed one refused, and a cancelled
 * probe never calls back. */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tcp-probe.h"

typedef struct R {
        sd_event *e;
        int error;
        bool done;
} R;

static void on_done(int error, void *userdata)
{
        R *r = userdata;
        r->error = error;
        r->done = true;
        sd_event_exit(r->e, 0);
}

static uint16_t listener(int *ret_fd, bool listen_too)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        if (listen_too)
                assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        *ret_fd = fd;
        return ntohs(sa.sin_port);
}

static int probe(uint16_t port, uint64_t timeout)
{
        R r = {};
        struct in_addr lo = {htonl(INADDR_LOOPBACK)};

        assert_int_equal(sd_event_new(&r.e), 0);
        assert_int_equal(tcp_probe_start(r.e, lo, port, timeout, on_done, &r, NULL), 0);
        assert_int_equal(sd_event_loop(r.e), 0);
        sd_event_unref(r.e);
        assert_true(r.done);
        return r.error;
}

static void tcp_probe__listening_port__accepted(void **state)
{
        int fd;
        uint16_t port = listener(&fd, true);

        assert_int_equal(probe(port, 2000000), 0);
        close(fd);
}

static void tcp_probe__bound_not_listening__refused(void **state)
{
        int fd;
        uint16_t port = listener(&fd, false);

        assert_int_equal(probe(port, 2000000), -ECONNREFUSED);
        close(fd);
}

static void tcp_probe_cancel__pending__no_callback(void **state)
{
        sd_event *e = NULL;
        TcpProbe *p = NULL;
        R r = {};
        int fd;
        uint16_t port = listener(&fd, true);
        struct in_addr lo = {htonl(INADDR_LOOPBACK)};

        assert_int_equal(sd_event_new(&e), 0);
        r.e = e;
        assert_int_equal(tcp_probe_start(e, lo, port, 2000000, on_done, &r, &p), 0);
        tcp_probe_cancel(p);
        assert_true(sd_event_run(e, 100000) >= 0);
        assert_false(r.done);
        sd_event_unref(e);
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(tcp_probe__listening_port__accepted),
                cmocka_unit_test(tcp_probe__bound_not_listening__refused),
                cmocka_unit_test(tcp_probe_cancel__pending__no_callback),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
