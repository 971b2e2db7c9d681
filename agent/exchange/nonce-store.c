/* SPDX-License-Identifier: MIT */

#include <netinet/in.h>

#include "crypto.h"
#include "macro.h"
#include "nonce-store.h"

#define PEER_MAX INET6_ADDRSTRLEN

typedef struct NonceEntry {
        uint8_t nonce[EXCHANGE_NONCE_SIZE];
        char peer[PEER_MAX];
        uint64_t seq; /* issue order: the clock may not move between two adds */
        uint64_t expires;
} NonceEntry;

struct NonceStore {
        size_t capacity;
        unsigned per_peer;
        uint64_t ttl;
        uint64_t seq;
        size_t n; /* entries[0..n) are in use, in no particular order */
        NonceEntry entries[];
};

int nonce_store_new(size_t capacity, unsigned per_peer, uint64_t ttl_usec, NonceStore **ret)
{
        NonceStore *s;

        if (capacity == 0 || per_peer == 0 || ttl_usec == 0 || capacity > 65536)
                return -EINVAL;
        s = calloc(1, sizeof *s + capacity * sizeof s->entries[0]);
        if (!s)
                return -ENOMEM;
        s->capacity = capacity;
        s->per_peer = per_peer;
        s->ttl = ttl_usec;
        *ret = s;
        return 0;
}

NonceStore *nonce_store_free(NonceStore *s)
{
        if (s) {
                erase(s->entries, s->capacity * sizeof s->entries[0]);
                free(s);
        }
        return NULL;
}

size_t nonce_store_size(const NonceStore *s)
{
        return s->n;
}

static void drop(NonceStore *s, size_t i)
{
        s->entries[i] = s->entries[--s->n];
        erase(&s->entries[s->n], sizeof s->entries[0]);
}

static void purge_expired(NonceStore *s, uint64_t now)
{
        for (size_t i = 0; i < s->n;)
                if (s->entries[i].expires <= now)
                        drop(s, i);
                else
                        i++;
}

/* The oldest entry, of peer if given. */
static size_t oldest(const NonceStore *s, const char *peer, size_t *ret_count)
{
        size_t best = SIZE_MAX, count = 0;

        for (size_t i = 0; i < s->n; i++) {
                if (peer && !streq(s->entries[i].peer, peer))
                        continue;
                count++;
                if (best == SIZE_MAX || s->entries[i].seq < s->entries[best].seq)
                        best = i;
        }
        if (ret_count)
                *ret_count = count;
        return best;
}

int nonce_store_add(NonceStore *s, const uint8_t nonce[static EXCHANGE_NONCE_SIZE], const char *peer, uint64_t now)
{
        NonceEntry *e;
        size_t count, i;

        if (strlen(peer) >= PEER_MAX)
                return -EINVAL;
        purge_expired(s, now);

        i = oldest(s, peer, &count);
        if (count >= s->per_peer)
                drop(s, i);
        else if (s->n == s->capacity)
                drop(s, oldest(s, NULL, NULL));

        e = &s->entries[s->n++];
        memcpy(e->nonce, nonce, EXCHANGE_NONCE_SIZE);
        strcpy(e->peer, peer);
        e->seq = s->seq++;
        e->expires = now + s->ttl;
        return 0;
}

int nonce_store_take(NonceStore *s, const uint8_t nonce[static EXCHANGE_NONCE_SIZE], const char *peer, uint64_t now)
{
        for (size_t i = 0; i < s->n; i++) {
                NonceEntry *e = &s->entries[i];
                if (crypto_memcmp(e->nonce, nonce, EXCHANGE_NONCE_SIZE) != 0)
                        continue;
                if (!streq(e->peer, peer))
                        return -EXDEV;
                if (e->expires <= now) {
                        drop(s, i);
                        return -ETIME;
                }
                drop(s, i);
                return 0;
        }
        return -ENOENT;
}
