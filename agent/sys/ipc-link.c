/* SPDX-License-Identifier: MIT */

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc-link.h"
#include "macro.h"

#define QUEUE_MAX 1024 /* datagrams waiting for the peer to read */

typedef struct Datagram {
        struct Datagram *next;
        size_t size;
        uint8_t data[];
} Datagram;

struct IpcLink {
        sd_event *event;
        int fd;
        sd_event_source *io;
        size_t max_size;
        uint8_t *buf; /* max_size + 1: a larger datagram shows as truncated */
        Datagram *head, *tail;
        unsigned queued;
        IpcMessageFunc on_message;
        IpcCloseFunc on_close;
        void *userdata;
        bool *freed; /* set while a callback runs: tells the loop that the link is gone */
};

struct IpcListener {
        sd_event *event;
        int fd;
        sd_event_source *io;
        char *path;
        IpcAcceptFunc on_accept;
        void *userdata;
};

static int update_events(IpcLink *l)
{
        return sd_event_source_set_io_events(l->io, EPOLLIN | (l->head ? EPOLLOUT : 0));
}

static void link_close(IpcLink *l, int error)
{
        (void)sd_event_source_set_enabled(l->io, SD_EVENT_OFF);
        l->on_close(l->userdata, error);
}

/* Sends what the socket takes now. 0, or a negative errno. */
static int flush(IpcLink *l)
{
        while (l->head) {
                Datagram *d = l->head;
                ssize_t n = send(l->fd, d->data, d->size, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? update_events(l) : -errno;
                }
                l->head = d->next;
                if (!l->head)
                        l->tail = NULL;
                l->queued--;
                free(d);
        }
        return update_events(l);
}

/* Receives every datagram there is. 0 to go on, 1 if the link was freed by a callback, or a negative errno
 * (0: hung up is -ECONNRESET here). */
static int receive(IpcLink *l)
{
        for (;;) {
                bool freed = false;
                ssize_t n = recv(l->fd, l->buf, l->max_size + 1, MSG_DONTWAIT | MSG_TRUNC);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 0 : -errno;
                }
                if (n == 0)
                        return -ECONNRESET;
                if ((size_t)n > l->max_size)
                        return -EMSGSIZE;
                l->freed = &freed;
                l->on_message(l->userdata, l->buf, (size_t)n);
                if (freed)
                        return 1;
                l->freed = NULL;
        }
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        IpcLink *l = userdata;
        int r = 0;

        if (revents & EPOLLIN) {
                r = receive(l);
                if (r == 1)
                        return 0;
        }
        if (r >= 0 && (revents & EPOLLOUT))
                r = flush(l);
        if (r >= 0 && (revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLIN))
                r = -ECONNRESET;
        if (r < 0)
                link_close(l, r == -ECONNRESET ? 0 : r);
        return 0;
}

int ipc_link_new(sd_event *e, int fd, size_t max_size, IpcMessageFunc on_message, IpcCloseFunc on_close, void *userdata,
                 IpcLink **ret)
{
        IpcLink *l = calloc(1, sizeof *l);
        int size = (int)MIN(max_size * 2 + 4096, (size_t)INT32_MAX / 2), r;

        if (!l) {
                close(fd);
                return -ENOMEM;
        }
        *l = (IpcLink){.event = sd_event_ref(e),
                       .fd = fd,
                       .max_size = max_size,
                       .on_message = on_message,
                       .on_close = on_close,
                       .userdata = userdata};
        /* Room for the largest datagram (an unprivileged process gets at most net.core.wmem_max: it tries). */
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        l->buf = malloc(max_size + 1);
        r = l->buf ? sd_event_add_io(e, &l->io, fd, EPOLLIN, on_io, l) : -ENOMEM;
        if (r < 0) {
                ipc_link_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

IpcLink *ipc_link_free(IpcLink *l)
{
        if (!l)
                return NULL;
        if (l->freed)
                *l->freed = true;
        while (l->head) {
                Datagram *d = l->head;
                l->head = d->next;
                free(d);
        }
        sd_event_source_disable_unref(l->io);
        if (l->fd >= 0)
                close(l->fd);
        free(l->buf);
        sd_event_unref(l->event);
        free(l);
        return NULL;
}

int ipc_link_send(IpcLink *l, const void *data, size_t size)
{
        Datagram *d;

        if (size > l->max_size)
                return -EMSGSIZE;
        if (l->queued >= QUEUE_MAX)
                return -ENOBUFS;
        d = malloc(sizeof *d + size);
        if (!d)
                return -ENOMEM;
        d->next = NULL;
        d->size = size;
        memcpy(d->data, data, size);
        if (l->tail)
                l->tail->next = d;
        else
                l->head = d;
        l->tail = d;
        l->queued++;
        /* Errors show at the next turn of the loop, as a close. */
        if (flush(l) < 0)
                (void)sd_event_source_set_io_events(l->io, EPOLLIN | EPOLLOUT);
        return 0;
}

int ipc_socket_peer_pid(int fd, pid_t *ret)
{
        struct ucred cred;
        socklen_t len = sizeof cred;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        if (cred.pid <= 0)
                return -ESRCH;
        *ret = cred.pid;
        return 0;
}

int ipc_link_peer_pid(IpcLink *l, pid_t *ret)
{
        return ipc_socket_peer_pid(l->fd, ret);
}

static int address_of(const char *path, struct sockaddr_un *sa)
{
        *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa->sun_path)
                return -ENAMETOOLONG;
        strcpy(sa->sun_path, path);
        return 0;
}

int ipc_connect(const char *path, int *ret_fd)
{
        struct sockaddr_un sa;
        int fd, r;

        r = address_of(path, &sa);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static int on_listen_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        IpcListener *l = userdata;

        for (;;) {
                int cfd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0)
                        return 0; /* EAGAIN, or a client that went away before we accepted it */
                l->on_accept(l->userdata, cfd);
        }
}

int ipc_listener_new(sd_event *e, const char *path, mode_t mode, IpcAcceptFunc on_accept, void *userdata,
                     IpcListener **ret)
{
        struct sockaddr_un sa;
        IpcListener *l;
        int r;

        r = address_of(path, &sa);
        if (r < 0)
                return r;
        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        *l = (IpcListener){.event = sd_event_ref(e), .fd = -EBADF, .on_accept = on_accept, .userdata = userdata};
        l->path = strdup(path);
        l->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        r = !l->path ? -ENOMEM : l->fd < 0 ? -errno : 0;
        /* Ours alone: a socket left by a daemon that was killed is replaced. */
        if (r >= 0 && unlink(path) < 0 && errno != ENOENT)
                r = -errno;
        if (r >= 0 && bind(l->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                r = -errno;
        if (r >= 0 && chmod(path, mode) < 0)
                r = -errno;
        if (r >= 0 && listen(l->fd, 8) < 0)
                r = -errno;
        if (r >= 0)
                r = sd_event_add_io(e, &l->io, l->fd, EPOLLIN, on_listen_io, l);
        if (r < 0) {
                ipc_listener_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

IpcListener *ipc_listener_free(IpcListener *l)
{
        if (!l)
                return NULL;
        sd_event_source_disable_unref(l->io);
        if (l->fd >= 0) {
                close(l->fd);
                (void)unlink(l->path);
        }
        free(l->path);
        sd_event_unref(l->event);
        free(l);
        return NULL;
}
