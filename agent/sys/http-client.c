/* SPDX-License-Identifier: MIT */
/* The only file that includes libcurl. */

#include <curl/curl.h>
#include <stdio.h>

#include "http-client.h"
#include "macro.h"
#include "version.h"

#define USEC_PER_MSEC 1000ULL

struct HttpTransfer {
        HttpClient *client;
        HttpTransfer *prev, *next;
        CURL *easy;
        struct curl_slist *headers;
        HttpClientDone done;
        void *userdata;
        char *body;
        size_t size, max;
        bool too_big;
};

struct HttpClient {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        HttpTransfer *transfers;
        unsigned dispatching; /* callbacks running: a free then waits until they return */
        bool dead;
};

static int global_init(void)
{
        static bool done = false;

        if (!done) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return -EIO;
                done = true;
        }
        return 0;
}

/* Takes t out of the client: no longer in its list nor in curl's multi handle. */
static void transfer_detach(HttpTransfer *t)
{
        HttpClient *c = t->client;

        if (t->prev)
                t->prev->next = t->next;
        else
                c->transfers = t->next;
        if (t->next)
                t->next->prev = t->prev;
        t->prev = t->next = NULL;
        if (t->easy)
                (void)curl_multi_remove_handle(c->multi, t->easy);
}

static void transfer_destroy(HttpTransfer *t)
{
        if (t->easy)
                curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        free(t->body);
        free(t);
}

static void transfer_free(HttpTransfer *t)
{
        transfer_detach(t);
        transfer_destroy(t);
}

void http_transfer_cancel(HttpTransfer *t)
{
        if (t)
                transfer_free(t);
}

static int error_of(CURLcode code, const HttpTransfer *t)
{
        switch (code) {
        case CURLE_OK:
                return 0;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_FILESIZE_EXCEEDED:
                return -E2BIG;
        case CURLE_WRITE_ERROR:
                return t->too_big ? -E2BIG : -EIO;
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
                return -ECONNRESET;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EINVAL;
        case CURLE_COULDNT_RESOLVE_HOST:
                return -EHOSTUNREACH;
        case CURLE_INTERFACE_FAILED:
                return -EADDRNOTAVAIL;
        default:
                return -EIO;
        }
}

static void transfer_finish(HttpTransfer *t, CURLcode code)
{
        HttpClient *c = t->client;
        int error = error_of(code, t);
        long status = 0;

        if (error == 0 && curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
                error = -EIO;
        /* Out of the client before the callback, which may free the client and with it every transfer. */
        transfer_detach(t);
        if (!c->dead)
                t->done(t->userdata, error, error == 0 ? (unsigned)status : 0, t->body ?: "", error == 0 ? t->size : 0);
        transfer_destroy(t);
}

static void client_destroy(HttpClient *c);

/* Delivers finished transfers. A callback may start, cancel or free anything, this client included. */
static void dispatch(HttpClient *c)
{
        CURLMsg *m;
        int left;

        c->dispatching++;
        while (!c->dead && (m = curl_multi_info_read(c->multi, &left))) {
                HttpTransfer *t = NULL;
                if (m->msg != CURLMSG_DONE)
                        continue;
                if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t) != CURLE_OK || !t)
                        continue;
                transfer_finish(t, m->data.result);
        }
        c->dispatching--;
        if (c->dead && c->dispatching == 0)
                client_destroy(c);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        HttpClient *c = userdata;
        int action = 0, running;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        (void)curl_multi_socket_action(c->multi, fd, action, &running);
        dispatch(c);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        HttpClient *c = userdata;
        int running;

        (void)curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        dispatch(c);
        return 0;
}

