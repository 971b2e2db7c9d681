/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "macro.h"
#include "warn-limit.h"

void warn_limit_init(WarnLimit *w, uint64_t interval_usec)
{
        *w = (WarnLimit){.interval_usec = interval_usec};
}

static bool key_equal(const char *stored, const char *key)
{
        return strncmp(stored, key, WARN_LIMIT_KEY_MAX) == 0;
}

bool warn_limit_allow(WarnLimit *w, const char *key, uint64_t now)
{
        size_t slot = 0;

        for (size_t i = 0; i < WARN_LIMIT_KEYS; i++) {
                if (w->entries[i].used && key_equal(w->entries[i].key, key)) {
                        if (w->interval_usec == WARN_LIMIT_FOREVER || now - w->entries[i].last_usec < w->interval_usec)
                                return false;
                        w->entries[i].last_usec = now;
                        return true;
                }
                /* A free slot, else the one allowed longest ago. */
                if (!w->entries[i].used)
                        slot = w->entries[slot].used ? i : slot;
                else if (w->entries[slot].used && w->entries[i].last_usec < w->entries[slot].last_usec)
                        slot = i;
        }
        snprintf(w->entries[slot].key, sizeof w->entries[slot].key, "%s", key);
        w->entries[slot].last_usec = now;
        w->entries[slot].used = true;
        return true;
}

void warn_limit_forget(WarnLimit *w, const char *key)
{
        for (size_t i = 0; i < WARN_LIMIT_KEYS; i++)
                if (w->entries[i].used && key_equal(w->entries[i].key, key))
                        w->entries[i].used = false;
}
