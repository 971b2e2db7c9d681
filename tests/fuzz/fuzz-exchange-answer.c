/* SPDX-License-Identifier: MIT */
/* Fuzzes the client opening a server's answer (exchange-session.h): what a hostile server, or anyone on the
 * path, sends back to a request. The first byte chooses the request and the mode:
 *   bits 0-1  the operation asked for: join, vote, ca, joined (bit 6 set: kubeconfig)
 *   bit 2     join as control plane (a certificate key is then required)
 *   bit 3     the rest is a plaintext that a server knowing the secret seals for this very request (so that the
 *             fuzzer reaches the answer decoder behind the AEAD); else the rest is the HTTP body as received
 *   bit 4     sealed for another request (another client nonce): must never open
 * Invariants (a violation traps): an answer opens only if it was sealed for this request with the secret; a
 * sealed plaintext opens exactly when the answer decoder accepts it for that operation; whatever opens is a
 * well-formed answer to the operation asked (material in kubeadm's formats, a certificate key exactly for
 * control-plane joins, a PEM for the CA, a kubeconfig's text for kubeconfig, a refusal only with a refused vote);
 * nothing else comes out. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exchange-msg.h"
#include "exchange-session.h"
#include "log.h"
#include "macro.h"

#define SECRET "cba47853ac7a856ad9c0cb5b817ce932c0a8424a9b33450c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
        if (!ok)
                __builtin_trap();
}

static bool printable(const char *s)
{
        for (; *s; s++)
                if ((*s < 0x20 || *s > 0x7e) && *s != '\n' && *s != '\r')
                        return false;
        return true;
}

/* What a client may rely on once an answer opened. */
static void check_answer(const ExchangeAnswer *a, ExchangeOp op, ExchangeRole role)
{
        check(a->op == op);
        check(a->server && exchange_node_valid(a->server));
        switch (op) {
        case EXCHANGE_OP_JOIN:
                check(exchange_join_material_check(&a->join, role) == 0);
                check(!a->ca && !a->refusal);
                break;
        case EXCHANGE_OP_VOTE:
                check(!a->refusal || (!a->granted && strlen(a->refusal) <= EXCHANGE_TEXT_MAX));
                check(!a->join.token && !a->ca);
                break;
        case EXCHANGE_OP_CA:
                check(a->ca && strncmp(a->ca, "-----BEGIN CERTIFICATE-----", 27) == 0 && printable(a->ca));
                check(!a->join.token && !a->refusal);
                break;
        case EXCHANGE_OP_JOINED:
        case EXCHANGE_OP_READY:
                check(!a->join.token && !a->ca && !a->refusal);
                break;
        case EXCHANGE_OP_KUBECONFIG:
                check(a->kubeconfig && strncmp(a->kubeconfig, "apiVersion: v1\n", 15) == 0);
                check(!a->join.token && !a->ca && !a->refusal);
                break;
        case _EXCHANGE_OP_MAX:
        case _EXCHANGE_OP_INVALID:
                check(false);
        }
}

/* body: the plaintext sealed as a server with the secret would, for the request in s (or another one). */
static char *seal(const ExchangeSession *s, const ExchangeSession *other, const char *plain, size_t size)
{
        static const uint8_t iv[EXCHANGE_IV_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        _cleanup_free_ char *hex = NULL;
        char *body = NULL;

        if (exchange_seal(other ? other->key : s->key, iv, other ? &other->request : &s->request, plain, size, &hex) <
                    0 ||
            exchange_sealed_to_json(hex, &body) < 0)
                return NULL;
        return body;
}

/* The sessions depend on the query only: made once per query (key derivation dominates the cost of an input). */
static void sessions_for(const ExchangeQuery *q, ExchangeSession *ret, ExchangeSession *ret_other)
{
        static const uint8_t server_nonce[EXCHANGE_NONCE_SIZE] = {7}, client_nonce[EXCHANGE_NONCE_SIZE] = {9},
                             other_nonce[EXCHANGE_NONCE_SIZE] = {10};
        static struct {
                bool made;
                ExchangeSession s, other;
        } cache[_EXCHANGE_OP_MAX][_EXCHANGE_ROLE_MAX][_EXCHANGE_RESULT_MAX];
        __typeof__(cache[0][0][0]) *c = &cache[q->op][q->role][q->result];

        if (!c->made) {
                check(exchange_session_init(&c->s, SECRET, "worker-a1b2c3", q, server_nonce, client_nonce) == 0);
                check(exchange_session_init(&c->other, SECRET, "worker-a1b2c3", q, server_nonce, other_nonce) == 0);
                c->made = true;
        }
        *ret = c->s;
        *ret_other = c->other;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t flags = size > 0 ? data[0] : 0;
        ExchangeOp op = flags & 0x40 ? EXCHANGE_OP_KUBECONFIG : (ExchangeOp)(flags & 3);
        ExchangeRole role = flags & 4 ? EXCHANGE_ROLE_CONTROL_PLANE : EXCHANGE_ROLE_WORKER;
        bool sealed = flags & 8, misdirected = flags & 0x10;
        ExchangeQuery q = {.op = op};
        ExchangeSession s, other;
        ExchangeAnswer a = {}, direct = {};
        _cleanup_free_ char *body = NULL;
        const uint8_t *rest = size > 0 ? data + 1 : data;
        size_t rest_size = size > 0 ? size - 1 : 0;
        int r, d = -EINVAL;

        log_set_max_level(LOG_CRIT);
        if (op == EXCHANGE_OP_JOIN || op == EXCHANGE_OP_JOINED)
                q.role = role;
        if (op == EXCHANGE_OP_JOINED)
                q.result = flags & 0x20 ? EXCHANGE_RESULT_FAILED : EXCHANGE_RESULT_OK;
        if (op != EXCHANGE_OP_JOIN)
                role = q.role;
        sessions_for(&q, &s, &other);

        if (sealed) {
                body = seal(&s, misdirected ? &other : NULL, (const char *)rest, rest_size);
                check(body != NULL);
                d = exchange_answer_from_json((const char *)rest, rest_size, op, role, &direct);
        } else {
                body = malloc(rest_size + 1);
                check(body != NULL);
                memcpy(body, rest, rest_size);
                body[rest_size] = 0;
        }

        r = exchange_session_open(&s, body, sealed ? strlen(body) : rest_size, &a);
        if (sealed && misdirected)
                check(r == -EBADMSG);
        else if (sealed)
                check((r == 0) == (d == 0));
        if (r == 0) {
                check_answer(&a, op, role);
                if (sealed && d == 0)
                        check(streq(a.server, direct.server));
        }
        exchange_answer_done(&a);
        exchange_answer_done(&direct);
        exchange_session_done(&s);
        exchange_session_done(&other);
        return 0;
}
