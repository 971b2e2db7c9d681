/* SPDX-License-Identifier: MIT */
/* The only file that includes libmicrohttpd. */

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event-util.h"
#include "http-server.h"
#include "log.h"
#include "macro.h"

#define USEC_PER_MSEC UINT64_C(1000)

static bool strcaseeq(const char *a, const char *b)
{
        return strcasecmp(a, b) == 0;
}
/* sd-event delays timers by up to 250 ms unless told otherwise: MHD must run when it asks to. */
#define ACCURACY_USEC 1

typedef struct Conn Conn;

struct HttpRequest {
        HttpServer *server;
        Conn *conn;
        struct MHD_Connection *connection;
        const char *method; /* owned by MHD for the request's life */
        const char *path;
        char peer[INET6_ADDRSTRLEN];
        char *body;
        size_t body_size;

        bool dispatched, suspended;
        bool close;                 /* no further request expected on this connection */
        struct MHD_Response *reply; /* set once answered, queued at the next access call */
        unsigned status;

        HttpAbort abort;
        void *abort_userdata;
};

struct Conn {
        HttpServer *server;
        Conn *prev, *next;
        struct MHD_Connection *connection;
        int fd;
        sd_event_source *deadline;
        sd_event_source *request_timer; /* a complete request is due */
        HttpRequest *req;
        uint64_t idle_since; /* waiting for a request since then (accept, or the end of the last answer) */
        bool busy;           /* a complete request is with the handler or being answered: never evicted */
        bool closing;        /* shut down by us; MHD closes it at its next run */
        bool expired;
};

struct HttpServer {
        sd_event *event;
        struct MHD_Daemon *daemon;
        sd_event_source *io;
        sd_event_source *timer;
        sd_event_source *sweep; /* evicts connections that wait too long for their request, when over the limit */
        HttpHandler handler;
        void *userdata;
        HttpServerOptions o;
        uint16_t port;
        Conn *conns;
        unsigned n_conns;
        unsigned n_closing;
        uint64_t n_evicted;
        bool slot_freed;
};

static void schedule(HttpServer *s)
{
        MHD_UNSIGNED_LONG_LONG ms = 0;
        uint64_t now;

        if (MHD_get_timeout(s->daemon, &ms) != MHD_YES) {
                (void)sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
                return;
        }
        if (sd_event_now(s->event, CLOCK_MONOTONIC, &now) < 0)
                now = 0;
        (void)sd_event_source_set_time(s->timer, ms == 0 ? 1 : now + MIN(ms, 3600000ULL) * USEC_PER_MSEC);
        (void)sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

static void kick(HttpServer *s);

static void run(HttpServer *s)
{
        s->slot_freed = false;
        (void)MHD_run(s->daemon);
        /* At its connection limit MHD takes the listening socket out of its epoll set, and puts it back only at
         * the start of a later run: with no other event pending that run would never come. */
        if (s->slot_freed)
                kick(s);
        else
                schedule(s);
}

/* Something changed outside MHD's callbacks (a resumed connection, a shut-down socket): run MHD soon. */
static void kick(HttpServer *s)
{
        (void)sd_event_source_set_time(s->timer, 1);
        (void)sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        run(userdata);
        return 0;
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
        run(userdata);
        return 0;
}

static void request_abort(HttpRequest *req)
{
        HttpAbort abort = req->abort;

        req->abort = NULL;
        if (abort)
                abort(req->abort_userdata);
}

static struct MHD_Response *response_new(unsigned status, const void *body, size_t size, bool close)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(size, (void *)body, MHD_RESPMEM_MUST_COPY);

        if (!r)
                return NULL;
        if ((size > 0 && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") != MHD_YES) ||
            (close && MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES)) {
                MHD_destroy_response(r);
                return NULL;
        }
        return r;
}

static void reply_internal(HttpRequest *req, unsigned status, const void *body, size_t size)
{
        if (req->reply)
                return;
        req->status = status;
        req->reply = response_new(status, body, size, req->close || (req->conn && req->conn->expired));
        if (!req->reply) /* out of memory: an empty answer still frees the client */
                req->reply = response_new(500, "", 0, true);
        if (req->suspended) {
                req->suspended = false;
                MHD_resume_connection(req->connection);
                kick(req->server);
        }
}

void http_request_reply(HttpRequest *req, unsigned status, const void *body, size_t size)
{
        req->abort = NULL;
        reply_internal(req, status, body, size);
}

void http_request_close_after(HttpRequest *req)
{
        req->close = true;
}

void http_request_on_abort(HttpRequest *req, HttpAbort abort, void *userdata)
{
        req->abort = abort;
        req->abort_userdata = userdata;
}

const char *http_request_method(const HttpRequest *req)
{
        return req->method;
}

const char *http_request_path(const HttpRequest *req)
{
        return req->path;
}

const char *http_request_peer(const HttpRequest *req)
{
        return req->peer;
}

const char *http_request_body(const HttpRequest *req, size_t *ret_size)
{
        *ret_size = req->body_size;
        return req->body ?: "";
}

static void peer_of(struct MHD_Connection *c, char buf[static INET6_ADDRSTRLEN])
{
        const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = i ? i->client_addr : NULL;

        strcpy(buf, "?");
        if (sa && sa->sa_family == AF_INET)
                (void)inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, INET6_ADDRSTRLEN);
        else if (sa && sa->sa_family == AF_INET6)
                (void)inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, INET6_ADDRSTRLEN);
}

