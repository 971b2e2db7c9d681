/* SPDX-License-Identifier: MIT */
#pragma once

/* The load-balancer role: keeps keepalived and HAProxy configured for the LBs and masters seen.
 *
 * Every change goes through one pipeline: render (lb-conf.c) -> unchanged? stop -> write a candidate file ->
 * check it with the daemon's own checker (keepalived -t -f, haproxy -c -f) -> install atomically -> start or
 * reload the unit through systemd -> wait for the job. A candidate the checker rejects is never installed:
 * the last good file stays and the reason is reported. Changes arriving while the pipeline runs are applied
 * after it, in one more pass. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "lb-conf.h"

typedef struct Lb Lb;

typedef void (*LbJobDone)(int error, void *userdata);

/* What the LB needs from systemd; the sd-bus adapter implements it, tests fake it.
 * unit_apply: start the unit if it is not running, else reload it (or restart if it cannot reload), and call
 * done when the job finished: 0 = done, -EIO = the job failed, -ETIMEDOUT, or another negative errno.
 * daemon_reload: re-read unit files (after writing a drop-in), same completion rules. */
typedef struct LbOps {
        int (*unit_apply)(void *userdata, const char *unit, LbJobDone done, void *done_userdata);
        int (*daemon_reload)(void *userdata, LbJobDone done, void *done_userdata);
} LbOps;

/* The strings must outlive the Lb (lb_default_paths, or a test's). */
typedef struct LbPaths {
        const char *keepalived_conf;   /* /etc/keepalived/keepalived.conf */
        const char *haproxy_cfg;       /* /etc/haproxy/haproxy.cfg */
        const char *keepalived_dropin; /* /run/systemd/system/keepalived.service.d/50-piagent.conf */
        const char *keepalived_bin;    /* checker binaries */
        const char *haproxy_bin;
        uint64_t check_retry_usec; /* a checker that gave no verdict runs again after this, doubling (0: 5 s) */
} LbPaths;

extern const LbPaths lb_default_paths;

typedef struct LbPeer {
        const char *id;
        struct in_addr addr;
} LbPeer;

typedef struct LbInputs {
        const Config *config;
        const char *self_id;
        const char *hostname;
        const char *interface;
        struct in_addr self_addr;
        const LbPeer *lbs; /* other LBs seen (self not included) */
        size_t n_lbs;
        const LbBackend *masters;
        size_t n_masters;
        const char *ca_file;    /* NULL until the cluster CA is known */
        const char *test_break; /* PIAGENT_TEST_BREAK (settings.h): "haproxy" or "keepalived", else NULL */
} LbInputs;

/* Called when the LB's state changes (ready, or a problem), for STATUS= and TXT. */
typedef void (*LbChanged)(Lb *lb, void *userdata);

int lb_new(sd_event *e, const LbOps *ops, void *ops_userdata, const LbPaths *paths, LbChanged changed,
           void *changed_userdata, Lb **ret);
Lb *lb_free(Lb *lb);

/* Takes a copy of what it needs; starts the pipeline if anything changed. Returns 0, -EINVAL for inputs that
 * cannot be rendered (reported as the LB's problem too), or -ENOMEM. */
int lb_update(Lb *lb, const LbInputs *in);

/* Both daemons run with a config that passed their checker. */
bool lb_is_ready(const Lb *lb);
/* The last problem in words ("haproxy -c rejected the new configuration: …"), or NULL. */
const char *lb_problem(const Lb *lb);
/* Whether the VIP is on the LB interface right now. */
bool lb_holds_vip(const Lb *lb);
