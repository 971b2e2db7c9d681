/* SPDX-License-Identifier: MIT */
/* The only file that includes sd-bus. */

#include <systemd/sd-bus.h>

#include "bus.h"
#include "macro.h"

#define HOSTNAME1_SERVICE "org.freedesktop.hostname1"
#define HOSTNAME1_PATH    "/org/freedesktop/hostname1"
#define HOSTNAME1_IFACE   "org.freedesktop.hostname1"
#define HOST_NAME_BUF     256
#define SYSTEMD1_SERVICE  "org.freedesktop.systemd1"
#define SYSTEMD1_PATH     "/org/freedesktop/systemd1"
#define SYSTEMD1_MANAGER  "org.freedesktop.systemd1.Manager"
#define JOB_TIMEOUT_USEC  (90ULL * 1000 * 1000)

typedef enum HostnameStep {
        HOSTNAME_GET_STATIC,
        HOSTNAME_SET_STATIC,
        HOSTNAME_SET_TRANSIENT,
        _HOSTNAME_STEP_MAX,
} HostnameStep;

typedef struct HostnameJob {
        Bus *bus;
        char *name;
        HostnameStep step;
        sd_bus_slot *slot;
        BusHostnameDone done;
        void *userdata;
} HostnameJob;

typedef struct UnitJob UnitJob;

struct UnitJob {
        Bus *bus;
        char *unit;
        char *path; /* the job's object path, once systemd has answered */
        sd_bus_slot *slot;
        sd_event_source *timeout;
        BusJobDone done;
        void *userdata;
        UnitJob *next;
};

typedef struct NameWatch NameWatch;

struct NameWatch {
        char *name;
        sd_bus_slot *match, *query;
        BusNameOwnerFunc cb;
        void *userdata;
        NameWatch *next;
};

struct Bus {
        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *job_removed; /* match on systemd's JobRemoved, installed with the first job */
        HostnameJob *hostname;
        UnitJob *jobs;
        NameWatch *watches;
};

static HostnameJob *hostname_job_free(HostnameJob *j)
{
        if (!j)
                return NULL;
        sd_bus_slot_unref(j->slot);
        free(j->name);
        free(j);
        return NULL;
}

int bus_new(sd_event *e, Bus **ret)
{
        Bus *b = calloc(1, sizeof *b);

        if (!b)
                return -ENOMEM;
        b->event = sd_event_ref(e);
        *ret = b;
        return 0;
}

static void unit_job_free(UnitJob *j);

Bus *bus_free(Bus *b)
{
        if (!b)
                return NULL;
        hostname_job_free(b->hostname);
        while (b->jobs)
                unit_job_free(b->jobs);
        while (b->watches) {
                NameWatch *w = b->watches;
                b->watches = w->next;
                sd_bus_slot_unref(w->match);
                sd_bus_slot_unref(w->query);
                free(w->name);
                free(w);
        }
        sd_bus_slot_unref(b->job_removed);
        sd_bus_flush_close_unref(b->bus);
        sd_event_unref(b->event);
        free(b);
        return NULL;
}

/* Connects on first use, and again after the bus went away (dbus-daemon restarted). */
static int bus_connect(Bus *b)
{
        sd_bus *bus = NULL;
        int r;

        if (b->bus && sd_bus_is_open(b->bus) > 0)
                return 0;
        /* Jobs under way on the old connection will not be answered: their timeouts report them. */
        b->job_removed = sd_bus_slot_unref(b->job_removed);
        b->bus = sd_bus_flush_close_unref(b->bus);
        r = sd_bus_open_system_with_description(&bus, "piagent");
        if (r < 0)
                return r;
        r = sd_bus_attach_event(bus, b->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        b->bus = bus;
        return 0;
}

static void hostname_finish(HostnameJob *j, int error, const char *message, bool changed)
{
        Bus *b = j->bus;
        BusHostnameDone done = j->done;
        void *userdata = j->userdata;

        /* Detached first: done() may start the next job. */
        b->hostname = NULL;
        hostname_job_free(j);
        done(error, message, changed, userdata);
}

static int on_hostname_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error);

