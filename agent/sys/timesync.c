/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "timesync.h"

int timesync_probe(const char *flag, bool kernel, bool *ret_synced)
{
        if (access(flag, F_OK) == 0) {
                *ret_synced = true;
                return 0;
        }
        if (errno != ENOENT)
                return -errno;
        if (kernel) {
                /* modes 0: reads only (setting needs CAP_SYS_TIME). A seccomp filter that denies it (EPERM) leaves
                 * timesyncd's flag as the only word: piagent.service allows it (units/piagent.service). */
                struct timex tx = {};
                int s = adjtimex(&tx);

                if (s < 0 && errno != EPERM && errno != ENOSYS)
                        return -errno;
                if (s >= 0 && s != TIME_ERROR) {
                        *ret_synced = true;
                        return 0;
                }
        }
        *ret_synced = false;
        return 0;
}

static int mkdir_parent(const char *path)
{
        char dir[PATH_MAX];
        char *slash;

        if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
                return -ENAMETOOLONG;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = 0;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int timesync_write_dropin(const char *dropin, const char *servers, bool *ret_changed)
{
        _cleanup_free_ char *old = NULL, *text = NULL;
        int r;

        if (!servers || !servers[0]) {
                if (unlink(dropin) < 0) {
                        if (errno != ENOENT)
                                return -errno;
                        *ret_changed = false;
                        return 0;
                }
                *ret_changed = true;
                return 0;
        }
        if (asprintf(&text,
                     "# Written by piagent from cluster.txt's ntp= (removed when it is unset): the NTP servers\n"
                     "# systemd-timesyncd asks first. Edit cluster.txt, not this file.\n"
                     "[Time]\nNTP=%s\n",
                     servers) < 0)
                return -ENOMEM;
        r = read_file_full(dropin, 4096, &old, NULL);
        if (r >= 0 && streq(old, text)) {
                *ret_changed = false;
                return 0;
        }
        r = mkdir_parent(dropin);
        if (r < 0)
                return r;
        r = write_file_atomic(dropin, text, strlen(text), 0644);
        if (r < 0)
                return r;
        *ret_changed = true;
        return 0;
}
