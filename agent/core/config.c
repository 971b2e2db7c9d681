/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <stdio.h>

#include "config.h"
#include "kv.h"
#include "strength.h"

/* Which file a key may be written in. Per-node keys live in role.txt; cluster-wide ones in cluster.txt, except
 * a few that may differ per node and so may be overridden in role.txt. */
typedef enum KeyScope {
        SCOPE_NODE,     /* role.txt only */
        SCOPE_CLUSTER,  /* cluster.txt only: must be the same on every node */
        SCOPE_OVERRIDE, /* cluster.txt, overridable per node in role.txt */
} KeyScope;

typedef int (*ParseFunc)(Config *c, const char *value, char *err, size_t err_size);

typedef struct KeyInfo {
        const char *name;
        KeyScope scope;
        bool required;
        ParseFunc parse;
} KeyInfo;

static const char *const role_names[_ROLE_MAX] = {
        [ROLE_LB] = "lb",
        [ROLE_MASTER] = "master",
        [ROLE_WORKER] = "worker",
};

static const char *const cni_names[_CNI_MAX] = {
        [CNI_FLANNEL] = "flannel",
        [CNI_CALICO] = "calico",
        [CNI_NONE] = "none",
};

const char *role_to_string(Role r)
{
        return r >= 0 && r < _ROLE_MAX ? role_names[r] : NULL;
}

Role role_from_string(const char *s)
{
        for (Role r = 0; r < _ROLE_MAX; r++)
                if (s && strcasecmp(s, role_names[r]) == 0)
                        return r;
        return _ROLE_INVALID;
}

const char *cni_to_string(Cni c)
{
        return c >= 0 && c < _CNI_MAX ? cni_names[c] : NULL;
}

Cni cni_from_string(const char *s)
{
        for (Cni c = 0; c < _CNI_MAX; c++)
                if (s && strcasecmp(s, cni_names[c]) == 0)
                        return c;
        return _CNI_INVALID;
}

/* Closest of a list of words within a small edit distance, or NULL. */
static const char *closest_word(const char *word, const char *const *words, size_t n)
{
        const char *best = NULL;
        unsigned best_d = strlen(word) >= 8 ? 3 : 2;

        for (size_t i = 0; i < n; i++) {
                if (!words[i])
                        continue;
                unsigned d = kv_edit_distance(word, words[i], best_d);
                if (d <= best_d && (!best || d < best_d)) {
                        best = words[i];
                        best_d = d;
                }
        }
        return best;
}

static int parse_role(Config *c, const char *v, char *err, size_t n)
{
        Role r = role_from_string(v);
        const char *hint;

        if (r < 0 && !kv_word_is_echoable(v, strlen(v))) {
                /* A bare word on role.txt's first line is taken as the role: it may be a pasted secret. */
                snprintf(err, n,
                         "unknown role (%zu characters, not shown in case it is part of the secret); the roles "
                         "are lb, master, worker",
                         strlen(v));
                return -EINVAL;
        }
        if (r < 0) {
                hint = closest_word(v, role_names, _ROLE_MAX);
                if (hint)
                        snprintf(err, n, "unknown role '%s' (did you mean '%s'?); the roles are lb, master, worker", v,
                                 hint);
                else
                        snprintf(err, n, "unknown role '%s'; the roles are lb, master, worker", v);
                return -EINVAL;
        }
        c->role = r;
        return 0;
}

static bool is_dns_label(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
                        return false;
        return true;
}

