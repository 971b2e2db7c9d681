/* SPDX-License-Identifier: MIT */
/* Fuzzes the TXT record parser with records in DNS wire format (each item one length byte, then that many
 * bytes), as a forged mDNS answer would carry them; a record that parses must re-encode to one that parses the
 * same way. */

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "peer-txt.h"
#include "strv.h"

#define TAG "76338c64fea54b45" /* the tag of the corpus's valid records */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const PeerTxt *t)
{
        char **l = NULL, reason[PEER_TXT_REASON_MAX];
        TxtItem items[8];
        PeerTxtVerdict v;
        PeerTxt again;
        size_t n;

        if (peer_txt_encode(t, &l) < 0)
                abort();
        n = strv_length(l);
        for (size_t i = 0; i < n && i < 8; i++)
                items[i] = (TxtItem){l[i], strlen(l[i])};
        if (peer_txt_parse(items, n, TAG, &again, &v, reason, sizeof reason) < 0 || v != PEER_TXT_ACCEPT ||
            strcmp(again.id, t->id) != 0 || again.phase != t->phase || again.role != t->role)
                abort();
        strv_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        TxtItem items[256];
        char reason[PEER_TXT_REASON_MAX];
        PeerTxtVerdict v;
        PeerTxt t;
        size_t n = 0;

        for (size_t i = 0; i < size && n < 256;) {
                size_t len = data[i++];
                if (len > size - i)
                        len = size - i;
                items[n++] = (TxtItem){data + i, len};
                i += len;
        }
        if (peer_txt_parse(items, n, TAG, &t, &v, reason, sizeof reason) < 0) {
                /* The reason goes to the journal: printable, NUL-terminated within the buffer. */
                for (const char *p = reason; *p; p++)
                        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                                abort();
                return 0;
        }
        /* A phase is a known one, or an unknown word kept only to be shown (this node never publishes it). */
        if (v == PEER_TXT_ACCEPT &&
            (t.phase < 0 || t.phase >= _PHASE_MAX || (t.phase == PHASE_OTHER) != phase_word_is_valid(t.phase_other)))
                abort();
        if (v == PEER_TXT_ACCEPT && t.phase != PHASE_OTHER)
                check_roundtrip(&t);
        return 0;
}
