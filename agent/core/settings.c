/* SPDX-License-Identifier: MIT */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "settings.h"

typedef struct Variable {
        SettingsVariable doc;
        size_t offset;
        bool first_of_list; /* systemd's *_DIRECTORY may list several, colon-separated: the first is ours */
} Variable;

#define VAR(name, field, list, what)                          \
        {                                                     \
                {name, what}, offsetof(Settings, field), list \
        }

static const Variable variables[] = {
        VAR("INVOCATION_ID", invocation_id, false, "set by systemd: act on the role and set the host name"),
        VAR("STATE_DIRECTORY", state_directory, true, "set by systemd: the state directory (first entry)"),
        VAR("RUNTIME_DIRECTORY", runtime_directory, true,
            "set by systemd: kubeadm files and the status socket (first entry)"),
        VAR("JOURNAL_STREAM", journal_stream, false, "set by systemd: stderr is connected to the journal"),
        VAR("PIAGENT_BOOT_DIR", boot_dir, false, "where role.txt and cluster.txt are, unless --boot-dir"),
        VAR("PIAGENT_STATUS_SOCKET", status_socket, false, "the status socket, unless --status-socket"),
        VAR("PIAGENT_LOG_TARGET", log_target, false, "journal, stderr or auto"),
        VAR("PIAGENT_LOG_LEVEL", log_level, false, "err, warning, notice, info or debug"),
        VAR("PIAGENT_ROLES", roles, false, "yes or no: the default of run --roles"),
        VAR("PIAGENT_KUBEADM", kubeadm, false, "the kubeadm program to run (default: kubeadm in PATH)"),
        VAR("PIAGENT_PREFLIGHT_IGNORE", preflight_ignore, false, "preflight checks to skip (test beds)"),
        VAR("PIAGENT_CLOCK_KERNEL", clock_kernel, false,
            "no: only systemd-timesyncd's flag says the clock is synchronised, not the kernel (test beds)"),
        VAR("PIAGENT_TEST_BREAK", test_break, false,
            "haproxy or keepalived: render a file its checker rejects (tests)"),
};

const SettingsVariable *settings_variable(size_t i)
{
        return i < ELEMENTSOF(variables) ? &variables[i].doc : NULL;
}

static char **field(Settings *s, const Variable *v)
{
        return (char **)((char *)s + v->offset);
}

int settings_from_environment(char *const *envp, Settings *ret)
{
        bool seen[ELEMENTSOF(variables)] = {};
        Settings s = {};

        for (size_t i = 0; envp && envp[i]; i++)
                for (size_t k = 0; k < ELEMENTSOF(variables); k++) {
                        const Variable *v = &variables[k];
                        size_t n = strlen(v->doc.name);
                        const char *value;

                        if (strncmp(envp[i], v->doc.name, n) != 0 || envp[i][n] != '=')
                                continue;
                        if (seen[k]) /* the first of duplicates wins, as with getenv() */
                                break;
                        seen[k] = true;
                        value = envp[i] + n + 1;
                        n = v->first_of_list ? strcspn(value, ":") : strlen(value);
                        if (n == 0) /* empty is unset */
                                break;
                        *field(&s, v) = strndup(value, n);
                        if (!*field(&s, v)) {
                                settings_done(&s);
                                return -ENOMEM;
                        }
                        break;
                }
        *ret = s;
        return 0;
}

void settings_done(Settings *s)
{
        for (size_t k = 0; k < ELEMENTSOF(variables); k++) {
                char **f = field(s, &variables[k]);
                free(*f);
                *f = NULL;
        }
}
