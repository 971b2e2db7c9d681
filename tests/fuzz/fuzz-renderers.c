/* SPDX-License-Identifier: MIT */
/* Fuzzes the configuration renderers with parameters taken from the input: keepalived.conf and haproxy.cfg (names
 * of LBs and masters, addresses, the CA file, the notify script) and kubeadm's init and join documents (node
 * names, tokens, keys, hashes, versions). Their inputs come from peers and boot files, so a renderer must either
 * refuse (-EINVAL) or write a file whose grammar the input cannot change. Invariants: only printable ASCII and
 * newlines; braces balanced in keepalived.conf, every peer on its own line; exactly one `server` line per backend
 * in haproxy.cfg, under its own name, and the CA file only where it belongs; every kubeadm document is a JSON
 * object that parses, with the node name, token and version as given. */

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "kubeadm-conf.h"
#include "lb-conf.h"

#define MAX_PEERS 8
#define STR_MAX   80

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Reader {
        const uint8_t *p;
        size_t n;
} Reader;

static uint8_t byte(Reader *r)
{
        if (r->n == 0)
                return 0;
        r->n--;
        return *r->p++;
}

static uint16_t u16(Reader *r)
{
        return (uint16_t)(byte(r) << 8 | byte(r));
}

static struct in_addr addr(Reader *r)
{
        uint32_t a = (uint32_t)byte(r) << 24 | (uint32_t)byte(r) << 16 | (uint32_t)byte(r) << 8 | byte(r);
        return (struct in_addr){htonl(a)};
}

/* A NUL-terminated string of up to STR_MAX bytes (any bytes but NUL). */
static char *str(Reader *r, char buf[static STR_MAX + 1])
{
        size_t len = byte(r) % (STR_MAX + 1), i = 0;

        while (i < len && r->n > 0) {
                uint8_t c = byte(r);
                buf[i++] = c ? (char)c : 'x';
        }
        buf[i] = 0;
        return buf;
}

static void check_text(const char *s)
{
        for (; *s; s++)
                if (*s != '\n' && ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f))
                        abort();
}

