/* SPDX-License-Identifier: MIT */
#pragma once

/* Datagrams between two local processes over a unix SOCK_SEQPACKET socket, on the agent's event loop: a link
 * (one connection: send, receive, close), a listener, and the peer's credentials. The root daemon and its
 * unprivileged exchange worker talk this way (exchange-ipc.h). Sends never block: what the socket does not take
 * now waits in a bounded queue; a peer that lets the queue fill, or sends a datagram larger than max_size, is
 * disconnected. */

#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

typedef struct IpcLink IpcLink;
typedef struct IpcListener IpcListener;

/* One datagram (valid during the call). The link may be freed inside. */
typedef void (*IpcMessageFunc)(void *userdata, const void *data, size_t size);
/* The link is closed: error 0 when the peer hung up, else a negative errno (-EMSGSIZE, -ENOBUFS...). The link
 * must be freed (it may be, inside). */
typedef void (*IpcCloseFunc)(void *userdata, int error);

/* fd: a connected SOCK_SEQPACKET socket, taken over (closed on failure too). */
int ipc_link_new(sd_event *e, int fd, size_t max_size, IpcMessageFunc on_message, IpcCloseFunc on_close, void *userdata,
                 IpcLink **ret);
IpcLink *ipc_link_free(IpcLink *l);
/* Copies the datagram. Returns 0, -EMSGSIZE (larger than max_size), -ENOBUFS (queue full), -ENOMEM. */
int ipc_link_send(IpcLink *l, const void *data, size_t size);
/* The peer's process at connect() time. */
int ipc_link_peer_pid(IpcLink *l, pid_t *ret);

/* The process at the other end of a connected unix socket (at connect() time). */
int ipc_socket_peer_pid(int fd, pid_t *ret);

/* Connects to a listener at path. */
int ipc_connect(const char *path, int *ret_fd);

/* A new connection (fd non-blocking, close-on-exec, owned by the callee). */
typedef void (*IpcAcceptFunc)(void *userdata, int fd);
/* Listens at path (its directory must exist; a stale socket is replaced), with mode (connecting needs write
 * permission). */
int ipc_listener_new(sd_event *e, const char *path, mode_t mode, IpcAcceptFunc on_accept, void *userdata,
                     IpcListener **ret);
/* Stops listening and removes the socket. */
IpcListener *ipc_listener_free(IpcListener *l);
