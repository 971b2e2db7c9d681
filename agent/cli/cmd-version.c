/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "commands.h"
#include "macro.h"
#include "version.h"

int cmd_version(const Settings *settings, int argc, char **argv)
{
        if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: piagent version\n\nPrint the agent's version.\n");
                return 0;
        }
        printf("piagent %s\n", PIAGENT_VERSION);
        return 0;
}
