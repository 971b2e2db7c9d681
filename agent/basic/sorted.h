/* SPDX-License-Identifier: MIT */
#pragma once

/* Binary search in an array kept sorted by a string key (strcmp order). Pure. */

#include <stdbool.h>
#include <stddef.h>

/* The key of element i of array. */
typedef const char *(*SortedKeyFn)(const void *array, size_t i);

/* The index of key among the n elements of array (*ret_found true), or the index where it would be inserted to
 * keep the order (*ret_found false). */
size_t sorted_find(const void *array, size_t n, SortedKeyFn key_at, const char *key, bool *ret_found);
