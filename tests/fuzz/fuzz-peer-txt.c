/* SPDX-License-Identifier: MIT */
/* Fuzzes the TXT record parser with records in DNS wire format (each item one length byte, then that many
 * bytes), as a forged mDNS answer would carry them, announced at a fixed place. Invariants: every verdict comes
 * with a printable reason; a record never verifies unless its MAC is right (a record that is well-formed and ours
 * but comes out forged is signed again here, by a second implementation of the construction, and must then
 * verify, or be refused for its address only); a record that verifies re-encodes to one that parses the same. */

#include <arpa/inet.h>
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "peer-txt.h"
#include "secret.h"
#include "strv.h"

/* The secret whose tag the corpus's records carry (test-identity.c pins it: 76338c64fea54b45). */
#define SECRET  "3f1c0a9e8b7d6c5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877"
#define TAG     "76338c64fea54b45"
#define SERVICE "master-000001"
#define HOST    "master-000001.local"
#define PORT    9470
#define ADDR    "10.77.0.11"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t key[PEER_TXT_KEY_SIZE];
static PeerTxtPlace place;

static void init(void)
{
        static bool done;

        if (done)
                return;
        if (peer_txt_key(SECRET, key) < 0 || inet_pton(AF_INET, ADDR, &place.address) != 1)
                abort();
        place.service = SERVICE;
        place.host = HOST;
        place.port = PORT;
        done = true;
}

static void check_reason(const char *reason)
{
        for (const char *p = reason; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                        abort();
}

static void check_roundtrip(const PeerTxt *t)
{
        char **l = NULL, reason[PEER_TXT_REASON_MAX] = "";
        TxtItem items[PEER_TXT_ITEMS_MAX];
        PeerTxtVerdict v;
        PeerTxt again;
        size_t n;

        if (peer_txt_encode(t, key, &place, &l) < 0)
                abort();
        n = strv_length(l);
        if (n > PEER_TXT_ITEMS_MAX)
                abort();
        for (size_t i = 0; i < n; i++)
                items[i] = (TxtItem){l[i], strlen(l[i])};
        if (peer_txt_parse(items, n, TAG, key, &place, &again, &v, reason, sizeof reason) < 0 || v != PEER_TXT_ACCEPT ||
            strcmp(again.id, t->id) != 0 || again.phase != t->phase || again.role != t->role || again.vip != t->vip ||
            again.address.s_addr != t->address.s_addr || peer_seq_compare(again.seq, t->seq) != 0)
                abort();
        strv_free(l);
}

static int by_key(const void *a, const void *b)
{
        const TxtItem *x = a, *y = b;
        size_t kx = (size_t)((const char *)memchr(x->data, '=', x->size) - (const char *)x->data);
        size_t ky = (size_t)((const char *)memchr(y->data, '=', y->size) - (const char *)y->data);
        int c = memcmp(x->data, y->data, kx < ky ? kx : ky);

        return c != 0 ? c : (kx > ky) - (kx < ky);
}

/* The construction of docs/discovery.md, written out again: items (all but mac=, non-empty, key=value) signed for
 * the place, the MAC appended. Returns the number of items in out. */
static size_t resign(const TxtItem *in, size_t n_in, TxtItem *out, char mac_item[static 37])
{
        TxtItem sorted[256];
        uint8_t buf[8192], d[CRYPTO_SHA256_SIZE];
        size_t n = 0, len = 0;

        for (size_t i = 0; i < n_in; i++)
                if (in[i].size > 0 && memchr(in[i].data, '=', in[i].size) &&
                    !(in[i].size >= 4 && memcmp(in[i].data, "mac=", 4) == 0))
                        sorted[n] = out[n] = in[i], n++;
        qsort(sorted, n, sizeof *sorted, by_key);
        memcpy(buf, "piagent-txt", 12);
        len = 12;
        buf[len++] = PEER_TXT_VERSION;
        buf[len++] = (uint8_t)strlen(SERVICE);
        memcpy(buf + len, SERVICE, strlen(SERVICE)), len += strlen(SERVICE);
        buf[len++] = (uint8_t)strlen(HOST);
        memcpy(buf + len, HOST, strlen(HOST)), len += strlen(HOST);
        buf[len++] = PORT >> 8;
        buf[len++] = PORT & 0xff;
        for (size_t i = 0; i < n; i++) {
                if (len + 1 + sorted[i].size > sizeof buf)
                        return 0;
                buf[len++] = (uint8_t)sorted[i].size;
                memcpy(buf + len, sorted[i].data, sorted[i].size), len += sorted[i].size;
        }
        if (crypto_hmac_sha256(key, sizeof key, buf, len, d) < 0)
                abort();
        memcpy(mac_item, "mac=", 4);
        hex_encode(d, PEER_TXT_MAC_BYTES, mac_item + 4);
        out[n++] = (TxtItem){mac_item, 36};
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        TxtItem items[256], again[257];
        char reason[PEER_TXT_REASON_MAX] = "", mac_item[37];
        PeerTxtVerdict v;
        PeerTxt t;
        size_t n = 0;

        init();
        for (size_t i = 0; i < size && n < 256;) {
                size_t len = data[i++];
                if (len > size - i)
                        len = size - i;
                items[n++] = (TxtItem){data + i, len};
                i += len;
        }
        if (peer_txt_parse(items, n, TAG, key, &place, &t, &v, reason, sizeof reason) < 0) {
                /* The reason goes to the journal: printable, NUL-terminated within the buffer. */
                check_reason(reason);
                return 0;
        }
        check_reason(reason);
        if (v < 0 || v >= _PEER_TXT_VERDICT_MAX)
                abort();
        if (v != PEER_TXT_ACCEPT && v != PEER_TXT_FORGED && v != PEER_TXT_MISPLACED)
                return 0;
        /* Parsed as ours: the fields are in range, a phase is a known one or an unknown word kept only to be
         * shown. */
        if (t.phase < 0 || t.phase >= _PHASE_MAX || (t.phase == PHASE_OTHER) != phase_word_is_valid(t.phase_other) ||
            t.role < 0 || t.role >= _ROLE_MAX || !node_id_is_valid(t.id) || t.seq.boot == 0 || t.seq.n == 0)
                abort();
        if (v == PEER_TXT_ACCEPT && t.phase != PHASE_OTHER)
                check_roundtrip(&t);
        if (v == PEER_TXT_FORGED && n <= PEER_TXT_ITEMS_MAX) {
                size_t m = resign(items, n, again, mac_item);
                PeerTxtVerdict v2;
                PeerTxt t2;
                if (m == 0 || peer_txt_parse(again, m, TAG, key, &place, &t2, &v2, reason, sizeof reason) < 0)
                        return 0; /* adding the MAC made it too big */
                if (v2 != PEER_TXT_ACCEPT && v2 != PEER_TXT_MISPLACED)
                        abort();
                if ((v2 == PEER_TXT_MISPLACED) != (t2.address.s_addr != place.address.s_addr))
                        abort();
        }
        return 0;
}