static HttpRequest *request_new(HttpServer *s, struct MHD_Connection *c, const char *url, const char *method)
{
        const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        HttpRequest *req = calloc(1, sizeof *req);

        if (!req)
                return NULL;
        req->server = s;
        req->connection = c;
        req->method = method;
        req->path = url;
        req->conn = i ? i->socket_context : NULL;
        if (req->conn)
                req->conn->req = req;
        peer_of(c, req->peer);
        return req;
}

static enum MHD_Result queue(struct MHD_Connection *c, HttpRequest *req)
{
        enum MHD_Result r = MHD_queue_response(c, req->status, req->reply);

        MHD_destroy_response(req->reply);
        req->reply = NULL;
        return r;
}

typedef struct HeaderCount {
        unsigned framing, host;
} HeaderCount;

static enum MHD_Result count_headers(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
        HeaderCount *n = cls;

        if (strcaseeq(key, MHD_HTTP_HEADER_CONTENT_LENGTH) || strcaseeq(key, MHD_HTTP_HEADER_TRANSFER_ENCODING))
                n->framing++;
        else if (strcaseeq(key, MHD_HTTP_HEADER_HOST))
                n->host++;
        return MHD_YES;
}

/* The headers are in: refuse ambiguous framing (two lengths, or a length and chunks: nothing sends that but
 * someone probing for request smuggling), a missing or repeated Host (RFC 9112 3.2: checked here rather than by
 * MHD's strict mode, whose own answer to it repeats its header block), and a declared body that is too large
 * before it is read. */
static enum MHD_Result on_headers(HttpServer *s, struct MHD_Connection *c, HttpRequest *req)
{
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        HeaderCount count = {};
        char *end = NULL;
        unsigned long long n;

        (void)MHD_get_connection_values(c, MHD_HEADER_KIND, count_headers, &count);
        if (count.framing > 1 || count.host != 1) {
                reply_internal(req, MHD_HTTP_BAD_REQUEST, "", 0);
                return queue(c, req);
        }
        if (!cl)
                return MHD_YES;
        errno = 0;
        n = strtoull(cl, &end, 10);
        if (errno == 0 && end != cl && *end == 0 && n <= s->o.max_body_size)
                return MHD_YES;
        reply_internal(req, MHD_HTTP_CONTENT_TOO_LARGE, "", 0);
        return queue(c, req);
}

static enum MHD_Result on_body(HttpServer *s, HttpRequest *req, const char *data, size_t *size)
{
        char *b;

