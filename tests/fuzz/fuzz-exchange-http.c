/* SPDX-License-Identifier: MIT */
/* Fuzzes the exchange server's HTTP request path: raw bytes from a client through libmicrohttpd, the HTTP
 * adapter (http-server.c: framing, header and body limits, suspend and resume), the exchange server and its
 * handler, with the test provider behind. No network: each input is one client connection, a socketpair
 * that the server takes as if accepted (http_server_add_connection()).
 *
 * The first byte chooses the client's address (below) and whether the provider answers later, from the event
 * loop, instead of at once (bit 2); the rest is what the client sends before it shuts down its
 * side. Invariants (a violation traps): the server answers only with complete HTTP/1.1 status lines of the
 * documented statuses (the exchange's, and libmicrohttpd's own 100 Continue, 400, 413, 414, 431, 501, 505); a body only
 * with 200, or MHD's own short HTML error pages; and once the client has closed, nothing stays open. */

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exchange-server.h"
#include "exchange-test-provider.h"
#include "log.h"
#include "macro.h"

#define SECRET "cba47853ac7a856ad9c0cb5b817ce932c0a8424a9b33450c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
        if (!ok)
                __builtin_trap();
}

static bool status_allowed(unsigned status)
{
        static const unsigned allowed[] = {200, 400, 403, 404, 405, 409, 413, 414, 429, 431, 500, 501, 503, 505};

        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                if (allowed[i] == status)
                        return true;
        return false;
}

/* Every answer in out: a status line, headers, and (with a Content-Length) a body. */
static void check_answers(const char *out, size_t size)
{
        const char *p = out, *end = out + size;

        while (p < end) {
                unsigned status = 0;
                const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4), *cl;
                size_t length = 0, head;

                check(head_end != NULL);
                check(sscanf(p, "HTTP/1.1 %3u ", &status) == 1);
                check(status_allowed(status) || status == 100); /* 100 Continue: MHD's answer to Expect */
                cl = memmem(p, (size_t)(head_end - p), "\r\nContent-Length: ", 18);
                if (cl)
                        length = strtoul(cl + 18, NULL, 10);
                /* libmicrohttpd 0.9.75 sends the header block of its own error pages twice (a bug of Debian 12's
                 * version, harmless to a client that sent a malformed request): skip the copy. */
                head = (size_t)(head_end + 4 - p);
                if (status != 200 && (size_t)(end - head_end - 4) >= head && memcmp(head_end + 4, p, head) == 0)
                        head_end += head;
                /* The exchange's errors carry no body; MHD's own error pages do. */
                check(length == 0 || status == 200 ||
                      memmem(head_end, MIN(length + 4, (size_t)(end - head_end)), "<html>", 6) != NULL);
                check((size_t)(end - head_end - 4) >= length);
                p = head_end + 4 + length;
        }
        check(p == end);
}

/* One server for every input, as a real one serves one client after another. Each input comes from an address
 * of its own (its nonces and failures are its own; the stores forget old addresses), or, with bit 1 of the first
 * byte, from one of two shared addresses. */
static sd_event *e;
static ExchangeTestProvider *p;
static ExchangeServer *s;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const shared[] = {"10.0.0.1", "10.0.0.2"};
        static char out[1 << 16];
        static uint32_t counter;
        uint8_t flags = size > 0 ? data[0] : 0;
        const uint8_t *in = size > 0 ? data + 1 : data;
        size_t in_size = size > 0 ? size - 1 : 0, got = 0, sent = 0;
        char peer[INET_ADDRSTRLEN];
        int fds[2];
        bool closed = false;

        log_set_max_level(getenv("FUZZ_DEBUG") ? LOG_DEBUG : LOG_CRIT);
        if (!s) {
                check(sd_event_new(&e) >= 0);
                check(exchange_test_provider_new(e, "master-1", &p) >= 0);
                check(exchange_server_new(e, SECRET, &(ExchangeServerOptions){.http = {.no_listen = true}},
                                          &exchange_test_provider_ops, p, &s) >= 0);
        }
        p->delay_usec = flags & 4 ? 1000 : 0;
        counter++;
        if (flags & 2)
                snprintf(peer, sizeof peer, "%s", shared[flags & 1]);
        else
                snprintf(peer, sizeof peer, "10.%u.%u.%u", 1 + (counter >> 16) % 250, (counter >> 8) & 255,
                         counter & 255);
        check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
        check(exchange_server_add_connection(s, fds[1], peer) == 0);

        /* Send everything (the server reads as it goes), hang up our side, and read what comes back until the
         * server closes or has nothing more to do (it may wait for the rest of a request: its request timeout
         * would end that, here the client closes). Only the provider's delayed answers need the clock. */
        for (unsigned turn = 0, quiet = 0; turn < 5000 && !closed && quiet < 3; turn++) {
                ssize_t n;
                int r;

                if (sent < in_size) {
                        n = send(fds[0], in + sent, in_size - sent, MSG_NOSIGNAL);
                        if (n > 0)
                                sent += (size_t)n;
                        else if (n < 0 && errno != EAGAIN)
                                sent = in_size; /* the server closed first */
                        if (sent == in_size)
                                (void)shutdown(fds[0], SHUT_WR);
                } else if (turn == 0)
                        (void)shutdown(fds[0], SHUT_WR);
                r = sd_event_run(e, exchange_test_provider_pending(p) > 0 ? 5000 : 0);
                check(r >= 0);
                quiet = r == 0 && sent == in_size && exchange_test_provider_pending(p) == 0 ? quiet + 1 : 0;
                while ((n = recv(fds[0], out + got, sizeof out - 1 - got, 0)) > 0)
                        got += (size_t)n;
                closed = n == 0 || (n < 0 && errno != EAGAIN);
        }
        if (getenv("FUZZ_DEBUG"))
                fprintf(stderr, "%s: sent %zu of %zu, got %zu, connections %u\n", closed ? "closed" : "open", sent,
                        in_size, got, exchange_server_get_connections(s));
        check_answers(out, got);
        /* Gone for good: nothing stays open. */
        close(fds[0]);
        for (unsigned turn = 0; turn < 100 && exchange_server_get_connections(s) > 0; turn++)
                check(sd_event_run(e, 0) >= 0);
        check(exchange_server_get_connections(s) == 0);
        check(exchange_test_provider_pending(p) == 0);
        return 0;
}
