/* SPDX-License-Identifier: MIT */
/* Fuzzes the boot-file parsers: the input is split at the first 0x1e (record separator) into role.txt
 * and cluster.txt; role.txt is also driven line by line through the streaming interface. */

#include <stdint.h>
#include <string.h>

#include "config.h"
#include "kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *text = (const char *)data;
        const char *sep = memchr(text, 0x1e, size);
        size_t role_size = sep ? (size_t)(sep - text) : size;
        const char *cluster = sep ? sep + 1 : "";
        size_t cluster_size = sep ? size - role_size - 1 : 0;
        DiagList diags = {};
        Config *c = NULL;
        KvParser p;

        if (config_parse(text, role_size, cluster, cluster_size, &diags, &c) == 0)
                config_unref(c);
        diag_list_clear(&diags);

        /* The streaming shape, fed one line at a time with arbitrary line lengths. */
        kv_parser_init(&p, "role.txt", "role", &diags);
        for (size_t start = 0; start < size;) {
                const char *nl = memchr(text + start, '\n', size - start);
                size_t end = nl ? (size_t)(nl - text) : size;
                if (kv_parser_line(&p, text + start, end - start) < 0)
                        break;
                start = end + 1;
        }
        (void)kv_parser_finish(&p);
        kv_parser_done(&p);
        diag_list_clear(&diags);
        return 0;
}
