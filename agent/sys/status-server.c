/* SPDX-License-Identifier: MIT */

#include <libgen.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "fileio.h"
#include "macro.h"
#include "status-server.h"

#define CONNECTIONS_MAX     16
#define CLIENT_TIMEOUT_USEC (5ULL * 1000 * 1000)

typedef struct Connection Connection;

struct StatusServer {
        sd_event *event;
        int fd;
        sd_event_source *listener;
        char *path;
        StatusRenderFunc render;
        void *userdata;
        Connection *connections;
        unsigned n_connections;
};

struct Connection {
        StatusServer *server;
        int fd;
        sd_event_source *io, *timer;
        char *buf;
        size_t size, sent;
        Connection *next;
};

const char *status_socket_path(const char *socket, const char *runtime_dir, char *buf, size_t size)
{
        if (socket)
                return socket;
        if (runtime_dir) {
                snprintf(buf, size, "%s/status.sock", runtime_dir);
                return buf;
        }
        return STATUS_SOCKET_DEFAULT;
}

static void connection_free(Connection *c)
{
        StatusServer *s = c->server;

        for (Connection **p = &s->connections; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        s->n_connections--;
                        break;
                }
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        if (c->fd >= 0)
                close(c->fd);
        free(c->buf);
        free(c);
}

/* Sends what the socket takes now. Returns 1 when everything is sent, 0 to wait, or a negative errno. */
static int connection_flush(Connection *c)
{
        while (c->sent < c->size) {
                ssize_t n = send(c->fd, c->buf + c->sent, c->size - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 0 : -errno;
                }
                c->sent += (size_t)n;
        }
        return 1;
}

static int on_writable(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Connection *c = userdata;

        if (connection_flush(c) != 0)
                connection_free(c);
        return 0;
}

static int on_client_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
        connection_free(userdata); /* too slow to read a few kilobytes */
        return 0;
}

static int connection_start(StatusServer *s, int fd)
{
        Connection *c;
        int r;

        c = calloc(1, sizeof *c);
        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        *c = (Connection){.server = s, .fd = fd, .next = s->connections};
        s->connections = c;
        s->n_connections++;

        c->buf = s->render(s->userdata);
        if (!c->buf) {
                connection_free(c);
                return -ENOMEM;
        }
        c->size = strlen(c->buf);
        r = connection_flush(c);
        if (r != 0) {
                connection_free(c);
                return r < 0 ? r : 0;
        }
        r = sd_event_add_io(s->event, &c->io, fd, EPOLLOUT, on_writable, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &c->timer, CLOCK_MONOTONIC, CLIENT_TIMEOUT_USEC, 0,
                                               on_client_timeout, c);
        if (r < 0)
                connection_free(c);
        return r;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        StatusServer *s = userdata;

        for (;;) {
                int cfd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0)
                        return 0; /* EAGAIN, or a client that went away before we accepted it */
                if (s->n_connections >= CONNECTIONS_MAX) {
                        close(cfd);
                        continue;
                }
                (void)connection_start(s, cfd);
        }
}

/* Binds, replacing a socket that nobody listens on any more (a daemon that was killed). */
static int bind_socket(int fd, const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int probe = -EBADF;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) >= 0)
                return 0;
        if (errno != EADDRINUSE)
                return -errno;
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe < 0)
                return -errno;
        if (connect(probe, (struct sockaddr *)&sa, sizeof sa) >= 0)
                return -EADDRINUSE; /* another daemon is running */
        if (errno != ECONNREFUSED || unlink(path) < 0)
                return -EADDRINUSE;
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                return -errno;
        return 0;
}

StatusServer *status_server_free(StatusServer *s)
{
        if (!s)
                return NULL;
        while (s->connections)
                connection_free(s->connections);
        sd_event_source_disable_unref(s->listener);
        if (s->fd >= 0) {
                close(s->fd);
                if (s->path)
                        (void)unlink(s->path);
        }
        free(s->path);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

int status_server_new(sd_event *e, const char *path, StatusRenderFunc render, void *userdata, StatusServer **ret)
{
        _cleanup_free_ char *dir = strdup(path);
        StatusServer *s;
        int r;

        if (!dir)
                return -ENOMEM;
        r = mkdir_parents(dirname(dir), 0755);
        if (r < 0 && r != -EEXIST)
                return r;
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        *s = (StatusServer){.event = sd_event_ref(e), .render = render, .userdata = userdata};
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0) {
                r = -errno;
                status_server_free(s);
                return r;
        }
        r = bind_socket(s->fd, path);
        if (r >= 0 && !(s->path = strdup(path)))
                r = -ENOMEM;
        /* The unit's UMask=0077 would keep everyone but root out. */
        if (r >= 0 && chmod(path, 0666) < 0)
                r = -errno;
        if (r >= 0 && listen(s->fd, CONNECTIONS_MAX) < 0)
                r = -errno;
        if (r >= 0)
                r = sd_event_add_io(e, &s->listener, s->fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                if (!s->path) {
                        close(s->fd); /* not ours to unlink */
                        s->fd = -EBADF;
                }
                status_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}
