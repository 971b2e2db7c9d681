/* SPDX-License-Identifier: MIT */
#pragma once

/* Watches the boot directory for changes to role.txt/cluster.txt (inotify through sd-event), coalescing the
 * burst of events an editor makes into one callback. A mount or unmount (the mount table's EPOLLPRI) that changes
 * what the directory's path leads to renews the watch, so that a partition mounted over the directory later is
 * watched itself; other mounts only cost a stat(). Only while the directory
 * cannot be watched (it does not exist yet) is it checked again every 10 s; otherwise nothing wakes the loop. */

#include <stdbool.h>
#include <systemd/sd-event.h>

typedef struct BootWatch BootWatch;
typedef void (*BootWatchFunc)(void *userdata);

int boot_watch_new(sd_event *e, const char *dir, BootWatchFunc cb, void *userdata, BootWatch **ret);
BootWatch *boot_watch_free(BootWatch *w);

/* Whether the directory is checked periodically because it cannot be watched (yet). */
bool boot_watch_polling(const BootWatch *w);
