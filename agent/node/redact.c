/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "redact.h"

static size_t run_of(const char *s, int (*pred)(int))
{
        size_t n = 0;
        while (s[n] && pred((unsigned char)s[n]))
                n++;
        return n;
}

static int is_token_char(int c)
{
        return islower(c) || isdigit(c);
}

static int is_hex(int c)
{
        return isxdigit(c);
}

/* A token starts here (and is not part of a longer word). */
static size_t token_at(const char *line, size_t i)
{
        const char *s = line + i;

        if (i > 0 && (is_token_char((unsigned char)s[-1]) || s[-1] == '.'))
                return 0;
        if (run_of(s, is_token_char) != 6 || s[6] != '.' || run_of(s + 7, is_token_char) != 16)
                return 0;
        if (s[23] == '.' || is_token_char((unsigned char)s[23]))
                return 0;
        return 23;
}

static size_t key_at(const char *line, size_t i)
{
        size_t n;

        if (i > 0 && isalnum((unsigned char)line[i - 1]))
                return 0;
        if (i >= 7 && strncmp(line + i - 7, "sha256:", 7) == 0)
                return 0;
        n = run_of(line + i, is_hex);
        return n >= 64 ? n : 0;
}

char *redact_secrets(const char *line, char *out, size_t size)
{
        size_t o = 0;

        if (size == 0)
                return out;
        for (size_t i = 0; line[i] && o + 1 < size;) {
                size_t n;
                const char *repl = NULL;

                if ((n = token_at(line, i)) > 0)
                        repl = "<token>";
                else if ((n = key_at(line, i)) > 0)
                        repl = "<key>";
                if (repl) {
                        size_t m = strlen(repl);
                        if (o + m >= size)
                                break;
                        memcpy(out + o, repl, m);
                        o += m;
                        i += n;
                        continue;
                }
                out[o++] = line[i++];
        }
        out[o] = 0;
        return out;
}
