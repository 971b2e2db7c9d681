/* SPDX-License-Identifier: MIT */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sys/random.h>

#include "boot-count.h"
#include "fileio.h"
#include "macro.h"

#define BOOT_COUNT_FILE_MAX 64

static uint32_t parse(const char *text)
{
        char *end = NULL;
        unsigned long long v;

        if (!text || text[0] < '0' || text[0] > '9')
                return 0;
        errno = 0;
        v = strtoull(text, &end, 10);
        if (errno != 0 || (*end != 0 && *end != '\n') || v >= UINT32_MAX)
                return 0;
        return (uint32_t)v;
}

/* A random point below 2^31. */
static uint32_t random_start(void)
{
        uint32_t r = 0;

        if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
                r = (uint32_t)getpid() ^ (uint32_t)time(NULL) ^ (uint32_t)clock();
        return r % (UINT32_C(1) << 31);
}

int boot_count_next(const char *state_dir, uint32_t *ret)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        char line[16];
        uint32_t n = 0;
        int r;

        if (asprintf(&path, "%s/" BOOT_COUNT_FILE, state_dir) < 0)
                return -ENOMEM;
        if (read_file_full(path, BOOT_COUNT_FILE_MAX, &text, NULL) >= 0)
                n = parse(text);
        /* A card without a count (new, re-flashed, or the file lost) starts at a random point: its earlier life, if
         * it had one, counted from its own, so the two collide with probability 2^-31, and a start that comes out
         * lower than the earlier one is only held for a while by the peers (docs/discovery.md). */
        if (n == 0)
                n = random_start();
        snprintf(line, sizeof line, "%" PRIu32 "\n", n + 1);
        r = write_file_atomic(path, line, strlen(line), 0644);
        /* Not written: the next start would repeat this count, so this one must not be taken from the file. */
        *ret = r < 0 ? random_start() + 1 : n + 1;
        return r;
}
