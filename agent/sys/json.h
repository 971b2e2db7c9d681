/* SPDX-License-Identifier: MIT */
#pragma once

/* JSON through cJSON. This header (and json.c) is the only place that includes cJSON: other modules use
 * the cJSON type and functions re-exported here, plus the checked getters below for untrusted input. */

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(cJSON *, cJSON_Delete);
#define _cleanup_json_ _cleanup_(cJSON_Deletep)

/* Parses untrusted input: at most max_size bytes, at most max_depth levels of nesting (cJSON itself allows
 * 1000), no \u0000 escape (strings are C strings), and nothing but whitespace after the value.
 * Returns 0 or -EINVAL / -E2BIG / -ENOMEM. */
int json_parse_untrusted(const char *text, size_t size, size_t max_size, unsigned max_depth, cJSON **ret);

/* Checked getters for objects from the network. Return 0, -ENOENT if missing, -EINVAL if of the wrong type
 * or out of bounds. Strings are borrowed from the object. */
int json_get_string(const cJSON *obj, const char *key, size_t max_len, const char **ret);
int json_get_uint(const cJSON *obj, const char *key, uint64_t max, uint64_t *ret);
int json_get_bool(const cJSON *obj, const char *key, bool *ret);

/* Compact serialisation; the caller frees. NULL on OOM. */
char *json_print(const cJSON *v);
