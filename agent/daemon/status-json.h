/* SPDX-License-Identifier: MIT */
#pragma once

/* What `piagent status` shows: the daemon renders this node and its peer set as JSON (the status socket's only
 * message, docs/discovery.md); the CLI prints it as a table. Pure. */

#include <stdint.h>
#include <stdio.h>

#include "peer-rejected.h"
#include "peer-set.h"

#define STATUS_JSON_VERSION 1
#define STATUS_JSON_MAX     (4u * 1024 * 1024) /* what the CLI accepts from the socket */

/* This node. NULL strings are rendered as null (not known yet, e.g. before the boot files are valid). */
typedef struct StatusSelf {
        const char *id;
        const char *hostname;
        const char *role;
        const char *phase;
        const char *cluster;
        const char *tag;
        const char *interface;
        const char *service; /* the mDNS service name as published */
        const char *mdns;    /* mdns_state_to_string() */
        uint16_t port;
        const char *status; /* the one-line STATUS= text */
} StatusSelf;

/* The JSON text (caller frees): this node, its peers, and the services whose records did not verify (kept apart,
 * with rejected_total counting every rejection since start). Ages are computed against now (CLOCK_MONOTONIC usec).
 * Returns 0 or -ENOMEM. */
int status_json_render(const StatusSelf *self, const PeerSet *peers, const PeerRejected *rejected,
                       unsigned rejected_total, uint64_t now, char **ret);

/* Parses what the daemon sent and prints it as a table. Returns 0, -EINVAL/-E2BIG for text that is not a status
 * document, or a negative errno from writing. */
int status_print_table(const char *text, size_t size, FILE *f);