        if (*size > s->o.max_body_size - req->body_size)
                return MHD_NO; /* a chunked body beyond the limit: close the connection */
        b = realloc(req->body, req->body_size + *size + 1);
        if (!b)
                return MHD_NO;
        memcpy(b + req->body_size, data, *size);
        req->body = b;
        req->body_size += *size;
        req->body[req->body_size] = 0;
        *size = 0;
        return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
        HttpServer *s = cls;
        HttpRequest *req = *con_cls;

        if (!req) {
                req = request_new(s, c, url, method);
                if (!req)
                        return MHD_NO;
                *con_cls = req;
                return on_headers(s, c, req);
        }
        if (*upload_data_size > 0)
                return on_body(s, req, upload_data, upload_data_size);
        if (!req->dispatched) {
                req->dispatched = true;
                if (req->conn) {
                        req->conn->busy = true;
                        (void)sd_event_source_set_enabled(req->conn->request_timer, SD_EVENT_OFF);
                }
                s->handler(s->userdata, req);
        }
        if (req->reply)
                return queue(c, req);
        if (!req->suspended) {
                req->suspended = true;
                MHD_suspend_connection(c);
        }
        return MHD_YES;
}

static void conn_wait_for_request(Conn *conn);
static void make_room(HttpServer *s);

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
        HttpRequest *req = *con_cls;

        if (!req)
                return;
        request_abort(req);
        if (req->conn && req->conn->req == req) {
                req->conn->req = NULL;
                /* Kept alive (after a nonce): the next request is due as soon as the first one was. */
                conn_wait_for_request(req->conn);
                make_room(req->server);
        }
        if (req->reply)
                MHD_destroy_response(req->reply);
        free(req->body);
        free(req);
        *con_cls = NULL;
}

/* The absolute deadline: a handler still working is abandoned (503), a client still talking is cut off. */
static int on_deadline(sd_event_source *source, uint64_t usec, void *userdata)
{
        Conn *conn = userdata;
        HttpRequest *req = conn->req;

        conn->expired = true;
        if (req && req->suspended) {
                request_abort(req);
                reply_internal(req, MHD_HTTP_SERVICE_UNAVAILABLE, "", 0);
                return 0;
        }
        (void)shutdown(conn->fd, SHUT_RDWR);
        kick(conn->server);
        return 0;
}

/* Cuts the connection off; MHD notices at its next run and closes it. */
static void conn_close(Conn *conn)
{
        if (conn->closing)
                return;
        conn->closing = true;
        conn->server->n_closing++;
        (void)sd_event_source_set_enabled(conn->request_timer, SD_EVENT_OFF);
        (void)shutdown(conn->fd, SHUT_RDWR);
        kick(conn->server);
}

static int on_request_timeout(sd_event_source *source, uint64_t usec, void *userdata)
{
        Conn *conn = userdata;

        log_debug("HTTP server: no complete request within %" PRIu64 " ms, closing the connection",
                  conn->server->o.request_timeout_usec / USEC_PER_MSEC);
        conn_close(conn);
        return 0;
}

static void conn_wait_for_request(Conn *conn)
{
        HttpServer *s = conn->server;

        conn->busy = false;
        conn->idle_since = event_now_usec(s->event);
        if (conn->closing)
                return;
        (void)sd_event_source_set_time(conn->request_timer, conn->idle_since + s->o.request_timeout_usec);
        (void)sd_event_source_set_enabled(conn->request_timer, SD_EVENT_ONESHOT);
}

/* The table is over its size: connections that have waited for their request longer than a real client ever
 * does (it sends its request as soon as it is connected, and the next one as soon as it has the nonce) make room,
 * the longest waiting first, so that a flood of silent connections cannot keep others out. Connections busy with
 * a request are never evicted, nor ones that have just arrived: until some are old enough, the table holds up to
 * its hard limit and the rest wait in the listen backlog. */
