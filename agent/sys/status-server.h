/* SPDX-License-Identifier: MIT */
#pragma once

/* The daemon's local status interface: a unix stream socket; every client that connects is sent one JSON
 * document (status-json.h) and the connection is closed. Nothing is read from clients. On the event loop:
 * writes never block, slow clients are dropped, connections are limited. */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#define STATUS_SOCKET_DEFAULT "/run/piagent/status.sock"

typedef struct StatusServer StatusServer;

/* Returns the document to send (malloc'ed), or NULL on failure (the client is then closed without an answer). */
typedef char *(*StatusRenderFunc)(void *userdata);

/* Binds path (its directory is created; a stale socket left by a crashed daemon is replaced, a live one is not:
 * -EADDRINUSE). The socket is readable by everyone: it tells nothing that mDNS does not. */
int status_server_new(sd_event *e, const char *path, StatusRenderFunc render, void *userdata, StatusServer **ret);
/* Closes every connection and removes the socket. */
StatusServer *status_server_free(StatusServer *s);

/* The socket path when none is given: socket (PIAGENT_STATUS_SOCKET), else runtime_dir/status.sock (the daemon's
 * RUNTIME_DIRECTORY, systemd's RuntimeDirectory=piagent), else STATUS_SOCKET_DEFAULT. Either may be NULL. */
const char *status_socket_path(const char *socket, const char *runtime_dir, char *buf, size_t size);

static inline void status_server_freep(StatusServer **s)
{
        status_server_free(*s);
}
#define _cleanup_status_server_ _cleanup_(status_server_freep)