/* curl tells which sockets to watch for what. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
        HttpClient *c = userp;
        sd_event_source *source = socketp;
        uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);

        if (what == CURL_POLL_REMOVE) {
                sd_event_source_disable_unref(source);
                (void)curl_multi_assign(c->multi, fd, NULL);
                return 0;
        }
        if (source) {
                if (sd_event_source_set_io_events(source, events) < 0 ||
                    sd_event_source_set_enabled(source, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }
        if (sd_event_add_io(c->event, &source, fd, events, on_io, c) < 0)
                return -1;
        (void)curl_multi_assign(c->multi, fd, source);
        return 0;
}

/* curl asks to be called back after timeout_ms (-1: never). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
        HttpClient *c = userp;
        uint64_t now;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(c->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        if (sd_event_now(c->event, CLOCK_MONOTONIC, &now) < 0)
                return -1;
        if (sd_event_source_set_time(c->timer, now + (uint64_t)timeout_ms * USEC_PER_MSEC) < 0 ||
            sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

int http_client_new(sd_event *event, HttpClient **ret)
{
        HttpClient *c;
        int r;

        r = global_init();
        if (r < 0)
                return r;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->multi = curl_multi_init();
        r = c->multi ? 0 : -ENOMEM;
        if (r >= 0)
                r = sd_event_add_time(event, &c->timer, CLOCK_MONOTONIC, 1, 1, on_timer, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        if (r >= 0 && (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK ||
                       curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
                       curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
                       curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK))
                r = -EIO;
        if (r < 0) {
                client_destroy(c);
                return r;
        }
        *ret = c;
        return 0;
}

static void client_destroy(HttpClient *c)
{
        while (c->transfers)
                transfer_free(c->transfers);
        if (c->multi)
                (void)curl_multi_cleanup(c->multi); /* removes its sockets through on_curl_socket */
        sd_event_source_disable_unref(c->timer);
        sd_event_unref(c->event);
        free(c);
}

HttpClient *http_client_free(HttpClient *c)
{
        if (!c)
                return NULL;
        c->dead = true;
        while (c->transfers)
                transfer_free(c->transfers);
        if (c->dispatching == 0)
                client_destroy(c);
        return NULL;
}

static size_t on_write(char *data, size_t size, size_t n, void *userdata)
{
        HttpTransfer *t = userdata;
        size_t len = size * n;
        char *b;

        if (len > t->max - t->size) {
                t->too_big = true;
                return 0;
        }
        b = realloc(t->body, t->size + len + 1);
        if (!b)
                return 0;
        memcpy(b + t->size, data, len);
        t->body = b;
        t->size += len;
        t->body[t->size] = 0;
        return len;
}

static int transfer_setup(HttpTransfer *t, const HttpClientRequest *r)
{
        uint64_t timeout = r->timeout_usec ?: 10000000ULL;
        bool post = streq(r->method, "POST");
        CURL *e = t->easy;
        CURLcode k = CURLE_OK;
        _cleanup_free_ char *iface = NULL;

        if (!post && !streq(r->method, "GET"))
                return -EINVAL;
        if (r->source_address && asprintf(&iface, "host!%s", r->source_address) < 0)
                return -ENOMEM;
        t->headers = curl_slist_append(NULL, "Content-Type: application/json");
        if (t->headers)
                t->headers = curl_slist_append(t->headers, "Expect:");
        if (!t->headers)
                return -ENOMEM;

#define SET(opt, val)                                          \
        do {                                                   \
                if (k == CURLE_OK)                             \
                        k = curl_easy_setopt(e, (opt), (val)); \
        } while (0)
        SET(CURLOPT_URL, r->url);
        SET(CURLOPT_PRIVATE, t);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_PROTOCOLS_STR, "http");
        SET(CURLOPT_PROXY, "");
        SET(CURLOPT_NOPROXY, "*");
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        SET(CURLOPT_USERAGENT, "piagent/" PIAGENT_VERSION);
        SET(CURLOPT_TIMEOUT_MS, (long)(timeout / USEC_PER_MSEC));
        SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout / USEC_PER_MSEC));
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max);
        SET(CURLOPT_WRITEFUNCTION, on_write);
        SET(CURLOPT_WRITEDATA, t);
        SET(CURLOPT_HTTPHEADER, t->headers);
        SET(CURLOPT_FORBID_REUSE, (long)!r->keep_alive);
        if (iface)
                SET(CURLOPT_INTERFACE, iface);
        if (post) {
                SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_size);
                SET(CURLOPT_COPYPOSTFIELDS, r->body ?: "");
        } else
                SET(CURLOPT_HTTPGET, 1L);
#undef SET
        return k == CURLE_OK ? 0 : error_of(k, t);
}

int http_client_start(HttpClient *c, const HttpClientRequest *r, HttpClientDone done, void *userdata,
                      HttpTransfer **ret)
{
        HttpTransfer *t;
        int k;

        if (c->dead)
                return -ESHUTDOWN;
        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->client = c;
        t->done = done;
        t->userdata = userdata;
        t->max = r->max_response_size ?: 65536;
        t->next = c->transfers;
        if (c->transfers)
                c->transfers->prev = t;
        c->transfers = t;

        t->easy = curl_easy_init();
        k = t->easy ? transfer_setup(t, r) : -ENOMEM;
        if (k >= 0 && curl_multi_add_handle(c->multi, t->easy) != CURLM_OK)
                k = -EIO;
        if (k < 0) {
                transfer_free(t);
                return k;
        }
        if (ret)
                *ret = t;
        return 0;
}
