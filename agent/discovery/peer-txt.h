/* SPDX-License-Identifier: MIT */
#pragma once

/* The TXT record of a piagent mDNS service (_piagent._tcp), protocol version 2:
 *
 *   v=2  tag=<cluster tag>  role=lb|master|worker  phase=<phase (phase.h)>  id=<node id>
 *   addr=<IPv4>  seq=<boot>.<n>  [vip=1]  mac=<32 hex>
 *
 * mac is HMAC-SHA256 (truncated to 128 bits) under a key derived from the cluster secret, over every other item,
 * the service instance name, the SRV host name and port (docs/discovery.md, "Signed records"). TXT records come
 * from anyone on the LAN: the parser checks every byte against fixed limits and either accepts a record whole
 * (well-formed, ours and signed) or says why not. Unknown keys are allowed (room for later fields) but must be
 * well-formed too, and the MAC covers them. Pure. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster-tag.h"
#include "config.h"
#include "identity.h"
#include "phase.h"

#define PEER_TXT_VERSION    2
#define PEER_TXT_ITEMS_MAX  16   /* key=value strings in one record */
#define PEER_TXT_ITEM_MAX   255  /* one DNS character-string */
#define PEER_TXT_SIZE_MAX   1024 /* all items together */
#define PEER_TXT_KEY_MAX    16
#define PEER_TXT_REASON_MAX 160
#define PEER_TXT_KEY_SIZE   32 /* the MAC key */
#define PEER_TXT_MAC_BYTES  16
#define PEER_TXT_PLACE_MAX  255 /* service and host names as signed: one length byte each */

typedef struct TxtItem {
        const void *data; /* not NUL-terminated; any bytes */
        size_t size;
} TxtItem;

/* Freshness: the agent's starts on this card, and the records published since. Ordered by (boot, n). */
typedef struct PeerSeq {
        uint32_t boot; /* >= 1 */
        uint32_t n;    /* >= 1 */
} PeerSeq;

typedef struct PeerTxt {
        unsigned version;
        char tag[CLUSTER_TAG_SIZE];
        Role role;
        Phase phase;                          /* parsed here, once; PHASE_OTHER for a newer agent's word */
        char phase_other[PHASE_WORD_MAX + 1]; /* that word, only to be shown (phase_word()) */
        char id[NODE_ID_SIZE];
        struct in_addr address; /* addr=: where the node announces itself */
        PeerSeq seq;
        bool vip; /* an LB holding the virtual IP ("vip=1"; absent or "vip=0" otherwise) */
} PeerTxt;

/* Where a record is published: the MAC covers it. The address is only checked on receipt (the record's addr=
 * must equal the address the service resolved to). */
typedef struct PeerTxtPlace {
        const char *service; /* service instance name */
        const char *host;    /* SRV target, e.g. "master-0a1b2c.local"; compared in lower case, without a final dot */
        uint16_t port;
        struct in_addr address; /* resolved (receiving side only) */
} PeerTxtPlace;

typedef enum PeerTxtVerdict {
        PEER_TXT_ACCEPT,        /* our protocol and cluster, every field valid, signed with our key, at its address */
        PEER_TXT_OTHER_VERSION, /* a well-formed v= other than ours: version, and tag if one parses, are set */
        PEER_TXT_OTHER_CLUSTER, /* our version, another tag: version and tag are set */
        PEER_TXT_FORGED,        /* well-formed and ours, but the MAC does not verify: every field set, none trusted */
        PEER_TXT_MISPLACED,     /* signed, but for another address than the one it was announced at */
        _PEER_TXT_VERDICT_MAX,
} PeerTxtVerdict;

/* The MAC key for TXT records: HKDF-SHA256 of the secret, salt "piagent", info "piagent txt mac v2". Returns 0,
 * -EINVAL (no secret) or -EIO. */
int peer_txt_key(const char *secret, uint8_t ret[static PEER_TXT_KEY_SIZE]);

/* "<boot>.<n>", both 1..UINT32_MAX without leading zeros. */
int peer_seq_parse(const char *s, PeerSeq *ret);
int peer_seq_compare(PeerSeq a, PeerSeq b);

/* The record for t signed for place, as NULL-terminated "key=value" strings (free with strv_free). Returns 0,
 * -EINVAL if a field of t or place is invalid, -ENOMEM, -EIO. */
int peer_txt_encode(const PeerTxt *t, const uint8_t key[static PEER_TXT_KEY_SIZE], const PeerTxtPlace *place,
                    char ***ret);

/* Parses and verifies a record received from the network, announced at place. On 0, *ret_verdict says what the
 * record is and *ret holds what was parsed (see PeerTxtVerdict); for every verdict but PEER_TXT_ACCEPT, reason
 * says why in one printable line. -EBADMSG for a malformed record (missing, duplicate, oversized or invalid
 * fields), with the reason too (it never echoes unprintable bytes). */
int peer_txt_parse(const TxtItem *items, size_t n_items, const char *expected_tag,
                   const uint8_t key[static PEER_TXT_KEY_SIZE], const PeerTxtPlace *place, PeerTxt *ret,
                   PeerTxtVerdict *ret_verdict, char *reason, size_t reason_size);
