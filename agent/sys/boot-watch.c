/* SPDX-License-Identifier: MIT */

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot-watch.h"
#include "log.h"

#define BOOT_WATCH_SETTLE_USEC  (200 * 1000ULL)       /* let an editor finish writing */
#define BOOT_WATCH_RECHECK_USEC (10 * 1000 * 1000ULL) /* while the directory cannot be watched */
#define MOUNTINFO               "/proc/self/mountinfo"

struct BootWatch {
        sd_event *event;
        char *dir;
        sd_event_source *inotify;
        sd_event_source *mounts;
        sd_event_source *settle;
        sd_event_source *recheck;
        dev_t dev; /* the watched directory's, to tell whether a mount change concerns it */
        ino_t ino;
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

/* The periodic re-check runs only while the directory cannot be watched (it does not exist yet); once watched,
 * inotify and the mount table say everything and nothing wakes the agent. */
static void recheck_while_unwatched(BootWatch *w)
{
        int r;

        r = sd_event_source_set_time_relative(w->recheck, BOOT_WATCH_RECHECK_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->recheck, w->inotify ? SD_EVENT_OFF : SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the boot file re-check, ignoring: %m");
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata);

static void try_watch(BootWatch *w)
{
        int r;

        if (w->inotify)
                return;
        r = sd_event_add_inotify(w->event, &w->inotify, w->dir,
                                 IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |
                                         IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR,
                                 on_inotify, w);
        if (r < 0) {
                log_debug_errno(r, "Cannot watch %s yet, checking again every %llu s: %m", w->dir,
                                BOOT_WATCH_RECHECK_USEC / 1000000);
                return;
        }
        struct stat st;
        if (stat(w->dir, &st) < 0)
                st = (struct stat){};
        w->dev = st.st_dev;
        w->ino = st.st_ino;
}

/* Whether the directory's path still leads to the directory watched (no file system mounted over it). */
static bool still_watched(const BootWatch *w)
{
        struct stat st;

        return w->inotify && stat(w->dir, &st) >= 0 && st.st_dev == w->dev && st.st_ino == w->ino;
}

/* The watch is gone or may point at the wrong file system: watch afresh and read the files again soon. */
static void rewatch(BootWatch *w)
{
        int r;

        w->inotify = sd_event_source_disable_unref(w->inotify);
        try_watch(w);
        recheck_while_unwatched(w);
        r = schedule_settle(w);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule a re-read of the boot files, ignoring: %m");
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
        BootWatch *w = userdata;
        int r;

        if (ev->mask & IN_IGNORED) {
                /* The directory went away (deleted, or its file system unmounted). */
                rewatch(w);
                return 0;
        }
        if (ev->len > 0 && !streq(ev->name, "role.txt") && !streq(ev->name, "cluster.txt"))
                return 0;

        r = schedule_settle(w);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule a re-read of the boot files, ignoring: %m");
        return 0;
}

/* Something was mounted or unmounted in this mount namespace. A watch set on the directory before the boot
 * partition was mounted over it would see the empty directory underneath, never the partition's files. Other
 * mounts (a Kubernetes node mounts volumes for every pod) cost one stat(), no re-read. */
static int on_mounts(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        BootWatch *w = userdata;

        if (!still_watched(w))
                rewatch(w);
        return 0;
}

static int on_recheck(sd_event_source *s, uint64_t usec, void *userdata)
{
        BootWatch *w = userdata;

        try_watch(w);
        recheck_while_unwatched(w);
        w->cb(w->userdata);
        return 0;
}

static int watch_mounts(BootWatch *w)
{
        int fd, r;

        /* The kernel flags the mount table with EPOLLPRI when it changes (util-linux's libmount and systemd
         * watch it so). */
        fd = open(MOUNTINFO, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = sd_event_add_io(w->event, &w->mounts, fd, EPOLLPRI, on_mounts, w);
        if (r < 0) {
                close(fd);
                return r;
        }
        return sd_event_source_set_io_fd_own(w->mounts, true);
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

        r = watch_mounts(w);
        if (r < 0)
                log_debug_errno(r, "Cannot watch the mount table (%s), ignoring: %m", MOUNTINFO);
        try_watch(w);
        r = sd_event_add_time_relative(e, &w->recheck, CLOCK_MONOTONIC, BOOT_WATCH_RECHECK_USEC, 0, on_recheck, w);
        if (r < 0) {
                boot_watch_free(w);
                return r;
        }
        recheck_while_unwatched(w);

        *ret = w;
        return 0;
}

bool boot_watch_polling(const BootWatch *w)
{
        return !w->inotify;
}

BootWatch *boot_watch_free(BootWatch *w)
{
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->inotify);
        sd_event_source_disable_unref(w->mounts);
        sd_event_source_disable_unref(w->settle);
        sd_event_source_disable_unref(w->recheck);
        sd_event_unref(w->event);
        free(w->dir);
        free(w);
        return NULL;
}
