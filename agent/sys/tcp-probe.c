/* SPDX-License-Identifier: MIT */

#include <netinet/in.h>
#include <sys/socket.h>

#include "macro.h"
#include "tcp-probe.h"

struct TcpProbe {
        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        TcpProbeDone done;
        void *userdata;
};

void tcp_probe_cancel(TcpProbe *p)
{
        if (!p)
                return;
        sd_event_source_disable_unref(p->io);
        sd_event_source_disable_unref(p->timer);
        if (p->fd >= 0)
                close(p->fd);
        free(p);
}

static void finish(TcpProbe *p, int error)
{
        TcpProbeDone done = p->done;
        void *userdata = p->userdata;

        tcp_probe_cancel(p);
        done(error, userdata);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        int error = 0;
        socklen_t len = sizeof error;

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                error = errno;
        finish(userdata, -error);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        finish(userdata, -ETIMEDOUT);
        return 0;
}

int tcp_probe_start(sd_event *e, struct in_addr addr, uint16_t port, uint64_t timeout_usec, TcpProbeDone done,
                    void *userdata, TcpProbe **ret)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = addr, .sin_port = htons(port)};
        TcpProbe *p;
        int r;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->done = done;
        p->userdata = userdata;
        p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (p->fd < 0) {
                r = -errno;
                free(p);
                return r;
        }
        if (connect(p->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
                r = -errno;
                tcp_probe_cancel(p);
                return r;
        }
        r = sd_event_add_io(e, &p->io, p->fd, EPOLLOUT, on_io, p);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &p->timer, CLOCK_MONOTONIC, timeout_usec, 0, on_timeout, p);
        if (r < 0) {
                tcp_probe_cancel(p);
                return r;
        }
        if (ret)
                *ret = p;
        return 0;
}
