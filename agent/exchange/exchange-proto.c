/* SPDX-License-Identifier: MIT */

#include "exchange-proto.h"
#include "crypto.h"
#include "macro.h"
#include "secret.h"

#define TRANSCRIPT_LABEL "piagent-exchange" /* written with its NUL */
#define MAC_SALT         "piagent-exchange-v1"

static const char *const op_names[_EXCHANGE_OP_MAX] = {
        [EXCHANGE_OP_JOIN] = "join",
        [EXCHANGE_OP_VOTE] = "vote",
        [EXCHANGE_OP_CA] = "ca",
        [EXCHANGE_OP_JOINED] = "joined",
        [EXCHANGE_OP_KUBECONFIG] = "kubeconfig",
        [EXCHANGE_OP_READY] = "ready",
};

static const char *const role_names[_EXCHANGE_ROLE_MAX] = {
        [EXCHANGE_ROLE_NONE] = "",
        [EXCHANGE_ROLE_WORKER] = "worker",
        [EXCHANGE_ROLE_CONTROL_PLANE] = "control-plane",
};

static const char *const result_names[_EXCHANGE_RESULT_MAX] = {
        [EXCHANGE_RESULT_NONE] = "",
        [EXCHANGE_RESULT_OK] = "ok",
        [EXCHANGE_RESULT_FAILED] = "failed",
};

static int lookup(const char *const *names, int n, const char *s)
{
        if (!s)
                return -EINVAL;
        for (int i = 0; i < n; i++)
                if (streq(names[i], s))
                        return i;
        return -EINVAL;
}

const char *exchange_op_to_string(ExchangeOp op)
{
        return op >= 0 && op < _EXCHANGE_OP_MAX ? op_names[op] : NULL;
}

ExchangeOp exchange_op_from_string(const char *s)
{
        return (ExchangeOp)lookup(op_names, _EXCHANGE_OP_MAX, s);
}

const char *exchange_role_to_string(ExchangeRole r)
{
        return r >= 0 && r < _EXCHANGE_ROLE_MAX ? role_names[r] : NULL;
}

ExchangeRole exchange_role_from_string(const char *s)
{
        return (ExchangeRole)lookup(role_names, _EXCHANGE_ROLE_MAX, s);
}

const char *exchange_result_to_string(ExchangeResult r)
{
        return r >= 0 && r < _EXCHANGE_RESULT_MAX ? result_names[r] : NULL;
}

ExchangeResult exchange_result_from_string(const char *s)
{
        return (ExchangeResult)lookup(result_names, _EXCHANGE_RESULT_MAX, s);
}

bool exchange_node_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > EXCHANGE_NODE_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_'))
                        return false;
        }
        return true;
}

int exchange_request_check(const ExchangeRequest *req)
{
        bool role_set, result_set;

        if (req->version != EXCHANGE_VERSION || !exchange_node_valid(req->node) || !exchange_op_to_string(req->op) ||
            !exchange_role_to_string(req->role) || !exchange_result_to_string(req->result))
                return -EINVAL;
        role_set = req->role != EXCHANGE_ROLE_NONE;
        result_set = req->result != EXCHANGE_RESULT_NONE;

        switch (req->op) {
        case EXCHANGE_OP_JOIN:
                return role_set && !result_set ? 0 : -EINVAL;
        case EXCHANGE_OP_JOINED:
                return role_set && result_set ? 0 : -EINVAL;
        case EXCHANGE_OP_VOTE:
        case EXCHANGE_OP_CA:
        case EXCHANGE_OP_KUBECONFIG:
        case EXCHANGE_OP_READY:
                return !role_set && !result_set ? 0 : -EINVAL;
        case _EXCHANGE_OP_MAX:
        case _EXCHANGE_OP_INVALID:
                break;
        }
        return -EINVAL;
}

static uint8_t *put_lp(uint8_t *p, const char *s)
{
        size_t n = strlen(s);

        *p++ = (uint8_t)n;
        memcpy(p, s, n);
        return p + n;
}

int exchange_transcript(const ExchangeRequest *req, uint8_t buf[static EXCHANGE_TRANSCRIPT_MAX], size_t *ret_size)
{
        uint8_t *p = buf;

        if (exchange_request_check(req) < 0)
                return -EINVAL;

        memcpy(p, TRANSCRIPT_LABEL, sizeof TRANSCRIPT_LABEL);
        p += sizeof TRANSCRIPT_LABEL;
        *p++ = (uint8_t)req->version;
        memcpy(p, req->server_nonce, EXCHANGE_NONCE_SIZE);
        p += EXCHANGE_NONCE_SIZE;
        memcpy(p, req->client_nonce, EXCHANGE_NONCE_SIZE);
        p += EXCHANGE_NONCE_SIZE;
        p = put_lp(p, exchange_op_to_string(req->op));
        p = put_lp(p, req->node);
        p = put_lp(p, exchange_role_to_string(req->role));
        p = put_lp(p, exchange_result_to_string(req->result));

        *ret_size = (size_t)(p - buf);
        return 0;
}

