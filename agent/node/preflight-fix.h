/* SPDX-License-Identifier: MIT */
#pragma once

/* Runtime fixes for the fixable preflight findings: swapoff -a, modprobe br_netfilter, and the two sysctls
 * (written under /proc/sys). One after the other on the event loop; the first failure ends the run. */

#include <stddef.h>
#include <systemd/sd-event.h>

#include "preflight.h"

typedef struct PreflightFixPaths {
        const char *root;     /* "/" on a node */
        const char *swapoff;  /* "/sbin/swapoff" */
        const char *modprobe; /* "/sbin/modprobe" */
} PreflightFixPaths;

extern const PreflightFixPaths preflight_fix_default_paths;

/* error: 0 or negative errno; detail: words for the journal, or NULL. */
typedef void (*PreflightFixDone)(int error, const char *detail, void *userdata);

/* Copies the findings; calls done once, possibly before returning. */
int preflight_fix_start(sd_event *e, const PreflightFixPaths *paths, const PreflightFinding *f, size_t n,
                        PreflightFixDone done, void *userdata);
