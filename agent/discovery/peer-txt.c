/* SPDX-License-Identifier: MIT */

#include <stdarg.h>
#include <stdio.h>

#include "peer-txt.h"
#include "strv.h"

#define KEY_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"
#define ECHO_MAX  32 /* bytes of a bad value quoted in a reason */

typedef struct Field {
        char key[PEER_TXT_KEY_MAX + 1];
        const char *value; /* into the item; printable ASCII, not NUL-terminated */
        size_t size;
} Field;

static char *item(const char *key, const char *value)
{
        char *s;

        return asprintf(&s, "%s=%s", key, value) < 0 ? NULL : s;
}

int peer_txt_encode(const PeerTxt *t, char ***ret)
{
        _cleanup_strv_free_ char **l = NULL;
        const char *role = role_to_string(t->role);
        char v[12];

        if (t->version != PEER_TXT_VERSION || !cluster_tag_is_valid(t->tag) || !role || !phase_to_string(t->phase) ||
            !node_id_is_valid(t->id))
                return -EINVAL;

        snprintf(v, sizeof v, "%u", t->version);
        l = calloc(7, sizeof *l);
        if (!l)
                return -ENOMEM;
        /* Filled in order: the first NULL ends the list, so a failure leaks nothing. */
        if (!(l[0] = item("v", v)) || !(l[1] = item("tag", t->tag)) || !(l[2] = item("role", role)) ||
            !(l[3] = item("phase", phase_to_string(t->phase))) || !(l[4] = item("id", t->id)) ||
            (t->vip && !(l[5] = item("vip", "1"))))
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

int peer_txt_parse(const TxtItem *items, size_t n_items, const char *expected_tag, PeerTxt *ret,
                   PeerTxtVerdict *ret_verdict, char *reason, size_t reason_size)
{
        Field fields[PEER_TXT_ITEMS_MAX];
        PeerTxt t = {};
        char v[8];
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
                *ret = t;
                *ret_verdict = PEER_TXT_OTHER_VERSION;
                return 0;
        }

        r = get_value(fields, n, "tag", t.tag, CLUSTER_TAG_LEN, reason, reason_size);
        if (r < 0)
                return r;
        if (!cluster_tag_is_valid(t.tag))
                return reject(reason, reason_size, "bad value for 'tag': '%s'", t.tag);
        if (!expected_tag || !streq(t.tag, expected_tag)) {
                *ret = t;
                *ret_verdict = PEER_TXT_OTHER_CLUSTER;
                return 0;
        }

        r = parse_fields(fields, n, &t, reason, reason_size);
        if (r < 0)
                return r;
        *ret = t;
        *ret_verdict = PEER_TXT_ACCEPT;
        return 0;
}
