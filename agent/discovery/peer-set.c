/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "peer-set.h"
#include "sorted.h"

struct PeerSet {
        Peer **peers; /* sorted by id */
        size_t n;
        size_t allocated;
};

int peer_set_new(PeerSet **ret)
{
        PeerSet *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

Peer *peer_free(Peer *p)
{
        if (!p)
                return NULL;
        free(p->service);
        free(p);
        return NULL;
}

PeerSet *peer_set_free(PeerSet *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                peer_free(s->peers[i]);
        free(s->peers);
        free(s);
        return NULL;
}

static const char *peer_id(const void *peers, size_t i)
{
        return ((Peer *const *)peers)[i]->id;
}

/* Index of id, or where it would be inserted (with *found false). */
static size_t lookup(const PeerSet *s, const char *id, bool *found)
{
        return sorted_find(s->peers, s->n, peer_id, id, found);
}

static int insert_new(PeerSet *s, size_t at, const PeerUpdate *u, uint64_t now)
{
        _cleanup_peer_ Peer *p = NULL;

        if (s->n >= PEER_SET_MAX)
                return -ENOSPC;
        if (s->n == s->allocated) {
                size_t na = MAX(s->allocated * 2, (size_t)8);
                Peer **np = reallocarray(s->peers, na, sizeof *np);
                if (!np)
                        return -ENOMEM;
                s->peers = np;
                s->allocated = na;
        }
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->service = strdup(u->service);
        if (!p->service)
                return -ENOMEM;
        snprintf(p->id, sizeof p->id, "%s", u->txt->id);
        snprintf(p->hostname, sizeof p->hostname, "%s", u->hostname);
        p->phase = u->txt->phase;
        snprintf(p->phase_other, sizeof p->phase_other, "%s", u->txt->phase_other);
        p->role = u->txt->role;
        p->vip = u->txt->vip;
        p->seq = u->txt->seq;
        p->address = u->address;
        p->port = u->port;
        p->first_seen_usec = p->last_seen_usec = now;

        memmove(s->peers + at + 1, s->peers + at, (s->n - at) * sizeof *s->peers);
        s->peers[at] = TAKE_PTR(p);
        s->n++;
        return 0;
}

static int update_existing(Peer *p, const PeerUpdate *u, uint64_t now, unsigned *ret_changes)
{
        unsigned c = 0;

        if (!streq(p->service, u->service)) {
                char *n = strdup(u->service);
                if (!n)
                        return -ENOMEM;
                free(p->service);
                p->service = n;
                c |= PEER_CHANGE_SERVICE;
        }
        if (p->role != u->txt->role)
                c |= PEER_CHANGE_ROLE;
        if (p->phase != u->txt->phase)
                c |= PEER_CHANGE_PHASE;
        if (p->address.s_addr != u->address.s_addr || p->port != u->port)
                c |= PEER_CHANGE_ADDRESS;
        if (!streq(p->hostname, u->hostname))
                c |= PEER_CHANGE_HOSTNAME;
        if (p->stale)
                c |= PEER_CHANGE_REVIVED;

        p->role = u->txt->role;
        p->vip = u->txt->vip;
        p->seq = u->txt->seq;
        p->phase = u->txt->phase;
        snprintf(p->phase_other, sizeof p->phase_other, "%s", u->txt->phase_other);
        snprintf(p->hostname, sizeof p->hostname, "%s", u->hostname);
        p->address = u->address;
        p->port = u->port;
        p->stale = false;
        p->last_seen_usec = now;
        *ret_changes = c;
        return 0;
}

static bool phase_is_valid(const PeerTxt *t)
{
        return t->phase == PHASE_OTHER ? phase_word_is_valid(t->phase_other) : phase_to_string(t->phase) != NULL;
}

int peer_set_update(PeerSet *s, const PeerUpdate *u, uint64_t now, unsigned *ret_changes)
{
        const Peer *owner;
        bool found;
        size_t i;
        int r;

        if (!u->service || !*u->service || !u->hostname || !u->txt || !node_id_is_valid(u->txt->id) ||
            strlen(u->hostname) > HOSTNAME_MAX || !phase_is_valid(u->txt) || u->txt->role < 0 ||
            u->txt->role >= _ROLE_MAX)
                return -EINVAL;

        owner = peer_set_find_service(s, u->service);
        if (owner && !streq(owner->id, u->txt->id))
                return -EEXIST;

        i = lookup(s, u->txt->id, &found);
        if (found)
                return update_existing(s->peers[i], u, now, ret_changes);

        r = insert_new(s, i, u, now);
        if (r < 0)
                return r;
        *ret_changes = PEER_CHANGE_NEW;
        return 0;
}

static Peer *take_at(PeerSet *s, size_t i)
{
        Peer *p = s->peers[i];

        memmove(s->peers + i, s->peers + i + 1, (s->n - i - 1) * sizeof *s->peers);
        s->n--;
        return p;
}

int peer_set_remove_service(PeerSet *s, const char *service, Peer **ret)
{
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->peers[i]->service, service)) {
                        *ret = take_at(s, i);
                        return 0;
                }
        return -ENOENT;
}

void peer_set_mark_stale(PeerSet *s)
{
        for (size_t i = 0; i < s->n; i++)
                s->peers[i]->stale = true;
}

Peer *peer_set_pop_stale(PeerSet *s)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->peers[i]->stale)
                        return take_at(s, i);
        return NULL;
}

size_t peer_set_size(const PeerSet *s)
{
        return s ? s->n : 0;
}

const Peer *peer_set_get(const PeerSet *s, size_t i)
{
        return s && i < s->n ? s->peers[i] : NULL;
}

const Peer *peer_set_find(const PeerSet *s, const char *id)
{
        bool found;
        size_t i;

        if (!s || !id)
                return NULL;
        i = lookup(s, id, &found);
        return found ? s->peers[i] : NULL;
}

const Peer *peer_set_find_service(const PeerSet *s, const char *service)
{
        for (size_t i = 0; s && service && i < s->n; i++)
                if (streq(s->peers[i]->service, service))
                        return s->peers[i];
        return NULL;
}

void peer_set_count_roles(const PeerSet *s, unsigned ret[static _ROLE_MAX])
{
        memset(ret, 0, _ROLE_MAX * sizeof *ret);
        for (size_t i = 0; s && i < s->n; i++)
                if (s->peers[i]->role >= 0 && s->peers[i]->role < _ROLE_MAX)
                        ret[s->peers[i]->role]++;
}
