/* SPDX-License-Identifier: MIT */
#pragma once

/* The token exchange's JSON messages (docs/exchange.md): encoding, and strict decoding of what arrives from
 * the network. Pure. Decoders return 0, -EINVAL (malformed: not JSON, nested, a missing, unknown, repeated
 * or ill-typed field, a value out of bounds), -EPROTONOSUPPORT (another protocol version), -E2BIG, -ENOMEM. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exchange-proto.h"

#define EXCHANGE_TEXT_MAX 63 /* role, phase, version in a status */

typedef struct ExchangeStatus {
        const char *node;
        const char *role;
        const char *phase;
        const char *version;
        char *storage; /* decoded statuses: owns the strings above */
} ExchangeStatus;

typedef struct ExchangeJoinMaterial {
        const char *endpoint;        /* the control-plane endpoint "host:port", e.g. "192.168.3.240:9000" */
        const char *token;           /* bootstrap token "abcdef.0123456789abcdef" */
        const char *ca_cert_hash;    /* "sha256:" and 64 hex digits */
        const char *certificate_key; /* control-plane joins: 64 hex digits; NULL for workers */
} ExchangeJoinMaterial;

/* The plaintext of a sealed answer. */
typedef struct ExchangeAnswer {
        ExchangeOp op;
        const char *server;        /* node id of the server that answered */
        ExchangeJoinMaterial join; /* join */
        bool granted;              /* vote */
        const char *refusal;       /* vote not granted: why, a short word such as "voted-other" (optional) */
        const char *ca;            /* ca: PEM */
        const char *kubeconfig;    /* kubeconfig: admin.conf as kubeadm wrote it (a credential) */
        char *storage;             /* decoded answers: owns the strings above; wiped by exchange_answer_done() */
        size_t storage_size;
} ExchangeAnswer;

/* Strings are returned NUL-terminated; the caller frees them (erase_and_free() for answers and requests). */
int exchange_request_to_json(const ExchangeRequest *req, char **ret);
int exchange_request_from_json(const char *text, size_t size, ExchangeRequest *ret);

int exchange_nonce_to_json(const uint8_t nonce[static EXCHANGE_NONCE_SIZE], char **ret);
int exchange_nonce_from_json(const char *text, size_t size, uint8_t ret[static EXCHANGE_NONCE_SIZE]);

int exchange_status_to_json(const ExchangeStatus *s, char **ret);
int exchange_status_from_json(const char *text, size_t size, ExchangeStatus *ret);
void exchange_status_done(ExchangeStatus *s);

/* The envelope around a sealed answer: {"v":1,"sealed":"<hex>"}. */
int exchange_sealed_to_json(const char *hex, char **ret);
int exchange_sealed_from_json(const char *text, size_t size, char **ret_hex);

/* Material as kubeadm takes it: token, hash and key in their fixed formats, endpoint a host name or IPv4
 * address and a port. A certificate key is required for control-plane joins and refused for workers. */
int exchange_join_material_check(const ExchangeJoinMaterial *m, ExchangeRole role);

/* The answer to a request for op (with role for join). Decoding checks that it answers that operation. */
int exchange_answer_to_json(const ExchangeAnswer *a, ExchangeRole role, char **ret);
int exchange_answer_from_json(const char *text, size_t size, ExchangeOp op, ExchangeRole role, ExchangeAnswer *ret);
void exchange_answer_done(ExchangeAnswer *a);
