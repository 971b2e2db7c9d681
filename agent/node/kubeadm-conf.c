/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>

#include "json.h"
#include "kubeadm-conf.h"

#define CRI_SOCKET     "unix:///run/containerd/containerd.sock"
#define INIT_TOKEN_TTL "30m0s"
#define APISERVER_PORT 6443
/* How long kubeadm waits for the control-plane components (kubeadm's default: 4 min). A Pi on an SD card starts
 * etcd and the apiserver while fsync stalls for hundreds of milliseconds: minutes, not seconds. */
#define CONTROL_PLANE_WAIT "10m0s"

static const char *const api_names[_KUBEADM_API_MAX] = {
        [KUBEADM_V1BETA3] = "kubeadm.k8s.io/v1beta3",
        [KUBEADM_V1BETA4] = "kubeadm.k8s.io/v1beta4",
};

const char *kubeadm_api_to_string(KubeadmApi api)
{
        return api >= 0 && api < _KUBEADM_API_MAX ? api_names[api] : NULL;
}

int kubeadm_api_from_version(const char *version, KubeadmApi *ret)
{
        unsigned major, minor;
        int n = 0;

        if (!version || version[0] != 'v' || sscanf(version + 1, "%u.%u%n", &major, &minor, &n) != 2 || n == 0)
                return -EINVAL;
        if (major != 1)
                return -EINVAL;
        *ret = minor >= 31 ? KUBEADM_V1BETA4 : KUBEADM_V1BETA3;
        return 0;
}

int kubeadm_version_skew_check(const char *kubeadm, const char *wanted, char *msg, size_t size)
{
        unsigned am, an, wm, wn;

        if (!kubeadm || !wanted || sscanf(kubeadm, "v%u.%u", &am, &an) != 2 || sscanf(wanted, "v%u.%u", &wm, &wn) != 2)
                return -EINVAL;
        if (am == wm && wn + 1 >= an && wn <= an)
                return 0;
        snprintf(msg, size,
                 "cluster.txt asks for kubernetes_version=%s, but the installed kubeadm %s sets up %u.%u or %u.%u "
                 "only: set kubernetes_version=auto (the installed release) or one of those, or install kubeadm, "
                 "kubelet and kubectl %u.%u",
                 wanted, kubeadm, am, an > 0 ? an - 1 : 0, am, an, wm, wn);
        return -ERANGE;
}

static bool all_of(const char *s, size_t n, int (*pred)(int))
{
        for (size_t i = 0; i < n; i++)
                if (!pred((unsigned char)s[i]))
                        return false;
        return true;
}

static int is_lower_alnum(int c)
{
        return islower(c) || isdigit(c);
}

static int is_lower_hex(int c)
{
        return isdigit(c) || (c >= 'a' && c <= 'f');
}

bool kubeadm_token_is_valid(const char *t)
{
        return t && strlen(t) == 23 && t[6] == '.' && all_of(t, 6, is_lower_alnum) && all_of(t + 7, 16, is_lower_alnum);
}

bool kubeadm_certificate_key_is_valid(const char *k)
{
        return k && strlen(k) == 64 && all_of(k, 64, is_lower_hex);
}

/* A Kubernetes version as kubeadm and cluster.txt give it: "v1.31.2", maybe with a suffix ("-rc.1", "+k3s1"). It
 * may come from a subprocess's output, so it is checked here too: nothing else goes into the documents. */
static bool version_is_valid(const char *v)
{
        size_t n = v ? strlen(v) : 0;

        if (n < 2 || n > 32 || v[0] != 'v' || !isdigit((unsigned char)v[1]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!isalnum((unsigned char)v[i]) && !strchr(".+-", v[i]))
                        return false;
        return true;
}

bool kubeadm_ca_hash_is_valid(const char *h)
{
        return h && strlen(h) == 71 && strncmp(h, "sha256:", 7) == 0 && all_of(h + 7, 64, is_lower_hex);
}

/* Node names: RFC 1123 labels, as the agent's hostnames are. */
static bool name_is_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '-')
                        return false;
        return true;
}