static int hostname_call(HostnameJob *j, HostnameStep step)
{
        Bus *b = j->bus;

        j->step = step;
        j->slot = sd_bus_slot_unref(j->slot);
        switch (step) {
        case HOSTNAME_GET_STATIC:
                return sd_bus_call_method_async(b->bus, &j->slot, HOSTNAME1_SERVICE, HOSTNAME1_PATH,
                                                "org.freedesktop.DBus.Properties", "Get", on_hostname_reply, j, "ss",
                                                HOSTNAME1_IFACE, "StaticHostname");
        case HOSTNAME_SET_STATIC:
                return sd_bus_call_method_async(b->bus, &j->slot, HOSTNAME1_SERVICE, HOSTNAME1_PATH, HOSTNAME1_IFACE,
                                                "SetStaticHostname", on_hostname_reply, j, "sb", j->name, 0);
        case HOSTNAME_SET_TRANSIENT:
                /* hostnamed prefers the static name for the kernel's anyway; this makes the change immediate on
                 * versions that would wait for the next boot. */
                return sd_bus_call_method_async(b->bus, &j->slot, HOSTNAME1_SERVICE, HOSTNAME1_PATH, HOSTNAME1_IFACE,
                                                "SetHostname", on_hostname_reply, j, "sb", j->name, 0);
        case _HOSTNAME_STEP_MAX:
                break;
        }
        return -EINVAL;
}

/* After reading the static name: nothing to do if both names already are the one asked for. */
static int hostname_next_after_get(HostnameJob *j, sd_bus_message *reply)
{
        const char *current = NULL;
        char kernel[HOST_NAME_BUF] = "";
        int r;

        r = sd_bus_message_read(reply, "v", "s", &current);
        if (r < 0)
                return r;
        if (gethostname(kernel, sizeof kernel - 1) < 0)
                kernel[0] = 0;
        if (current && streq(current, j->name) && streq(kernel, j->name)) {
                hostname_finish(j, 0, NULL, false);
                return 0;
        }
        return hostname_call(j, HOSTNAME_SET_STATIC);
}

static int on_hostname_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        HostnameJob *j = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int r = 0;

        if (e) {
                hostname_finish(j, -sd_bus_error_get_errno(e) ?: -EIO, e->message ?: e->name, false);
                return 0;
        }
        switch (j->step) {
        case HOSTNAME_GET_STATIC:
                r = hostname_next_after_get(j, reply);
                break;
        case HOSTNAME_SET_STATIC:
                r = hostname_call(j, HOSTNAME_SET_TRANSIENT);
                break;
        case HOSTNAME_SET_TRANSIENT:
                hostname_finish(j, 0, NULL, true);
                return 0;
        case _HOSTNAME_STEP_MAX:
                r = -EINVAL;
                break;
        }
        if (r < 0)
                hostname_finish(j, r, NULL, false);
        return 0;
}

int bus_set_hostname(Bus *b, const char *name, BusHostnameDone done, void *userdata)
{
        HostnameJob *j;
        int r;

        if (!name || !done)
                return -EINVAL;
        b->hostname = hostname_job_free(b->hostname);
        r = bus_connect(b);
        if (r < 0)
                return r;

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (HostnameJob){.bus = b, .done = done, .userdata = userdata};
        j->name = strdup(name);
        if (!j->name) {
                hostname_job_free(j);
                return -ENOMEM;
        }
        r = hostname_call(j, HOSTNAME_GET_STATIC);
        if (r < 0) {
                hostname_job_free(j);
                return r;
        }
        b->hostname = j;
        return 0;
}

void bus_cancel_hostname(Bus *b)
{
        b->hostname = hostname_job_free(b->hostname);
}

/* ---- systemd unit jobs ---- */

static void unit_job_free(UnitJob *j)
{
        Bus *b = j->bus;

        for (UnitJob **p = &b->jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
        sd_bus_slot_unref(j->slot);
        sd_event_source_disable_unref(j->timeout);
        free(j->unit);
        free(j->path);
        free(j);
}

static void unit_job_finish(UnitJob *j, int error, const char *result)
{
        BusJobDone done = j->done;
        void *userdata = j->userdata;
        _cleanup_free_ char *r = strdup(result ?: "");

        unit_job_free(j); /* first: done() may start another job */
        done(error, r ?: result, userdata);
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        Bus *b = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        for (UnitJob *j = b->jobs; j; j = j->next)
                if (j->path && streq(j->path, path)) {
                        unit_job_finish(j, streq(result, "done") ? 0 : -EIO, result);
                        break;
                }
        return 0;
}

static int on_job_queued(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        UnitJob *j = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *path;

        j->slot = sd_bus_slot_unref(j->slot);
        if (e) {
                unit_job_finish(j, -sd_bus_error_get_errno(e) ?: -EIO, e->message ?: e->name);
                return 0;
        }
        if (sd_bus_message_read(reply, "o", &path) < 0 || !(j->path = strdup(path)))
                unit_job_finish(j, -EBADMSG, "bad reply from systemd");
        return 0;
}

static int on_job_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        unit_job_finish(userdata, -ETIMEDOUT, "no answer from systemd");
        return 0;
}

