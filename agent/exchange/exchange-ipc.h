/* SPDX-License-Identifier: MIT */
#pragma once

/* The messages between the root daemon (the back, exchange-back.h) and the unprivileged exchange worker of
 * piagent-exchange.service (the HTTP server and the front, exchange-front.h), one per SOCK_SEQPACKET datagram.
 * Pure. The root side decodes what a possibly compromised worker sends: every field is checked, and nothing
 * but the request body (decoded again by the back) is passed on.
 *
 *   root -> worker   HELLO    address and port to listen on
 *   worker -> root   READY    status 0 and the port bound, or a negative errno
 *   worker -> root   REQUEST  id, kind (status or exchange), the client's address, the request body
 *   worker -> root   CANCEL   id: the client went away
 *   root -> worker   ANSWER   id, HTTP status, body
 *
 * Wire format: "PX1" 0x00, u8 type, u8 kind, u16 port, u32 id, i32 status (all little-endian), u8 length of the
 * address, the address (IPv4 or IPv6 text), then the data to the end of the datagram. */

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

#include "exchange-front.h"
#include "exchange-proto.h"

#define EXCHANGE_IPC_HEADER_SIZE 20
#define EXCHANGE_IPC_BODY_MAX    4096 /* a request body: the HTTP server's limit */
#define EXCHANGE_IPC_MAX         (EXCHANGE_IPC_HEADER_SIZE + INET6_ADDRSTRLEN + EXCHANGE_ANSWER_MAX)

typedef enum ExchangeIpcType {
        EXCHANGE_IPC_HELLO = 1,
        EXCHANGE_IPC_READY,
        EXCHANGE_IPC_REQUEST,
        EXCHANGE_IPC_CANCEL,
        EXCHANGE_IPC_ANSWER,
        _EXCHANGE_IPC_TYPE_MAX,
        _EXCHANGE_IPC_TYPE_INVALID = -EINVAL,
} ExchangeIpcType;

typedef struct ExchangeIpcMessage {
        ExchangeIpcType type;
        ExchangeForwardKind kind;       /* REQUEST */
        uint16_t port;                  /* HELLO (0: ephemeral), READY */
        uint32_t id;                    /* REQUEST, CANCEL, ANSWER */
        int32_t status;                 /* ANSWER: HTTP status; READY: 0 or a negative errno */
        char address[INET6_ADDRSTRLEN]; /* HELLO: to listen on ("" : any); REQUEST: the client's */
        const char *data;               /* REQUEST, ANSWER: borrowed from the datagram */
        size_t size;
} ExchangeIpcMessage;

/* Encodes m into a new buffer. Returns 0, -EINVAL (m inconsistent), -ENOMEM. */
int exchange_ipc_encode(const ExchangeIpcMessage *m, uint8_t **ret, size_t *ret_size);
/* Decodes one datagram (data stays borrowed). Returns 0 or -EBADMSG (anything not exactly as encoded). */
int exchange_ipc_decode(const uint8_t *buf, size_t size, ExchangeIpcMessage *ret);
