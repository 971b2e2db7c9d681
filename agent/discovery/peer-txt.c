/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "crypto.h"
#include "peer-txt.h"
#include "secret.h"
#include "strv.h"

#define KEY_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"
#define ECHO_MAX  32 /* bytes of a bad value quoted in a reason */
#define MAC_LABEL "piagent-txt"
#define MAC_SALT  "piagent"
#define MAC_INFO  "piagent txt mac v2"
/* What the MAC covers: label, version, service and host name, port, the items with their length bytes. */
#define MAC_INPUT_MAX (sizeof MAC_LABEL + 1 + 2 * (1 + PEER_TXT_PLACE_MAX) + 2 + PEER_TXT_ITEMS_MAX + PEER_TXT_SIZE_MAX)

typedef struct Field {
        char key[PEER_TXT_KEY_MAX + 1];
        const char *item; /* the whole "key=value" item */
        size_t item_size;
        const char *value; /* into the item; printable ASCII, not NUL-terminated */
        size_t size;
} Field;

int peer_txt_key(const char *secret, uint8_t ret[static PEER_TXT_KEY_SIZE])
{
        if (!secret || !*secret)
                return -EINVAL;
        return crypto_hkdf_sha256(secret, strlen(secret), MAC_SALT, strlen(MAC_SALT), MAC_INFO, ret, PEER_TXT_KEY_SIZE);
}

