/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <inttypes.h>

#include "json.h"
#include "status-json.h"

#define STATUS_DEPTH_MAX 8
#define FIELD_MAX        256

static bool add_string(cJSON *o, const char *key, const char *value)
{
        return value ? cJSON_AddStringToObject(o, key, value) != NULL : cJSON_AddNullToObject(o, key) != NULL;
}

static cJSON *render_self(const StatusSelf *s)
{
        cJSON *o = cJSON_CreateObject();

        if (!o)
                return NULL;
        if (!add_string(o, "id", s->id) || !add_string(o, "hostname", s->hostname) || !add_string(o, "role", s->role) ||
            !add_string(o, "phase", s->phase) || !add_string(o, "cluster", s->cluster) ||
            !add_string(o, "tag", s->tag) || !add_string(o, "interface", s->interface) ||
            !add_string(o, "service", s->service) || !add_string(o, "mdns", s->mdns) ||
            !add_string(o, "status", s->status) || !cJSON_AddNumberToObject(o, "port", s->port)) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

static cJSON *render_peer(const Peer *p, uint64_t now)
{
        char a[INET_ADDRSTRLEN];
        cJSON *o = cJSON_CreateObject(), *addrs;

        if (!o)
                return NULL;
        addrs = cJSON_AddArrayToObject(o, "addresses");
        if (!addrs || !inet_ntop(AF_INET, &p->address, a, sizeof a) ||
            !cJSON_AddItemToArray(addrs, cJSON_CreateString(a)) || !add_string(o, "id", p->id) ||
            !add_string(o, "hostname", p->hostname[0] ? p->hostname : NULL) ||
            !add_string(o, "role", role_to_string(p->role)) ||
            !add_string(o, "phase", phase_word(p->phase, p->phase_other)) || !add_string(o, "service", p->service) ||
            !cJSON_AddNumberToObject(o, "port", p->port) ||
            !cJSON_AddNumberToObject(o, "last_seen_ms_ago",
                                     (double)(now > p->last_seen_usec ? (now - p->last_seen_usec) / 1000 : 0)) ||
            !cJSON_AddNumberToObject(o, "first_seen_ms_ago",
                                     (double)(now > p->first_seen_usec ? (now - p->first_seen_usec) / 1000 : 0))) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

static double ms_ago(uint64_t now, uint64_t then)
{
        return (double)(now > then ? (now - then) / 1000 : 0);
}

static cJSON *render_rejected(const Rejected *r, uint64_t now)
{
        char a[INET_ADDRSTRLEN];
        cJSON *o = cJSON_CreateObject();

        if (!o)
                return NULL;
        if (!add_string(o, "service", r->service) ||
            !add_string(o, "address", inet_ntop(AF_INET, &r->address, a, sizeof a)) ||
            !add_string(o, "id", r->id[0] ? r->id : NULL) || !add_string(o, "role", role_to_string(r->role)) ||
            !add_string(o, "reason", r->reason) || !cJSON_AddNumberToObject(o, "count", r->count) ||
            !cJSON_AddNumberToObject(o, "last_seen_ms_ago", ms_ago(now, r->last_seen_usec)) ||
            !cJSON_AddNumberToObject(o, "first_seen_ms_ago", ms_ago(now, r->first_seen_usec))) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

static int render_rejected_list(cJSON *root, const PeerRejected *rejected, unsigned rejected_total, uint64_t now)
{
        cJSON *list = cJSON_AddArrayToObject(root, "rejected");

        if (!list || !cJSON_AddNumberToObject(root, "rejected_total", rejected_total))
                return -ENOMEM;
        for (size_t i = 0; i < peer_rejected_size(rejected); i++) {
                cJSON *o = render_rejected(peer_rejected_get(rejected, i), now);
                if (!o || !cJSON_AddItemToArray(list, o)) {
                        cJSON_Delete(o);
                        return -ENOMEM;
                }
        }
        return 0;
}

int status_json_render(const StatusSelf *self, const PeerSet *peers, const PeerRejected *rejected,
                       unsigned rejected_total, uint64_t now, char **ret)
{
        _cleanup_json_ cJSON *root = cJSON_CreateObject();
        cJSON *list, *s;
        char *text;

        if (!root || !cJSON_AddNumberToObject(root, "version", STATUS_JSON_VERSION))
                return -ENOMEM;
        s = render_self(self);
        if (!s || !cJSON_AddItemToObject(root, "self", s)) {
                cJSON_Delete(s);
                return -ENOMEM;
        }
        list = cJSON_AddArrayToObject(root, "peers");
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < peer_set_size(peers); i++) {
                cJSON *p = render_peer(peer_set_get(peers, i), now);
                if (!p || !cJSON_AddItemToArray(list, p)) {
                        cJSON_Delete(p);
                        return -ENOMEM;
                }
        }
        if (render_rejected_list(root, rejected, rejected_total, now) < 0)
                return -ENOMEM;
        text = json_print(root);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}

/* A string field for display: "-" when missing or null, "?" when of another type or unprintable. */
static const char *show(const cJSON *o, const char *key)
{
        const char *s = NULL;
        int r = json_get_string(o, key, FIELD_MAX, &s);

        if (r == -ENOENT || (r == -EINVAL && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key))))
                return "-";
        if (r < 0)
                return "?";
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return "?";
        return s;
}

