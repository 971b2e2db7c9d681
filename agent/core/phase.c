/* SPDX-License-Identifier: MIT */

#include <string.h>

#include "macro.h"
#include "phase.h"

#define PHASE_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-"

static const char *const phase_names[_PHASE_MAX] = {
        [PHASE_STARTING] = "starting",
        [PHASE_CONFIG_ERROR] = "config-error",
        [PHASE_CONFIGURED] = "configured",
        [PHASE_DISCOVERING] = "discovering",
        [PHASE_CONFIGURING] = "configuring",
        [PHASE_PREFLIGHT] = "preflight",
        [PHASE_CLEANUP] = "cleanup",
        [PHASE_WAITING_FOR_ENDPOINT] = "waiting-for-endpoint",
        [PHASE_ELECTING] = "electing",
        [PHASE_WAITING_FOR_MASTER] = "waiting-for-master",
        [PHASE_INITIALIZING] = "initializing",
        [PHASE_JOINING] = "joining",
        [PHASE_BACKOFF] = "backoff",
        [PHASE_READY] = "ready",
        [PHASE_FAILED] = "failed",
        [PHASE_OTHER] = NULL,
};

const char *phase_to_string(Phase p)
{
        return p >= 0 && p < _PHASE_MAX ? phase_names[p] : NULL;
}

bool phase_word_is_valid(const char *s)
{
        size_t n;

        if (!s)
                return false;
        n = strspn(s, PHASE_CHARS);
        return n >= 1 && n <= PHASE_WORD_MAX && s[n] == 0;
}

Phase phase_from_string(const char *s)
{
        if (!phase_word_is_valid(s))
                return _PHASE_INVALID;
        for (Phase p = 0; p < _PHASE_MAX; p++)
                if (phase_names[p] && streq(s, phase_names[p]))
                        return p;
        return PHASE_OTHER;
}

const char *phase_word(Phase p, const char *other)
{
        return p == PHASE_OTHER ? other : phase_to_string(p);
}
