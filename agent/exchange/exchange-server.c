/* SPDX-License-Identifier: MIT */

#include "exchange-server.h"
#include "event-util.h"
#include "macro.h"

struct ExchangeServer {
        sd_event *event;
        HttpServer *http;
        ExchangeHandler *handler;
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
        exchange_call_abandon(userdata);
}

static void on_request(void *userdata, HttpRequest *req)
{
        ExchangeServer *s = userdata;
        ExchangeHttpRequest r = {
                .method = http_request_method(req),
                .path = http_request_path(req),
                .peer = http_request_peer(req),
        };
        ExchangeCall *pending = NULL;

        r.body = http_request_body(req, &r.body_size);
        /* A client asks for a nonce, then for the exchange on the same connection; after that it is done. */
        if (!streq(r.path, EXCHANGE_PATH_NONCE))
                http_request_close_after(req);
        exchange_handler_process(s->handler, &r, now_usec(s), on_respond, req, &pending);
        if (pending)
                http_request_on_abort(req, on_abort, pending);
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
        if (r >= 0)
                r = http_server_new(event, &o->http, on_request, s, &s->http);
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
        exchange_handler_free(s->handler);
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
        return exchange_handler_ticket_holder(s->handler, now_usec(s));
}
