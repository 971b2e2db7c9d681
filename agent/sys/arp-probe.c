/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arp-probe.h"
#include "macro.h"

struct ArpProbe {
        sd_event_source *io, *timer;
        int fd, ifindex;
        uint8_t mac[6];
        struct in_addr ip;
        unsigned sent;
        ArpProbeDone done;
        void *userdata;
};

void arp_mac_format(const uint8_t m[6], char out[static 18])
{
        snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void arp_probe_packet(const uint8_t self_mac[6], struct in_addr target, uint8_t out[static ARP_PACKET_SIZE])
{
        static const uint8_t head[8] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01}; /* Ethernet, IPv4, request */

        memcpy(out, head, sizeof head);
        memcpy(out + 8, self_mac, 6);
        memset(out + 14, 0, 4); /* sender 0.0.0.0: a probe */
        memset(out + 18, 0, 6); /* target MAC unknown */
        memcpy(out + 24, &target, 4);
}

bool arp_packet_claims(const uint8_t *p, size_t n, struct in_addr ip, const uint8_t self_mac[6], uint8_t ret_mac[6])
{
        static const uint8_t head[6] = {0x00, 0x01, 0x08, 0x00, 6, 4};
        struct in_addr sender, target;

        if (n < ARP_PACKET_SIZE || memcmp(p, head, sizeof head) != 0 || memcmp(p + 8, self_mac, 6) == 0)
                return false;
        memcpy(&sender, p + 14, 4);
        memcpy(&target, p + 24, 4);
        /* RFC 5227 2.1.1: any packet with the address as sender; or another host's probe for it. */
        if (sender.s_addr != ip.s_addr && !(sender.s_addr == 0 && target.s_addr == ip.s_addr && p[7] == 1))
                return false;
        memcpy(ret_mac, p + 8, 6);
        return true;
}

static void finish(ArpProbe *p, int error, bool in_use, const uint8_t mac[6])
{
        ArpProbeDone done = p->done;
        void *u = p->userdata;

        p->done = NULL;
        p->io = sd_event_source_disable_unref(p->io);
        p->timer = sd_event_source_disable_unref(p->timer);
        if (done)
                done(error, in_use, mac, u);
}

static int send_probe(ArpProbe *p)
{
        uint8_t pkt[ARP_PACKET_SIZE];
        struct sockaddr_ll to = {.sll_family = AF_PACKET,
                                 .sll_protocol = htons(ETH_P_ARP),
                                 .sll_ifindex = p->ifindex,
                                 .sll_halen = 6,
                                 .sll_addr = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

        arp_probe_packet(p->mac, p->ip, pkt);
        if (sendto(p->fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to) < 0)
                return -errno;
        p->sent++;
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        ArpProbe *p = userdata;
        int r;

        if (p->sent >= ARP_PROBE_COUNT) {
                finish(p, 0, false, NULL); /* nobody answered */
                return 0;
        }
        r = send_probe(p);
        if (r < 0) {
                finish(p, r, false, NULL);
                return 0;
        }
        r = sd_event_source_set_time_relative(s, p->sent < ARP_PROBE_COUNT ? ARP_PROBE_INTERVAL_USEC
                                                                           : ARP_PROBE_WAIT_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                finish(p, r, false, NULL);
        return 0;
}

static int on_packet(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        ArpProbe *p = userdata;
        uint8_t buf[64], mac[6];
        ssize_t n;

        while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) >= 0)
                if (arp_packet_claims(buf, (size_t)n, p->ip, p->mac, mac)) {
                        finish(p, 0, true, mac);
                        return 0;
                }
        return 0;
}

ArpProbe *arp_probe_free(ArpProbe *p)
{
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->io);
        sd_event_source_disable_unref(p->timer);
        if (p->fd >= 0)
                close(p->fd);
        free(p);
        return NULL;
}

int arp_probe_start(sd_event *e, const char *ifname, struct in_addr ip, ArpProbeDone done, void *userdata,
                    ArpProbe **ret)
{
        struct ifreq ifr = {};
        ArpProbe *p;
        int r;

        if (!ifname || strlen(ifname) >= sizeof ifr.ifr_name)
                return -EINVAL;
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        *p = (ArpProbe){.fd = -1, .ip = ip, .done = done, .userdata = userdata};
        p->ifindex = (int)if_nametoindex(ifname);
        if (p->ifindex == 0) {
                r = -errno;
                goto fail;
        }
        p->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ARP));
        if (p->fd < 0) {
                r = -errno;
                goto fail;
        }
        memcpy(ifr.ifr_name, ifname, strlen(ifname));
        if (ioctl(p->fd, SIOCGIFHWADDR, &ifr) < 0) {
                r = -errno;
                goto fail;
        }
        memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
        struct sockaddr_ll here = {
                .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = p->ifindex};
        if (bind(p->fd, (struct sockaddr *)&here, sizeof here) < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(e, &p->io, p->fd, EPOLLIN, on_packet, p);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &p->timer, CLOCK_MONOTONIC, 0, 0, on_timer, p);
        if (r < 0)
                goto fail;
        *ret = p;
        return 0;
fail:
        arp_probe_free(p);
        return r;
}
