/* SPDX-License-Identifier: MIT */

#include "exchange-msg.h"
#include "json.h"
#include "macro.h"
#include "secret.h"

#define CA_PEM_MAX     16384
#define KUBECONFIG_MAX 24576 /* admin.conf: a CA, a client certificate and its key, base64 (~6 KiB with RSA-2048) */
#define CA_PEM_BEGIN   "-----BEGIN CERTIFICATE-----"
#define ENDPOINT_MAX   261 /* a 253-character DNS name, ':', a port */

static bool has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Secret-bearing trees are wiped before they are freed. Our messages are flat: one level suffices. */
static void json_wipe_delete(cJSON *v)
{
        if (!v)
                return;
        for (cJSON *c = v->child; c; c = c->next)
                if (cJSON_IsString(c) && c->valuestring)
                        erase(c->valuestring, strlen(c->valuestring));
        cJSON_Delete(v);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(cJSON *, json_wipe_delete);

/* Parses one flat object of protocol version 1 whose keys are all in allowed (NULL-terminated), each once. */
static int parse_object(const char *text, size_t size, size_t max_size, const char *const *allowed, cJSON **ret)
{
        _cleanup_(json_wipe_deletep) cJSON *v = NULL;
        uint64_t version;
        int r;

        r = json_parse_untrusted(text, size, max_size, EXCHANGE_JSON_DEPTH, &v);
        if (r < 0)
                return r;
        if (!cJSON_IsObject(v))
                return -EINVAL;
        r = json_get_uint(v, "v", UINT32_MAX, &version);
        if (r < 0)
                return -EINVAL;
        if (version != EXCHANGE_VERSION)
                return -EPROTONOSUPPORT;

        /* Our largest object has 10 members: more is junk, and the pairwise check below stays cheap. */
        if (cJSON_GetArraySize(v) > 16)
                return -EINVAL;
        for (const cJSON *c = v->child; c; c = c->next) {
                bool known = false;
                if (!c->string)
                        return -EINVAL;
                for (size_t i = 0; allowed[i] && !known; i++)
                        known = streq(c->string, allowed[i]);
                if (!known)
                        return -EINVAL;
                for (const cJSON *d = c->next; d; d = d->next)
                        if (d->string && streq(c->string, d->string))
                                return -EINVAL;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

static int get_hex(const cJSON *o, const char *key, uint8_t *out, size_t size)
{
        const char *s;
        int r;

        r = json_get_string(o, key, 2 * size, &s);
        if (r < 0)
                return -EINVAL;
        return exchange_hex_decode(s, strlen(s), out, size);
}

/* An optional enum field: absent is NONE, present must name a value other than NONE. */
static int get_optional(const cJSON *o, const char *key, int (*from_string)(const char *), int *ret)
{
        const char *s;
        int r;

        r = json_get_string(o, key, EXCHANGE_TEXT_MAX, &s);
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        if (r < 0 || !*s)
                return -EINVAL;
        r = from_string(s);
        if (r < 0)
                return -EINVAL;
        *ret = r;
        return 0;
}

static int role_from(const char *s)
{
        return exchange_role_from_string(s);
}

static int result_from(const char *s)
{
        return exchange_result_from_string(s);
}

/* Prints and frees obj; the printed text of secret-bearing objects is the caller's to wipe. */
static int print_object(cJSON *obj, char **ret)
{
        _cleanup_(json_wipe_deletep) cJSON *o = obj;
        char *s;

        if (!o)
                return -ENOMEM;
        s = json_print(o);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* A new object {"v":1}. */
static cJSON *object_new(void)
{
        cJSON *o = cJSON_CreateObject();

        if (o && !cJSON_AddNumberToObject(o, "v", EXCHANGE_VERSION)) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

static bool add_string(cJSON *o, const char *key, const char *value)
{
        return cJSON_AddStringToObject(o, key, value) != NULL;
}

static bool add_hex(cJSON *o, const char *key, const uint8_t *data, size_t size)
{
        char hex[2 * 64 + 1];

        if (size > 64)
                return false;
        hex_encode(data, size, hex);
        return add_string(o, key, hex);
}

int exchange_request_to_json(const ExchangeRequest *req, char **ret)
{
        cJSON *o;

        if (exchange_request_check(req) < 0)
                return -EINVAL;
        o = object_new();
        if (o && (!add_string(o, "op", exchange_op_to_string(req->op)) || !add_string(o, "node", req->node) ||
                  (req->role != EXCHANGE_ROLE_NONE && !add_string(o, "role", exchange_role_to_string(req->role))) ||
                  (req->result != EXCHANGE_RESULT_NONE &&
                   !add_string(o, "result", exchange_result_to_string(req->result))) ||
                  !add_hex(o, "server_nonce", req->server_nonce, EXCHANGE_NONCE_SIZE) ||
                  !add_hex(o, "client_nonce", req->client_nonce, EXCHANGE_NONCE_SIZE) ||
                  !add_hex(o, "mac", req->mac, EXCHANGE_MAC_SIZE))) {
                cJSON_Delete(o);
                return -ENOMEM;
        }
        return print_object(o, ret);
}

int exchange_request_from_json(const char *text, size_t size, ExchangeRequest *ret)
{
        static const char *const keys[] = {
                "v", "op", "node", "role", "result", "server_nonce", "client_nonce", "mac", NULL,
        };
        _cleanup_(json_wipe_deletep) cJSON *o = NULL;
        ExchangeRequest req = {.version = EXCHANGE_VERSION};
        const char *op, *node;
        int role, result, r;

        r = parse_object(text, size, EXCHANGE_REQUEST_MAX, keys, &o);
        if (r < 0)
                return r;
        if (json_get_string(o, "op", 16, &op) < 0 || json_get_string(o, "node", EXCHANGE_NODE_MAX, &node) < 0 ||
            get_optional(o, "role", role_from, &role) < 0 || get_optional(o, "result", result_from, &result) < 0 ||
            get_hex(o, "server_nonce", req.server_nonce, EXCHANGE_NONCE_SIZE) < 0 ||
            get_hex(o, "client_nonce", req.client_nonce, EXCHANGE_NONCE_SIZE) < 0 ||
            get_hex(o, "mac", req.mac, EXCHANGE_MAC_SIZE) < 0)
                return -EINVAL;
        req.op = exchange_op_from_string(op);
        req.role = (ExchangeRole)role;
        req.result = (ExchangeResult)result;
        if (!exchange_node_valid(node))
                return -EINVAL;
        strcpy(req.node, node);
        if (exchange_request_check(&req) < 0)
                return -EINVAL;
        *ret = req;
        return 0;
}

int exchange_nonce_to_json(const uint8_t nonce[static EXCHANGE_NONCE_SIZE], char **ret)
{
        cJSON *o = object_new();

        if (o && !add_hex(o, "nonce", nonce, EXCHANGE_NONCE_SIZE)) {
                cJSON_Delete(o);
                return -ENOMEM;
        }
        return print_object(o, ret);
}

int exchange_nonce_from_json(const char *text, size_t size, uint8_t ret[static EXCHANGE_NONCE_SIZE])
{
        static const char *const keys[] = {"v", "nonce", NULL};
        _cleanup_(json_wipe_deletep) cJSON *o = NULL;
        uint8_t nonce[EXCHANGE_NONCE_SIZE];
        int r;

        r = parse_object(text, size, EXCHANGE_REQUEST_MAX, keys, &o);
        if (r < 0)
                return r;
        if (get_hex(o, "nonce", nonce, sizeof nonce) < 0)
                return -EINVAL;
        memcpy(ret, nonce, sizeof nonce);
        return 0;
}

/* Copies n strings (NULL allowed) into one block: *ret_storage owns them, ptrs[i] point into it. */
static int store_strings(const char *const *in, const char **ptrs[], size_t n, char **ret_storage, size_t *ret_size)
{
        size_t total = 0;
        char *storage, *p;

        for (size_t i = 0; i < n; i++)
                total += in[i] ? strlen(in[i]) + 1 : 0;
        storage = p = malloc(MAX(total, 1u));
        if (!storage)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!in[i]) {
                        *ptrs[i] = NULL;
                        continue;
                }
                *ptrs[i] = p;
                p = stpcpy(p, in[i]) + 1;
        }
        *ret_storage = storage;
        if (ret_size)
                *ret_size = total;
        return 0;
}

/* Status texts are shown to people: short, printable, no spaces or quotes. */
static bool text_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > EXCHANGE_TEXT_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-~", s[i]))
                        return false;
        return true;
}

int exchange_status_to_json(const ExchangeStatus *s, char **ret)
{
        cJSON *o;

        if (!s->node || !exchange_node_valid(s->node) || !s->role || !text_valid(s->role) || !s->phase ||
            !text_valid(s->phase) || !s->version || !text_valid(s->version))
                return -EINVAL;
        o = object_new();
        if (o && (!add_string(o, "node", s->node) || !add_string(o, "role", s->role) ||
                  !add_string(o, "phase", s->phase) || !add_string(o, "version", s->version))) {
                cJSON_Delete(o);
                return -ENOMEM;
        }
        return print_object(o, ret);
}

int exchange_status_from_json(const char *text, size_t size, ExchangeStatus *ret)
{
        static const char *const keys[] = {"v", "node", "role", "phase", "version", NULL};
        _cleanup_(json_wipe_deletep) cJSON *o = NULL;
        const char *in[4];
        ExchangeStatus s = {};
        int r;

        r = parse_object(text, size, EXCHANGE_REQUEST_MAX, keys, &o);
        if (r < 0)
                return r;
        if (json_get_string(o, "node", EXCHANGE_NODE_MAX, &in[0]) < 0 || !exchange_node_valid(in[0]) ||
            json_get_string(o, "role", EXCHANGE_TEXT_MAX, &in[1]) < 0 || !text_valid(in[1]) ||
            json_get_string(o, "phase", EXCHANGE_TEXT_MAX, &in[2]) < 0 || !text_valid(in[2]) ||
            json_get_string(o, "version", EXCHANGE_TEXT_MAX, &in[3]) < 0 || !text_valid(in[3]))
                return -EINVAL;
        r = store_strings(in, (const char **[]){&s.node, &s.role, &s.phase, &s.version}, 4, &s.storage, NULL);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

void exchange_status_done(ExchangeStatus *s)
{
        free(s->storage);
        *s = (ExchangeStatus){};
}

int exchange_sealed_to_json(const char *hex, char **ret)
{
        cJSON *o = object_new();

        if (o && !add_string(o, "sealed", hex)) {
                cJSON_Delete(o);
                return -ENOMEM;
        }
        return print_object(o, ret);
}

int exchange_sealed_from_json(const char *text, size_t size, char **ret_hex)
{
        static const char *const keys[] = {"v", "sealed", NULL};
        _cleanup_(json_wipe_deletep) cJSON *o = NULL;
        const char *hex;
        char *copy;
        int r;

        r = parse_object(text, size, EXCHANGE_ANSWER_MAX, keys, &o);
        if (r < 0)
                return r;
        if (json_get_string(o, "sealed", EXCHANGE_ANSWER_MAX, &hex) < 0)
                return -EINVAL;
        copy = strdup(hex);
        if (!copy)
                return -ENOMEM;
        *ret_hex = copy;
        return 0;
}

static bool chars_in(const char *s, size_t n, const char *set)
{
        for (size_t i = 0; i < n; i++)
                if (!s[i] || !strchr(set, s[i]))
                        return false;
        return true;
}

#define LOWER_ALNUM "abcdefghijklmnopqrstuvwxyz0123456789"
#define LOWER_HEX   "0123456789abcdef"

static bool endpoint_valid(const char *s)
{
        const char *colon = strrchr(s, ':');
        size_t host, port;

        if (!colon || strlen(s) > ENDPOINT_MAX)
                return false;
        host = (size_t)(colon - s);
        port = strlen(colon + 1);
        if (host == 0 || host > 253 || !chars_in(s, host, LOWER_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-"))
                return false;
        if (port == 0 || port > 5 || colon[1] == '0' || !chars_in(colon + 1, port, "0123456789"))
                return false;
        return atoi(colon + 1) <= 65535;
}

int exchange_join_material_check(const ExchangeJoinMaterial *m, ExchangeRole role)
{
        const char *t = m->token, *h = m->ca_cert_hash, *k = m->certificate_key;

        if (!m->endpoint || !endpoint_valid(m->endpoint))
                return -EINVAL;
        if (!t || strlen(t) != 23 || !chars_in(t, 6, LOWER_ALNUM) || t[6] != '.' || !chars_in(t + 7, 16, LOWER_ALNUM))
                return -EINVAL;
        if (!h || strlen(h) != 71 || !has_prefix(h, "sha256:") || !chars_in(h + 7, 64, LOWER_HEX))
                return -EINVAL;
        switch (role) {
        case EXCHANGE_ROLE_WORKER:
                return k ? -EINVAL : 0;
        case EXCHANGE_ROLE_CONTROL_PLANE:
                return k && strlen(k) == 64 && chars_in(k, 64, LOWER_HEX) ? 0 : -EINVAL;
        case EXCHANGE_ROLE_NONE:
        case _EXCHANGE_ROLE_MAX:
        case _EXCHANGE_ROLE_INVALID:
                break;
        }
        return -EINVAL;
}

static bool ca_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > CA_PEM_MAX || !has_prefix(s, CA_PEM_BEGIN))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((s[i] < 0x20 || s[i] > 0x7e) && s[i] != '\n' && s[i] != '\r')
                        return false;
        return true;
}

/* A kubeconfig as kubeadm writes it: YAML text starting with its apiVersion. */
static bool kubeconfig_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > KUBECONFIG_MAX || !has_prefix(s, "apiVersion: v1\n"))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((s[i] < 0x20 || s[i] > 0x7e) && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
                        return false;
        return true;
}

int exchange_answer_to_json(const ExchangeAnswer *a, ExchangeRole role, char **ret)
{
        const ExchangeJoinMaterial *m = &a->join;
        bool ok;
        cJSON *o;

        if (!a->server || !exchange_node_valid(a->server))
                return -EINVAL;
        if (a->op == EXCHANGE_OP_JOIN && exchange_join_material_check(m, role) < 0)
                return -EINVAL;
        if (a->op == EXCHANGE_OP_CA && !ca_valid(a->ca))
                return -EINVAL;
        if (a->op == EXCHANGE_OP_KUBECONFIG && !kubeconfig_valid(a->kubeconfig))
                return -EINVAL;
        if (a->op == EXCHANGE_OP_VOTE && a->refusal && (a->granted || !text_valid(a->refusal)))
                return -EINVAL;
        if (!exchange_op_to_string(a->op))
                return -EINVAL;

        o = object_new();
        if (!o)
                return -ENOMEM;
        ok = add_string(o, "op", exchange_op_to_string(a->op)) && add_string(o, "server", a->server);
        switch (a->op) {
        case EXCHANGE_OP_JOIN:
                ok = ok && add_string(o, "endpoint", m->endpoint) && add_string(o, "token", m->token) &&
                     add_string(o, "ca_cert_hash", m->ca_cert_hash) &&
                     (!m->certificate_key || add_string(o, "certificate_key", m->certificate_key));
                break;
        case EXCHANGE_OP_VOTE:
                ok = ok && cJSON_AddBoolToObject(o, "granted", a->granted) &&
                     (!a->refusal || add_string(o, "refusal", a->refusal));
                break;
        case EXCHANGE_OP_CA:
                ok = ok && add_string(o, "ca", a->ca);
                break;
        case EXCHANGE_OP_KUBECONFIG:
                ok = ok && add_string(o, "kubeconfig", a->kubeconfig);
                break;
        case EXCHANGE_OP_JOINED:
        case EXCHANGE_OP_READY:
        case _EXCHANGE_OP_MAX:
        case _EXCHANGE_OP_INVALID:
                break;
        }
        if (!ok) {
                json_wipe_delete(o);
                return -ENOMEM;
        }
        return print_object(o, ret);
}

static int answer_join(const cJSON *o, ExchangeRole role, ExchangeAnswer *a)
{
        ExchangeJoinMaterial m = {};
        int r;

        if (json_get_string(o, "endpoint", ENDPOINT_MAX, &m.endpoint) < 0 ||
            json_get_string(o, "token", 23, &m.token) < 0 ||
            json_get_string(o, "ca_cert_hash", 71, &m.ca_cert_hash) < 0)
                return -EINVAL;
        r = json_get_string(o, "certificate_key", 64, &m.certificate_key);
        if (r < 0 && r != -ENOENT)
                return -EINVAL;
        if (exchange_join_material_check(&m, role) < 0)
                return -EINVAL;
        a->join = m;
        return 0;
}

static int answer_vote(const cJSON *o, ExchangeAnswer *a)
{
        int r;

        if (json_get_bool(o, "granted", &a->granted) < 0)
                return -EINVAL;
        r = json_get_string(o, "refusal", EXCHANGE_TEXT_MAX, &a->refusal);
        if (r == -ENOENT)
                return 0;
        return r < 0 || a->granted || !text_valid(a->refusal) ? -EINVAL : 0;
}

int exchange_answer_from_json(const char *text, size_t size, ExchangeOp op, ExchangeRole role, ExchangeAnswer *ret)
{
        static const char *const keys[] = {
                "v",       "op",      "server", "endpoint",   "token", "ca_cert_hash", "certificate_key",
                "granted", "refusal", "ca",     "kubeconfig", NULL,
        };
        _cleanup_(json_wipe_deletep) cJSON *o = NULL;
        ExchangeAnswer a = {.op = op};
        const char *s;
        int r;

        r = parse_object(text, size, EXCHANGE_PLAIN_MAX, keys, &o);
        if (r < 0)
                return r;
        if (json_get_string(o, "op", 16, &s) < 0 || exchange_op_from_string(s) != op ||
            json_get_string(o, "server", EXCHANGE_NODE_MAX, &a.server) < 0 || !exchange_node_valid(a.server))
                return -EINVAL;

        switch (op) {
        case EXCHANGE_OP_JOIN:
                r = answer_join(o, role, &a);
                break;
        case EXCHANGE_OP_VOTE:
                r = answer_vote(o, &a);
                break;
        case EXCHANGE_OP_CA:
                r = json_get_string(o, "ca", CA_PEM_MAX, &a.ca) < 0 || !ca_valid(a.ca) ? -EINVAL : 0;
                break;
        case EXCHANGE_OP_KUBECONFIG:
                r = json_get_string(o, "kubeconfig", KUBECONFIG_MAX, &a.kubeconfig) < 0 ||
                                    !kubeconfig_valid(a.kubeconfig)
                            ? -EINVAL
                            : 0;
                break;
        case EXCHANGE_OP_JOINED:
        case EXCHANGE_OP_READY:
                r = 0;
                break;
        case _EXCHANGE_OP_MAX:
        case _EXCHANGE_OP_INVALID:
                r = -EINVAL;
                break;
        }
        if (r < 0)
                return r;
        /* No field that does not belong to the operation. */
        if (cJSON_GetArraySize(o) != 3 + (op == EXCHANGE_OP_JOIN ? 3 + !!a.join.certificate_key : 0) +
                                             (op == EXCHANGE_OP_VOTE ? 1 + !!a.refusal : 0) + (op == EXCHANGE_OP_CA) +
                                             (op == EXCHANGE_OP_KUBECONFIG))
                return -EINVAL;

        r = store_strings((const char *const[]){a.server, a.join.endpoint, a.join.token, a.join.ca_cert_hash,
                                                a.join.certificate_key, a.ca, a.refusal, a.kubeconfig},
                          (const char **[]){&a.server, &a.join.endpoint, &a.join.token, &a.join.ca_cert_hash,
                                            &a.join.certificate_key, &a.ca, &a.refusal, &a.kubeconfig},
                          8, &a.storage, &a.storage_size);
        if (r < 0)
                return r;
        *ret = a;
        return 0;
}

void exchange_answer_done(ExchangeAnswer *a)
{
        erase(a->storage, a->storage_size);
        free(a->storage);
        *a = (ExchangeAnswer){};
}