static unsigned count(const char *hay, const char *needle)
{
        unsigned n = 0;

        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static void keepalived(Reader *r)
{
        char router[STR_MAX + 1], iface[STR_MAX + 1], notify[STR_MAX + 1], line[128], a[INET_ADDRSTRLEN];
        struct in_addr peers[MAX_PEERS];
        KeepalivedParams p = {.router_id = str(r, router), .interface = str(r, iface)};
        char *text = NULL;

        p.self = addr(r);
        p.vip.addr = addr(r);
        p.vip.prefix = byte(r) % 33;
        p.vrid = byte(r);
        p.priority = byte(r);
        p.advert_ms = u16(r);
        p.n_peers = byte(r) % (MAX_PEERS + 1);
        for (size_t i = 0; i < p.n_peers; i++)
                peers[i] = addr(r);
        p.peers = peers;
        p.notify_script = byte(r) & 1 ? str(r, notify) : NULL;
        if (keepalived_conf_render(&p, &text) < 0)
                return;
        check_text(text);
        if (count(text, "{") != count(text, "}"))
                abort();
        snprintf(line, sizeof line, "    router_id %s\n", p.router_id);
        if (count(text, line) != 1)
                abort();
        for (size_t i = 0; i < p.n_peers; i++) {
                snprintf(line, sizeof line, "\n        %s\n", inet_ntop(AF_INET, &peers[i], a, sizeof a));
                if (!strstr(text, line))
                        abort();
        }
        if ((p.n_peers > 0) != (strstr(text, "check_unicast_src\n") != NULL))
                abort();
        free(text);
}

static void haproxy(Reader *r)
{
        char names[MAX_PEERS][STR_MAX + 1], ca[STR_MAX + 1], line[STR_MAX + 64], a[INET_ADDRSTRLEN];
        LbBackend b[MAX_PEERS];
        HaproxyParams p = {.api_port = u16(r), .backends = b, .n_backends = byte(r) % (MAX_PEERS + 1)};
        unsigned checked = 0;
        char *text = NULL;

        for (size_t i = 0; i < p.n_backends; i++) {
                uint8_t flags = byte(r);
                b[i] = (LbBackend){.name = str(r, names[i]), .addr = addr(r), .unchecked = flags & 1};
                checked += !b[i].unchecked;
        }
        p.ca_file = byte(r) & 1 ? str(r, ca) : NULL;
        if (haproxy_conf_render(&p, &text) < 0)
                return;
        check_text(text);
        if (count(text, "\n    server ") != p.n_backends)
                abort();
        for (size_t i = 0; i < p.n_backends; i++) {
                /* One line per backend, under its name, checked unless it is the master whose init runs. */
                snprintf(line, sizeof line, "\n    server %s %s:6443%s", b[i].name,
                         inet_ntop(AF_INET, &b[i].addr, a, sizeof a), b[i].unchecked ? "  # " : " check check-ssl ");
                if (count(text, line) != 1)
                        abort();
        }
        if (p.ca_file) {
                snprintf(line, sizeof line, " verify required ca-file %s\n", p.ca_file);
                if (count(text, line) != checked || count(text, "verify none") != 0)
                        abort();
        }
        if (!p.ca_file && count(text, "verify none") != checked)
                abort();
        free(text);
}

static const Config *config(void)
{
        static const char role[] = "role=master\n";
        static const char cluster[] = "cluster=fuzz\n"
                                      "secret=cfc5a845cda02afb6f609d03cbc016e9a124ff8dde50695a8fd964e69bc16c21\n"
                                      "vip=10.77.0.240/24\n";
        static Config *c;
        DiagList diags = {};

        if (!c && config_parse(role, strlen(role), cluster, strlen(cluster), &diags, &c) < 0)
                abort();
        diag_list_clear(&diags);
        return c;
}

/* Every document between "---" lines is a JSON object; the node name, token and version are in it as given. */
static void check_documents(const char *text, const char *node_name, const char *token, const char *version)
{
        const char *p = text;
        unsigned docs = 0;
        bool name = false, tok = false, ver = !version;

        check_text(text);
        while (*p) {
                const char *end = strstr(p, "\n---\n");
                size_t len = end ? (size_t)(end - p) + 1 : strlen(p);
                _cleanup_json_ cJSON *o = NULL;
                const char *v;

                if (json_parse_untrusted(p, len, 1 << 20, 16, &o) < 0 || !cJSON_IsObject(o))
                        abort();
                docs++;
                const cJSON *reg = cJSON_GetObjectItemCaseSensitive(o, "nodeRegistration");
                if (reg && json_get_string(reg, "name", 64, &v) >= 0 && strcmp(v, node_name) == 0)
                        name = true;
                if (version && json_get_string(o, "kubernetesVersion", STR_MAX, &v) >= 0 && strcmp(v, version) == 0)
                        ver = true;
                tok = tok || strstr(p, token) != NULL;
                p += len + (end ? 4 : 0);
        }
        if (docs < 2 || !name || !tok || !ver)
                abort();
}

static void kubeadm(Reader *r)
{
        char name[STR_MAX + 1], token[STR_MAX + 1], key[STR_MAX + 1], hash[STR_MAX + 1], version[STR_MAX + 1];
        uint8_t which = byte(r);
        KubeadmApi api = (KubeadmApi)(which % _KUBEADM_API_MAX);
        struct in_addr address = addr(r);
        char *text = NULL;

        str(r, name), str(r, token), str(r, key), str(r, hash), str(r, version);
        if (which & 0x10) {
                KubeadmInitParams p = {.api = api,
                                       .config = config(),
                                       .node_name = name,
                                       .advertise_address = address,
                                       .kubernetes_version = version,
                                       .token = token,
                                       .certificate_key = key};
                if (kubeadm_init_conf_render(&p, &text) < 0)
                        return;
                if (!kubeadm_token_is_valid(token) || !kubeadm_certificate_key_is_valid(key))
                        abort();
                check_documents(text, name, token, version);
        } else {
                KubeadmJoinParams p = {.api = api,
                                       .config = config(),
                                       .node_name = name,
                                       .advertise_address = address,
                                       .control_plane = which & 0x20,
                                       .token = token,
                                       .ca_hash = hash,
                                       .certificate_key = key};
                if (kubeadm_join_conf_render(&p, &text) < 0)
                        return;
                if (!kubeadm_token_is_valid(token) || !kubeadm_ca_hash_is_valid(hash) ||
                    (p.control_plane && !kubeadm_certificate_key_is_valid(key)) ||
                    (!p.control_plane && strstr(text, "certificateKey")))
                        abort();
                check_documents(text, name, token, NULL);
        }
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        Reader r = {data, size};

        switch (byte(&r) % 3) {
        case 0:
                keepalived(&r);
                break;
        case 1:
                haproxy(&r);
                break;
        case 2:
                kubeadm(&r);
                break;
        }
        return 0;
}
