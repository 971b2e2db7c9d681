/* SPDX-License-Identifier: MIT */

#include <stdarg.h>
#include <stdio.h>

#include "diag.h"

int diag_add(DiagList *l, const char *file, unsigned line, const char *format, ...)
{
        _cleanup_free_ char *f = NULL, *m = NULL;
        va_list ap;
        int r;

        if (l->n >= DIAG_MAX) {
                l->dropped++;
                return 0;
        }

        f = strdup(file);
        if (!f)
                return -ENOMEM;
        va_start(ap, format);
        r = vasprintf(&m, format, ap);
        va_end(ap);
        if (r < 0) {
                m = NULL;
                return -ENOMEM;
        }

        l->items[l->n++] = (Diag){.file = TAKE_PTR(f), .line = line, .message = TAKE_PTR(m)};
        return 0;
}

void diag_list_clear(DiagList *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].file);
                free(l->items[i].message);
        }
        l->n = 0;
        l->dropped = 0;
}

char *diag_format(const Diag *d)
{
        char *s;
        int r;

        if (d->line > 0)
                r = asprintf(&s, "%s:%u: %s", d->file, d->line, d->message);
        else
                r = asprintf(&s, "%s: %s", d->file, d->message);
        return r < 0 ? NULL : s;
}
