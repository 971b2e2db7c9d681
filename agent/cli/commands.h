/* SPDX-License-Identifier: MIT */
#pragma once

/* The CLI's verbs. Each takes its own argv (argv[0] is the verb) and returns the process exit code. */

#define EXIT_USAGE 2

#define STATE_DIR_DEFAULT "/var/lib/piagent"

int cmd_check(int argc, char **argv);
int cmd_secret(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_exchange(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_status(int argc, char **argv);
