/* SPDX-License-Identifier: MIT */
/* The only file that includes sd-login. */

#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-login.h>

#include "macro.h"
#include "peer-unit.h"

int peer_unit(pid_t pid, char *buf, size_t size)
{
        _cleanup_free_ char *unit = NULL;
        int r;

        r = sd_pid_get_unit(pid, &unit);
        if (r < 0)
                return r;
        if (strlen(unit) >= size)
                return -ENAMETOOLONG;
        strcpy(buf, unit);
        return 0;
}
