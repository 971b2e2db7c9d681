/* SPDX-License-Identifier: MIT */
/* The control-plane join ticket: one holder, renewed by its holder, released by joined or by time. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "exchange-ticket.h"

#define SEC 1000000ULL
#define TTL (600 * SEC)

static void exchange_ticket_acquire__free__granted(void **state)
{
        ExchangeTicket t = {};

        assert_null(exchange_ticket_holder(&t, 0));
        assert_int_equal(exchange_ticket_acquire(&t, "m2", 10, TTL), 0);
        assert_string_equal(exchange_ticket_holder(&t, 10), "m2");
}

static void exchange_ticket_acquire__held_by_other__ebusy(void **state)
{
        ExchangeTicket t = {};

        assert_int_equal(exchange_ticket_acquire(&t, "m2", 0, TTL), 0);
        assert_int_equal(exchange_ticket_acquire(&t, "m3", SEC, TTL), -EBUSY);
        assert_string_equal(exchange_ticket_holder(&t, SEC), "m2");
}

static void exchange_ticket_acquire__holder_asks_again__renewed(void **state)
{
        ExchangeTicket t = {};

        assert_int_equal(exchange_ticket_acquire(&t, "m2", 0, TTL), 0);
        assert_int_equal(exchange_ticket_acquire(&t, "m2", 500 * SEC, TTL), 0);
        /* Held past the first expiry because it was renewed. */
        assert_int_equal(exchange_ticket_acquire(&t, "m3", 700 * SEC, TTL), -EBUSY);
        assert_int_equal(exchange_ticket_acquire(&t, "m3", 1100 * SEC, TTL), 0);
}

static void exchange_ticket_release__by_holder__free_for_next(void **state)
{
        ExchangeTicket t = {};

        assert_int_equal(exchange_ticket_acquire(&t, "m2", 0, TTL), 0);
        assert_int_equal(exchange_ticket_release(&t, "m3", SEC), -ENOENT);
        assert_string_equal(exchange_ticket_holder(&t, SEC), "m2");
        assert_int_equal(exchange_ticket_release(&t, "m2", SEC), 0);
        assert_null(exchange_ticket_holder(&t, SEC));
        assert_int_equal(exchange_ticket_release(&t, "m2", SEC), -ENOENT);
        assert_int_equal(exchange_ticket_acquire(&t, "m3", 2 * SEC, TTL), 0);
}

static void exchange_ticket__timeout__free_and_late_release_refused(void **state)
{
        ExchangeTicket t = {};

        assert_int_equal(exchange_ticket_acquire(&t, "m2", 0, TTL), 0);
        assert_string_equal(exchange_ticket_holder(&t, TTL - 1), "m2");
        assert_null(exchange_ticket_holder(&t, TTL));
        assert_int_equal(exchange_ticket_acquire(&t, "m3", TTL, TTL), 0);
        /* The old holder's late report does not release the new holder's ticket. */
        assert_int_equal(exchange_ticket_release(&t, "m2", TTL + 1), -ENOENT);
        assert_string_equal(exchange_ticket_holder(&t, TTL + 1), "m3");
}

static void exchange_ticket_acquire__bad_arguments__einval(void **state)
{
        ExchangeTicket t = {};

        assert_int_equal(exchange_ticket_acquire(&t, "", 0, TTL), -EINVAL);
        assert_int_equal(exchange_ticket_acquire(&t, "a b", 0, TTL), -EINVAL);
        assert_int_equal(exchange_ticket_acquire(&t, "m", 0, 0), -EINVAL);
        assert_int_equal(exchange_ticket_acquire(&t, "m", UINT64_MAX, 1), -EINVAL);
        assert_null(exchange_ticket_holder(&t, 0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(exchange_ticket_acquire__free__granted),
                cmocka_unit_test(exchange_ticket_acquire__held_by_other__ebusy),
                cmocka_unit_test(exchange_ticket_acquire__holder_asks_again__renewed),
                cmocka_unit_test(exchange_ticket_release__by_holder__free_for_next),
                cmocka_unit_test(exchange_ticket__timeout__free_and_late_release_refused),
                cmocka_unit_test(exchange_ticket_acquire__bad_arguments__einval),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
