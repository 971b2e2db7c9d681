/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* The environment, read once at start (main.c) into one struct that is passed down: no other file reads the
 * environment. Every variable is listed in settings.c's table and documented in docs/piagent.8
 * (tests/daemon/test_manpage.py compares `piagent --help` with it). Values are copies; NULL when unset or empty. */

typedef struct Settings {
        /* Set by systemd for the service. */
        char *invocation_id;     /* INVOCATION_ID: run by systemd (act on the role, set the host name) */
        char *state_directory;   /* STATE_DIRECTORY, its first entry: the default state directory */
        char *runtime_directory; /* RUNTIME_DIRECTORY, its first entry: kubeadm files and the status socket */
        char *journal_stream;    /* JOURNAL_STREAM (dev:inode): stderr goes to the journal */
        /* piagent's own. */
        char *boot_dir;         /* PIAGENT_BOOT_DIR: where role.txt and cluster.txt are */
        char *status_socket;    /* PIAGENT_STATUS_SOCKET: the status socket's path */
        char *log_target;       /* PIAGENT_LOG_TARGET: journal, stderr, auto */
        char *log_level;        /* PIAGENT_LOG_LEVEL */
        char *roles;            /* PIAGENT_ROLES: yes or no, the default of run --roles */
        char *kubeadm;          /* PIAGENT_KUBEADM: the kubeadm binary (tests run a double) */
        char *preflight_ignore; /* PIAGENT_PREFLIGHT_IGNORE: preflight checks to skip (test beds) */
        char *clock_kernel;     /* PIAGENT_CLOCK_KERNEL: no = the kernel's NTP state does not count (test beds) */
        char *test_break;       /* PIAGENT_TEST_BREAK: haproxy or keepalived, a file the checker rejects (tests) */
} Settings;

/* Reads envp ("NAME=value" strings, NULL-terminated, as environ). Returns 0 or -ENOMEM. */
int settings_from_environment(char *const *envp, Settings *ret);
void settings_done(Settings *s);

/* The variables settings_from_environment() reads, for --help: the i-th, or NULL past the end. */
typedef struct SettingsVariable {
        const char *name;
        const char *what;
} SettingsVariable;
const SettingsVariable *settings_variable(size_t i);
