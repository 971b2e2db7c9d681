/* SPDX-License-Identifier: MIT */

#include "exchange-server.h"
#include "event-util.h"
#include "macro.h"

struct ExchangeServer {
        sd_event *event;
        HttpServer *http;
        ExchangeFront *front;     /* the handler's, or the forwarding one of a worker */
        ExchangeHandler *handler; /* both halves in this process; NULL in a worker */
};

static uint64_t now_usec(const ExchangeServer *s)
{
        return event_now_usec(s->event);
}

static void on_respond(void *userdata, unsigned status, const char *body, size_t size)
{
        http_request_reply(userdata, status, body, size);
}

static void on_abort(void *userdata)
{
        exchange_forward_abandon(userdata);
}

static void on_request(void *userdata, HttpRequest *req)
{
        ExchangeServer *s = userdata;
        ExchangeHttpRequest r = {
                .method = http_request_method(req),
                .path = http_request_path(req),
                .peer = http_request_peer(req),
        };
        ExchangeForward *pending = NULL;

        r.body = http_request_body(req, &r.body_size);
        /* A client asks for a nonce, then for the exchange on the same connection; after that it is done. */
        if (!streq(r.path, EXCHANGE_PATH_NONCE))
                http_request_close_after(req);
        exchange_front_process(s->front, &r, now_usec(s), on_respond, req, &pending);
        if (pending)
                http_request_on_abort(req, on_abort, pending);
}

static int server_start(ExchangeServer *s, const HttpServerOptions *o)
{
        return http_server_new(s->event, o, on_request, s, &s->http);
}

int exchange_server_new(sd_event *event, const char *secret, const ExchangeServerOptions *o, const ExchangeProvider *p,
                        void *userdata, ExchangeServer **ret)
{
        ExchangeServer *s;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        r = exchange_handler_new(secret, &o->handler, p, userdata, &s->handler);
        if (r >= 0) {
                s->front = exchange_handler_front(s->handler);
                r = server_start(s, &o->http);
        }
        if (r < 0) {
                exchange_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int exchange_server_new_forwarding(sd_event *event, const ExchangeServerOptions *o, ExchangeForwardFunc forward,
                                   void *userdata, ExchangeServer **ret)
{
        ExchangeFrontOptions fo = exchange_handler_front_options(&o->handler);
        ExchangeServer *s;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        r = exchange_front_new(&fo, forward, userdata, &s->front);
        if (r >= 0)
                r = server_start(s, &o->http);
        if (r < 0) {
                exchange_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

ExchangeServer *exchange_server_free(ExchangeServer *s)
{
        if (!s)
                return NULL;
        /* The HTTP server first: it aborts the requests still waiting for the provider. */
        http_server_free(s->http);
        if (s->handler)
                exchange_handler_free(s->handler);
        else
                exchange_front_free(s->front);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

uint16_t exchange_server_get_port(const ExchangeServer *s)
{
        return http_server_get_port(s->http);
}

unsigned exchange_server_get_connections(const ExchangeServer *s)
{
        return http_server_get_connections(s->http);
}

int exchange_server_add_connection(ExchangeServer *s, int fd, const char *peer)
{
        return http_server_add_connection(s->http, fd, peer);
}

const char *exchange_server_ticket_holder(const ExchangeServer *s)
{
        return s->handler ? exchange_handler_ticket_holder(s->handler, now_usec(s)) : NULL;
}
