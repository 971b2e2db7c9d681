/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "identity.h"
#include "macro.h"
#include "secret.h"

static int unhex(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int mac_parse(const char *s, uint8_t ret[static MAC_SIZE])
{
        uint8_t mac[MAC_SIZE];

        if (!s || strlen(s) != MAC_STRLEN - 1)
                return -EINVAL;
        for (size_t i = 0; i < MAC_SIZE; i++) {
                const char *p = s + 3 * i;
                int hi = unhex(p[0]), lo = unhex(p[1]);

                if (hi < 0 || lo < 0 || (i + 1 < MAC_SIZE && p[2] != ':'))
                        return -EINVAL;
                mac[i] = (uint8_t)(hi << 4 | lo);
        }
        memcpy(ret, mac, MAC_SIZE);
        return 0;
}

bool mac_is_usable(const uint8_t mac[static MAC_SIZE])
{
        static const uint8_t zero[MAC_SIZE];

        /* Bit 0 of the first octet: group (multicast/broadcast) address. */
        return memcmp(mac, zero, MAC_SIZE) != 0 && !(mac[0] & 1);
}

const char *mac_format(const uint8_t mac[static MAC_SIZE], char buf[static MAC_STRLEN])
{
        snprintf(buf, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
        return buf;
}

int node_id_from_mac(const uint8_t mac[static MAC_SIZE], char ret[static NODE_ID_SIZE])
{
        if (!mac_is_usable(mac))
                return -EINVAL;
        hex_encode(mac, MAC_SIZE, ret);
        return 0;
}

bool node_id_is_valid(const char *s)
{
        size_t n;

        if (!s)
                return false;
        n = strspn(s, "0123456789abcdef");
        return n == NODE_ID_LEN && s[n] == 0;
}

bool hostname_is_valid(const char *s)
{
        size_t n;

        if (!s)
                return false;
        n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");
        return n >= 1 && n <= HOSTNAME_MAX && s[n] == 0 && s[0] != '-' && s[n - 1] != '-';
}

int hostname_derive(Role role, const char *node_id, const char *override, char ret[static HOSTNAME_SIZE])
{
        const char *r = role_to_string(role);

        if (override) {
                if (!hostname_is_valid(override))
                        return -EINVAL;
                snprintf(ret, HOSTNAME_SIZE, "%s", override);
                return 0;
        }
        if (!r || !node_id_is_valid(node_id))
                return -EINVAL;
        snprintf(ret, HOSTNAME_SIZE, "%s-%s", r, node_id + NODE_ID_LEN - 6);
        return 0;
}

int hostname_from_mdns(const char *target, char ret[static HOSTNAME_SIZE])
{
        char buf[HOSTNAME_SIZE];
        size_t n;

        if (!target)
                return -EINVAL;
        n = strlen(target);
        if (n > 0 && target[n - 1] == '.')
                n--;
        if (n > 6 && strncmp(target + n - 6, ".local", 6) == 0)
                n -= 6;
        if (n == 0 || n > HOSTNAME_MAX)
                return -EINVAL;
        memcpy(buf, target, n);
        buf[n] = 0;
        if (!hostname_is_valid(buf))
                return -EINVAL;
        memcpy(ret, buf, n + 1);
        return 0;
}