int exchange_mac_key(const char *secret, uint8_t ret[static EXCHANGE_KEY_SIZE])
{
        return crypto_hkdf_sha256(secret, strlen(secret), MAC_SALT, strlen(MAC_SALT), "request-mac", ret,
                                  EXCHANGE_KEY_SIZE);
}

int exchange_answer_key(const char *secret, const uint8_t server_nonce[static EXCHANGE_NONCE_SIZE],
                        const uint8_t client_nonce[static EXCHANGE_NONCE_SIZE], uint8_t ret[static EXCHANGE_KEY_SIZE])
{
        uint8_t salt[2 * EXCHANGE_NONCE_SIZE];

        memcpy(salt, server_nonce, EXCHANGE_NONCE_SIZE);
        memcpy(salt + EXCHANGE_NONCE_SIZE, client_nonce, EXCHANGE_NONCE_SIZE);
        return crypto_hkdf_sha256(secret, strlen(secret), salt, sizeof salt, "answer-seal", ret, EXCHANGE_KEY_SIZE);
}

static int request_mac(const uint8_t mac_key[static EXCHANGE_KEY_SIZE], const ExchangeRequest *req,
                       uint8_t out[static EXCHANGE_MAC_SIZE])
{
        uint8_t t[EXCHANGE_TRANSCRIPT_MAX];
        size_t n;
        int r;

        r = exchange_transcript(req, t, &n);
        if (r < 0)
                return r;
        return crypto_hmac_sha256(mac_key, EXCHANGE_KEY_SIZE, t, n, out);
}

int exchange_request_sign(const uint8_t mac_key[static EXCHANGE_KEY_SIZE], ExchangeRequest *req)
{
        return request_mac(mac_key, req, req->mac);
}

int exchange_request_verify(const uint8_t mac_key[static EXCHANGE_KEY_SIZE], const ExchangeRequest *req)
{
        uint8_t expected[EXCHANGE_MAC_SIZE];
        int r;

        r = request_mac(mac_key, req, expected);
        if (r < 0)
                return r;
        return crypto_memcmp(expected, req->mac, EXCHANGE_MAC_SIZE) == 0 ? 0 : -EBADMSG;
}

int exchange_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t size)
{
        if (hex_len != 2 * size)
                return -EINVAL;
        for (size_t i = 0; i < hex_len; i++) {
                char c = hex[i];
                int v = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
                if (v < 0)
                        return -EINVAL;
                if (i % 2 == 0)
                        out[i / 2] = (uint8_t)(v << 4);
                else
                        out[i / 2] |= (uint8_t)v;
        }
        return 0;
}

int exchange_seal(const uint8_t key[static EXCHANGE_KEY_SIZE], const uint8_t iv[static EXCHANGE_IV_SIZE],
                  const ExchangeRequest *req, const char *plain, size_t size, char **ret_hex)
{
        uint8_t t[EXCHANGE_TRANSCRIPT_MAX];
        _cleanup_free_ uint8_t *box = NULL;
        size_t n, box_size = EXCHANGE_IV_SIZE + size + CRYPTO_AEAD_TAG_SIZE;
        char *hex;
        int r;

        if (size > EXCHANGE_PLAIN_MAX)
                return -E2BIG;
        r = exchange_transcript(req, t, &n);
        if (r < 0)
                return r;
        box = malloc(box_size);
        hex = malloc(2 * box_size + 1);
        if (!box || !hex) {
                free(hex);
                return -ENOMEM;
        }
        memcpy(box, iv, EXCHANGE_IV_SIZE);
        r = crypto_aead_seal(key, iv, t, n, plain, size, box + EXCHANGE_IV_SIZE);
        if (r < 0) {
                free(hex);
                return r;
        }
        hex_encode(box, box_size, hex);
        *ret_hex = hex;
        return 0;
}

int exchange_open(const uint8_t key[static EXCHANGE_KEY_SIZE], const ExchangeRequest *req, const char *hex,
                  size_t hex_size, char **ret_plain, size_t *ret_size)
{
        uint8_t t[EXCHANGE_TRANSCRIPT_MAX];
        _cleanup_free_ uint8_t *box = NULL;
        size_t n, box_size = hex_size / 2, plain_size;
        char *plain;
        int r;

        if (hex_size % 2 != 0 || box_size < EXCHANGE_IV_SIZE + CRYPTO_AEAD_TAG_SIZE)
                return -EBADMSG;
        plain_size = box_size - EXCHANGE_IV_SIZE - CRYPTO_AEAD_TAG_SIZE;
        if (plain_size > EXCHANGE_PLAIN_MAX)
                return -E2BIG;
        r = exchange_transcript(req, t, &n);
        if (r < 0)
                return r;
        box = malloc(box_size);
        if (!box)
                return -ENOMEM;
        if (exchange_hex_decode(hex, hex_size, box, box_size) < 0)
                return -EBADMSG;
        plain = malloc(plain_size + 1);
        if (!plain)
                return -ENOMEM;
        r = crypto_aead_open(key, box, t, n, box + EXCHANGE_IV_SIZE, box_size - EXCHANGE_IV_SIZE, (uint8_t *)plain);
        if (r < 0) {
                free(plain);
                return r;
        }
        plain[plain_size] = 0;
        *ret_plain = plain;
        *ret_size = plain_size;
        return 0;
}