static int parse_u32(const char *s, size_t n, uint32_t *ret)
{
        uint64_t v = 0;

        if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (v == 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

int peer_seq_parse(const char *s, PeerSeq *ret)
{
        const char *dot = s ? strchr(s, '.') : NULL;
        PeerSeq q;

        if (!dot || parse_u32(s, (size_t)(dot - s), &q.boot) < 0 || parse_u32(dot + 1, strlen(dot + 1), &q.n) < 0)
                return -EINVAL;
        *ret = q;
        return 0;
}

int peer_seq_compare(PeerSeq a, PeerSeq b)
{
        if (a.boot != b.boot)
                return a.boot < b.boot ? -1 : 1;
        if (a.n != b.n)
                return a.n < b.n ? -1 : 1;
        return 0;
}

static int field_cmp(const void *a, const void *b)
{
        const Field *const *x = a, *const *y = b;
        return strcmp((*x)->key, (*y)->key);
}

/* Appends s (length byte first) to buf; false if it does not fit or is too long for one length byte. */
static bool put_lp(uint8_t *buf, size_t *n, const void *s, size_t size)
{
        if (size > UINT8_MAX || *n + 1 + size > MAC_INPUT_MAX)
                return false;
        buf[(*n)++] = (uint8_t)size;
        memcpy(buf + *n, s, size);
        *n += size;
        return true;
}

/* The host name as signed: lower case, without the final dot. */
static bool put_host(uint8_t *buf, size_t *n, const char *host)
{
        char h[PEER_TXT_PLACE_MAX + 1];
        size_t len = strlen(host);

        if (len > 0 && host[len - 1] == '.')
                len--;
        if (len > PEER_TXT_PLACE_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                h[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] - 'A' + 'a' : host[i]);
        return put_lp(buf, n, h, len);
}

/* The MAC of the fields (all but "mac") for place. -EINVAL when the place cannot be signed (names too long). */
static int compute_mac(const uint8_t key[static PEER_TXT_KEY_SIZE], const PeerTxtPlace *place, const Field *fields,
                       size_t n_fields, uint8_t ret[static PEER_TXT_MAC_BYTES])
{
        const Field *sorted[PEER_TXT_ITEMS_MAX];
        uint8_t buf[MAC_INPUT_MAX], d[CRYPTO_SHA256_SIZE];
        size_t n = 0, k = 0;
        int r;

        if (!place || !place->service || !place->host || n_fields > PEER_TXT_ITEMS_MAX)
                return -EINVAL;
        memcpy(buf, MAC_LABEL, sizeof MAC_LABEL); /* with its NUL */
        n = sizeof MAC_LABEL;
        buf[n++] = PEER_TXT_VERSION;
        if (!put_lp(buf, &n, place->service, strlen(place->service)) || !put_host(buf, &n, place->host))
                return -EINVAL;
        buf[n++] = (uint8_t)(place->port >> 8);
        buf[n++] = (uint8_t)place->port;
        for (size_t i = 0; i < n_fields; i++)
                if (!streq(fields[i].key, "mac"))
                        sorted[k++] = &fields[i];
        qsort(sorted, k, sizeof *sorted, field_cmp);
        for (size_t i = 0; i < k; i++)
                if (!put_lp(buf, &n, sorted[i]->item, sorted[i]->item_size))
                        return -EINVAL;
        r = crypto_hmac_sha256(key, PEER_TXT_KEY_SIZE, buf, n, d);
        if (r < 0)
                return r;
        memcpy(ret, d, PEER_TXT_MAC_BYTES);
        return 0;
}

static char *item(const char *key, const char *value)
{
        char *s;

        return asprintf(&s, "%s=%s", key, value) < 0 ? NULL : s;
}

static Field field_of(const char *s)
{
        Field f = {.item = s, .item_size = strlen(s)};
        size_t k = strcspn(s, "=");

        snprintf(f.key, sizeof f.key, "%.*s", (int)MIN(k, (size_t)PEER_TXT_KEY_MAX), s);
        f.value = s + k + 1;
        f.size = f.item_size - k - 1;
        return f;
}

int peer_txt_encode(const PeerTxt *t, const uint8_t key[static PEER_TXT_KEY_SIZE], const PeerTxtPlace *place,
                    char ***ret)
{
        _cleanup_strv_free_ char **l = NULL;
        const char *role = role_to_string(t->role);
        char v[12], a[INET_ADDRSTRLEN], seq[24], hex[2 * PEER_TXT_MAC_BYTES + 1];
        uint8_t mac[PEER_TXT_MAC_BYTES];
        Field fields[PEER_TXT_ITEMS_MAX];
        size_t n = 0;
        int r;

        if (t->version != PEER_TXT_VERSION || !cluster_tag_is_valid(t->tag) || !role || !phase_to_string(t->phase) ||
            !node_id_is_valid(t->id) || t->address.s_addr == 0 || t->seq.boot == 0 || t->seq.n == 0)
                return -EINVAL;

        snprintf(v, sizeof v, "%u", t->version);
        inet_ntop(AF_INET, &t->address, a, sizeof a);
        snprintf(seq, sizeof seq, "%" PRIu32 ".%" PRIu32, t->seq.boot, t->seq.n);
        l = calloc(10, sizeof *l);
        if (!l)
                return -ENOMEM;
        /* Filled in order: the first NULL ends the list, so a failure leaks nothing. */
        if (!(l[0] = item("v", v)) || !(l[1] = item("tag", t->tag)) || !(l[2] = item("role", role)) ||
            !(l[3] = item("phase", phase_to_string(t->phase))) || !(l[4] = item("id", t->id)) ||
            !(l[5] = item("addr", a)) || !(l[6] = item("seq", seq)) || (t->vip && !(l[7] = item("vip", "1"))))
                return -ENOMEM;
        for (; l[n]; n++)
                fields[n] = field_of(l[n]);
        r = compute_mac(key, place, fields, n, mac);
        if (r < 0)
                return r;
        hex_encode(mac, sizeof mac, hex);
        if (!(l[n] = item("mac", hex)))
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

_printf_(3, 4) static int reject(char *reason, size_t size, const char *format, ...)
{
        va_list ap;

        if (reason && size > 0) {
                va_start(ap, format);
                vsnprintf(reason, size, format, ap);
                va_end(ap);
        }
        return -EBADMSG;
}

/* Bytes from the network, quoted for a log line: printable ASCII only, shortened. */
static const char *echo(const void *data, size_t size, char buf[static ECHO_MAX + 4])
{
        const unsigned char *p = data;
        size_t n = MIN(size, (size_t)ECHO_MAX), i;

        for (i = 0; i < n; i++)
                buf[i] = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'' ? (char)p[i] : '?';
        if (size > n)
                memcpy(buf + i, "...", 3), i += 3;
        buf[i] = 0;
        return buf;
}

static bool printable(const char *s, size_t size)
{
        for (size_t i = 0; i < size; i++)
                if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
                        return false;
        return true;
}

/* One item into a Field: "key=value", key of KEY_CHARS, value printable. */
static int split_item(const TxtItem *it, Field *f, char *reason, size_t size)
{
        const char *s = it->data, *eq;
        char b[ECHO_MAX + 4];
        size_t klen;

        if (it->size > PEER_TXT_ITEM_MAX)
                return reject(reason, size, "item of %zu bytes (at most %u)", it->size, PEER_TXT_ITEM_MAX);
        eq = memchr(s, '=', it->size);
        if (!eq)
                return reject(reason, size, "item '%s' is not key=value", echo(s, it->size, b));
        klen = (size_t)(eq - s);
        if (klen == 0 || klen > PEER_TXT_KEY_MAX || strspn(s, KEY_CHARS) < klen)
                return reject(reason, size, "bad key '%s'", echo(s, klen, b));
        memcpy(f->key, s, klen);
        f->key[klen] = 0;
        f->item = s;
        f->item_size = it->size;
        f->value = eq + 1;
        f->size = it->size - klen - 1;
        if (!printable(f->value, f->size))
                return reject(reason, size, "the value of '%s' has a non-printable byte", f->key);
        return 0;
}

static int split_items(const TxtItem *items, size_t n_items, Field *fields, size_t *ret_n, char *reason, size_t size)
{
        size_t total = 0, n = 0;
        int r;

        for (size_t i = 0; i < n_items; i++) {
                if (!items[i].data || items[i].size == 0)
                        continue; /* DNS-SD's empty record is one empty string */
                total += items[i].size;
                if (++n > PEER_TXT_ITEMS_MAX)
                        return reject(reason, size, "more than %u items", PEER_TXT_ITEMS_MAX);
                if (total > PEER_TXT_SIZE_MAX)
                        return reject(reason, size, "record larger than %u bytes", PEER_TXT_SIZE_MAX);
                r = split_item(&items[i], &fields[n - 1], reason, size);
                if (r < 0)
                        return r;
                for (size_t j = 0; j + 1 < n; j++)
                        if (streq(fields[j].key, fields[n - 1].key))
                                return reject(reason, size, "duplicate key '%s'", fields[j].key);
        }
        *ret_n = n;
        return 0;
}

/* The value of key as a string of at most max bytes. */
static int get_value(const Field *fields, size_t n, const char *key, char *buf, size_t max, char *reason, size_t size)
{
        char b[ECHO_MAX + 4];

        for (size_t i = 0; i < n; i++) {
                if (!streq(fields[i].key, key))
                        continue;
                if (fields[i].size > max)
                        return reject(reason, size, "bad value for '%s': '%s'", key,
                                      echo(fields[i].value, fields[i].size, b));
                memcpy(buf, fields[i].value, fields[i].size);
                buf[fields[i].size] = 0;
                return 0;
        }
        return reject(reason, size, "missing key '%s'", key);
}

static int parse_version(const char *s, unsigned *ret)
{
        size_t n = strspn(s, "0123456789");

        if (n == 0 || n > 3 || s[n] != 0 || (n > 1 && s[0] == '0'))
                return -EINVAL;
        *ret = (unsigned)strtoul(s, NULL, 10);
        return 0;
}

static const Field *find(const Field *f, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (streq(f[i].key, key))
                        return &f[i];
        return NULL;
}

/* addr=, seq= and mac= of a record known to be ours. */
static int parse_signature(const Field *f, size_t n, PeerTxt *t, uint8_t mac[static PEER_TXT_MAC_BYTES], char *reason,
                           size_t size)
{
        char v[PEER_TXT_ITEM_MAX + 1], a[INET_ADDRSTRLEN];
        int r;

        r = get_value(f, n, "addr", v, INET_ADDRSTRLEN - 1, reason, size);
        if (r < 0)
                return r;
        /* Only the canonical dotted quad: what the signer printed is what it signed. */
        if (inet_pton(AF_INET, v, &t->address) != 1 || t->address.s_addr == 0 ||
            !streq(inet_ntop(AF_INET, &t->address, a, sizeof a) ?: "", v))
                return reject(reason, size, "bad value for 'addr': '%s'", v);
        r = get_value(f, n, "seq", v, 21, reason, size);
        if (r < 0)
                return r;
        if (peer_seq_parse(v, &t->seq) < 0)
                return reject(reason, size, "bad value for 'seq': '%s'", v);
        r = get_value(f, n, "mac", v, 2 * PEER_TXT_MAC_BYTES, reason, size);
        if (r < 0)
                return r;
        if (strlen(v) != 2 * PEER_TXT_MAC_BYTES || strspn(v, "0123456789abcdef") != 2 * PEER_TXT_MAC_BYTES)
                return reject(reason, size, "bad value for 'mac': '%s'", v);
        for (size_t i = 0; i < 2 * PEER_TXT_MAC_BYTES; i++) {
                unsigned d = v[i] <= '9' ? (unsigned)(v[i] - '0') : (unsigned)(v[i] - 'a' + 10);
                mac[i / 2] = (uint8_t)(i % 2 ? mac[i / 2] | d : d << 4);
        }
        return 0;
}

/* role, phase and id of a record known to be ours. */
static int parse_fields(const Field *f, size_t n, PeerTxt *t, char *reason, size_t size)
{
        char v[PEER_TXT_ITEM_MAX + 1], word[PHASE_WORD_MAX + 1];
        int r;

        r = get_value(f, n, "role", v, 16, reason, size);
        if (r < 0)
                return r;
        t->role = role_from_string(v);
        if (t->role < 0 || !streq(v, role_to_string(t->role))) /* exactly as published: lower case */
                return reject(reason, size, "bad value for 'role': '%s'", v);
        r = get_value(f, n, "phase", word, PHASE_WORD_MAX, reason, size);
        if (r < 0)
                return r;
        t->phase = phase_from_string(word);
        if (t->phase < 0)
                return reject(reason, size, "bad value for 'phase': '%s'", word);
        if (t->phase == PHASE_OTHER)
                memcpy(t->phase_other, word, sizeof word);
        r = get_value(f, n, "id", t->id, NODE_ID_LEN, reason, size);
        if (r < 0)
                return r;
        if (!node_id_is_valid(t->id))
                return reject(reason, size, "bad value for 'id': '%s'", t->id);
        /* Optional: an LB says whether it holds the VIP. */
        for (size_t i = 0; i < n; i++)
                if (streq(f[i].key, "vip")) {
                        if (f[i].size != 1 || (f[i].value[0] != '0' && f[i].value[0] != '1'))
                                return reject(reason, size, "bad value for 'vip': '%s'",
                                              echo(f[i].value, f[i].size, v));
                        t->vip = f[i].value[0] == '1';
                }
        return 0;
}

/* The tag of a record of another version, if it has one that parses: a version-1 agent of this cluster is shown
 * as such, anything else is somebody else's. */
static void other_version_tag(const Field *fields, size_t n, PeerTxt *t)
{
        const Field *f = find(fields, n, "tag");

        if (f && f->size == CLUSTER_TAG_LEN) {
                memcpy(t->tag, f->value, f->size);
                t->tag[f->size] = 0;
                if (!cluster_tag_is_valid(t->tag))
                        t->tag[0] = 0;
        }
}

_printf_(5, 6) static int verdict(PeerTxtVerdict v, PeerTxtVerdict *ret, char *reason, size_t size, const char *format,
                                  ...)
{
        va_list ap;

        *ret = v;
        if (reason && size > 0) {
                va_start(ap, format);
                vsnprintf(reason, size, format, ap);
                va_end(ap);
        }
        return 0;
}

int peer_txt_parse(const TxtItem *items, size_t n_items, const char *expected_tag,
                   const uint8_t key[static PEER_TXT_KEY_SIZE], const PeerTxtPlace *place, PeerTxt *ret,
                   PeerTxtVerdict *ret_verdict, char *reason, size_t reason_size)
{
        Field fields[PEER_TXT_ITEMS_MAX];
        uint8_t mac[PEER_TXT_MAC_BYTES], want[PEER_TXT_MAC_BYTES];
        char v[8], signed_at[INET_ADDRSTRLEN], seen_at[INET_ADDRSTRLEN];
        PeerTxt t = {};
        size_t n = 0;
        int r;

        r = split_items(items, n_items, fields, &n, reason, reason_size);
        if (r < 0)
                return r;

        r = get_value(fields, n, "v", v, 3, reason, reason_size);
        if (r < 0)
                return r;
        if (parse_version(v, &t.version) < 0)
                return reject(reason, reason_size, "bad value for 'v': '%s'", v);
        if (t.version != PEER_TXT_VERSION) {
                other_version_tag(fields, n, &t);
                *ret = t;
                return verdict(PEER_TXT_OTHER_VERSION, ret_verdict, reason, reason_size,
                               "protocol version %u%s, not %u", t.version, t.version == 1 ? " (unsigned records)" : "",
                               PEER_TXT_VERSION);
        }

        r = get_value(fields, n, "tag", t.tag, CLUSTER_TAG_LEN, reason, reason_size);
        if (r < 0)
                return r;
        if (!cluster_tag_is_valid(t.tag))
                return reject(reason, reason_size, "bad value for 'tag': '%s'", t.tag);
        if (!expected_tag || !streq(t.tag, expected_tag)) {
                *ret = t;
                return verdict(PEER_TXT_OTHER_CLUSTER, ret_verdict, reason, reason_size, "another cluster (tag %s)",
                               t.tag);
        }

        r = parse_fields(fields, n, &t, reason, reason_size);
        if (r >= 0)
                r = parse_signature(fields, n, &t, mac, reason, reason_size);
        if (r < 0)
                return r;
        *ret = t;
        r = compute_mac(key, place, fields, n, want);
        if (r == -EINVAL)
                return verdict(PEER_TXT_FORGED, ret_verdict, reason, reason_size,
                               "service or host name too long to be signed");
        if (r < 0)
                return r;
        if (crypto_memcmp(mac, want, sizeof mac) != 0)
                return verdict(PEER_TXT_FORGED, ret_verdict, reason, reason_size,
                               "not signed with this cluster's secret");
        if (t.address.s_addr != place->address.s_addr)
                return verdict(PEER_TXT_MISPLACED, ret_verdict, reason, reason_size, "signed for %s, announced at %s",
                               inet_ntop(AF_INET, &t.address, signed_at, sizeof signed_at) ?: "?",
                               inet_ntop(AF_INET, &place->address, seen_at, sizeof seen_at) ?: "?");
        *ret_verdict = PEER_TXT_ACCEPT;
        return 0;
}