static void make_room(HttpServer *s)
{
        uint64_t now = event_now_usec(s->event), next = UINT64_MAX;

        while (s->n_conns - s->n_closing > s->o.max_connections) {
                Conn *victim = NULL;

                next = UINT64_MAX;
                for (Conn *c = s->conns; c; c = c->next) {
                        if (c->busy || c->closing)
                                continue;
                        if (now - c->idle_since < s->o.evict_idle_usec)
                                next = MIN(next, c->idle_since + s->o.evict_idle_usec);
                        else if (!victim || c->idle_since < victim->idle_since)
                                victim = c;
                }
                if (!victim)
                        break;
                if (s->n_evicted++ == 0)
                        log_info("HTTP server: more than %u connections, closing the ones that send no request "
                                 "(a flood?)",
                                 s->o.max_connections);
                log_debug("HTTP server: %u connections: closing one that has waited %" PRIu64 " ms for a request",
                          s->n_conns, (now - victim->idle_since) / USEC_PER_MSEC);
                conn_close(victim);
                next = UINT64_MAX;
        }
        if (next == UINT64_MAX) {
                (void)sd_event_source_set_enabled(s->sweep, SD_EVENT_OFF);
                return;
        }
        (void)sd_event_source_set_time(s->sweep, next);
        (void)sd_event_source_set_enabled(s->sweep, SD_EVENT_ONESHOT);
}

static int on_sweep(sd_event_source *source, uint64_t usec, void *userdata)
{
        make_room(userdata);
        return 0;
}

static void conn_free(Conn *conn)
{
        HttpServer *s = conn->server;

        if (conn->prev)
                conn->prev->next = conn->next;
        else
                s->conns = conn->next;
        if (conn->next)
                conn->next->prev = conn->prev;
        s->n_conns--;
        if (conn->closing)
                s->n_closing--;
        s->slot_freed = true;
        sd_event_source_disable_unref(conn->deadline);
        sd_event_source_disable_unref(conn->request_timer);
        free(conn);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
        HttpServer *s = cls;
        const union MHD_ConnectionInfo *i;
        Conn *conn;

        if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
                if (*socket_context)
                        conn_free(*socket_context);
                *socket_context = NULL;
                return;
        }
        i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn = calloc(1, sizeof *conn);
        if (!conn || !i)
                goto fail;
        conn->server = s;
        conn->connection = c;
        conn->fd = i->connect_fd;
        if (sd_event_add_time_relative(s->event, &conn->deadline, CLOCK_MONOTONIC, s->o.deadline_usec,
                                       10 * USEC_PER_MSEC, on_deadline, conn) < 0 ||
            sd_event_add_time(s->event, &conn->request_timer, CLOCK_MONOTONIC, 0, 10 * USEC_PER_MSEC,
                              on_request_timeout, conn) < 0)
                goto fail;
        conn->next = s->conns;
        if (s->conns)
                s->conns->prev = conn;
        s->conns = conn;
        s->n_conns++;
        *socket_context = conn;
        conn_wait_for_request(conn);
        make_room(s);
        return;
fail:
        /* Without its timers the connection must not live: cut it off now. */
        if (conn) {
                sd_event_source_disable_unref(conn->deadline);
                sd_event_source_disable_unref(conn->request_timer);
        }
        free(conn);
        if (i)
                (void)shutdown(i->connect_fd, SHUT_RDWR);
}

_printf_(2, 0) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        _cleanup_free_ char *s = NULL;

        if (log_get_max_level() < LOG_DEBUG || vasprintf(&s, fmt, ap) < 0)
                return;
        s[strcspn(s, "\n")] = 0;
        log_debug("HTTP server: %s", s);
}

static void options_fill(HttpServerOptions *o)
{
        o->max_connections = o->max_connections ?: 64;
        o->max_per_address = o->max_per_address ?: 4;
        o->request_timeout_usec = o->request_timeout_usec ?: 2000000ULL;
        o->evict_idle_usec = o->evict_idle_usec ?: 250000ULL;
        o->deadline_usec = o->deadline_usec ?: 10000000ULL;
        o->max_header_size = o->max_header_size ?: 8192;
        o->max_body_size = o->max_body_size ?: 4096;
}

