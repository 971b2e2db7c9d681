/* SPDX-License-Identifier: MIT */
#pragma once

/* How often the agent has started on this card: the first half of its TXT record's freshness (seq=<boot>.<n>,
 * docs/discovery.md). Kept in the state directory beside the node id; `piagent reset` keeps it. */

#include <stdint.h>

#define BOOT_COUNT_FILE "boot-count"

/* Reads state_dir/boot-count, adds one and writes it back atomically; *ret is the new count. Missing or unreadable,
 * the count starts at a random point below 2^31 (a re-flashed card must not repeat the counts of its earlier
 * life). When it cannot be written, *ret is a random count all the same (a count from the file would repeat at
 * the next start) and the error is returned, so that the caller can say so and go on. */
int boot_count_next(const char *state_dir, uint32_t *ret);
