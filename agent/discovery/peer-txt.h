/* SPDX-License-Identifier: MIT */
#pragma once

/* The TXT record of a piagent mDNS service (_piagent._tcp), protocol version 1:
 *
 *   v=1  tag=<cluster tag>  role=lb|master|worker  phase=<phase (phase.h)>  id=<node id>
 *
 * TXT records come from anyone on the LAN: the parser checks every byte against fixed limits and either
 * accepts a record whole or rejects it with a one-line reason. Unknown keys are allowed (room for later
 * fields, e.g. vip=1 on load balancers) but must be well-formed too. Pure. */

#include <stdbool.h>
#include <stddef.h>

#include "cluster-tag.h"
#include "config.h"
#include "identity.h"
#include "phase.h"

#define PEER_TXT_VERSION    1
#define PEER_TXT_ITEMS_MAX  16   /* key=value strings in one record */
#define PEER_TXT_ITEM_MAX   255  /* one DNS character-string */
#define PEER_TXT_SIZE_MAX   1024 /* all items together */
#define PEER_TXT_KEY_MAX    16
#define PEER_TXT_REASON_MAX 160

typedef struct TxtItem {
        const void *data; /* not NUL-terminated; any bytes */
        size_t size;
} TxtItem;

typedef struct PeerTxt {
        unsigned version;
        char tag[CLUSTER_TAG_SIZE];
        Role role;
        Phase phase;                          /* parsed here, once; PHASE_OTHER for a newer agent's word */
        char phase_other[PHASE_WORD_MAX + 1]; /* that word, only to be shown (phase_word()) */
        char id[NODE_ID_SIZE];
        bool vip; /* an LB holding the virtual IP ("vip=1"; absent or "vip=0" otherwise) */
} PeerTxt;

typedef enum PeerTxtVerdict {
        PEER_TXT_ACCEPT,        /* our protocol, our cluster: every field valid */
        PEER_TXT_OTHER_VERSION, /* a well-formed v= other than ours: only version is set */
        PEER_TXT_OTHER_CLUSTER, /* our version, another tag: version and tag are set */
        _PEER_TXT_VERDICT_MAX,
} PeerTxtVerdict;

/* The record for t, as NULL-terminated "key=value" strings (free with strv_free). Returns 0, -EINVAL if a field
 * of t is invalid, -ENOMEM. */
int peer_txt_encode(const PeerTxt *t, char ***ret);

/* Parses a record received from the network. On 0, *ret_verdict says whether the record is ours and *ret holds
 * what was parsed (see PeerTxtVerdict). -EBADMSG for a malformed record (missing, duplicate, oversized or invalid
 * fields), with a printable reason in reason (which never echoes unprintable bytes). */
int peer_txt_parse(const TxtItem *items, size_t n_items, const char *expected_tag, PeerTxt *ret,
                   PeerTxtVerdict *ret_verdict, char *reason, size_t reason_size);
