/* SPDX-License-Identifier: MIT */
#pragma once

/* Which systemd unit a process belongs to (its control group), through sd-login: how the root daemon tells its
 * own exchange worker (piagent-exchange.service) from any other local process that connects to it. This
 * adapter is the only file that includes sd-login. */

#include <sys/types.h>

/* The unit name ("piagent-exchange.service") into buf. Returns 0, -ENODATA (in no unit), or a negative errno. */
int peer_unit(pid_t pid, char *buf, size_t size);
