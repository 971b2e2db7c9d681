/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "peer-rejected.h"
#include "sorted.h"

struct PeerRejected {
        Rejected items[PEER_REJECTED_MAX]; /* sorted by service name */
        size_t n;
};

int peer_rejected_new(PeerRejected **ret)
{
        PeerRejected *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

void peer_rejected_clear(PeerRejected *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->items[i].service);
        s->n = 0;
}

PeerRejected *peer_rejected_free(PeerRejected *s)
{
        if (s) {
                peer_rejected_clear(s);
                free(s);
        }
        return NULL;
}

static const char *item_service(const void *items, size_t i)
{
        return ((const Rejected *)items)[i].service;
}

static size_t lookup(const PeerRejected *s, const char *service, bool *found)
{
        return sorted_find(s->items, s->n, item_service, service, found);
}

static void take_at(PeerRejected *s, size_t i)
{
        free(s->items[i].service);
        memmove(s->items + i, s->items + i + 1, (s->n - i - 1) * sizeof *s->items);
        s->n--;
}

/* The record seen least recently: of address a if it has PEER_REJECTED_PER_ADDRESS already, else of all when the
 * table is full. SIZE_MAX when there is room. */
static size_t victim(const PeerRejected *s, struct in_addr a)
{
        size_t oldest = SIZE_MAX, oldest_here = SIZE_MAX, here = 0;

        for (size_t i = 0; i < s->n; i++) {
                const Rejected *r = &s->items[i];
                if (oldest == SIZE_MAX || r->last_seen_usec < s->items[oldest].last_seen_usec)
                        oldest = i;
                if (r->address.s_addr != a.s_addr)
                        continue;
                here++;
                if (oldest_here == SIZE_MAX || r->last_seen_usec < s->items[oldest_here].last_seen_usec)
                        oldest_here = i;
        }
        if (here >= PEER_REJECTED_PER_ADDRESS)
                return oldest_here;
        return s->n >= PEER_REJECTED_MAX ? oldest : SIZE_MAX;
}

static void fill(Rejected *r, const RejectedUpdate *u, uint64_t now)
{
        r->address = u->address;
        snprintf(r->id, sizeof r->id, "%s", node_id_is_valid(u->id) ? u->id : "");
        r->role = u->role >= 0 && u->role < _ROLE_MAX ? u->role : _ROLE_INVALID;
        snprintf(r->reason, sizeof r->reason, "%s", u->reason ?: "");
        r->last_seen_usec = now;
        r->count++;
}

int peer_rejected_add(PeerRejected *s, const RejectedUpdate *u, uint64_t now)
{
        bool found;
        size_t i, v;
        char *name;

        if (!u->service || !*u->service || strlen(u->service) > PEER_REJECTED_NAME_MAX)
                return -EINVAL;
        i = lookup(s, u->service, &found);
        if (found) {
                Rejected *r = &s->items[i];
                /* Moving to a crowded address counts against that address. */
                if (r->address.s_addr != u->address.s_addr) {
                        take_at(s, i);
                        return peer_rejected_add(s, u, now);
                }
                fill(r, u, now);
                return 0;
        }
        name = strdup(u->service);
        if (!name)
                return -ENOMEM;
        v = victim(s, u->address);
        if (v != SIZE_MAX) {
                take_at(s, v);
                i = lookup(s, u->service, &found);
        }
        memmove(s->items + i + 1, s->items + i, (s->n - i) * sizeof *s->items);
        s->items[i] = (Rejected){.service = name, .first_seen_usec = now};
        fill(&s->items[i], u, now);
        s->n++;
        return 0;
}

int peer_rejected_remove(PeerRejected *s, const char *service)
{
        bool found;
        size_t i;

        if (!service)
                return -ENOENT;
        i = lookup(s, service, &found);
        if (!found)
                return -ENOENT;
        take_at(s, i);
        return 0;
}

size_t peer_rejected_size(const PeerRejected *s)
{
        return s ? s->n : 0;
}

const Rejected *peer_rejected_get(const PeerRejected *s, size_t i)
{
        return s && i < s->n ? &s->items[i] : NULL;
}

const Rejected *peer_rejected_find(const PeerRejected *s, const char *service)
{
        bool found;
        size_t i;

        if (!s || !service)
                return NULL;
        i = lookup(s, service, &found);
        return found ? &s->items[i] : NULL;
}