static const char *age(const cJSON *o, char buf[static 32])
{
        uint64_t ms;

        if (json_get_uint(o, "last_seen_ms_ago", UINT64_C(1) << 52, &ms) < 0)
                return "?";
        if (ms < 60 * 1000)
                snprintf(buf, 32, "%" PRIu64 "s ago", ms / 1000);
        else if (ms < 3600 * 1000)
                snprintf(buf, 32, "%" PRIu64 "m ago", ms / 60000);
        else
                snprintf(buf, 32, "%" PRIu64 "h ago", ms / 3600000);
        return buf;
}

static void print_peer(const cJSON *p, FILE *f)
{
        const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(p, "addresses");
        const cJSON *a0 = cJSON_IsArray(addrs) ? cJSON_GetArrayItem(addrs, 0) : NULL;
        char buf[32];

        fprintf(f, "%-13s %-20s %-7s %-14s %-15s %s\n", show(p, "id"), show(p, "hostname"), show(p, "role"),
                show(p, "phase"),
                cJSON_IsString(a0) && strlen(a0->valuestring) < INET6_ADDRSTRLEN ? a0->valuestring : "-", age(p, buf));
}

/* Services whose records did not count (an older agent's document has none). */
static void print_rejected(const cJSON *root, FILE *f)
{
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "rejected"), *r;
        uint64_t total = 0;
        char buf[32], claims[40];
        int n = 0;

        if (!cJSON_IsArray(list) || !list->child)
                return;
        (void)json_get_uint(root, "rejected_total", UINT64_C(1) << 52, &total);
        fprintf(f, "\nRecords that did not verify (not peers; %d kept of %" PRIu64 " rejected since start):\n",
                cJSON_GetArraySize(list), total);
        fprintf(f, "%-24s %-15s %-20s %-9s %s\n", "SERVICE", "ADDRESS", "CLAIMS", "LAST SEEN", "REASON");
        for (r = list->child; r && n < 1000; r = r->next, n++) {
                if (!cJSON_IsObject(r))
                        continue;
                if (streq(show(r, "id"), "-"))
                        snprintf(claims, sizeof claims, "-");
                else
                        snprintf(claims, sizeof claims, "%s %s", show(r, "role"), show(r, "id"));
                fprintf(f, "%-24.24s %-15.15s %-20.20s %-9s %s\n", show(r, "service"), show(r, "address"), claims,
                        age(r, buf), show(r, "reason"));
        }
}

int status_print_table(const char *text, size_t size, FILE *f)
{
        _cleanup_json_ cJSON *root = NULL;
        const cJSON *self, *peers, *p;
        uint64_t version;
        int r, n = 0;

        r = json_parse_untrusted(text, size, STATUS_JSON_MAX, STATUS_DEPTH_MAX, &root);
        if (r < 0)
                return r;
        self = cJSON_GetObjectItemCaseSensitive(root, "self");
        peers = cJSON_GetObjectItemCaseSensitive(root, "peers");
        if (json_get_uint(root, "version", 1000, &version) < 0 || version != STATUS_JSON_VERSION ||
            !cJSON_IsObject(self) || !cJSON_IsArray(peers))
                return -EINVAL;

        fprintf(f, "This node: %s (id %s), role %s, phase %s\n", show(self, "hostname"), show(self, "id"),
                show(self, "role"), show(self, "phase"));
        fprintf(f, "Cluster:   %s (tag %s), interface %s, mDNS %s, published as '%s'\n", show(self, "cluster"),
                show(self, "tag"), show(self, "interface"), show(self, "mdns"), show(self, "service"));
        fprintf(f, "Status:    %s\n\n", show(self, "status"));
        fprintf(f, "%-13s %-20s %-7s %-14s %-15s %s\n", "ID", "HOSTNAME", "ROLE", "PHASE", "ADDRESS", "LAST SEEN");
        for (p = peers->child; p; p = p->next) {
                if (!cJSON_IsObject(p))
                        continue;
                print_peer(p, f);
                n++;
        }
        fprintf(f, "\n%d peer%s.\n", n, n == 1 ? "" : "s");
        print_rejected(root, f);
        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}
