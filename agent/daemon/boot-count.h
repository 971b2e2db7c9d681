/* SPDX-License-Identifier: MIT */
#pragma once

/* How often the agent has started on this card: the first half of its TXT record's freshness (seq=<boot>.<n>,
 * docs/discovery.md). Kept in the state directory beside the node id; `piagent reset` keeps it. */

#include <stdint.h>

#define BOOT_COUNT_FILE "boot-count"

/* Reads state_dir/boot-count (missing or unreadable: 0), adds one and writes it back atomically. *ret is the new
 * count even when it could not be written (then -EIO or another negative errno is returned with it, so that the
 * caller can say so and go on: a count that repeats only makes peers hold this node's records for a while). */
int boot_count_next(const char *state_dir, uint32_t *ret);
