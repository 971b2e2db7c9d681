/* SPDX-License-Identifier: MIT */
/* Reads the environment once (settings.h), parses the command line and turns the result into an exit code; the
 * verbs live in cmd-*.c. */

#include <stdio.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "macro.h"

static const struct {
        const char *name;
        int (*run)(const Settings *settings, int argc, char **argv);
        const char *summary;
} verbs[] = {
        {"run", cmd_run, "run the agent (what piagent.service starts)"},
        {"check", cmd_check, "validate role.txt and cluster.txt, print the effective configuration"},
        {"status", cmd_status, "print the cluster as this node sees it (asks the running agent)"},
        {"secret", cmd_secret, "print a fresh secret line for cluster.txt"},
        {"reset", cmd_reset, "undo this node's Kubernetes setup so that it bootstraps again (asks first)"},
        {"kubeconfig", cmd_kubeconfig, "fetch the admin kubeconfig from a ready master (kubectl from a laptop)"},
        {"exchange", cmd_exchange, "ask a node over the token exchange: request, status (testing)"},
        {"version", cmd_version, "print the version"},
};

static void help(FILE *f)
{
        size_t n = 0;

        fprintf(f, "Usage: piagent COMMAND [OPTIONS]\n\n"
                   "Builds a highly available Kubernetes cluster from Raspberry Pis: write lb, master or worker\n"
                   "into role.txt on each card's boot partition and power them on.\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(f, "\n'piagent COMMAND --help' describes each command.\n\nEnvironment:\n");
        for (const SettingsVariable *v; (v = settings_variable(n)); n++)
                fprintf(f, "  %-25s %s\n", v->name, v->what);
}

static int dispatch(const Settings *settings, int argc, char **argv)
{
        if (argc < 2) {
                help(stderr);
                return EXIT_USAGE;
        }
        if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                help(stdout);
                return 0;
        }
        if (streq(argv[1], "--version"))
                return cmd_version(settings, 1, argv);

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name))
                        return verbs[i].run(settings, argc - 1, argv + 1);

        fprintf(stderr, "piagent: unknown command '%s'; 'piagent --help' lists the commands\n", argv[1]);
        return EXIT_USAGE;
}

int main(int argc, char **argv)
{
        Settings settings;
        int r;

        if (settings_from_environment(environ, &settings) < 0) {
                fprintf(stderr, "piagent: out of memory\n");
                return 1;
        }
        log_setup(settings.log_target, settings.log_level, settings.journal_stream);
        r = dispatch(&settings, argc, argv);
        settings_done(&settings);
        return r;
}
