/* SPDX-License-Identifier: MIT */

#include "exchange-session.h"
#include "macro.h"

int exchange_session_init(ExchangeSession *s, const char *secret, const char *node, const ExchangeQuery *q,
                          const uint8_t server_nonce[static EXCHANGE_NONCE_SIZE],
                          const uint8_t client_nonce[static EXCHANGE_NONCE_SIZE])
{
        ExchangeSession n = {
                .request = {.version = EXCHANGE_VERSION, .op = q->op, .role = q->role, .result = q->result}};
        uint8_t mac_key[EXCHANGE_KEY_SIZE];
        int r;

        if (!exchange_node_valid(node))
                return -EINVAL;
        strcpy(n.request.node, node);
        memcpy(n.request.server_nonce, server_nonce, EXCHANGE_NONCE_SIZE);
        memcpy(n.request.client_nonce, client_nonce, EXCHANGE_NONCE_SIZE);
        r = exchange_request_check(&n.request);
        if (r >= 0)
                r = exchange_mac_key(secret, mac_key);
        if (r >= 0)
                r = exchange_request_sign(mac_key, &n.request);
        if (r >= 0)
                r = exchange_answer_key(secret, server_nonce, client_nonce, n.key);
        erase(mac_key, sizeof mac_key);
        if (r < 0) {
                erase(&n, sizeof n);
                return r;
        }
        *s = n;
        erase(&n, sizeof n);
        return 0;
}

int exchange_session_request(const ExchangeSession *s, char **ret)
{
        return exchange_request_to_json(&s->request, ret);
}

int exchange_session_open(const ExchangeSession *s, const char *body, size_t size, ExchangeAnswer *ret)
{
        _cleanup_free_ char *hex = NULL;
        char *plain = NULL;
        size_t n;
        int r;

        r = exchange_sealed_from_json(body, size, &hex);
        if (r < 0)
                return r;
        r = exchange_open(s->key, &s->request, hex, strlen(hex), &plain, &n);
        if (r < 0)
                return r;
        r = exchange_answer_from_json(plain, n, s->request.op, s->request.role, ret);
        erase(plain, n);
        free(plain);
        return r;
}

void exchange_session_done(ExchangeSession *s)
{
        erase(s, sizeof *s);
}
