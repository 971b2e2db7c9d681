/* SPDX-License-Identifier: MIT */

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr-watch.h"
#include "log.h"

#define ADDR_WATCH_IFACES_MAX 16
/* The kernel sizes a dump's messages by the reader's earlier buffers, starting from about a page (at most 8 KiB);
 * a notification is a few hundred bytes. */
#define ADDR_WATCH_BUF 8192

struct AddrWatch {
        sd_event *event;
        sd_event_source *io;
        int fd;
        struct in_addr addr;
        int holders[ADDR_WATCH_IFACES_MAX]; /* interfaces that have the address */
        size_t n_holders;
        uint32_t seq;  /* of the dump in progress */
        bool dumping;  /* the holders are being rebuilt: do not report meanwhile */
        bool redump;   /* notifications were lost during the dump: another one after it */
        bool reported; /* the value last given to cb (false before the first) */
        AddrWatchFunc cb;
        void *userdata;
};

static void holders_set(AddrWatch *w, int ifindex, bool present)
{
        for (size_t i = 0; i < w->n_holders; i++)
                if (w->holders[i] == ifindex) {
                        if (!present)
                                w->holders[i] = w->holders[--w->n_holders];
                        return;
                }
        if (present && w->n_holders < ADDR_WATCH_IFACES_MAX)
                w->holders[w->n_holders++] = ifindex;
}

static int request_dump(AddrWatch *w)
{
        struct {
                struct nlmsghdr nh;
                struct ifaddrmsg ifa;
        } req = {
                .nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
                       .nlmsg_type = RTM_GETADDR,
                       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                       .nlmsg_seq = ++w->seq},
                .ifa = {.ifa_family = AF_INET},
        };
        struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

        if (w->dumping) {
                w->redump = true; /* one dump at a time per socket */
                return 0;
        }
        if (sendto(w->fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
                return -errno;
        /* Everything from here on is applied in the order the kernel queued it: the dump's entries and the
         * notifications in between. What vanished before the subscription is forgotten with the old list. */
        w->n_holders = 0;
        w->dumping = true;
        return 0;
}

static void handle_addr(AddrWatch *w, const struct nlmsghdr *nh)
{
        const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
        int len = (int)IFA_PAYLOAD(nh);
        const struct in_addr *local = NULL, *address = NULL;

        if (nh->nlmsg_len < NLMSG_LENGTH(sizeof *ifa) || ifa->ifa_family != AF_INET)
                return;
        for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if (RTA_PAYLOAD(a) != sizeof(struct in_addr))
                        continue;
                if (a->rta_type == IFA_LOCAL)
                        local = RTA_DATA(a);
                else if (a->rta_type == IFA_ADDRESS)
                        address = RTA_DATA(a);
        }
        /* IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's on point-to-point links). */
        if (!local)
                local = address;
        if (local && local->s_addr == w->addr.s_addr)
                holders_set(w, (int)ifa->ifa_index, nh->nlmsg_type == RTM_NEWADDR);
}

/* Returns true when a dump of ours ended. */
static bool handle_message(AddrWatch *w, const struct nlmsghdr *nh)
{
        switch (nh->nlmsg_type) {
        case RTM_NEWADDR:
        case RTM_DELADDR:
                handle_addr(w, nh);
                return false;
        case NLMSG_ERROR:
        case NLMSG_DONE:
                /* A failed dump (NLMSG_ERROR) ends it too: what arrived is all there is. */
                return w->dumping && nh->nlmsg_seq == w->seq;
        default:
                return false;
        }
}

static void report(AddrWatch *w)
{
        bool present = w->n_holders > 0;

        if (w->dumping || present == w->reported)
                return;
        w->reported = present;
        w->cb(present, w->userdata);
}

static int on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        AddrWatch *w = userdata;
        uint8_t buf[ADDR_WATCH_BUF] __attribute__((aligned(__alignof__(struct nlmsghdr))));
        int r;

        for (;;) {
                struct sockaddr_nl from = {};
                struct iovec iov = {buf, sizeof buf};
                struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
                ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if ((n < 0 && errno == ENOBUFS) || (n >= 0 && (msg.msg_flags & MSG_TRUNC))) {
                        /* The kernel dropped notifications: ask for the whole picture again. */
                        log_debug("netlink: address notifications lost, asking again");
                        r = request_dump(w);
                        if (r < 0)
                                log_warning_errno(r, "Cannot ask the kernel for its addresses again: %m");
                        continue;
                }
                if (n < 0) {
                        log_warning_errno(-errno, "Failed to read address notifications, ignoring: %m");
                        break;
                }
                if (from.nl_pid != 0) /* only the kernel speaks here */
                        continue;
                int len = (int)n;
                for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len))
                        if (handle_message(w, nh)) {
                                w->dumping = false;
                                if (w->redump) {
                                        w->redump = false;
                                        r = request_dump(w);
                                        if (r < 0)
                                                log_warning_errno(r, "Cannot ask the kernel for its addresses "
                                                                     "again: %m");
                                }
                        }
        }
        report(w);
        return 0;
}

int addr_watch_new(sd_event *e, struct in_addr addr, AddrWatchFunc cb, void *userdata, AddrWatch **ret)
{
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR};
        AddrWatch *w;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        *w = (AddrWatch){.event = sd_event_ref(e), .fd = -EBADF, .addr = addr, .cb = cb, .userdata = userdata};
        w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (w->fd < 0) {
                r = -errno;
                goto fail;
        }
        /* Subscribed before the dump, so that nothing falls between the two. */
        if (bind(w->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(e, &w->io, w->fd, EPOLLIN, on_netlink, w);
        if (r < 0)
                goto fail;
        r = request_dump(w);
        if (r < 0)
                goto fail;
        *ret = w;
        return 0;
fail:
        addr_watch_free(w);
        return r;
}

AddrWatch *addr_watch_free(AddrWatch *w)
{
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->io);
        if (w->fd >= 0)
                close(w->fd);
        sd_event_unref(w->event);
        free(w);
        return NULL;
}

bool addr_watch_present(const AddrWatch *w)
{
        return w->reported;
}
