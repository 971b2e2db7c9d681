/* SPDX-License-Identifier: MIT */

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "exchange-link.h"
#include "exchange-service.h"
#include "ipc-link.h"
#include "log.h"
#include "macro.h"
#include "peer-unit.h"

#define USEC_PER_SEC  UINT64_C(1000000)
#define RETRY_MIN     (2 * USEC_PER_SEC)
#define RETRY_MAX     (60 * USEC_PER_SEC)
#define WORKER_GRACE  (15 * USEC_PER_SEC) /* a worker that went away has this long to come back */
#define UNIT_NAME_MAX 256

struct ExchangeService {
        sd_event *event;
        ExchangeServer *server; /* in this process */

        /* Split: */
        Bus *bus;
        char *unit;
        char *address;
        uint16_t port;
        ExchangeBack *back;
        IpcListener *listener;
        ExchangeBackLink *link;
        sd_event_source *retry;
        uint64_t retry_usec;
        bool refused_said; /* a stranger's connection was logged (once) */
};

static void service_start_unit(ExchangeService *s);

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
        ExchangeService *s = userdata;

        s->retry = sd_event_source_disable_unref(s->retry);
        if (!s->link)
                service_start_unit(s);
        return 0;
}

static void retry_later(ExchangeService *s, uint64_t usec)
{
        if (s->retry)
                return;
        if (sd_event_add_time_relative(s->event, &s->retry, CLOCK_MONOTONIC, usec, USEC_PER_SEC, on_retry, s) < 0)
                log_warning("Exchange: cannot arm the retry timer; the worker is started again at the next change");
}

static void on_unit_started(int error, const char *result, void *userdata)
{
        ExchangeService *s = userdata;

        if (error >= 0) {
                log_debug("Exchange: %s started", s->unit);
                retry_later(s, WORKER_GRACE); /* it should connect by then */
                return;
        }
        log_error("Exchange: could not start %s (%s); no node can be served; trying again in %" PRIu64 " s", s->unit,
                  strempty(result), s->retry_usec / USEC_PER_SEC);
        retry_later(s, s->retry_usec);
        s->retry_usec = MIN(s->retry_usec * 2, RETRY_MAX);
}

static void service_start_unit(ExchangeService *s)
{
        int r = bus_unit_job(s->bus, "StartUnit", s->unit, on_unit_started, s);

        if (r < 0) {
                log_error_errno(r, "Exchange: could not ask systemd to start %s, trying again later: %m", s->unit);
                retry_later(s, s->retry_usec);
        }
}

static void on_link_event(void *userdata, bool closed, int error, uint16_t port)
{
        ExchangeService *s = userdata;

        if (!closed && error == 0) {
                s->retry_usec = RETRY_MIN;
                s->retry = sd_event_source_disable_unref(s->retry);
                log_notice("Serving the exchange on %s port %u (%s, unprivileged)", s->address ?: "every address", port,
                           s->unit);
                return;
        }
        if (!closed) {
                log_error_errno(error, "Exchange: %s cannot listen on %s port %u: %m", s->unit,
                                s->address ?: "every address", s->port);
                return; /* it exits; systemd starts it again */
        }
        s->link = exchange_back_link_free(s->link);
        if (error < 0)
                log_warning_errno(error, "Exchange: the link to %s broke (%m); waiting for it to come back", s->unit);
        else
                log_warning("Exchange: %s went away; waiting for it to come back", s->unit);
        retry_later(s, WORKER_GRACE);
}

/* Only a process of our worker's unit may take the link: anyone on this machine can connect. */
static bool peer_is_worker(ExchangeService *s, int fd)
{
        char unit[UNIT_NAME_MAX] = "";
        pid_t pid = 0;
        int r;

        r = ipc_socket_peer_pid(fd, &pid);
        if (r >= 0)
                r = peer_unit(pid, unit, sizeof unit);
        if (r >= 0 && streq(unit, s->unit))
                return true;
        if (!s->refused_said) {
                log_warning("Exchange: refusing a connection to the worker's socket from process %d (%s), which is not "
                            "%s",
                            (int)pid, r < 0 ? "no unit" : unit, s->unit);
                s->refused_said = true;
        }
        return false;
}

static void on_accept(void *userdata, int fd)
{
        ExchangeService *s = userdata;
        int r;

        if (!peer_is_worker(s, fd)) {
                close(fd);
                return;
        }
        if (s->link) {
                log_info("Exchange: %s connected again, replacing its old link", s->unit);
                s->link = exchange_back_link_free(s->link);
        }
        r = exchange_back_link_new(s->event, fd, s->back, s->address, s->port, on_link_event, s, &s->link);
        if (r < 0)
                log_error_errno(r, "Exchange: cannot set up the link to %s: %m", s->unit);
}

static int service_split(ExchangeService *s, const char *secret, const ExchangeServiceOptions *o,
                         const ExchangeProvider *p, void *userdata)
{
        ExchangeBackOptions bo = exchange_handler_back_options(&o->server.handler);
        int r;

        if (!o->socket_path)
                return -EINVAL;
        s->bus = o->bus;
        s->unit = strdup(o->unit ?: EXCHANGE_UNIT);
        s->address = o->server.http.address ? strdup(o->server.http.address) : NULL;
        s->port = o->server.http.port;
        s->retry_usec = RETRY_MIN;
        if (!s->unit || (o->server.http.address && !s->address))
                return -ENOMEM;
        r = exchange_back_new(secret, &bo, p, userdata, &s->back);
        if (r < 0)
                return r;
        /* World-writable: any local process may connect, and only the worker is kept (peer_is_worker()). */
        r = ipc_listener_new(s->event, o->socket_path, 0666, on_accept, s, &s->listener);
        if (r < 0)
                return log_error_errno(r, "Exchange: cannot listen for %s at %s: %m", s->unit, o->socket_path);
        service_start_unit(s);
        return 0;
}

int exchange_service_new(sd_event *e, const char *secret, const ExchangeServiceOptions *o, const ExchangeProvider *p,
                         void *userdata, ExchangeService **ret)
{
        ExchangeService *s = calloc(1, sizeof *s);
        int r;

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        if (o->bus)
                r = service_split(s, secret, o, p, userdata);
        else
                r = exchange_server_new(e, secret, &o->server, p, userdata, &s->server);
        if (r < 0) {
                exchange_service_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

static void on_unit_stopped(int error, const char *result, void *userdata)
{
}

ExchangeService *exchange_service_free(ExchangeService *s)
{
        if (!s)
                return NULL;
        exchange_server_free(s->server);
        /* The worker exits when its link closes; stopping the unit makes sure. */
        exchange_back_link_free(s->link);
        ipc_listener_free(s->listener);
        if (s->bus && s->unit) {
                if (bus_unit_job(s->bus, "StopUnit", s->unit, on_unit_stopped, s) < 0)
                        log_warning("Exchange: could not ask systemd to stop %s", s->unit);
                bus_cancel_jobs(s->bus, s);
        }
        sd_event_source_disable_unref(s->retry);
        exchange_back_free(s->back);
        free(s->unit);
        free(s->address);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}
