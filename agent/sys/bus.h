/* SPDX-License-Identifier: MIT */
#pragma once

/* The system bus (sd-bus), attached to the agent's event loop: the one file that talks D-Bus to systemd. Every
 * call is asynchronous: the loop never waits for a reply. Now: the host name through systemd-hostnamed
 * (hostname1); later: starting and reloading units through systemd1. */

#include <stdbool.h>
#include <systemd/sd-event.h>

typedef struct Bus Bus;

/* error: 0 or a negative errno; message: the bus error's text, or NULL. changed: false if the host name was
 * already the one asked for (a reboot). */
typedef void (*BusHostnameDone)(int error, const char *message, bool changed, void *userdata);

/* A systemd job has finished. error: 0 if it ran ("done"), else a negative errno; result: systemd's word for how
 * it ended ("done", "failed", "timeout", "canceled", "dependency", "skipped"...) or the bus error's text. */
typedef void (*BusJobDone)(int error, const char *result, void *userdata);

/* A bus name gained (owned) or lost its owner. */
typedef void (*BusNameOwnerFunc)(const char *name, bool owned, void *userdata);

int bus_new(sd_event *e, Bus **ret);
Bus *bus_free(Bus *b);

/* Sets the static host name (/etc/hostname) and the kernel's through hostname1, unless both already are name.
 * Connects to the system bus on first use. A second call cancels the first's callback. Returns 0 when the calls
 * are under way (done is called later, exactly once), or a negative errno (done is not called). */
int bus_set_hostname(Bus *b, const char *name, BusHostnameDone done, void *userdata);

/* Forgets a bus_set_hostname() under way: its callback will not be called. */
void bus_cancel_hostname(Bus *b);

/* Asks systemd for a unit job and waits for it to finish (JobRemoved), at most 90 s. method: a
 * org.freedesktop.systemd1.Manager method taking (unit, mode), e.g. "StartUnit", "TryRestartUnit", "ReloadUnit";
 * mode "replace". Returns 0 when under way (done is called later, exactly once) or a negative errno. */
int bus_unit_job(Bus *b, const char *method, const char *unit, BusJobDone done, void *userdata);
/* systemctl daemon-reload: re-read unit files (after writing a drop-in). done(0, "done") once systemd answered. */
int bus_daemon_reload(Bus *b, BusJobDone done, void *userdata);

/* Forgets every job started with this userdata: their callbacks will not be called. */
void bus_cancel_jobs(Bus *b, void *userdata);

/* Reports whether name has an owner now (once the bus answers) and whenever that changes, without ever
 * activating it. Returns 0 or a negative errno (no system bus: nothing will be reported). */
int bus_watch_name(Bus *b, const char *name, BusNameOwnerFunc cb, void *userdata);

static inline void bus_freep(Bus **b)
{
        bus_free(*b);
}
#define _cleanup_bus_ _cleanup_(bus_freep)
