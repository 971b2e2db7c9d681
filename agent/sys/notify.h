/* SPDX-License-Identifier: MIT */
#pragma once

/* The service manager's notification protocol (sd_notify): READY, STATUS, STOPPING. No-ops when not run by
 * systemd. Failures are ignored: they never stop the agent. */

#include "macro.h"

void notify_ready(void);
void notify_stopping(void);
void notify_status(const char *format, ...) _printf_(1, 2);
