/* SPDX-License-Identifier: MIT */

#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "config-format.h"
#include "config-load.h"

static void help(void)
{
        printf("Usage: piagent check [--boot-dir DIR]\n"
               "\n"
               "Validate role.txt and cluster.txt and print the effective configuration.\n"
               "Exit status 0 if both files are valid, 1 otherwise (every problem is listed). Warns when\n"
               "other users than root can read cluster.txt (the cluster secret).\n"
               "\n"
               "  --boot-dir DIR   where role.txt and cluster.txt are (default: /boot/firmware,\n"
               "                   or /boot on older layouts; also $PIAGENT_BOOT_DIR)\n"
               "  -h, --help       show this help\n");
}

/* The secret yields cluster-admin: nobody but root should read it on a running node. A warning, not an error:
 * the files are valid, the mount options are the problem. */
static void warn_if_exposed(const char *boot_dir)
{
        mode_t mode = 0;

        if (cluster_file_exposed(boot_dir, &mode) <= 0)
                return;
        fprintf(stderr,
                "warning: %s/%s holds the cluster secret and other users can read it (mode %04o): mount the boot "
                "partition with fmask=0077,dmask=0077 in /etc/fstab, as the piagent image does, or chmod 600 the "
                "file where the file system has permissions (docs/security.md)\n",
                boot_dir, CLUSTER_FILE, (unsigned)mode);
}

int cmd_check(const Settings *settings, int argc, char **argv)
{
        static const struct option options[] = {
                {"boot-dir", required_argument, NULL, 'b'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *boot_dir = NULL;
        DiagList diags = {};
        _cleanup_config_ Config *c = NULL;
        int opt, r;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "b:h", options, NULL)) >= 0)
                switch (opt) {
                case 'b':
                        boot_dir = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        if (optind < argc) {
                fprintf(stderr, "piagent check: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }

        boot_dir = boot_dir_resolve(boot_dir ?: settings->boot_dir);
        warn_if_exposed(boot_dir);
        r = config_load(boot_dir, &diags, &c);
        if (r < 0) {
                for (size_t i = 0; i < diags.n; i++) {
                        _cleanup_free_ char *s = diag_format(&diags.items[i]);
                        fprintf(stderr, "%s/%s\n", boot_dir, s ?: diags.items[i].message);
                }
                if (diags.dropped > 0)
                        fprintf(stderr, "… and %zu more\n", diags.dropped);
                if (diag_count(&diags) > 0)
                        fprintf(stderr, "%zu problem%s found in %s; fix %s and run 'piagent check' again.\n",
                                diag_count(&diags), diag_count(&diags) == 1 ? "" : "s", boot_dir,
                                diag_count(&diags) == 1 ? "it" : "them");
                else
                        fprintf(stderr, "piagent check: %s\n", strerror(-r));
                diag_list_clear(&diags);
                return 1;
        }

        printf("Boot directory: %s\n%s and %s are valid.\n\nEffective configuration:\n", boot_dir, ROLE_FILE,
               CLUSTER_FILE);
        r = config_dump(c, stdout);
        if (r < 0) {
                fprintf(stderr, "piagent check: failed to print the configuration: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