static int set_string(char **field, const char *v)
{
        char *s = strdup(v);
        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static int parse_hostname(Config *c, const char *v, char *err, size_t n)
{
        if (!is_dns_label(v)) {
                snprintf(err, n,
                         "invalid hostname '%.64s': use 1-63 lower-case letters, digits and '-', not starting or "
                         "ending with '-' (Kubernetes node names must be lower case)",
                         v);
                return -EINVAL;
        }
        return set_string(&c->hostname, v);
}

static int parse_interface(Config *c, const char *v, char *err, size_t n)
{
        size_t len = strlen(v);
        bool ok = len > 0 && len < 16 && !streq(v, ".") && !streq(v, "..");

        for (size_t i = 0; ok && i < len; i++)
                if (!isgraph((unsigned char)v[i]) || v[i] == '/' || v[i] == ':')
                        ok = false;
        if (!ok) {
                snprintf(err, n, "invalid interface name '%.32s' (for example eth0 or end0)", v);
                return -EINVAL;
        }
        return set_string(&c->interface, v);
}

static int parse_bool(const char *v, bool *ret)
{
        static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(v, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(v, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

static int parse_init(Config *c, const char *v, char *err, size_t n)
{
        if (parse_bool(v, &c->init) < 0) {
                snprintf(err, n, "invalid value '%.32s' for 'init': write yes or no", v);
                return -EINVAL;
        }
        return 0;
}

static int parse_cluster(Config *c, const char *v, char *err, size_t n)
{
        size_t len = strlen(v);
        bool ok = len > 0 && len <= 63;

        for (size_t i = 0; ok && i < len; i++)
                if (!isalnum((unsigned char)v[i]) && v[i] != '-' && v[i] != '_' && v[i] != '.')
                        ok = false;
        if (!ok) {
                snprintf(err, n, "invalid cluster name '%.64s': use 1-63 letters, digits, '-', '_' or '.'", v);
                return -EINVAL;
        }
        return set_string(&c->cluster, v);
}

static int parse_secret(Config *c, const char *v, char *err, size_t n)
{
        size_t len = strlen(v);
        bool seen[128] = {};
        unsigned distinct = 0;
        double bits;

        /* Never echo the value: it is the cluster secret, or part of it. */
        if (len < CONFIG_SECRET_MIN) {
                snprintf(err, n, "secret too short (%zu characters; at least %u): generate one with 'piagent secret'",
                         len, CONFIG_SECRET_MIN);
                return -EINVAL;
        }
        if (len > CONFIG_SECRET_MAX) {
                snprintf(err, n, "secret too long (%zu characters; at most %u): generate one with 'piagent secret'",
                         len, CONFIG_SECRET_MAX);
                return -EINVAL;
        }
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)v[i];
                if (ch < 0x21 || ch > 0x7e) {
                        snprintf(err, n,
                                 "secret contains a space or a non-ASCII character (position %zu): generate one with "
                                 "'piagent secret'",
                                 i + 1);
                        return -EINVAL;
                }
                if (!seen[ch])
                        distinct++;
                seen[ch] = true;
        }
        if (distinct < 8) {
                snprintf(err, n,
                         "secret looks like a placeholder (only %u different characters): generate one with "
                         "'piagent secret'",
                         distinct);
                return -EINVAL;
        }
        bits = strength_bits(v);
        if (bits < CONFIG_SECRET_MIN_BITS) {
                snprintf(err, n,
                         "secret too easy to guess (about %.0f bits by zxcvbn's estimate; at least %u): generate one "
                         "with 'piagent secret'",
                         bits, CONFIG_SECRET_MIN_BITS);
                return -EINVAL;
        }
        erase_and_free(c->secret);
        c->secret = strdup(v);
        return c->secret ? 0 : -ENOMEM;
}

static int parse_vip(Config *c, const char *v, char *err, size_t n)
{
        Ipv4Cidr cidr;
        struct in_addr a;

        if (ipv4_cidr_parse(v, &cidr) < 0) {
                if (!strchr(v, '/') && inet_pton(AF_INET, v, &a) == 1)
                        snprintf(err, n, "'vip' needs the network's prefix length, e.g. vip=%.16s/24", v);
                else
                        snprintf(err, n,
                                 "invalid vip '%.48s': write an IPv4 address with prefix, e.g. 192.168.3.240/24", v);
                return -EINVAL;
        }
        uint32_t host = ntohl(cidr.addr.s_addr) & ~ipv4_prefix_mask(cidr.prefix);
        if (cidr.prefix <= 30 && (host == 0 || host == ~ipv4_prefix_mask(cidr.prefix))) {
                snprintf(err, n,
                         "vip %.48s is the network or broadcast address of its subnet; pick a free host address", v);
                return -EINVAL;
        }
        c->vip = cidr;
        return 0;
}

static int parse_uint(const char *v, unsigned max, unsigned *ret)
{
        unsigned long x = 0;

        if (!*v || strlen(v) > 10)
                return -EINVAL;
        for (const char *p = v; *p; p++) {
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                x = x * 10 + (unsigned long)(*p - '0');
        }
        if (x > max)
                return -ERANGE;
        *ret = (unsigned)x;
        return 0;
}

static int parse_port(const char *key, const char *v, uint16_t *ret, char *err, size_t n)
{
        unsigned p;

        if (parse_uint(v, 65535, &p) < 0 || p == 0) {
                snprintf(err, n, "invalid %s '%.16s': a port is a number from 1 to 65535", key, v);
                return -EINVAL;
        }
        *ret = (uint16_t)p;
        return 0;
}

static int parse_api_port(Config *c, const char *v, char *err, size_t n)
{
        return parse_port("api_port", v, &c->api_port, err, n);
}

static int parse_exchange_port(Config *c, const char *v, char *err, size_t n)
{
        /* Ports a master already uses (apiserver, etcd, kubelet, controller-manager, scheduler, kube-proxy). */
        static const uint16_t taken[] = {6443, 2379, 2380, 10250, 10256, 10257, 10259};
        int r = parse_port("exchange_port", v, &c->exchange_port, err, n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(taken); i++)
                if (c->exchange_port == taken[i]) {
                        snprintf(err, n, "exchange_port %u is used by Kubernetes on the masters; pick another",
                                 c->exchange_port);
                        return -EINVAL;
                }
        return 0;
}

static int parse_masters(Config *c, const char *v, char *err, size_t n)
{
        unsigned m;

        if (parse_uint(v, 1000, &m) < 0) {
                snprintf(err, n, "invalid masters '%.16s': write the number of masters, e.g. masters=3", v);
                return -EINVAL;
        }
        if (m < 1 || m % 2 == 0 || m > 7) {
                snprintf(err, n,
                         "masters=%u: the number of masters must be odd, from 1 to 7 (etcd needs a majority): "
                         "1, 3, 5 or 7",
                         m);
                return -EINVAL;
        }
        c->masters = m;
        return 0;
}

static int parse_subnet(const char *key, const char *v, unsigned min_prefix, unsigned max_prefix, Ipv4Cidr *ret,
                        char *err, size_t n)
{
        char buf[IPV4_CIDR_STRLEN];
        Ipv4Cidr cidr;

        if (ipv4_cidr_parse(v, &cidr) < 0) {
                snprintf(err, n, "invalid %s '%.48s': write an IPv4 network, e.g. 10.244.0.0/16", key, v);
                return -EINVAL;
        }
        if (cidr.prefix < min_prefix || cidr.prefix > max_prefix) {
                snprintf(err, n, "%s %.48s: the prefix length must be from /%u to /%u", key, v, min_prefix, max_prefix);
                return -EINVAL;
        }
        if (!ipv4_cidr_is_network(&cidr)) {
                Ipv4Cidr net = cidr;
                net.addr.s_addr = htonl(ntohl(cidr.addr.s_addr) & ipv4_prefix_mask(cidr.prefix));
                snprintf(err, n, "%s %.48s has host bits set; did you mean %s?", key, v, ipv4_cidr_format(&net, buf));
                return -EINVAL;
        }
        *ret = cidr;
        return 0;
}

static int parse_pod_subnet(Config *c, const char *v, char *err, size_t n)
{
        /* kubeadm hands each node a /24 out of it. */
        return parse_subnet("pod_subnet", v, 8, 23, &c->pod_subnet, err, n);
}

static int parse_service_subnet(Config *c, const char *v, char *err, size_t n)
{
        /* The apiserver allows at most 20 bits of service addresses. */
        return parse_subnet("service_subnet", v, 12, 28, &c->service_subnet, err, n);
}

static int parse_kubernetes_version(Config *c, const char *v, char *err, size_t n)
{
        unsigned major, minor, patch;
        char canon[32];
        int consumed = 0;

        if (strcasecmp(v, "auto") == 0) {
                free(c->kubernetes_version);
                c->kubernetes_version = NULL;
                return 0;
        }
        const char *p = (v[0] == 'v' || v[0] == 'V') ? v + 1 : v;
        if (!isdigit((unsigned char)p[0]) || sscanf(p, "%u.%u.%u%n", &major, &minor, &patch, &consumed) != 3 ||
            p[consumed] != 0 || major > 99 || minor > 999 || patch > 999) {
                snprintf(err, n,
                         "invalid kubernetes_version '%.32s': write e.g. v1.31.2, or auto for the installed "
                         "kubeadm's version",
                         v);
                return -EINVAL;
        }
        if (major != 1 || minor < 28) {
                snprintf(err, n, "kubernetes_version %.32s is not supported: at least v1.28.0 (arm64)", v);
                return -EINVAL;
        }
        snprintf(canon, sizeof canon, "v%u.%u.%u", major, minor, patch);
        return set_string(&c->kubernetes_version, canon);
}

static int parse_cni(Config *c, const char *v, char *err, size_t n)
{
        Cni x = cni_from_string(v);

        if (x < 0) {
                const char *hint = closest_word(v, cni_names, _CNI_MAX);
                snprintf(err, n, "unknown cni '%.32s'%s%s%s; choose flannel, calico or none", v,
                         hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
                return -EINVAL;
        }
        c->cni = x;
        return 0;
}

/* One NTP server: a DNS name (labels of letters, digits and '-') or an IPv4 or IPv6 address. */
static bool ntp_name_valid(const char *s, size_t len)
{
        struct in6_addr a6;
        struct in_addr a4;
        char buf[CONFIG_NTP_NAME_MAX + 1];
        size_t label = 0;

        if (len == 0 || len > CONFIG_NTP_NAME_MAX)
                return false;
        memcpy(buf, s, len);
        buf[len] = 0;
        if (inet_pton(AF_INET, buf, &a4) == 1 || inet_pton(AF_INET6, buf, &a6) == 1)
                return true;
        for (size_t i = 0; i < len; i++) {
                if (buf[i] == '.') {
                        if (label == 0 || buf[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!isalnum((unsigned char)buf[i]) && !(buf[i] == '-' && label > 0))
                        return false;
                if (++label > 63)
                        return false;
        }
        return label > 0 && buf[len - 1] != '-';
}

static int parse_ntp(Config *c, const char *v, char *err, size_t n)
{
        _cleanup_free_ char *out = malloc(strlen(v) + 1);
        size_t o = 0;
        unsigned count = 0;

        if (!out)
                return -ENOMEM;
        for (const char *p = v; *p;) {
                size_t len;

                p += strspn(p, " \t,");
                if (!*p)
                        break;
                len = strcspn(p, " \t,");
                if (!ntp_name_valid(p, len)) {
                        snprintf(err, n,
                                 "invalid NTP server '%.*s' in ntp: write host names or addresses separated by "
                                 "spaces or commas, e.g. ntp=192.168.1.1 ntp.example.lan",
                                 (int)MIN(len, (size_t)64), p);
                        return -EINVAL;
                }
                if (++count > CONFIG_NTP_MAX) {
                        snprintf(err, n, "ntp names more than %u servers", CONFIG_NTP_MAX);
                        return -EINVAL;
                }
                if (o > 0)
                        out[o++] = ' ';
                memcpy(out + o, p, len);
                o += len;
                p += len;
        }
        out[o] = 0;
        if (count == 0) {
                snprintf(err, n, "ntp is empty: name NTP servers, e.g. ntp=192.168.1.1, or leave the key out");
                return -EINVAL;
        }
        free(c->ntp);
        c->ntp = TAKE_PTR(out);
        return 0;
}

static int parse_wait_for_clock(Config *c, const char *v, char *err, size_t n)
{
        if (parse_bool(v, &c->wait_for_clock) < 0) {
                snprintf(err, n, "invalid value '%.32s' for 'wait_for_clock': write yes or no", v);
                return -EINVAL;
        }
        return 0;
}

static const KeyInfo keys[_CONFIG_KEY_MAX] = {
        [CONFIG_ROLE] = {"role", SCOPE_NODE, true, parse_role},
        [CONFIG_HOSTNAME] = {"hostname", SCOPE_NODE, false, parse_hostname},
        [CONFIG_INTERFACE] = {"interface", SCOPE_OVERRIDE, false, parse_interface},
        [CONFIG_INIT] = {"init", SCOPE_NODE, false, parse_init},
        [CONFIG_CLUSTER] = {"cluster", SCOPE_CLUSTER, false, parse_cluster},
        [CONFIG_SECRET] = {"secret", SCOPE_CLUSTER, true, parse_secret},
        [CONFIG_VIP] = {"vip", SCOPE_CLUSTER, false, parse_vip},
        [CONFIG_API_PORT] = {"api_port", SCOPE_CLUSTER, false, parse_api_port},
        [CONFIG_EXCHANGE_PORT] = {"exchange_port", SCOPE_CLUSTER, false, parse_exchange_port},
        [CONFIG_MASTERS] = {"masters", SCOPE_CLUSTER, false, parse_masters},
        [CONFIG_POD_SUBNET] = {"pod_subnet", SCOPE_CLUSTER, false, parse_pod_subnet},
        [CONFIG_SERVICE_SUBNET] = {"service_subnet", SCOPE_CLUSTER, false, parse_service_subnet},
        [CONFIG_KUBERNETES_VERSION] = {"kubernetes_version", SCOPE_CLUSTER, false, parse_kubernetes_version},
        [CONFIG_CNI] = {"cni", SCOPE_CLUSTER, false, parse_cni},
        [CONFIG_NTP] = {"ntp", SCOPE_CLUSTER, false, parse_ntp},
        [CONFIG_WAIT_FOR_CLOCK] = {"wait_for_clock", SCOPE_CLUSTER, false, parse_wait_for_clock},
};

const char *config_key_to_string(ConfigKey k)
{
        return k >= 0 && k < _CONFIG_KEY_MAX ? keys[k].name : NULL;
}

static bool scope_allows(KeyScope scope, bool role_file)
{
        switch (scope) {
        case SCOPE_NODE:
                return role_file;
        case SCOPE_CLUSTER:
                return !role_file;
        case SCOPE_OVERRIDE:
                return true;
        }
        return false;
}

static int config_new_defaults(Config **ret)
{
        _cleanup_config_ Config *c = calloc(1, sizeof *c);
        char err[64];

        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        c->role = _ROLE_INVALID;
        c->cluster = strdup("piagent");
        if (!c->cluster)
                return -ENOMEM;
        /* The reference network: "HA Kubernetes on Raspberry Pi". */
        (void)parse_vip(c, "192.168.3.240/24", err, sizeof err);
        c->api_port = 9000;
        c->exchange_port = 9470;
        c->masters = 3;
        (void)parse_pod_subnet(c, "10.244.0.0/16", err, sizeof err);
        (void)parse_service_subnet(c, "10.96.0.0/12", err, sizeof err);
        c->cni = CNI_FLANNEL;
        c->wait_for_clock = true;
        *ret = TAKE_PTR(c);
        return 0;
}

static int report_unknown_key(DiagList *diags, const KvEntry *e, bool role_file)
{
        const char *file = role_file ? ROLE_FILE : CLUSTER_FILE;
        const char *candidates[_CONFIG_KEY_MAX] = {};

        for (ConfigKey k = 0; k < _CONFIG_KEY_MAX; k++)
                if (scope_allows(keys[k].scope, role_file))
                        candidates[k] = keys[k].name;

        const char *hint = closest_word(e->key, candidates, _CONFIG_KEY_MAX);
        if (!kv_word_is_echoable(e->key, strlen(e->key)))
                /* Never quoted: it may be (part of) a misplaced secret, e.g. base64 with its '=' padding. */
                return diag_add(diags, file, e->line,
                                "unknown key of %zu characters, not shown in case it is part of the secret%s%s%s",
                                strlen(e->key), hint ? " (did you mean '" : "", hint ?: "", hint ? "'?)" : "");
        if (hint)
                return diag_add(diags, file, e->line, "unknown key '%s' (did you mean '%s'?)", e->key, hint);
        return diag_add(diags, file, e->line, "unknown key '%s'", e->key);
}

/* seen: keys present in the files, valid or not, so that an invalid value is not also reported as missing. */
static int apply_entry(Config *c, DiagList *diags, const KvEntry *e, bool role_file, bool seen[static _CONFIG_KEY_MAX])
{
        const char *file = role_file ? ROLE_FILE : CLUSTER_FILE;
        char err[320];
        int r;

        for (ConfigKey k = 0; k < _CONFIG_KEY_MAX; k++) {
                if (!streq(e->key, keys[k].name))
                        continue;
                if (!scope_allows(keys[k].scope, role_file))
                        return diag_add(diags, file, e->line,
                                        role_file ? "'%s' belongs in " CLUSTER_FILE
                                                    " (it must be the same on every node); remove it here"
                                                  : "'%s' belongs in " ROLE_FILE " (each node has its own)",
                                        e->key);
                seen[k] = true;
                if (e->value[0] == 0)
                        return diag_add(diags, file, e->line,
                                        "empty value for '%s'; remove the line to use the default", e->key);
                r = keys[k].parse(c, e->value, err, sizeof err);
                if (r == -EINVAL)
                        return diag_add(diags, file, e->line, "%s", err);
                if (r < 0)
                        return r;
                c->source[k] = (ConfigSource){.file = role_file ? ROLE_FILE : CLUSTER_FILE, .line = e->line};
                return 0;
        }
        return report_unknown_key(diags, e, role_file);
}

/* ret_readable: the file exists and is text (otherwise missing keys are not worth reporting too). */
static int apply_file(Config *c, DiagList *diags, const char *text, size_t size, bool role_file,
                      bool seen[static _CONFIG_KEY_MAX], bool *ret_readable)
{
        const char *file = role_file ? ROLE_FILE : CLUSTER_FILE;
        KvParser p;
        int r;

        *ret_readable = false;
        if (!text)
                return diag_add(diags, file, 0, "%s",
                                role_file ? "not found in the boot partition; create it with one line: role=lb, "
                                            "role=master or role=worker"
                                          : "not found in the boot partition; copy cluster.txt from any other node "
                                            "of this cluster (it is the same on all of them)");

        kv_parser_init(&p, file, role_file ? "role" : NULL, diags);
        r = kv_parser_feed(&p, text, size);
        *ret_readable = !p.not_text;
        /* Entries of a role.txt override those of cluster.txt: apply cluster.txt first (see config_parse). */
        for (size_t i = 0; r >= 0 && i < p.n_entries; i++)
                r = apply_entry(c, diags, &p.entries[i], role_file, seen);
        kv_parser_done(&p);
        return r;
}

static int check_required(DiagList *diags, bool have_role_file, bool have_cluster_file,
                          const bool seen[static _CONFIG_KEY_MAX])
{
        int r = 0;

        if (have_role_file && !seen[CONFIG_ROLE])
                r = diag_add(diags, ROLE_FILE, 0, "no role set; write one of: role=lb, role=master, role=worker");
        if (r >= 0 && have_cluster_file && !seen[CONFIG_SECRET])
                r = diag_add(diags, CLUSTER_FILE, 0,
                             "required key 'secret' is missing; generate one with 'piagent secret' and put the same "
                             "line on every node");
        return r;
}

static int check_consistency(Config *c, DiagList *diags)
{
        char a[IPV4_CIDR_STRLEN], b[IPV4_CIDR_STRLEN];
        int r = 0;

        if (c->init && c->role != ROLE_MASTER && c->source[CONFIG_ROLE].file)
                r = diag_add(diags, ROLE_FILE, c->source[CONFIG_INIT].line,
                             "init=yes only applies to a master (this node is %s); remove it", role_to_string(c->role));
        if (r >= 0 && c->api_port == c->exchange_port)
                r = diag_add(diags, CLUSTER_FILE,
                             c->source[CONFIG_EXCHANGE_PORT].line ?: c->source[CONFIG_API_PORT].line,
                             "api_port and exchange_port are both %u; they must differ", c->api_port);
        if (r >= 0 && ipv4_cidr_overlap(&c->pod_subnet, &c->service_subnet))
                r = diag_add(diags, CLUSTER_FILE,
                             c->source[CONFIG_SERVICE_SUBNET].line ?: c->source[CONFIG_POD_SUBNET].line,
                             "pod_subnet %s and service_subnet %s overlap; they must be separate",
                             ipv4_cidr_format(&c->pod_subnet, a), ipv4_cidr_format(&c->service_subnet, b));
        if (r >= 0 &&
            (ipv4_cidr_contains(&c->pod_subnet, c->vip.addr) || ipv4_cidr_contains(&c->service_subnet, c->vip.addr)))
                r = diag_add(diags, CLUSTER_FILE, c->source[CONFIG_VIP].line,
                             "vip %s lies inside the pod or service subnet; pick an address of your LAN",
                             ipv4_cidr_format(&c->vip, a));
        return r;
}

int config_parse(const char *role_txt, size_t role_size, const char *cluster_txt, size_t cluster_size, DiagList *diags,
                 Config **ret)
{
        _cleanup_config_ Config *c = NULL;
        size_t before = diag_count(diags);
        bool seen[_CONFIG_KEY_MAX] = {}, role_readable, cluster_readable;
        int r;

        r = config_new_defaults(&c);
        if (r < 0)
                return r;

        r = apply_file(c, diags, cluster_txt, cluster_size, false, seen, &cluster_readable);
        if (r < 0)
                return r;
        r = apply_file(c, diags, role_txt, role_size, true, seen, &role_readable);
        if (r < 0)
                return r;
        r = check_required(diags, role_readable, cluster_readable, seen);
        if (r < 0)
                return r;
        if (diag_count(diags) == before) {
                r = check_consistency(c, diags);
                if (r < 0)
                        return r;
        }

        if (diag_count(diags) != before)
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}

Config *config_ref(Config *c)
{
        if (c) {
                assert(c->n_ref > 0);
                c->n_ref++;
        }
        return c;
}

Config *config_unref(Config *c)
{
        if (!c)
                return NULL;
        assert(c->n_ref > 0);
        if (--c->n_ref > 0)
                return NULL;
        free(c->hostname);
        free(c->interface);
        free(c->cluster);
        erase_and_free(c->secret);
        free(c->kubernetes_version);
        free(c->ntp);
        free(c);
        return NULL;
}

static bool cidr_equal(const Ipv4Cidr *a, const Ipv4Cidr *b)
{
        return a->addr.s_addr == b->addr.s_addr && a->prefix == b->prefix;
}

bool config_equal(const Config *a, const Config *b)
{
        return a->role == b->role && streq_ptr(a->hostname, b->hostname) && streq_ptr(a->interface, b->interface) &&
               a->init == b->init && streq_ptr(a->cluster, b->cluster) && streq_ptr(a->secret, b->secret) &&
               cidr_equal(&a->vip, &b->vip) && a->api_port == b->api_port && a->exchange_port == b->exchange_port &&
               a->masters == b->masters && cidr_equal(&a->pod_subnet, &b->pod_subnet) &&
               cidr_equal(&a->service_subnet, &b->service_subnet) &&
               streq_ptr(a->kubernetes_version, b->kubernetes_version) && a->cni == b->cni &&
               streq_ptr(a->ntp, b->ntp) && a->wait_for_clock == b->wait_for_clock;
}
