/* SPDX-License-Identifier: MIT */
#pragma once

/* A list of problems found in the boot-partition files, each pointing at a file and line, worded for the
 * person who has to fix the file. Pure: no I/O. */

#include <stddef.h>

#include "macro.h"

#define DIAG_MAX 64 /* more than this many problems are summarised as one last entry */

typedef struct Diag {
        char *file;    /* "role.txt" */
        unsigned line; /* 1-based; 0 = the whole file */
        char *message; /* "unknown key 'rol' (did you mean 'role'?)" */
} Diag;

typedef struct DiagList {
        Diag items[DIAG_MAX];
        size_t n;
        size_t dropped; /* problems beyond DIAG_MAX */
} DiagList;

/* Returns 0, or -ENOMEM. Past DIAG_MAX entries only the count grows. */
int diag_add(DiagList *l, const char *file, unsigned line, const char *format, ...) _printf_(4, 5);
void diag_list_clear(DiagList *l);

/* "role.txt:3: unknown key …" or "cluster.txt: file not found …". Returns NULL on OOM. */
char *diag_format(const Diag *d);

static inline size_t diag_count(const DiagList *l)
{
        return l->n + l->dropped;
}
