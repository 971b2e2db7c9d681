/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "peer-fresh.h"
#include "sorted.h"

typedef struct Entry {
        char id[NODE_ID_SIZE];
        PeerSeq seq;
        uint64_t noted_usec;
} Entry;

struct PeerFresh {
        Entry *entries; /* sorted by id */
        size_t n, allocated;
};

int peer_fresh_new(PeerFresh **ret)
{
        PeerFresh *f = calloc(1, sizeof *f);

        if (!f)
                return -ENOMEM;
        *ret = f;
        return 0;
}

PeerFresh *peer_fresh_free(PeerFresh *f)
{
        if (f) {
                free(f->entries);
                free(f);
        }
        return NULL;
}

static const char *entry_id(const void *entries, size_t i)
{
        return ((const Entry *)entries)[i].id;
}

static size_t lookup(const PeerFresh *f, const char *id, bool *found)
{
        return sorted_find(f->entries, f->n, entry_id, id, found);
}

int peer_fresh_get(const PeerFresh *f, const char *id, PeerSeq *ret)
{
        bool found;
        size_t i;

        if (!f || !id)
                return -ENOENT;
        i = lookup(f, id, &found);
        if (!found)
                return -ENOENT;
        *ret = f->entries[i].seq;
        return 0;
}

static void forget_oldest(PeerFresh *f)
{
        size_t oldest = 0;

        for (size_t i = 1; i < f->n; i++)
                if (f->entries[i].noted_usec < f->entries[oldest].noted_usec)
                        oldest = i;
        memmove(f->entries + oldest, f->entries + oldest + 1, (f->n - oldest - 1) * sizeof *f->entries);
        f->n--;
}

int peer_fresh_note(PeerFresh *f, const char *id, PeerSeq seq, uint64_t now)
{
        bool found;
        size_t i;

        if (!node_id_is_valid(id))
                return -EINVAL;
        i = lookup(f, id, &found);
        if (found) {
                f->entries[i].seq = seq;
                f->entries[i].noted_usec = now;
                return 0;
        }
        if (f->n >= PEER_FRESH_MAX) {
                forget_oldest(f);
                i = lookup(f, id, &found);
        }
        if (f->n == f->allocated) {
                size_t na = MAX(f->allocated * 2, (size_t)16);
                Entry *ne = reallocarray(f->entries, na, sizeof *ne);
                if (!ne)
                        return -ENOMEM;
                f->entries = ne;
                f->allocated = na;
        }
        memmove(f->entries + i + 1, f->entries + i, (f->n - i) * sizeof *f->entries);
        f->entries[i] = (Entry){.seq = seq, .noted_usec = now};
        snprintf(f->entries[i].id, sizeof f->entries[i].id, "%s", id);
        f->n++;
        return 0;
}

void peer_fresh_clear(PeerFresh *f)
{
        f->n = 0;
}

size_t peer_fresh_size(const PeerFresh *f)
{
        return f ? f->n : 0;
}