/* kubelet/etcd extra arguments: a map in v1beta3, a list of {name, value} in v1beta4. */
static cJSON *extra_args(KubeadmApi api, const char *const *kv)
{
        cJSON *o = api == KUBEADM_V1BETA3 ? cJSON_CreateObject() : cJSON_CreateArray();

        for (size_t i = 0; o && kv[i] && kv[i + 1]; i += 2) {
                if (api == KUBEADM_V1BETA3) {
                        if (!cJSON_AddStringToObject(o, kv[i], kv[i + 1]))
                                goto fail;
                } else {
                        cJSON *arg = cJSON_CreateObject();
                        if (!arg || !cJSON_AddStringToObject(arg, "name", kv[i]) ||
                            !cJSON_AddStringToObject(arg, "value", kv[i + 1]) || !cJSON_AddItemToArray(o, arg)) {
                                cJSON_Delete(arg);
                                goto fail;
                        }
                }
        }
        return o;
fail:
        cJSON_Delete(o);
        return NULL;
}

static cJSON *node_registration(KubeadmApi api, const char *name, const char *node_ip)
{
        cJSON *o = cJSON_CreateObject();
        cJSON *args = extra_args(api, (const char *const[]){"node-ip", node_ip, NULL});

        if (!o || !args || !cJSON_AddStringToObject(o, "name", name) ||
            !cJSON_AddStringToObject(o, "criSocket", CRI_SOCKET) ||
            !cJSON_AddItemToObject(o, "kubeletExtraArgs", args)) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

static cJSON *local_endpoint(const char *address)
{
        cJSON *o = cJSON_CreateObject();

        if (!o || !cJSON_AddStringToObject(o, "advertiseAddress", address) ||
            !cJSON_AddNumberToObject(o, "bindPort", APISERVER_PORT)) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

/* v1beta4's {Init,Join}Configuration.timeouts (v1beta3 has ClusterConfiguration.apiServer.timeoutForControlPlane). */
static bool add_timeouts(cJSON *o)
{
        cJSON *t = cJSON_CreateObject();

        if (!t || !cJSON_AddStringToObject(t, "controlPlaneComponentHealthCheck", CONTROL_PLANE_WAIT) ||
            !cJSON_AddItemToObject(o, "timeouts", t)) {
                cJSON_Delete(t);
                return false;
        }
        return true;
}

static cJSON *document(KubeadmApi api, const char *kind)
{
        cJSON *o = cJSON_CreateObject();

        if (!o || !cJSON_AddStringToObject(o, "apiVersion", kubeadm_api_to_string(api)) ||
            !cJSON_AddStringToObject(o, "kind", kind)) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

/* Joins documents with "---" lines; takes ownership of none. */
static int join_documents(cJSON *const *docs, size_t n, char **ret)
{
        char *out = NULL;
        size_t len = 0;

        for (size_t i = 0; i < n; i++) {
                /* One line per document: YAML forbids the tabs cJSON indents with. */
                _cleanup_free_ char *s = cJSON_PrintUnformatted(docs[i]);
                if (!s) {
                        free(out);
                        return -ENOMEM;
                }
                size_t add = strlen(s) + 5;
                char *p = realloc(out, len + add + 1);
                if (!p) {
                        free(out);
                        return -ENOMEM;
                }
                out = p;
                len += (size_t)sprintf(out + len, "%s%s\n", i > 0 ? "---\n" : "", s);
        }
        *ret = out;
        return 0;
}

/* obj[key] = [strings…]; false on OOM (nothing leaked). */
static bool add_strings(cJSON *obj, const char *key, const char *const *strv)
{
        cJSON *a = cJSON_CreateArray();

        for (size_t i = 0; a && strv[i]; i++) {
                cJSON *s = cJSON_CreateString(strv[i]);
                if (!s || !cJSON_AddItemToArray(a, s)) {
                        cJSON_Delete(s);
                        cJSON_Delete(a);
                        return false;
                }
        }
        if (!a || !cJSON_AddItemToObject(obj, key, a)) {
                cJSON_Delete(a);
                return false;
        }
        return true;
}

static cJSON *bootstrap_tokens(const char *token)
{
        cJSON *list = cJSON_CreateArray(), *t = cJSON_CreateObject();

        if (!list || !t || !cJSON_AddItemToArray(list, t)) {
                cJSON_Delete(list);
                cJSON_Delete(t);
                return NULL;
        }
        /* t belongs to list from here on. */
        if (!cJSON_AddStringToObject(t, "token", token) || !cJSON_AddStringToObject(t, "ttl", INIT_TOKEN_TTL) ||
            !add_strings(t, "usages", (const char *const[]){"signing", "authentication", NULL}) ||
            !add_strings(t, "groups", (const char *const[]){"system:bootstrappers:kubeadm:default-node-token", NULL})) {
                cJSON_Delete(list);
                return NULL;
        }
        return list;
}

static cJSON *init_configuration(const KubeadmInitParams *p, const char *address)
{
        cJSON *o = document(p->api, "InitConfiguration");
        cJSON *tokens = bootstrap_tokens(p->token);
        cJSON *reg = node_registration(p->api, p->node_name, address);
        cJSON *ep = local_endpoint(address);

        if (!o || !tokens || !reg || !ep)
                goto fail;
        cJSON_AddItemToObject(o, "bootstrapTokens", tokens);
        cJSON_AddItemToObject(o, "nodeRegistration", reg);
        cJSON_AddItemToObject(o, "localAPIEndpoint", ep);
        if (!cJSON_AddStringToObject(o, "certificateKey", p->certificate_key) ||
            (p->api == KUBEADM_V1BETA4 && !add_timeouts(o))) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
fail:
        cJSON_Delete(o);
        cJSON_Delete(tokens);
        cJSON_Delete(reg);
        cJSON_Delete(ep);
        return NULL;
}

static cJSON *cluster_configuration(const KubeadmInitParams *p)
{
        char vip[INET_ADDRSTRLEN], endpoint[INET_ADDRSTRLEN + 8], pods[IPV4_CIDR_STRLEN], services[IPV4_CIDR_STRLEN];
        const Config *c = p->config;
        cJSON *o = document(p->api, "ClusterConfiguration");
        cJSON *net = cJSON_CreateObject(), *api = cJSON_CreateObject();
        cJSON *etcd = cJSON_CreateObject(), *local = cJSON_CreateObject();
        /* SD cards stall fsync for hundreds of milliseconds: etcd's defaults (100 ms / 1 s) cause needless
         * leader elections on a Pi. */
        cJSON *etcd_args = extra_args(
                p->api, (const char *const[]){"heartbeat-interval", "250", "election-timeout", "2500", NULL});

        inet_ntop(AF_INET, &c->vip.addr, vip, sizeof vip);
        snprintf(endpoint, sizeof endpoint, "%s:%u", vip, c->api_port);
        if (!o || !net || !api || !etcd || !local || !etcd_args ||
            !add_strings(api, "certSANs", (const char *const[]){vip, NULL}) ||
            (p->api == KUBEADM_V1BETA3 && !cJSON_AddStringToObject(api, "timeoutForControlPlane", CONTROL_PLANE_WAIT)))
                goto fail;
        if (!cJSON_AddStringToObject(o, "clusterName", c->cluster) ||
            !cJSON_AddStringToObject(o, "kubernetesVersion", p->kubernetes_version) ||
            !cJSON_AddStringToObject(o, "controlPlaneEndpoint", endpoint) ||
            !cJSON_AddStringToObject(net, "podSubnet", ipv4_cidr_format(&c->pod_subnet, pods)) ||
            !cJSON_AddStringToObject(net, "serviceSubnet", ipv4_cidr_format(&c->service_subnet, services)))
                goto fail;
        cJSON_AddItemToObject(o, "networking", net);
        net = NULL;
        cJSON_AddItemToObject(o, "apiServer", api);
        api = NULL;
        cJSON_AddItemToObject(local, "extraArgs", etcd_args);
        etcd_args = NULL;
        cJSON_AddItemToObject(etcd, "local", local);
        local = NULL;
        cJSON_AddItemToObject(o, "etcd", etcd);
        return o;
fail:
        cJSON_Delete(o);
        cJSON_Delete(net);
        cJSON_Delete(api);
        cJSON_Delete(etcd);
        cJSON_Delete(local);
        cJSON_Delete(etcd_args);
        return NULL;
}

static cJSON *kubelet_configuration(void)
{
        cJSON *o = cJSON_CreateObject();

        if (!o || !cJSON_AddStringToObject(o, "apiVersion", "kubelet.config.k8s.io/v1beta1") ||
            !cJSON_AddStringToObject(o, "kind", "KubeletConfiguration") ||
            !cJSON_AddStringToObject(o, "cgroupDriver", "systemd")) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

int kubeadm_init_conf_render(const KubeadmInitParams *p, char **ret)
{
        char address[INET_ADDRSTRLEN];
        cJSON *docs[3] = {};
        int r = -ENOMEM;

        if (p->api < 0 || p->api >= _KUBEADM_API_MAX || !name_is_valid(p->node_name) ||
            !kubeadm_token_is_valid(p->token) || !kubeadm_certificate_key_is_valid(p->certificate_key) ||
            !version_is_valid(p->kubernetes_version))
                return -EINVAL;
        inet_ntop(AF_INET, &p->advertise_address, address, sizeof address);

        docs[0] = init_configuration(p, address);
        docs[1] = cluster_configuration(p);
        docs[2] = kubelet_configuration();
        if (docs[0] && docs[1] && docs[2])
                r = join_documents(docs, 3, ret);
        for (size_t i = 0; i < 3; i++)
                cJSON_Delete(docs[i]);
        return r;
}

static cJSON *join_configuration(const KubeadmJoinParams *p, const char *address)
{
        char vip[INET_ADDRSTRLEN], endpoint[INET_ADDRSTRLEN + 8];
        cJSON *o = document(p->api, "JoinConfiguration");
        cJSON *discovery = cJSON_CreateObject(), *bt = cJSON_CreateObject();
        cJSON *reg = node_registration(p->api, p->node_name, address);
        cJSON *cp = NULL;

        inet_ntop(AF_INET, &p->config->vip.addr, vip, sizeof vip);
        snprintf(endpoint, sizeof endpoint, "%s:%u", vip, p->config->api_port);
        if (!o || !discovery || !bt || !reg)
                goto fail;
        if (!cJSON_AddStringToObject(bt, "apiServerEndpoint", endpoint) ||
            !cJSON_AddStringToObject(bt, "token", p->token) ||
            !add_strings(bt, "caCertHashes", (const char *const[]){p->ca_hash, NULL}))
                goto fail;
        cJSON_AddItemToObject(discovery, "bootstrapToken", bt);
        bt = NULL;
        cJSON_AddItemToObject(o, "discovery", discovery);
        discovery = NULL;
        cJSON_AddItemToObject(o, "nodeRegistration", reg);
        reg = NULL;
        if (p->control_plane) {
                cp = cJSON_CreateObject();
                cJSON *ep = local_endpoint(address);
                if (!cp || !ep || !cJSON_AddItemToObject(cp, "localAPIEndpoint", ep) ||
                    !cJSON_AddStringToObject(cp, "certificateKey", p->certificate_key)) {
                        cJSON_Delete(ep);
                        goto fail;
                }
                cJSON_AddItemToObject(o, "controlPlane", cp);
                cp = NULL;
                if (p->api == KUBEADM_V1BETA4 && !add_timeouts(o))
                        goto fail;
        }
        return o;
fail:
        cJSON_Delete(o);
        cJSON_Delete(discovery);
        cJSON_Delete(bt);
        cJSON_Delete(reg);
        cJSON_Delete(cp);
        return NULL;
}

int kubeadm_join_conf_render(const KubeadmJoinParams *p, char **ret)
{
        char address[INET_ADDRSTRLEN];
        cJSON *docs[2] = {};
        int r = -ENOMEM;

        if (p->api < 0 || p->api >= _KUBEADM_API_MAX || !name_is_valid(p->node_name) ||
            !kubeadm_token_is_valid(p->token) || !kubeadm_ca_hash_is_valid(p->ca_hash) ||
            (p->control_plane && !kubeadm_certificate_key_is_valid(p->certificate_key)))
                return -EINVAL;
        inet_ntop(AF_INET, &p->advertise_address, address, sizeof address);

        docs[0] = join_configuration(p, address);
        docs[1] = kubelet_configuration();
        if (docs[0] && docs[1])
                r = join_documents(docs, 2, ret);
        for (size_t i = 0; i < 2; i++)
                cJSON_Delete(docs[i]);
        return r;
}
