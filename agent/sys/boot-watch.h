/* SPDX-License-Identifier: MIT */
#pragma once

/* Watches the boot directory for changes to role.txt/cluster.txt (inotify through sd-event), coalescing the
 * burst of events an editor makes into one callback. A slow periodic re-check covers what inotify cannot see
 * (the directory appearing later, file systems without inotify events). */

#include <systemd/sd-event.h>

typedef struct BootWatch BootWatch;
typedef void (*BootWatchFunc)(void *userdata);

int boot_watch_new(sd_event *e, const char *dir, BootWatchFunc cb, void *userdata, BootWatch **ret);
BootWatch *boot_watch_free(BootWatch *w);
