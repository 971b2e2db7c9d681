/* SPDX-License-Identifier: MIT */
#pragma once

/* RFC 5227 address conflict detection, for the VIP before a load balancer first claims it: ARP probes (sender
 * address 0.0.0.0) for the address on the interface; an ARP packet from another host during the window that
 * has the address as its sender (a reply, an announcement), or probes for it too, is a conflict. Needs
 * CAP_NET_RAW. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#define ARP_PROBE_COUNT         3
#define ARP_PROBE_INTERVAL_USEC (200 * 1000ULL)
#define ARP_PROBE_WAIT_USEC     (1000 * 1000ULL) /* after the last probe */
#define ARP_PACKET_SIZE         28               /* Ethernet/IPv4 ARP */

typedef struct ArpProbe ArpProbe;

/* error: 0, or a negative errno (no such interface, no raw socket); in_use: mac answered for the address. */
typedef void (*ArpProbeDone)(int error, bool in_use, const uint8_t mac[6], void *userdata);

/* Returns 0 (done is called once, later), or a negative errno (done is not called). */
int arp_probe_start(sd_event *e, const char *ifname, struct in_addr ip, ArpProbeDone done, void *userdata,
                    ArpProbe **ret);
/* Stops a probe; done is not called. NULL is fine. */
ArpProbe *arp_probe_free(ArpProbe *p);

/* A probe for target from self_mac. Pure. */
void arp_probe_packet(const uint8_t self_mac[6], struct in_addr target, uint8_t out[static ARP_PACKET_SIZE]);
/* Whether an ARP packet (without the Ethernet header) from another host than self_mac claims ip: its sender
 * address is ip, or it probes for ip. Writes its sender MAC. Pure. */
bool arp_packet_claims(const uint8_t *pkt, size_t n, struct in_addr ip, const uint8_t self_mac[6], uint8_t ret_mac[6]);
/* "02:77:00:00:00:01" */
void arp_mac_format(const uint8_t mac[6], char out[static 18]);
