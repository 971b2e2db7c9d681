/* SPDX-License-Identifier: MIT */
#pragma once

/* The daemon: one sd-event loop that owns timers, signals, the watchdog and every adapter; the phase machine. */

#include <stdbool.h>

#include "config.h"
#include "settings.h"

typedef struct Manager Manager;

typedef struct ManagerOptions {
        const char *boot_dir;      /* where role.txt and cluster.txt are */
        const char *state_dir;     /* persistent state (node id, phase) */
        const char *status_socket; /* NULL: status_socket_path() */
        bool manage_hostname;      /* set the host name through hostname1 (false: leave the system's alone) */
        bool roles;                /* act on the role: configure keepalived/HAProxy, run kubeadm (false: only
                                    * discover; a developer's run outside systemd must not touch the machine) */
        const char *runtime_dir;   /* NULL: /run/piagent */
        const Settings *settings;  /* the environment, read at start; must outlive the manager */
        bool exchange_sandbox;     /* a master's exchange: its network-facing half in piagent-exchange.service,
                                    * started through systemd (false: all of it in this process) */
} ManagerOptions;

int manager_new(const ManagerOptions *o, Manager **ret);
Manager *manager_free(Manager *m);
/* Runs until SIGTERM/SIGINT. Returns 0 or a negative errno. */
int manager_run(Manager *m);

static inline void manager_freep(Manager **m)
{
        manager_free(*m);
}
#define _cleanup_manager_ _cleanup_(manager_freep)
