/* SPDX-License-Identifier: MIT */
/* Parses the command line and turns the result into an exit code; the verbs live in cmd-*.c. */

#include <stdio.h>

#include "commands.h"
#include "log.h"
#include "macro.h"

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} verbs[] = {
        {"run", cmd_run, "run the agent (what piagent.service starts)"},
        {"check", cmd_check, "validate role.txt and cluster.txt, print the effective configuration"},
        {"status", cmd_status, "print the cluster as this node sees it (asks the running agent)"},
        {"secret", cmd_secret, "print a fresh secret line for cluster.txt"},
        {"reset", cmd_reset, "undo this node's Kubernetes setup so that it bootstraps again (asks first)"},
        {"exchange", cmd_exchange, "the token exchange by hand: serve, request, status (testing)"},
        {"version", cmd_version, "print the version"},
};

static void help(FILE *f)
{
        fprintf(f, "Usage: piagent COMMAND [OPTIONS]\n\n"
                   "Builds a highly available Kubernetes cluster from Raspberry Pis: write lb, master or worker\n"
                   "into role.txt on each card's boot partition and power them on.\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(f, "\n'piagent COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
        log_setup();

        if (argc < 2) {
                help(stderr);
                return EXIT_USAGE;
        }
        if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                help(stdout);
                return 0;
        }
        if (streq(argv[1], "--version"))
                return cmd_version(1, argv);

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name))
                        return verbs[i].run(argc - 1, argv + 1);

        fprintf(stderr, "piagent: unknown command '%s'; 'piagent --help' lists the commands\n", argv[1]);
        return EXIT_USAGE;
}
