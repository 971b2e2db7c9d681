/* SPDX-License-Identifier: MIT */
#pragma once

/* The load-balancer role in the daemon: feeds the LB pipeline (lb.h) with the LBs and masters discovery
 * sees, applies its files through systemd over D-Bus (bus.h), and fetches the cluster CA from a ready master
 * over the exchange so that HAProxy's health checks verify the apiservers. */

#include <netinet/in.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "bus.h"
#include "config.h"
#include "lb.h"
#include "peer-set.h"
#include "phase.h"

typedef struct LbRole LbRole;

typedef struct LbRoleParams {
        Config *config; /* the role takes a reference */
        const char *self_id;
        const char *hostname;
        const char *interface;
        struct in_addr address;
        const char *state_dir;  /* the CA is kept here (ca.crt) */
        const LbPaths *paths;   /* NULL: lb_default_paths */
        const char *test_break; /* PIAGENT_TEST_BREAK (settings.h), or NULL */
} LbRoleParams;

/* changed: the LB became ready, lost readiness, or the VIP moved (for STATUS= and TXT). */
int lb_role_new(sd_event *e, Bus *bus, const LbRoleParams *p, LbChanged changed, void *userdata, LbRole **ret);
LbRole *lb_role_free(LbRole *r);

/* The peers changed: re-render (nothing happens when the result is the same). */
void lb_role_update(LbRole *r, const PeerSet *peers);

/* PHASE_READY once keepalived and HAProxy run with the current files, else PHASE_CONFIGURING. */
Phase lb_role_phase(const LbRole *r);
/* What keeps the LB from being ready, in words, or NULL. */
const char *lb_role_problem(const LbRole *r);
bool lb_role_holds_vip(const LbRole *r);
