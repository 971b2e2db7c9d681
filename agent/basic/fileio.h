/* SPDX-License-Identifier: MIT */
#pragma once

/* Files that must survive a power cut half-way through a write (state, rendered daemon configs). */

#include <stddef.h>
#include <sys/types.h>

/* Writes data to path atomically: a temporary file in the same directory, fsync, rename over path, fsync of
 * the directory. Either the old or the new content is there after a crash, never a mix. Returns 0 or a
 * negative errno; on failure path is untouched and the temporary file removed. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);

/* Reads a whole regular file of at most max_size bytes, NUL-terminated. -ENOENT if missing, -EFBIG if larger. */
int read_file_full(const char *path, size_t max_size, char **ret, size_t *ret_size);

/* Creates a directory and its parents (like mkdir -p); the last component gets mode. */
int mkdir_parents(const char *path, mode_t mode);
