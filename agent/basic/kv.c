/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <stdio.h>

#include "kv.h"

void kv_parser_init(KvParser *p, const char *file, const char *bare_key, DiagList *diags)
{
        *p = (KvParser){.file = file, .bare_key = bare_key, .diags = diags};
}

void kv_parser_done(KvParser *p)
{
        for (size_t i = 0; i < p->n_entries; i++) {
                free(p->entries[i].key);
                erase_and_free(p->entries[i].value); /* values may be the cluster secret */
        }
        p->n_entries = 0;
}

const KvEntry *kv_parser_get(const KvParser *p, const char *key)
{
        for (size_t i = 0; i < p->n_entries; i++)
                if (streq(p->entries[i].key, key))
                        return &p->entries[i];
        return NULL;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_sequence_length(const unsigned char *s, size_t left)
{
        size_t n;
        unsigned cp;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0)
                n = 2, cp = s[0] & 0x1f;
        else if ((s[0] & 0xf0) == 0xe0)
                n = 3, cp = s[0] & 0x0f;
        else if ((s[0] & 0xf8) == 0xf0)
                n = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (n > left)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates, beyond Unicode. */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        return n;
}

/* Checks that a line is text. Reports once per file; returns false if it is not. */
static int check_text(KvParser *p, const char *line, size_t len, bool *ret_ok)
{
        const unsigned char *s = (const unsigned char *)line;

        for (size_t i = 0; i < len;) {
                if (s[i] < 0x20 && s[i] != '\t') {
                        p->not_text = true;
                        *ret_ok = false;
                        return diag_add(p->diags, p->file, p->line,
                                        "not a text file (control byte 0x%02x); write it with a plain text editor",
                                        s[i]);
                }
                if (s[i] == 0x7f) {
                        p->not_text = true;
                        *ret_ok = false;
                        return diag_add(p->diags, p->file, p->line,
                                        "not a text file (byte 0x7f); write it with a plain text editor");
                }
                size_t n = utf8_sequence_length(s + i, len - i);
                if (n == 0) {
                        p->not_text = true;
                        *ret_ok = false;
                        return diag_add(p->diags, p->file, p->line,
                                        "invalid UTF-8 (byte 0x%02x); save the file as UTF-8 or plain ASCII", s[i]);
                }
                i += n;
        }
        *ret_ok = true;
        return 0;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
        while (*len > 0 && is_blank(**s))
                (*s)++, (*len)--;
        while (*len > 0 && is_blank((*s)[*len - 1]))
                (*len)--;
}

static bool key_is_valid(const char *k, size_t len)
{
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)k[i]) && k[i] != '_' && k[i] != '-' && k[i] != '.')
                        return false;
        return true;
}

static int add_entry(KvParser *p, const char *key, size_t key_len, const char *value, size_t value_len)
{
        _cleanup_free_ char *k = NULL;
        char *v;

        k = strndup(key, key_len);
        if (!k)
                return -ENOMEM;
        for (char *c = k; *c; c++)
                *c = (char)tolower((unsigned char)*c);

        const KvEntry *prev = kv_parser_get(p, k);
        if (prev)
                return diag_add(p->diags, p->file, p->line, "duplicate key '%s' (first set on line %u); keep one", k,
                                prev->line);

        if (p->n_entries >= KV_ENTRIES_MAX)
                return diag_add(p->diags, p->file, p->line, "too many keys (at most %u)", KV_ENTRIES_MAX);

        v = strndup(value, value_len);
        if (!v)
                return -ENOMEM;
        p->entries[p->n_entries++] = (KvEntry){.key = TAKE_PTR(k), .value = v, .line = p->line};
        return 0;
}

