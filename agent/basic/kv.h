/* SPDX-License-Identifier: MIT */
#pragma once

/* Streaming parser for the boot-partition files (role.txt, cluster.txt): "key = value" lines.
 *
 * Shape: kv_parser_init() / kv_parser_line() for each line / kv_parser_finish(), so that a fuzzer can drive it
 * line by line; kv_parser_feed() splits a whole buffer into lines. Accepts a UTF-8 BOM, CRLF line ends,
 * '#' comments, blank lines, spaces around '=', and one pair of matching quotes around a value. Problems go
 * to a DiagList, worded for a person; the parser never stops at the first one. Pure: no I/O. */

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

#define KV_FILE_MAX    (64u * 1024u) /* bytes; a role or cluster file is a few hundred */
#define KV_LINE_MAX    1024u
#define KV_ENTRIES_MAX 64u

typedef struct KvEntry {
        char *key; /* lower case */
        char *value;
        unsigned line;
} KvEntry;

typedef struct KvParser {
        const char *file;     /* name used in messages, e.g. "role.txt" */
        const char *bare_key; /* a bare word on the first line means "<bare_key>=<word>"; NULL: not allowed */
        DiagList *diags;
        unsigned line;
        bool seen_content; /* a non-comment, non-blank line was seen */
        bool not_text;     /* the file was found not to be text: stop reporting */
        KvEntry entries[KV_ENTRIES_MAX];
        size_t n_entries;
} KvParser;

void kv_parser_init(KvParser *p, const char *file, const char *bare_key, DiagList *diags);
/* One line without its '\n' (a trailing '\r' is accepted). Returns 0, or -ENOMEM. */
int kv_parser_line(KvParser *p, const char *line, size_t len);
int kv_parser_finish(KvParser *p);
/* A whole file: checks size and encoding, splits lines, calls kv_parser_line(), then kv_parser_finish(). */
int kv_parser_feed(KvParser *p, const char *buf, size_t size);
void kv_parser_done(KvParser *p);

const KvEntry *kv_parser_get(const KvParser *p, const char *key);

/* Whether a word from a boot file may be quoted in a message: at most 20 letters, spaces, '_', '-' or '.'. Anything
 * else (longer, digits, symbols) could be part of a misplaced secret (a secret pasted on a line of its own, base64 with
 * '=' padding, "secret: ..."), and the messages go to the journal and the screen: describe it instead. */
#define KV_ECHO_MAX 20u
bool kv_word_is_echoable(const char *s, size_t len);

/* Levenshtein distance, capped (returns cap + 1 when larger), for "did you mean" suggestions. */
unsigned kv_edit_distance(const char *a, const char *b, unsigned cap);