static int unit_job_start(Bus *b, UnitJob *j, const char *method)
{
        int r;

        if (!b->job_removed) {
                /* Before the first call, so that no JobRemoved can slip past. systemd sends it to the client that
                 * queued the job without a Subscribe(). */
                r = sd_bus_match_signal_async(b->bus, &b->job_removed, SYSTEMD1_SERVICE, SYSTEMD1_PATH,
                                              SYSTEMD1_MANAGER, "JobRemoved", on_job_removed, NULL, b);
                if (r < 0)
                        return r;
        }
        r = sd_event_add_time_relative(b->event, &j->timeout, CLOCK_MONOTONIC, JOB_TIMEOUT_USEC, 0, on_job_timeout, j);
        if (r < 0)
                return r;
        return sd_bus_call_method_async(b->bus, &j->slot, SYSTEMD1_SERVICE, SYSTEMD1_PATH, SYSTEMD1_MANAGER, method,
                                        on_job_queued, j, "ss", j->unit, "replace");
}

int bus_unit_job(Bus *b, const char *method, const char *unit, BusJobDone done, void *userdata)
{
        UnitJob *j;
        int r;

        if (!method || !unit || !done)
                return -EINVAL;
        r = bus_connect(b);
        if (r < 0)
                return r;
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (UnitJob){.bus = b, .done = done, .userdata = userdata, .next = b->jobs};
        b->jobs = j;
        j->unit = strdup(unit);
        r = j->unit ? unit_job_start(b, j, method) : -ENOMEM;
        if (r < 0) {
                unit_job_free(j);
                return r;
        }
        return 0;
}

void bus_cancel_jobs(Bus *b, void *userdata)
{
        UnitJob *j = b->jobs, *next;

        for (; j; j = next) {
                next = j->next;
                if (j->userdata == userdata)
                        unit_job_free(j);
        }
}

/* ---- daemon-reload ---- */

typedef struct ReloadCall {
        BusJobDone done;
        void *userdata;
} ReloadCall;

static int on_reloaded(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        ReloadCall *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        BusJobDone done = c->done;
        void *u = c->userdata;
        _cleanup_free_ char *message = e ? strdup(e->message ?: e->name) : NULL;
        int error = e ? (-sd_bus_error_get_errno(e) ?: -EIO) : 0;

        /* The slot is floating: it goes away with this reply. */
        free(c);
        done(error, e ? (message ?: "daemon-reload failed") : "done", u);
        return 0;
}

int bus_daemon_reload(Bus *b, BusJobDone done, void *userdata)
{
        ReloadCall *c;
        int r;

        if (!done)
                return -EINVAL;
        r = bus_connect(b);
        if (r < 0)
                return r;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (ReloadCall){.done = done, .userdata = userdata};
        /* Reload answers once systemd has re-read its unit files; floating: freed with the reply. The reply
         * timeout is sd-bus's default (25 s). */
        r = sd_bus_call_method_async(b->bus, NULL, SYSTEMD1_SERVICE, SYSTEMD1_PATH, SYSTEMD1_MANAGER, "Reload",
                                     on_reloaded, c, NULL);
        if (r < 0)
                free(c);
        return r;
}

/* ---- bus name owners ---- */

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        NameWatch *w = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !streq(name, w->name))
                return 0;
        w->cb(w->name, !!*new_owner, w->userdata);
        return 0;
}

static int on_name_has_owner(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        NameWatch *w = userdata;
        int owned = 0;

        w->query = sd_bus_slot_unref(w->query);
        if (sd_bus_message_is_method_error(reply, NULL) || sd_bus_message_read(reply, "b", &owned) < 0)
                return 0; /* the signal will tell */
        w->cb(w->name, owned, w->userdata);
        return 0;
}

int bus_watch_name(Bus *b, const char *name, BusNameOwnerFunc cb, void *userdata)
{
        _cleanup_free_ char *match = NULL;
        NameWatch *w;
        int r;

        r = bus_connect(b);
        if (r < 0)
                return r;
        if (asprintf(&match,
                     "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                     "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='%s'",
                     name) < 0)
                return -ENOMEM;
        w = calloc(1, sizeof *w);
        if (!w || !(w->name = strdup(name))) {
                free(w);
                return -ENOMEM;
        }
        w->cb = cb;
        w->userdata = userdata;
        w->next = b->watches;
        b->watches = w;
        /* The match first, then the question: no change can fall between the two. NameHasOwner never
         * activates the name. */
        r = sd_bus_add_match_async(b->bus, &w->match, match, on_name_owner_changed, NULL, w);
        if (r >= 0)
                r = sd_bus_call_method_async(b->bus, &w->query, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                             "org.freedesktop.DBus", "NameHasOwner", on_name_has_owner, w, "s", name);
        return r < 0 ? r : 0;
}
