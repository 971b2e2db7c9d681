/* SPDX-License-Identifier: MIT */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "exchange-ipc.h"
#include "macro.h"

static const uint8_t magic[4] = {'P', 'X', '1', 0};

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An address as inet_ntop() writes it, or "" where allowed. */
static bool address_valid(const char *s, bool empty_ok)
{
        struct in6_addr a6;
        struct in_addr a4;

        if (!*s)
                return empty_ok;
        return inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1;
}

/* What each type carries: the rest must be zero or empty. */
static bool consistent(const ExchangeIpcMessage *m)
{
        bool no_data = m->size == 0;

        switch (m->type) {
        case EXCHANGE_IPC_HELLO:
                return m->kind == 0 && m->id == 0 && m->status == 0 && no_data && address_valid(m->address, true);
        case EXCHANGE_IPC_READY:
                return m->kind == 0 && m->id == 0 && m->status <= 0 && m->status > -4096 && no_data && !*m->address &&
                       (m->status < 0 || m->port > 0);
        case EXCHANGE_IPC_REQUEST:
                return m->kind >= 0 && m->kind < _EXCHANGE_FORWARD_KIND_MAX && m->port == 0 && m->status == 0 &&
                       address_valid(m->address, false) && m->size <= EXCHANGE_IPC_BODY_MAX &&
                       (m->kind == EXCHANGE_FORWARD_EXCHANGE || no_data);
        case EXCHANGE_IPC_CANCEL:
                return m->kind == 0 && m->port == 0 && m->status == 0 && no_data && !*m->address;
        case EXCHANGE_IPC_ANSWER:
                return m->kind == 0 && m->port == 0 && m->status >= 100 && m->status <= 599 && !*m->address &&
                       m->size <= EXCHANGE_ANSWER_MAX;
        case _EXCHANGE_IPC_TYPE_MAX:
        case _EXCHANGE_IPC_TYPE_INVALID:
                break;
        }
        return false;
}

int exchange_ipc_encode(const ExchangeIpcMessage *m, uint8_t **ret, size_t *ret_size)
{
        size_t alen = strnlen(m->address, sizeof m->address), size;
        uint8_t *b;

        if (alen >= sizeof m->address || !consistent(m) || (m->size > 0 && !m->data))
                return -EINVAL;
        size = EXCHANGE_IPC_HEADER_SIZE + alen + m->size;
        b = malloc(size);
        if (!b)
                return -ENOMEM;
        memcpy(b, magic, 4);
        b[4] = (uint8_t)m->type;
        b[5] = (uint8_t)m->kind;
        put16(b + 6, m->port);
        put32(b + 8, m->id);
        put32(b + 12, (uint32_t)m->status);
        b[16] = (uint8_t)alen;
        b[17] = b[18] = b[19] = 0;
        memcpy(b + EXCHANGE_IPC_HEADER_SIZE, m->address, alen);
        if (m->size > 0)
                memcpy(b + EXCHANGE_IPC_HEADER_SIZE + alen, m->data, m->size);
        *ret = b;
        *ret_size = size;
        return 0;
}

int exchange_ipc_decode(const uint8_t *buf, size_t size, ExchangeIpcMessage *ret)
{
        ExchangeIpcMessage m = {};
        size_t alen;

        if (size < EXCHANGE_IPC_HEADER_SIZE || size > EXCHANGE_IPC_MAX || memcmp(buf, magic, 4) != 0 || buf[17] ||
            buf[18] || buf[19])
                return -EBADMSG;
        alen = buf[16];
        if (alen >= sizeof m.address || size < EXCHANGE_IPC_HEADER_SIZE + alen)
                return -EBADMSG;
        m.type = buf[4] > 0 && buf[4] < _EXCHANGE_IPC_TYPE_MAX ? (ExchangeIpcType)buf[4] : _EXCHANGE_IPC_TYPE_INVALID;
        m.kind = (ExchangeForwardKind)buf[5];
        m.port = (uint16_t)(buf[6] | buf[7] << 8);
        m.id = get32(buf + 8);
        m.status = (int32_t)get32(buf + 12);
        memcpy(m.address, buf + EXCHANGE_IPC_HEADER_SIZE, alen);
        m.address[alen] = 0;
        if (strlen(m.address) != alen)
                return -EBADMSG; /* a NUL inside */
        m.data = (const char *)buf + EXCHANGE_IPC_HEADER_SIZE + alen;
        m.size = size - EXCHANGE_IPC_HEADER_SIZE - alen;
        if (m.size == 0)
                m.data = NULL;
        if (!consistent(&m))
                return -EBADMSG;
        *ret = m;
        return 0;
}
