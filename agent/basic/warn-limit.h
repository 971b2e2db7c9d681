/* SPDX-License-Identifier: MIT */
#pragma once

/* "Say it once": remembers for which keys (mDNS service names) a message was logged, so that a peer repeating the
 * same bad record does not flood the journal. Bounded: past WARN_LIMIT_KEYS keys the oldest is forgotten. Pure. */

#include <stdbool.h>
#include <stdint.h>

#define WARN_LIMIT_KEYS    64
#define WARN_LIMIT_KEY_MAX 63 /* longer keys are compared on their first 63 bytes */
#define WARN_LIMIT_FOREVER UINT64_MAX

typedef struct WarnLimit {
        uint64_t interval_usec; /* WARN_LIMIT_FOREVER: once per key */
        struct {
                char key[WARN_LIMIT_KEY_MAX + 1];
                uint64_t last_usec;
                bool used;
        } entries[WARN_LIMIT_KEYS];
} WarnLimit;

void warn_limit_init(WarnLimit *w, uint64_t interval_usec);
/* True if a message about key may be logged at now: the first time, and again once the interval has passed. */
bool warn_limit_allow(WarnLimit *w, const char *key, uint64_t now);
/* The next message about key is allowed (the condition went away). */
void warn_limit_forget(WarnLimit *w, const char *key);
