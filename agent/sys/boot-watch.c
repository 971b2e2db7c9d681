/* SPDX-License-Identifier: MIT */

#include <sys/inotify.h>

#include "boot-watch.h"
#include "log.h"

#define BOOT_WATCH_SETTLE_USEC  (200 * 1000ULL)       /* let an editor finish writing */
#define BOOT_WATCH_RECHECK_USEC (10 * 1000 * 1000ULL) /* fallback poll */

struct BootWatch {
        sd_event *event;
        char *dir;
        sd_event_source *inotify;
        sd_event_source *settle;
        sd_event_source *recheck;
        BootWatchFunc cb;
        void *userdata;
};

static int on_settled(sd_event_source *s, uint64_t usec, void *userdata)
{
        BootWatch *w = userdata;

        w->cb(w->userdata);
        return 0;
}

static int schedule_settle(BootWatch *w)
{
        uint64_t now;
        int r;

        r = sd_event_now(w->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        if (w->settle) {
                r = sd_event_source_set_time(w->settle, now + BOOT_WATCH_SETTLE_USEC);
                if (r < 0)
                        return r;
                return sd_event_source_set_enabled(w->settle, SD_EVENT_ONESHOT);
        }
        return sd_event_add_time(w->event, &w->settle, CLOCK_MONOTONIC, now + BOOT_WATCH_SETTLE_USEC, 0, on_settled, w);
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
        BootWatch *w = userdata;
        int r;

        if (ev->mask & IN_IGNORED) {
                /* The directory went away (unmounted?): the periodic re-check re-arms the watch. */
                w->inotify = sd_event_source_unref(w->inotify);
                return 0;
        }
        if (ev->len > 0 && !streq(ev->name, "role.txt") && !streq(ev->name, "cluster.txt"))
                return 0;

        r = schedule_settle(w);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule a re-read of the boot files, ignoring: %m");
        return 0;
}

static void try_watch(BootWatch *w)
{
        int r;

        if (w->inotify)
                return;
        r = sd_event_add_inotify(w->event, &w->inotify, w->dir,
                                 IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |
                                         IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR,
                                 on_inotify, w);
        if (r < 0)
                log_debug_errno(r, "Cannot watch %s yet, will poll: %m", w->dir);
}

static int on_recheck(sd_event_source *s, uint64_t usec, void *userdata)
{
        BootWatch *w = userdata;
        int r;

        try_watch(w);
        w->cb(w->userdata);

        r = sd_event_source_set_time_relative(s, BOOT_WATCH_RECHECK_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "Failed to re-arm the boot file re-check, ignoring: %m");
        return 0;
}

int boot_watch_new(sd_event *e, const char *dir, BootWatchFunc cb, void *userdata, BootWatch **ret)
{
        BootWatch *w;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->event = sd_event_ref(e);
        w->cb = cb;
        w->userdata = userdata;
        w->dir = strdup(dir);
        if (!w->dir) {
                boot_watch_free(w);
                return -ENOMEM;
        }

        try_watch(w);
        r = sd_event_add_time_relative(e, &w->recheck, CLOCK_MONOTONIC, BOOT_WATCH_RECHECK_USEC, 0, on_recheck, w);
        if (r < 0) {
                boot_watch_free(w);
                return r;
        }

        *ret = w;
        return 0;
}

BootWatch *boot_watch_free(BootWatch *w)
{
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->inotify);
        sd_event_source_disable_unref(w->settle);
        sd_event_source_disable_unref(w->recheck);
        sd_event_unref(w->event);
        free(w->dir);
        free(w);
        return NULL;
}
