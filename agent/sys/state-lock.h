/* SPDX-License-Identifier: MIT */
#pragma once

/* One agent per state directory: the daemon holds an exclusive lock on <state dir>/lock for its lifetime, so
 * that `piagent reset` can tell it is running and refuse. */

/* Returns an fd holding the lock (keep it open), -EBUSY if another process holds it, or another negative errno. */
int state_lock_acquire(const char *state_dir);
