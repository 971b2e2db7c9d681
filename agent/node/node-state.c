/* SPDX-License-Identifier: MIT */

#include <inttypes.h>
#include <stdio.h>

#include "fileio.h"
#include "json.h"
#include "node-state.h"

#define NODE_STATE_VERSION 1
#define NODE_STATE_MAX     (64u * 1024u)

static const char *const membership_names[_MEMBERSHIP_MAX] = {
        [MEMBERSHIP_NONE] = "none",
        [MEMBERSHIP_STARTED] = "started",
        [MEMBERSHIP_INITIALIZED] = "initialized",
        [MEMBERSHIP_JOINED] = "joined",
};

const char *membership_to_string(Membership b)
{
        return b >= 0 && b < _MEMBERSHIP_MAX ? membership_names[b] : NULL;
}

Membership membership_from_string(const char *s)
{
        for (Membership b = 0; b < _MEMBERSHIP_MAX; b++)
                if (s && streq(s, membership_names[b]))
                        return b;
        return _MEMBERSHIP_INVALID;
}

int node_state_to_json(const NodeState *s, char **ret)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        cJSON *vote = cJSON_CreateObject();
        char *text, last_seen[24];

        if (!o || !vote || !cJSON_AddItemToObject(o, "vote", vote)) {
                cJSON_Delete(vote);
                return -ENOMEM;
        }
        if (!cJSON_AddNumberToObject(o, "version", NODE_STATE_VERSION) ||
            !cJSON_AddStringToObject(o, "role", role_to_string(s->role) ?: "") ||
            !cJSON_AddStringToObject(o, "membership", membership_to_string(s->membership)) ||
            !cJSON_AddNumberToObject(o, "attempts", s->attempts) ||
            !cJSON_AddStringToObject(vote, "candidate", s->vote.candidate) ||
            /* As an integer: cJSON prints a number with 15 significant digits, which loses microseconds past
             * 10^15 (32 years of uptime, and any value a damaged clock may give); read back as a double, exact up
             * to 2^53, the limit the parser accepts (found by fuzz-node-state). */
            snprintf(last_seen, sizeof last_seen, "%" PRIu64, s->vote.last_seen_usec) < 0 ||
            !cJSON_AddRawToObject(vote, "last_seen_usec", last_seen))
                return -ENOMEM;
        text = json_print(o);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}

int node_state_from_json(const char *text, size_t size, NodeState *ret)
{
        _cleanup_json_ cJSON *o = NULL;
        const char *role, *membership, *candidate;
        uint64_t version, attempts, last_seen;
        const cJSON *vote;
        NodeState s = {};
        int r;

        r = json_parse_untrusted(text, size, NODE_STATE_MAX, 8, &o);
        if (r < 0)
                return -EINVAL;
        if (json_get_uint(o, "version", 1000, &version) < 0 || version != NODE_STATE_VERSION ||
            json_get_string(o, "role", 16, &role) < 0 || json_get_string(o, "membership", 16, &membership) < 0 ||
            json_get_uint(o, "attempts", 1000000, &attempts) < 0)
                return -EINVAL;
        vote = cJSON_GetObjectItemCaseSensitive(o, "vote");
        if (!cJSON_IsObject(vote) || json_get_string(vote, "candidate", ELECTION_ID_MAX - 1, &candidate) < 0 ||
            json_get_uint(vote, "last_seen_usec", UINT64_C(1) << 53, &last_seen) < 0)
                return -EINVAL;

        s.role = role[0] ? role_from_string(role) : _ROLE_INVALID;
        s.membership = membership_from_string(membership);
        /* A vote names a candidate as election_grant() accepted it, or nobody. */
        if ((role[0] && s.role < 0) || s.membership < 0 || (candidate[0] && !election_id_is_valid(candidate)))
                return -EINVAL;
        s.attempts = (unsigned)attempts;
        snprintf(s.vote.candidate, sizeof s.vote.candidate, "%s", candidate);
        s.vote.last_seen_usec = last_seen;
        *ret = s;
        return 0;
}

static char *state_path(const char *dir)
{
        char *p;
        return asprintf(&p, "%s/" NODE_STATE_FILE, dir) < 0 ? NULL : p;
}

int node_state_load(const char *dir, NodeState *ret)
{
        _cleanup_free_ char *path = state_path(dir), *text = NULL;
        size_t size;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_file_full(path, NODE_STATE_MAX, &text, &size);
        if (r < 0)
                return r == -EFBIG ? -EINVAL : r;
        return node_state_from_json(text, size, ret);
}

int node_state_save(const char *dir, const NodeState *s)
{
        _cleanup_free_ char *path = state_path(dir), *text = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        r = node_state_to_json(s, &text);
        if (r < 0)
                return r;
        return write_file_atomic(path, text, strlen(text), 0600);
}