static int daemon_start(HttpServer *s)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(s->o.port)};
        const union MHD_DaemonInfo *info;
        /* MHD accepts up to half again our limit, so that make_room() can evict: connections being closed still
         * count for MHD until it has reaped them. MHD's own idle timeout only backs up the request timer (it is
         * reset by any byte, ours is not). */
        unsigned mhd_limit = s->o.max_connections + s->o.max_connections / 2 + 4;
        unsigned idle_sec = (unsigned)((s->o.request_timeout_usec + 999999) / 1000000);

        if (s->o.address && inet_pton(AF_INET, s->o.address, &sa.sin_addr) != 1)
                return -EINVAL;
        s->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                     on_access, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_SOCK_ADDR,
                                     (struct sockaddr *)&sa, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                                     MHD_OPTION_CONNECTION_LIMIT, mhd_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                     s->o.max_per_address, MHD_OPTION_CONNECTION_TIMEOUT, idle_sec,
                                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->o.max_header_size,
                                     MHD_OPTION_STRICT_FOR_CLIENT, 0, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                     MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
        if (!s->daemon)
                return errno > 0 ? -errno : -EADDRNOTAVAIL;

        info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
        s->port = info ? info->port : s->o.port;
        info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info)
                return -EIO;
        return sd_event_add_io(s->event, &s->io, info->epoll_fd, EPOLLIN, on_io, s);
}

int http_server_new(sd_event *event, const HttpServerOptions *o, HttpHandler handler, void *userdata, HttpServer **ret)
{
        HttpServer *s;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->handler = handler;
        s->userdata = userdata;
        s->o = *o;
        s->o.address = NULL; /* not kept: used at start only */
        options_fill(&s->o);
        r = sd_event_add_time(event, &s->timer, CLOCK_MONOTONIC, 1, ACCURACY_USEC, on_timer, s);
        if (r >= 0)
                r = sd_event_add_time(event, &s->sweep, CLOCK_MONOTONIC, 1, 10 * USEC_PER_MSEC, on_sweep, s);
        if (r >= 0) {
                (void)sd_event_source_set_enabled(s->sweep, SD_EVENT_OFF);
                (void)sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
                s->o.address = o->address;
                r = daemon_start(s);
                s->o.address = NULL;
        }
        if (r < 0) {
                http_server_free(s);
                return r;
        }
        schedule(s);
        *ret = s;
        return 0;
}

HttpServer *http_server_free(HttpServer *s)
{
        if (!s)
                return NULL;
        if (s->daemon) {
                /* MHD cannot stop with suspended connections: answer them, let MHD take them back, stop. */
                for (Conn *c = s->conns; c; c = c->next)
                        if (c->req && c->req->suspended) {
                                request_abort(c->req);
                                reply_internal(c->req, MHD_HTTP_SERVICE_UNAVAILABLE, "", 0);
                        }
                (void)MHD_run(s->daemon);
                MHD_stop_daemon(s->daemon);
        }
        sd_event_source_disable_unref(s->io);
        sd_event_source_disable_unref(s->timer);
        sd_event_source_disable_unref(s->sweep);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

uint16_t http_server_get_port(const HttpServer *s)
{
        return s->port;
}

unsigned http_server_get_connections(const HttpServer *s)
{
        return s->n_conns;
}

int http_server_add_connection(HttpServer *s, int fd, const char *peer)
{
        struct sockaddr_in sa = {.sin_family = AF_INET};

        if (inet_pton(AF_INET, peer, &sa.sin_addr) != 1) {
                close(fd);
                return -EINVAL;
        }
        /* MHD closes fd itself when it cannot take it. */
        if (MHD_add_connection(s->daemon, fd, (struct sockaddr *)&sa, sizeof sa) != MHD_YES)
                return errno > 0 ? -errno : -EIO;
        kick(s);
        return 0;
}
