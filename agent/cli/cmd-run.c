/* SPDX-License-Identifier: MIT */

#include <getopt.h>
#include <limits.h>
#include <stdio.h>

#include "commands.h"
#include "config-load.h"
#include "log.h"
#include "manager.h"
#include "status-server.h"

static void help(void)
{
        printf("Usage: piagent run [--boot-dir DIR] [--state-dir DIR] [--status-socket PATH]\n"
               "                   [--set-hostname auto|yes|no] [--roles auto|yes|no]\n"
               "                   [--exchange-sandbox auto|yes|no] [--debug]\n"
               "\n"
               "Run the agent (normally started by piagent.service). Reads role.txt and cluster.txt, and\n"
               "waits for them to be fixed if they are invalid, without touching the node.\n"
               "\n"
               "  --boot-dir DIR    where role.txt and cluster.txt are (default: /boot/firmware or /boot)\n"
               "  --state-dir DIR   persistent state (default: $STATE_DIRECTORY or " STATE_DIR_DEFAULT ")\n"
               "  --status-socket PATH  where 'piagent status' asks (default: $PIAGENT_STATUS_SOCKET,\n"
               "                    $RUNTIME_DIRECTORY/status.sock, or " STATUS_SOCKET_DEFAULT ")\n"
               "  --set-hostname WHEN  set the unique host name through hostname1: yes, no, or auto\n"
               "                    (the default: only when run by systemd, so that a test run leaves the\n"
               "                    machine's name alone)\n"
               "  --roles WHEN      act on the role (configure keepalived and HAProxy, run kubeadm): yes,\n"
               "                    no, or auto (the default: only when run by systemd; $PIAGENT_ROLES=yes|no\n"
               "                    changes the default)\n"
               "  --exchange-sandbox WHEN  on a master, serve the exchange's network-facing half from the\n"
               "                    unprivileged piagent-exchange.service (yes), or in this process (no);\n"
               "                    auto (the default): yes when run by systemd\n"
               "  --debug           log protocol detail\n"
               "  -h, --help        show this help\n");
}

int cmd_run(const Settings *settings, int argc, char **argv)
{
        static const struct option options[] = {
                {"boot-dir", required_argument, NULL, 'b'},
                {"state-dir", required_argument, NULL, 's'},
                {"status-socket", required_argument, NULL, 'S'},
                {"set-hostname", required_argument, NULL, 'H'},
                {"roles", required_argument, NULL, 'R'},
                {"exchange-sandbox", required_argument, NULL, 'X'},
                {"debug", no_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        /* systemd sets INVOCATION_ID for every unit it runs. */
        ManagerOptions o = {.manage_hostname = settings->invocation_id != NULL,
                            .roles = settings->invocation_id != NULL,
                            .exchange_sandbox = settings->invocation_id != NULL,
                            .runtime_dir = settings->runtime_directory,
                            .settings = settings};
        const char *roles_env = settings->roles;
        char socket_buf[PATH_MAX];
        _cleanup_manager_ Manager *m = NULL;
        int opt, r;

        /* PIAGENT_ROLES=no in a unit drop-in: discovery-only test beds. */
        if (roles_env && (streq(roles_env, "yes") || streq(roles_env, "no")))
                o.roles = streq(roles_env, "yes");

        optind = 1;
        while ((opt = getopt_long(argc, argv, "b:s:S:H:R:X:dh", options, NULL)) >= 0)
                switch (opt) {
                case 'b':
                        o.boot_dir = optarg;
                        break;
                case 's':
                        o.state_dir = optarg;
                        break;
                case 'S':
                        o.status_socket = optarg;
                        break;
                case 'H':
                        if (streq(optarg, "yes") || streq(optarg, "no"))
                                o.manage_hostname = streq(optarg, "yes");
                        else if (!streq(optarg, "auto")) {
                                fprintf(stderr, "piagent run: --set-hostname takes auto, yes or no\n");
                                return EXIT_USAGE;
                        }
                        break;
                case 'R':
                        if (streq(optarg, "yes") || streq(optarg, "no"))
                                o.roles = streq(optarg, "yes");
                        else if (!streq(optarg, "auto")) {
                                fprintf(stderr, "piagent run: --roles takes auto, yes or no\n");
                                return EXIT_USAGE;
                        }
                        break;
                case 'X':
                        if (streq(optarg, "yes") || streq(optarg, "no"))
                                o.exchange_sandbox = streq(optarg, "yes");
                        else if (!streq(optarg, "auto")) {
                                fprintf(stderr, "piagent run: --exchange-sandbox takes auto, yes or no\n");
                                return EXIT_USAGE;
                        }
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

        o.boot_dir = boot_dir_resolve(o.boot_dir ?: settings->boot_dir);
        /* systemd's StateDirectory= sets STATE_DIRECTORY. */
        o.state_dir = o.state_dir ?: settings->state_directory ?: STATE_DIR_DEFAULT;
        o.status_socket = o.status_socket
                                  ?: status_socket_path(settings->status_socket, settings->runtime_directory,
                                                        socket_buf, sizeof socket_buf);

        r = manager_new(&o, &m);
        if (r < 0)
                return 1;
        r = manager_run(m);
        return r < 0 ? 1 : 0;
}
