/* SPDX-License-Identifier: MIT */
#pragma once

/* The node's phase, as published in STATUS=, the journal (PIAGENT_PHASE=) and, later, mDNS TXT records. */

typedef enum Phase {
        PHASE_STARTING,
        PHASE_CONFIG_ERROR, /* role.txt/cluster.txt invalid: the node is left untouched until they are fixed */
        PHASE_CONFIGURED,   /* configuration valid */
        PHASE_DISCOVERING,  /* host name and node id set; published on mDNS, finding peers */
        _PHASE_MAX,
        _PHASE_INVALID = -22,
} Phase;

const char *phase_to_string(Phase p);
Phase phase_from_string(const char *s);
