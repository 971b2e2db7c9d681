/* SPDX-License-Identifier: MIT */

#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "config-load.h"
#include "log.h"
#include "manager.h"

#define STATE_DIR_DEFAULT "/var/lib/piagent"

static void help(void)
{
        printf("Usage: piagent run [--boot-dir DIR] [--state-dir DIR] [--debug]\n"
               "\n"
               "Run the agent (normally started by piagent.service). Reads role.txt and cluster.txt, and\n"
               "waits for them to be fixed if they are invalid, without touching the node.\n"
               "\n"
               "  --boot-dir DIR    where role.txt and cluster.txt are (default: /boot/firmware or /boot)\n"
               "  --state-dir DIR   persistent state (default: $STATE_DIRECTORY or " STATE_DIR_DEFAULT ")\n"
               "  --debug           log protocol detail\n"
               "  -h, --help        show this help\n");
}

int cmd_run(int argc, char **argv)
{
        static const struct option options[] = {
                {"boot-dir", required_argument, NULL, 'b'},
                {"state-dir", required_argument, NULL, 's'},
                {"debug", no_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        ManagerOptions o = {};
        _cleanup_manager_ Manager *m = NULL;
        int opt, r;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "b:s:dh", options, NULL)) >= 0)
                switch (opt) {
                case 'b':
                        o.boot_dir = optarg;
                        break;
                case 's':
                        o.state_dir = optarg;
                        break;
                case 'd':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        if (optind < argc) {
                fprintf(stderr, "piagent run: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }

        o.boot_dir = boot_dir_resolve(o.boot_dir);
        if (!o.state_dir) {
                /* systemd's StateDirectory= sets this; it may list several, colon-separated: take the first. */
                const char *e = getenv("STATE_DIRECTORY");
                o.state_dir = e && *e ? strndupa(e, strcspn(e, ":")) : STATE_DIR_DEFAULT;
        }

        r = manager_new(&o, &m);
        if (r < 0)
                return 1;
        r = manager_run(m);
        return r < 0 ? 1 : 0;
}
