/* SPDX-License-Identifier: MIT */
#pragma once

/* The token exchange's protocol core (docs/exchange.md): names, the request transcript, key derivation, the
 * request MAC and the sealed answer. Pure: no I/O, no clock; randomness comes in as arguments. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXCHANGE_VERSION        1
#define EXCHANGE_NONCE_SIZE     32
#define EXCHANGE_MAC_SIZE       32
#define EXCHANGE_KEY_SIZE       32
#define EXCHANGE_IV_SIZE        12
#define EXCHANGE_NODE_MAX       63    /* node ids are host names: [A-Za-z0-9._-], 1..63 characters */
#define EXCHANGE_REQUEST_MAX    2048  /* bytes of a request body; a valid one is about 400 */
#define EXCHANGE_PLAIN_MAX      32768 /* bytes of a sealed answer's plaintext (a CA certificate fits) */
#define EXCHANGE_ANSWER_MAX     (2 * (EXCHANGE_IV_SIZE + EXCHANGE_PLAIN_MAX + 16) + 64)
#define EXCHANGE_JSON_DEPTH     2 /* every message is one flat object */
#define EXCHANGE_TRANSCRIPT_MAX (17 + 1 + 2 * EXCHANGE_NONCE_SIZE + 4 * (1 + EXCHANGE_NODE_MAX))

#define EXCHANGE_PATH_STATUS   "/v1/status"
#define EXCHANGE_PATH_NONCE    "/v1/nonce"
#define EXCHANGE_PATH_EXCHANGE "/v1/exchange"

typedef enum ExchangeOp {
        EXCHANGE_OP_JOIN,       /* join material for a worker or a control-plane node */
        EXCHANGE_OP_VOTE,       /* the server's vote for the requester as the cluster's initializer */
        EXCHANGE_OP_CA,         /* the cluster CA certificate */
        EXCHANGE_OP_JOINED,     /* the requester reports the result of its join; releases its ticket */
        EXCHANGE_OP_KUBECONFIG, /* the cluster's admin kubeconfig (piagent kubeconfig), from a ready master */
        EXCHANGE_OP_READY,      /* answered once the server is ready (a node waiting for it is told at once) */
        _EXCHANGE_OP_MAX,
        _EXCHANGE_OP_INVALID = -EINVAL,
} ExchangeOp;

typedef enum ExchangeRole {
        EXCHANGE_ROLE_NONE, /* the operation has no role (vote, ca) */
        EXCHANGE_ROLE_WORKER,
        EXCHANGE_ROLE_CONTROL_PLANE,
        _EXCHANGE_ROLE_MAX,
        _EXCHANGE_ROLE_INVALID = -EINVAL,
} ExchangeRole;

typedef enum ExchangeResult {
        EXCHANGE_RESULT_NONE, /* every operation but joined */
        EXCHANGE_RESULT_OK,
        EXCHANGE_RESULT_FAILED,
        _EXCHANGE_RESULT_MAX,
        _EXCHANGE_RESULT_INVALID = -EINVAL,
} ExchangeResult;

/* An authenticated request, as the MAC sees it. */
typedef struct ExchangeRequest {
        unsigned version;
        ExchangeOp op;
        char node[EXCHANGE_NODE_MAX + 1];
        ExchangeRole role;     /* join and joined: worker or control-plane; NONE otherwise */
        ExchangeResult result; /* joined: ok or failed; NONE otherwise */
        uint8_t server_nonce[EXCHANGE_NONCE_SIZE];
        uint8_t client_nonce[EXCHANGE_NONCE_SIZE];
        uint8_t mac[EXCHANGE_MAC_SIZE];
} ExchangeRequest;

/* "" for EXCHANGE_ROLE_NONE / EXCHANGE_RESULT_NONE; NULL for out-of-range values. */
const char *exchange_op_to_string(ExchangeOp op);
ExchangeOp exchange_op_from_string(const char *s);
const char *exchange_role_to_string(ExchangeRole r);
ExchangeRole exchange_role_from_string(const char *s);
const char *exchange_result_to_string(ExchangeResult r);
ExchangeResult exchange_result_from_string(const char *s);

bool exchange_node_valid(const char *s);

/* Which role and result an operation carries: join needs a role, joined a role and a result, the others
 * neither. Returns 0 or -EINVAL. */
int exchange_request_check(const ExchangeRequest *req);

/* The canonical byte string the MAC covers and the answer's AEAD binds as additional data:
 *   "piagent-exchange\0" || u8 version || server nonce || client nonce || lp(op) || lp(node) || lp(role) ||
 *   lp(result)    where lp(s) = u8 length || s, and "" stands for NONE.
 * buf holds EXCHANGE_TRANSCRIPT_MAX bytes. Returns 0 or -EINVAL. */
int exchange_transcript(const ExchangeRequest *req, uint8_t buf[static EXCHANGE_TRANSCRIPT_MAX], size_t *ret_size);

/* Keys, both HKDF-SHA256 with the cluster secret as input keying material:
 *   request MAC key:   salt "piagent-exchange-v1", info "request-mac"
 *   answer AEAD key:   salt server nonce || client nonce, info "answer-seal"
 * The caller wipes them after use. */
int exchange_mac_key(const char *secret, uint8_t ret[static EXCHANGE_KEY_SIZE]);
int exchange_answer_key(const char *secret, const uint8_t server_nonce[static EXCHANGE_NONCE_SIZE],
                        const uint8_t client_nonce[static EXCHANGE_NONCE_SIZE], uint8_t ret[static EXCHANGE_KEY_SIZE]);

/* HMAC-SHA256(MAC key, transcript). sign writes r->mac; verify compares in constant time: 0 or -EBADMSG. */
int exchange_request_sign(const uint8_t mac_key[static EXCHANGE_KEY_SIZE], ExchangeRequest *req);
int exchange_request_verify(const uint8_t mac_key[static EXCHANGE_KEY_SIZE], const ExchangeRequest *req);

/* The sealed answer: hex(iv || ChaCha20-Poly1305(answer key, iv, aad = transcript, plaintext) || tag).
 * seal returns a NUL-terminated hex string; open returns the NUL-terminated plaintext (the caller wipes it)
 * or -EBADMSG when the server did not know the secret, the text was changed, or it answers another request. */
int exchange_seal(const uint8_t key[static EXCHANGE_KEY_SIZE], const uint8_t iv[static EXCHANGE_IV_SIZE],
                  const ExchangeRequest *req, const char *plain, size_t size, char **ret_hex);
int exchange_open(const uint8_t key[static EXCHANGE_KEY_SIZE], const ExchangeRequest *req, const char *hex,
                  size_t hex_size, char **ret_plain, size_t *ret_size);

/* Lower-case or upper-case hex of exactly 2 * size characters. Returns 0 or -EINVAL. */
int exchange_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t size);
