/* SPDX-License-Identifier: MIT */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

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

int boot_count_next(const char *state_dir, uint32_t *ret)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        char line[16];
        uint32_t n = 0;

        if (asprintf(&path, "%s/" BOOT_COUNT_FILE, state_dir) < 0)
                return -ENOMEM;
        if (read_file_full(path, BOOT_COUNT_FILE_MAX, &text, NULL) >= 0)
                n = parse(text);
        *ret = n + 1;
        snprintf(line, sizeof line, "%" PRIu32 "\n", *ret);
        return write_file_atomic(path, line, strlen(line), 0644);
}
