/* SPDX-License-Identifier: MIT */
/* ARP probes for the VIP (RFC 5227): the probe's bytes, and which packets from other hosts claim the address. */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arp-probe.h"

static const uint8_t self[6] = {0x02, 0x77, 0x00, 0x00, 0x00, 0x01}, other[6] = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02};

static struct in_addr ip(const char *s)
{
        struct in_addr a;
        assert_int_equal(inet_pton(AF_INET, s, &a), 1);
        return a;
}

/* An ARP packet: op 1 request, 2 reply. */
static void packet(uint8_t out[ARP_PACKET_SIZE], unsigned op, const uint8_t sha[6], const char *spa, const char *tpa)
{
        static const uint8_t head[6] = {0x00, 0x01, 0x08, 0x00, 6, 4};
        struct in_addr s = ip(spa), t = ip(tpa);

        memcpy(out, head, 6);
        out[6] = 0, out[7] = (uint8_t)op;
        memcpy(out + 8, sha, 6);
        memcpy(out + 14, &s, 4);
        memset(out + 18, 0, 6);
        memcpy(out + 24, &t, 4);
}

static void arp_probe_packet__rfc5227_probe(void **state)
{
        uint8_t p[ARP_PACKET_SIZE], want[ARP_PACKET_SIZE];

        arp_probe_packet(self, ip("10.77.0.240"), p);
        packet(want, 1, self, "0.0.0.0", "10.77.0.240");
        assert_memory_equal(p, want, sizeof p);
}

static void arp_packet_claims__replies_announcements_and_probes_of_others(void **state)
{
        uint8_t p[ARP_PACKET_SIZE], mac[6];
        char m[18];

        packet(p, 2, other, "10.77.0.240", "0.0.0.0"); /* a reply to our probe */
        assert_true(arp_packet_claims(p, sizeof p, ip("10.77.0.240"), self, mac));
        arp_mac_format(mac, m);
        assert_string_equal(m, "02:42:ac:11:00:02");
        packet(p, 1, other, "10.77.0.240", "10.77.0.240"); /* an announcement */
        assert_true(arp_packet_claims(p, sizeof p, ip("10.77.0.240"), self, mac));
        packet(p, 1, other, "0.0.0.0", "10.77.0.240"); /* another host probing for it too */
        assert_true(arp_packet_claims(p, sizeof p, ip("10.77.0.240"), self, mac));
}

static void arp_packet_claims__own_unrelated_or_short__not(void **state)
{
        uint8_t p[ARP_PACKET_SIZE], mac[6];

        packet(p, 2, self, "10.77.0.240", "0.0.0.0"); /* our own */
        assert_false(arp_packet_claims(p, sizeof p, ip("10.77.0.240"), self, mac));
        packet(p, 2, other, "10.77.0.12", "10.77.0.11"); /* about another address */
        assert_false(arp_packet_claims(p, sizeof p, ip("10.77.0.240"), self, mac));
        packet(p, 2, other, "0.0.0.0", "10.77.0.240"); /* a reply from 0.0.0.0 is no probe */
        assert_false(arp_packet_claims(p, sizeof p, ip("10.77.0.240"), self, mac));
        packet(p, 2, other, "10.77.0.240", "0.0.0.0");
        assert_false(arp_packet_claims(p, sizeof p - 1, ip("10.77.0.240"), self, mac));
        p[1] = 6; /* not Ethernet */
        assert_false(arp_packet_claims(p, sizeof p, ip("10.77.0.240"), self, mac));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(arp_probe_packet__rfc5227_probe),
                cmocka_unit_test(arp_packet_claims__replies_announcements_and_probes_of_others),
                cmocka_unit_test(arp_packet_claims__own_unrelated_or_short__not),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
