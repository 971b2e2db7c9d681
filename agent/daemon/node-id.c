/* SPDX-License-Identifier: MIT */

#include <stdio.h>

#include "fileio.h"
#include "macro.h"
#include "node-id.h"

#define NODE_ID_FILE_MAX 4096

int node_id_load_or_create(const char *state_dir, const uint8_t *mac, char ret[static NODE_ID_SIZE],
                           NodeIdOrigin *ret_origin)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        char id[NODE_ID_SIZE], line[NODE_ID_SIZE + 1];
        NodeIdOrigin origin = NODE_ID_CREATED;
        size_t size;
        int r;

        if (asprintf(&path, "%s/" NODE_ID_FILE, state_dir) < 0)
                return -ENOMEM;

        r = read_file_full(path, NODE_ID_FILE_MAX, &text, &size);
        if (r >= 0) {
                text[strcspn(text, "\n")] = 0;
                if (node_id_is_valid(text)) {
                        memcpy(ret, text, NODE_ID_SIZE);
                        *ret_origin = NODE_ID_LOADED;
                        return 0;
                }
                origin = NODE_ID_REPLACED;
        } else if (r != -ENOENT)
                origin = NODE_ID_REPLACED;

        if (!mac)
                return -ENOENT;
        r = node_id_from_mac(mac, id);
        if (r < 0)
                return r;
        snprintf(line, sizeof line, "%s\n", id);
        r = write_file_atomic(path, line, strlen(line), 0644);
        if (r < 0)
                return r;
        memcpy(ret, id, NODE_ID_SIZE);
        *ret_origin = origin;
        return 0;
}
