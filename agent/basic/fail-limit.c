/* SPDX-License-Identifier: MIT */

#include <netinet/in.h>

#include "fail-limit.h"
#include "macro.h"

typedef struct FailEntry {
        char peer[INET6_ADDRSTRLEN];
        uint64_t tat; /* "theoretical arrival time": credit is exhausted up to here */
} FailEntry;

struct FailLimit {
        size_t capacity;
        uint64_t interval;
        uint64_t window; /* burst * interval */
        size_t n;
        FailEntry entries[];
};

int fail_limit_new(size_t capacity, uint64_t interval_usec, unsigned burst, FailLimit **ret)
{
        FailLimit *l;

        if (capacity == 0 || capacity > 65536 || interval_usec == 0 || burst == 0 ||
            interval_usec > UINT64_MAX / 2 / burst)
                return -EINVAL;
        l = calloc(1, sizeof *l + capacity * sizeof l->entries[0]);
        if (!l)
                return -ENOMEM;
        l->capacity = capacity;
        l->interval = interval_usec;
        l->window = interval_usec * burst;
        *ret = l;
        return 0;
}

FailLimit *fail_limit_free(FailLimit *l)
{
        free(l);
        return NULL;
}

static FailEntry *find(const FailLimit *l, const char *peer)
{
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->entries[i].peer, peer))
                        return (FailEntry *)&l->entries[i];
        return NULL;
}

static bool is_blocked(const FailLimit *l, const FailEntry *e, uint64_t now)
{
        /* Blocked while the next failure would push the debt beyond the window. */
        return e && e->tat + l->interval > now + l->window;
}

bool fail_limit_blocked(const FailLimit *l, const char *peer, uint64_t now)
{
        return is_blocked(l, find(l, peer), now);
}

/* A slot for a new peer: a forgiven one (no debt left), else the one with the least debt. */
static FailEntry *slot(FailLimit *l, uint64_t now)
{
        size_t best = 0;

        if (l->n < l->capacity)
                return &l->entries[l->n++];
        for (size_t i = 0; i < l->n; i++) {
                if (l->entries[i].tat <= now)
                        return &l->entries[i];
                if (l->entries[i].tat < l->entries[best].tat)
                        best = i;
        }
        return &l->entries[best];
}

bool fail_limit_record(FailLimit *l, const char *peer, uint64_t now)
{
        FailEntry *e = find(l, peer);

        if (strlen(peer) >= sizeof e->peer)
                return false;
        if (!e) {
                e = slot(l, now);
                strcpy(e->peer, peer);
                e->tat = now;
        }
        if (is_blocked(l, e, now))
                return false; /* already blocked: requests are turned away before they can fail */
        e->tat = MAX(e->tat, now) + l->interval;
        return is_blocked(l, e, now);
}
