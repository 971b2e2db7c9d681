/* SPDX-License-Identifier: MIT */
#pragma once

/* A small HTTP/1.1 server on the agent's sd-event loop, through libmicrohttpd (this adapter is the only file
 * that includes it). No threads: MHD runs in its external-epoll mode, its epoll fd watched by an sd-event I/O
 * source and its timeouts by an sd-event timer.
 *
 * Bad clients cost bounded resources and never stop the server: connections per address are limited (more
 * are refused at accept); a connection that has not sent a complete request within the request timeout is
 * closed, and every connection after an absolute deadline however busy it keeps itself (slowloris); when the
 * table is full, connections that have waited for a request longer than a real client would (250 ms) are
 * evicted, the longest waiting first, so that a flood of silent connections cannot keep a real client out; the
 * table holds up to half again its size meanwhile, the rest waits in the listen backlog; request line and headers
 * share a fixed memory pool (more: 431 or 413, MHD's own bodies), bodies have a size limit (413, or the
 * connection is closed when a chunked body overflows it). A handler that answers too late is abandoned at
 * the deadline (503). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct HttpServer HttpServer;
typedef struct HttpRequest HttpRequest;

typedef struct HttpServerOptions {
        const char *address;           /* IPv4 address to listen on; NULL: any */
        uint16_t port;                 /* 0: an ephemeral port, see http_server_get_port() */
        unsigned max_connections;      /* 0: 64; beyond, those waiting longer than evict_idle for a request go */
        uint64_t evict_idle_usec;      /* 0: 250 ms (a real client sends its request at once) */
        unsigned max_per_address;      /* 0: 4; more are closed at accept */
        uint64_t request_timeout_usec; /* a complete request within this, from accept or the last answer; 0: 2 s */
        uint64_t deadline_usec;        /* 0: 10 s */
        size_t max_header_size;        /* memory for request line and headers; 0: 8 KiB */
        size_t max_body_size;          /* 0: 4 KiB */
        bool no_listen; /* no listening socket: connections come from http_server_add_connection() only */
} HttpServerOptions;

/* Called once per complete request. The handler answers with http_request_reply(), before returning or
 * later; meanwhile the connection waits, suspended. */
typedef void (*HttpHandler)(void *userdata, HttpRequest *req);
typedef void (*HttpAbort)(void *userdata);

int http_server_new(sd_event *event, const HttpServerOptions *o, HttpHandler handler, void *userdata, HttpServer **ret);
/* Requests not answered yet are aborted (their abort callbacks run). */
HttpServer *http_server_free(HttpServer *s);
uint16_t http_server_get_port(const HttpServer *s);
/* Connections open now. */
unsigned http_server_get_connections(const HttpServer *s);
/* Serves fd (a connected stream socket, taken over: closed on failure too) as if accepted from peer (an IPv4
 * address): for the fuzzer, which has no network. */
int http_server_add_connection(HttpServer *s, int fd, const char *peer);

const char *http_request_method(const HttpRequest *req);
const char *http_request_path(const HttpRequest *req);
const char *http_request_peer(const HttpRequest *req); /* the client's IP address, as text */
const char *http_request_body(const HttpRequest *req, size_t *ret_size);

/* Answers the request (body: application/json, copied; size 0: no body); req is invalid afterwards. */
void http_request_reply(HttpRequest *req, unsigned status, const void *body, size_t size);

/* The answer closes the connection: the client has nothing more to ask, and the slot is free at once
 * instead of after the idle timeout. Call before http_request_reply(). */
void http_request_close_after(HttpRequest *req);

/* abort is called if the request dies unanswered (client gone, deadline, server freed); req is invalid
 * afterwards. */
void http_request_on_abort(HttpRequest *req, HttpAbort abort, void *userdata);
