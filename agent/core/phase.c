/* SPDX-License-Identifier: MIT */

#include "phase.h"
#include "macro.h"

static const char *const phase_names[_PHASE_MAX] = {
        [PHASE_STARTING] = "starting",
        [PHASE_CONFIG_ERROR] = "config-error",
        [PHASE_CONFIGURED] = "configured",
        [PHASE_DISCOVERING] = "discovering",
};

const char *phase_to_string(Phase p)
{
        return p >= 0 && p < _PHASE_MAX ? phase_names[p] : NULL;
}

Phase phase_from_string(const char *s)
{
        for (Phase p = 0; p < _PHASE_MAX; p++)
                if (s && streq(s, phase_names[p]))
                        return p;
        return _PHASE_INVALID;
}
