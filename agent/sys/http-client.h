/* SPDX-License-Identifier: MIT */
#pragma once

/* HTTP requests from the agent's sd-event loop, through libcurl's multi interface (this adapter is the only
 * file that includes libcurl): curl's sockets are sd-event I/O sources, its timeout an sd-event timer. Plain
 * http only, no proxy from the environment, no redirects, bounded answers and time. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct HttpClient HttpClient;
typedef struct HttpTransfer HttpTransfer;

typedef struct HttpClientRequest {
        const char *method; /* "GET" or "POST" */
        const char *url;    /* http://host:port/path */
        const char *body;   /* POST: sent as application/json */
        size_t body_size;
        uint64_t timeout_usec;      /* the whole transfer; 0: 10 s */
        size_t max_response_size;   /* 0: 64 KiB */
        const char *source_address; /* local IPv4 address to send from; NULL: the kernel's choice */
        bool keep_alive;            /* keep the connection for a next request to the same server */
} HttpClientRequest;

/* error is 0 when an answer arrived (whatever its status), else: -ECONNREFUSED, -ETIMEDOUT, -ECONNRESET
 * (connection dropped or nothing answered), -E2BIG (answer over the limit), -EHOSTUNREACH, -EADDRNOTAVAIL
 * (source address), -EINVAL (URL), -ENOMEM, -EIO. body (NUL-terminated) is valid during the call only. */
typedef void (*HttpClientDone)(void *userdata, int error, unsigned status, const char *body, size_t size);

int http_client_new(sd_event *event, HttpClient **ret);
/* Transfers still running are cancelled: their callbacks are not called. Safe inside a callback. */
HttpClient *http_client_free(HttpClient *c);

int http_client_start(HttpClient *c, const HttpClientRequest *r, HttpClientDone done, void *userdata,
                      HttpTransfer **ret);
/* The callback is not called. */
void http_transfer_cancel(HttpTransfer *t);
