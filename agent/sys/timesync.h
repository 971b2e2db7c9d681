/* SPDX-License-Identifier: MIT */
#pragma once

/* The clock, as systemd's time-sync.target means it: is it synchronised, and which NTP servers does
 * systemd-timesyncd ask. A Pi has no battery clock; kubeadm mints certificates (valid from now for a year) and
 * bootstrap tokens (valid for 24 h from now) from whatever the clock says, so nothing of the sort runs before
 * this says yes (docs/configuration.md, "The clock").
 *
 * Synchronised means what systemd-time-wait-sync.service waits for (systemd v252,
 * src/time-wait-sync/time-wait-sync.c): the kernel's NTP state is not TIME_ERROR (adjtimex(2): chrony, ntpd
 * and systemd-timesyncd clear STA_UNSYNC once they disciplined the clock), or systemd-timesyncd's flag file
 * exists (it creates it at its first synchronisation, src/timesync/timesyncd-manager.c). */

#include <stdbool.h>

#define TIMESYNC_FLAG     "/run/systemd/timesync/synchronized"
#define TIMESYNC_DROPIN   "/etc/systemd/timesyncd.conf.d/piagent.conf"
#define TIMESYNC_CLOCK    "/var/lib/systemd/timesync/clock" /* timesyncd's saved time (its mtime) */
#define TIMESYNC_UNIT     "systemd-timesyncd.service"
#define TIMESYNC_NTP_MAX  8   /* servers in cluster.txt's ntp= */
#define TIMESYNC_NAME_MAX 253 /* a DNS name */

/* flag: the flag file to look for (TIMESYNC_FLAG); kernel: also ask the kernel (false in test beds whose
 * containers share the host's kernel clock: PIAGENT_CLOCK_KERNEL=no). */
int timesync_probe(const char *flag, bool kernel, bool *ret_synced);

/* The drop-in that makes systemd-timesyncd ask servers (space-separated; NULL or empty: none, the file is
 * removed so that timesyncd's own configuration applies). ret_changed: the file was written or removed.
 * dropin: the path (TIMESYNC_DROPIN). */
int timesync_write_dropin(const char *dropin, const char *servers, bool *ret_changed);