bool kv_word_is_echoable(const char *s, size_t len)
{
        if (!s || len == 0 || len > KV_ECHO_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalpha((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.' && s[i] != ' ')
                        return false;
        return true;
}

int kv_parser_line(KvParser *p, const char *line, size_t len)
{
        bool first_content, ok;
        const char *eq, *key, *value;
        size_t key_len, value_len;
        int r;

        p->line++;
        if (p->not_text)
                return 0;

        if (p->line == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
                line += 3, len -= 3;
        if (len > 0 && line[len - 1] == '\r')
                len--;

        if (len > KV_LINE_MAX)
                return diag_add(p->diags, p->file, p->line, "line too long (%zu bytes; at most %u)", len, KV_LINE_MAX);

        r = check_text(p, line, len, &ok);
        if (r < 0 || !ok)
                return r;

        trim(&line, &len);
        if (len == 0 || line[0] == '#')
                return 0;

        first_content = !p->seen_content;
        p->seen_content = true;

        eq = memchr(line, '=', len);
        if (!eq) {
                if (p->bare_key && first_content && key_is_valid(line, len))
                        return add_entry(p, p->bare_key, strlen(p->bare_key), line, len);
                return diag_add(p->diags, p->file, p->line, "expected 'key=value'%s%s%s",
                                p->bare_key ? " (for example '" : "", p->bare_key ? p->bare_key : "",
                                p->bare_key ? "=…')" : "");
        }

        key = line;
        key_len = (size_t)(eq - line);
        value = eq + 1;
        value_len = len - key_len - 1;
        trim(&key, &key_len);
        trim(&value, &value_len);

        if (key_len == 0)
                return diag_add(p->diags, p->file, p->line, "missing key before '='");
        if (!key_is_valid(key, key_len) && kv_word_is_echoable(key, key_len))
                return diag_add(p->diags, p->file, p->line, "invalid key '%.*s' (keys are letters, digits and '_')",
                                (int)key_len, key);
        if (!key_is_valid(key, key_len))
                return diag_add(p->diags, p->file, p->line,
                                "invalid key of %zu characters, not shown in case it is part of the secret (keys are "
                                "letters, digits and '_')",
                                key_len);

        if (value_len >= 2 && (value[0] == '"' || value[0] == '\'') && value[value_len - 1] == value[0])
                value++, value_len -= 2;

        return add_entry(p, key, key_len, value, value_len);
}

int kv_parser_finish(KvParser *p)
{
        return 0;
}

int kv_parser_feed(KvParser *p, const char *buf, size_t size)
{
        int r;

        if (size > KV_FILE_MAX) {
                p->not_text = true;
                return diag_add(p->diags, p->file, 0, "file too large (%zu bytes; at most %u): is this the right file?",
                                size, KV_FILE_MAX);
        }
        if (size >= 2 && ((buf[0] == '\xff' && buf[1] == '\xfe') || (buf[0] == '\xfe' && buf[1] == '\xff'))) {
                p->not_text = true;
                return diag_add(p->diags, p->file, 0, "file is UTF-16; save it as UTF-8 or plain ASCII");
        }

        for (size_t start = 0; start < size;) {
                const char *nl = memchr(buf + start, '\n', size - start);
                size_t end = nl ? (size_t)(nl - buf) : size;

                r = kv_parser_line(p, buf + start, end - start);
                if (r < 0)
                        return r;
                start = end + 1;
        }

        return kv_parser_finish(p);
}

unsigned kv_edit_distance(const char *a, const char *b, unsigned cap)
{
        size_t la = strlen(a), lb = strlen(b);
        unsigned row[KV_LINE_MAX + 1];

        if (lb > KV_LINE_MAX || la > KV_LINE_MAX)
                return cap + 1;
        if ((la > lb ? la - lb : lb - la) > cap)
                return cap + 1;

        for (size_t j = 0; j <= lb; j++)
                row[j] = (unsigned)j;
        for (size_t i = 1; i <= la; i++) {
                unsigned diag = row[0], best;
                row[0] = (unsigned)i;
                best = row[0];
                for (size_t j = 1; j <= lb; j++) {
                        unsigned up = row[j];
                        unsigned cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
                        row[j] = MIN(MIN(row[j - 1] + 1, up + 1), diag + cost);
                        diag = up;
                        best = MIN(best, row[j]);
                }
                if (best > cap)
                        return cap + 1;
        }
        return MIN(row[lb], cap + 1);
}
