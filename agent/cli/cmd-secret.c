/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "commands.h"
#include "macro.h"
#include "secret.h"

int cmd_secret(const Settings *settings, int argc, char **argv)
{
        char s[2 * SECRET_BYTES + 1];
        int r;

        if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: piagent secret\n\n"
                       "Print a fresh cluster secret line for cluster.txt (%d random bytes from the kernel's CSPRNG).\n"
                       "Use the same line on every node of one cluster.\n",
                       SECRET_BYTES);
                return 0;
        }
        if (argc > 1) {
                fprintf(stderr, "piagent secret: unexpected argument '%s'\n", argv[1]);
                return EXIT_USAGE;
        }

        r = secret_generate(s);
        if (r < 0) {
                fprintf(stderr, "piagent secret: failed to get random bytes: %s\n", strerror(-r));
                return 1;
        }
        printf("secret=%s\n", s);
        erase(s, sizeof s);
        return 0;
}
