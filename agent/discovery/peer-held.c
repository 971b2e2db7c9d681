/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "peer-held.h"

static void take_at(PeerHeld *h, size_t i, Held *ret)
{
        if (ret)
                *ret = h->items[i];
        else
                free(h->items[i].service);
        memmove(h->items + i, h->items + i + 1, (h->n - i - 1) * sizeof *h->items);
        h->n--;
}

int peer_held_add(PeerHeld *h, const PeerTxt *txt, const char *service, const char *hostname, struct in_addr address,
                  uint16_t port, uint64_t now)
{
        uint64_t since = now;
        char *s;

        if (!txt || !node_id_is_valid(txt->id) || !service || !hostname)
                return -EINVAL;
        s = strdup(service);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < h->n; i++)
                if (streq(h->items[i].txt.id, txt->id)) {
                        since = h->items[i].since_usec;
                        take_at(h, i, NULL);
                        break;
                }
        if (h->n >= PEER_HELD_MAX) {
                size_t oldest = 0;
                for (size_t i = 1; i < h->n; i++)
                        if (h->items[i].since_usec < h->items[oldest].since_usec)
                                oldest = i;
                take_at(h, oldest, NULL);
        }
        h->items[h->n] = (Held){.txt = *txt, .service = s, .address = address, .port = port, .since_usec = since};
        snprintf(h->items[h->n].hostname, sizeof h->items[h->n].hostname, "%s", hostname);
        h->n++;
        return 0;
}

void peer_held_drop_id(PeerHeld *h, const char *id)
{
        for (size_t i = 0; i < h->n; i++)
                if (streq(h->items[i].txt.id, id)) {
                        take_at(h, i, NULL);
                        return;
                }
}

void peer_held_drop_service(PeerHeld *h, const char *service)
{
        for (size_t i = 0; i < h->n;)
                if (streq(h->items[i].service, service))
                        take_at(h, i, NULL);
                else
                        i++;
}

uint64_t peer_held_next_due(const PeerHeld *h)
{
        uint64_t next = UINT64_MAX;

        for (size_t i = 0; i < h->n; i++)
                next = MIN(next, h->items[i].since_usec + PEER_HELD_USEC);
        return next;
}

bool peer_held_pop_due(PeerHeld *h, uint64_t now, Held *ret)
{
        for (size_t i = 0; i < h->n; i++)
                if (h->items[i].since_usec + PEER_HELD_USEC <= now) {
                        take_at(h, i, ret);
                        return true;
                }
        return false;
}

void peer_held_clear(PeerHeld *h)
{
        while (h->n > 0)
                take_at(h, h->n - 1, NULL);
}
