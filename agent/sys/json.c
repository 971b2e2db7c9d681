/* SPDX-License-Identifier: MIT */

#include <math.h>

#include "json.h"

/* Nesting depth without recursion on the untrusted text itself (counts brackets outside strings), and no
 * \u0000 escape inside them. */
static bool depth_within(const char *s, size_t size, unsigned max_depth)
{
        unsigned depth = 0;
        bool in_string = false, escaped = false;

        for (size_t i = 0; i < size; i++) {
                char c = s[i];
                if (in_string) {
                        if (escaped) {
                                /* A C string cannot hold NUL: "a\u0000b" would silently read as "a". */
                                if (c == 'u' && size - i > 4 && memcmp(s + i + 1, "0000", 4) == 0)
                                        return false;
                                escaped = false;
                        } else if (c == '\\')
                                escaped = true;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                if (c == '"')
                        in_string = true;
                else if (c == '{' || c == '[') {
                        if (++depth > max_depth)
                                return false;
                } else if ((c == '}' || c == ']') && depth > 0)
                        depth--;
        }
        return true;
}

int json_parse_untrusted(const char *text, size_t size, size_t max_size, unsigned max_depth, cJSON **ret)
{
        const char *end = NULL;
        cJSON *v;

        if (size > max_size)
                return -E2BIG;
        if (memchr(text, 0, size))
                return -EINVAL;
        if (!depth_within(text, size, max_depth))
                return -EINVAL;

        v = cJSON_ParseWithLengthOpts(text, size, &end, false);
        if (!v)
                return -EINVAL;
        while (end && (size_t)(end - text) < size && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
                end++;
        if (!end || (size_t)(end - text) != size) {
                cJSON_Delete(v);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

int json_get_string(const cJSON *obj, const char *key, size_t max_len, const char **ret)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

        if (!v)
                return -ENOENT;
        if (!cJSON_IsString(v) || !v->valuestring || strlen(v->valuestring) > max_len)
                return -EINVAL;
        *ret = v->valuestring;
        return 0;
}

int json_get_uint(const cJSON *obj, const char *key, uint64_t max, uint64_t *ret)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
        double d;

        if (!v)
                return -ENOENT;
        if (!cJSON_IsNumber(v))
                return -EINVAL;
        d = v->valuedouble;
        if (!isfinite(d) || d < 0 || d > (double)max || d != floor(d))
                return -EINVAL;
        *ret = (uint64_t)d;
        return 0;
}

int json_get_bool(const cJSON *obj, const char *key, bool *ret)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

        if (!v)
                return -ENOENT;
        if (!cJSON_IsBool(v))
                return -EINVAL;
        *ret = cJSON_IsTrue(v);
        return 0;
}

char *json_print(const cJSON *v)
{
        return cJSON_PrintUnformatted(v);
}
