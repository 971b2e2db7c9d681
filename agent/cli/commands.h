/* SPDX-License-Identifier: MIT */
#pragma once

/* The CLI's verbs. Each takes the settings read from the environment at start and its own argv (argv[0] is the
 * verb), and returns the process exit code. */

#include "settings.h"

#define EXIT_USAGE 2

#define STATE_DIR_DEFAULT "/var/lib/piagent"

int cmd_check(const Settings *settings, int argc, char **argv);
int cmd_secret(const Settings *settings, int argc, char **argv);
int cmd_version(const Settings *settings, int argc, char **argv);
int cmd_run(const Settings *settings, int argc, char **argv);
int cmd_exchange(const Settings *settings, int argc, char **argv);
int cmd_reset(const Settings *settings, int argc, char **argv);
int cmd_status(const Settings *settings, int argc, char **argv);
int cmd_kubeconfig(const Settings *settings, int argc, char **argv);
