/* SPDX-License-Identifier: MIT */
#pragma once

/* The node id, kept in the state directory so that it stays the same across reboots, even if the card moves to
 * another Pi or the interface choice changes: the id (and the host name derived from it) travel with the card,
 * like the Kubernetes state on it. */

#include <stdint.h>

#include "identity.h"

#define NODE_ID_FILE "node-id"

typedef enum NodeIdOrigin {
        NODE_ID_LOADED,   /* read from the state directory */
        NODE_ID_CREATED,  /* derived from the MAC and written (first boot) */
        NODE_ID_REPLACED, /* the file was unreadable or invalid: derived from the MAC and written again */
        _NODE_ID_ORIGIN_MAX,
} NodeIdOrigin;

/* Reads state_dir/node-id; when missing or invalid, derives the id from mac (NULL: not known yet, then -ENOENT)
 * and writes it atomically. Returns 0 or a negative errno. */
int node_id_load_or_create(const char *state_dir, const uint8_t *mac, char ret[static NODE_ID_SIZE],
                           NodeIdOrigin *ret_origin);
