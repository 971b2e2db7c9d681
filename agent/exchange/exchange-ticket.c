/* SPDX-License-Identifier: MIT */

#include "exchange-ticket.h"
#include "macro.h"

const char *exchange_ticket_holder(const ExchangeTicket *t, uint64_t now)
{
        return t->holder[0] && now < t->expires ? t->holder : NULL;
}

int exchange_ticket_acquire(ExchangeTicket *t, const char *node, uint64_t now, uint64_t ttl)
{
        const char *holder = exchange_ticket_holder(t, now);

        if (!exchange_node_valid(node) || ttl == 0 || now > UINT64_MAX - ttl)
                return -EINVAL;
        if (holder && !streq(holder, node))
                return -EBUSY;
        strcpy(t->holder, node);
        t->expires = now + ttl;
        return 0;
}

int exchange_ticket_release(ExchangeTicket *t, const char *node, uint64_t now)
{
        const char *holder = exchange_ticket_holder(t, now);

        if (!holder || !streq(holder, node))
                return -ENOENT;
        *t = (ExchangeTicket){};
        return 0;
}
