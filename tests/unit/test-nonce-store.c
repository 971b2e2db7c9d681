/* SPDX-License-Identifier: MIT */
/* Challenge nonces: single use, expiry on the monotonic clock, bound to a peer, bounded memory. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nonce-store.h"

#define SEC 1000000ULL
#define A   "192.168.3.10"
#define B   "192.168.3.11"

static NonceStore *store(size_t capacity, unsigned per_peer)
{
        NonceStore *s = NULL;

        assert_int_equal(nonce_store_new(capacity, per_peer, 30 * SEC, &s), 0);
        return s;
}

static const uint8_t *nonce(unsigned i)
{
        static uint8_t n[EXCHANGE_NONCE_SIZE];

        memset(n, 0, sizeof n);
        n[0] = (uint8_t)i;
        n[1] = (uint8_t)(i >> 8);
        n[31] = 0xa5;
        return n;
}

static void nonce_store_take__issued_nonce__once_only(void **state)
{
        NonceStore *s = store(8, 4);

        assert_int_equal(nonce_store_add(s, nonce(1), A, 100), 0);
        assert_int_equal(nonce_store_size(s), 1);
        assert_int_equal(nonce_store_take(s, nonce(1), A, 200), 0);
        assert_int_equal(nonce_store_take(s, nonce(1), A, 200), -ENOENT);
        assert_int_equal(nonce_store_size(s), 0);
        nonce_store_free(s);
}

static void nonce_store_take__never_issued__enoent(void **state)
{
        NonceStore *s = store(8, 4);

        assert_int_equal(nonce_store_add(s, nonce(1), A, 0), 0);
        assert_int_equal(nonce_store_take(s, nonce(2), A, 0), -ENOENT);
        assert_int_equal(nonce_store_take(s, nonce(1), A, 0), 0);
        nonce_store_free(s);
}

static void nonce_store_take__at_and_after_expiry__etime_then_gone(void **state)
{
        NonceStore *s = store(8, 4);

        assert_int_equal(nonce_store_add(s, nonce(1), A, 5 * SEC), 0);
        assert_int_equal(nonce_store_add(s, nonce(2), A, 5 * SEC), 0);
        /* Valid up to the last microsecond before now + ttl. */
        assert_int_equal(nonce_store_take(s, nonce(1), A, 35 * SEC - 1), 0);
        assert_int_equal(nonce_store_take(s, nonce(2), A, 35 * SEC), -ETIME);
        assert_int_equal(nonce_store_take(s, nonce(2), A, 35 * SEC), -ENOENT);
        nonce_store_free(s);
}

static void nonce_store_take__other_peer__exdev_and_kept_for_owner(void **state)
{
        NonceStore *s = store(8, 4);

        assert_int_equal(nonce_store_add(s, nonce(1), A, 0), 0);
        assert_int_equal(nonce_store_take(s, nonce(1), B, 0), -EXDEV);
        assert_int_equal(nonce_store_take(s, nonce(1), A, 0), 0);
        nonce_store_free(s);
}

static void nonce_store_add__per_peer_limit__own_oldest_evicted(void **state)
{
        NonceStore *s = store(16, 3);

        assert_int_equal(nonce_store_add(s, nonce(100), B, 0), 0);
        for (unsigned i = 1; i <= 5; i++)
                assert_int_equal(nonce_store_add(s, nonce(i), A, 0), 0);
        /* A holds its newest three; B's nonce is untouched. */
        assert_int_equal(nonce_store_size(s), 4);
        assert_int_equal(nonce_store_take(s, nonce(1), A, 0), -ENOENT);
        assert_int_equal(nonce_store_take(s, nonce(2), A, 0), -ENOENT);
        for (unsigned i = 3; i <= 5; i++)
                assert_int_equal(nonce_store_take(s, nonce(i), A, 0), 0);
        assert_int_equal(nonce_store_take(s, nonce(100), B, 0), 0);
        nonce_store_free(s);
}

static void nonce_store_add__store_full__oldest_evicted(void **state)
{
        NonceStore *s = store(4, 4);
        char peer[32];

        for (unsigned i = 0; i < 10; i++) {
                snprintf(peer, sizeof peer, "10.0.0.%u", i);
                assert_int_equal(nonce_store_add(s, nonce(i), peer, i), 0);
                assert_true(nonce_store_size(s) <= 4);
        }
        for (unsigned i = 0; i < 6; i++) {
                snprintf(peer, sizeof peer, "10.0.0.%u", i);
                assert_int_equal(nonce_store_take(s, nonce(i), peer, 10), -ENOENT);
        }
        for (unsigned i = 6; i < 10; i++) {
                snprintf(peer, sizeof peer, "10.0.0.%u", i);
                assert_int_equal(nonce_store_take(s, nonce(i), peer, 10), 0);
        }
        nonce_store_free(s);
}

static void nonce_store_add__expired_entries__purged_first(void **state)
{
        NonceStore *s = store(2, 2);

        assert_int_equal(nonce_store_add(s, nonce(1), A, 0), 0);
        assert_int_equal(nonce_store_add(s, nonce(2), B, 40 * SEC), 0);
        /* nonce 1 expired at 30 s: it went, so nonce 2 stays although the store holds 2. */
        assert_int_equal(nonce_store_size(s), 1);
        assert_int_equal(nonce_store_add(s, nonce(3), A, 41 * SEC), 0);
        assert_int_equal(nonce_store_take(s, nonce(2), B, 41 * SEC), 0);
        assert_int_equal(nonce_store_take(s, nonce(3), A, 41 * SEC), 0);
        nonce_store_free(s);
}

static void nonce_store_flood__many_peers__bounded_and_newest_usable(void **state)
{
        NonceStore *s = store(64, 4);
        char peer[32];

        for (unsigned i = 0; i < 100000; i++) {
                snprintf(peer, sizeof peer, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
                assert_int_equal(nonce_store_add(s, nonce(i & 0xffff), peer, i), 0);
        }
        assert_int_equal(nonce_store_size(s), 64);
        assert_int_equal(nonce_store_add(s, nonce(7), A, 100000), 0);
        assert_int_equal(nonce_store_take(s, nonce(7), A, 100001), 0);
        nonce_store_free(s);
}

static void nonce_store_new__bad_arguments__einval(void **state)
{
        NonceStore *s = NULL;
        char peer[64];

        assert_int_equal(nonce_store_new(0, 1, 1, &s), -EINVAL);
        assert_int_equal(nonce_store_new(1, 0, 1, &s), -EINVAL);
        assert_int_equal(nonce_store_new(1, 1, 0, &s), -EINVAL);
        assert_null(s);
        s = store(2, 2);
        memset(peer, '1', sizeof peer - 1);
        peer[sizeof peer - 1] = 0;
        assert_int_equal(nonce_store_add(s, nonce(1), peer, 0), -EINVAL);
        assert_null(nonce_store_free(s));
        assert_null(nonce_store_free(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(nonce_store_take__issued_nonce__once_only),
                cmocka_unit_test(nonce_store_take__never_issued__enoent),
                cmocka_unit_test(nonce_store_take__at_and_after_expiry__etime_then_gone),
                cmocka_unit_test(nonce_store_take__other_peer__exdev_and_kept_for_owner),
                cmocka_unit_test(nonce_store_add__per_peer_limit__own_oldest_evicted),
                cmocka_unit_test(nonce_store_add__store_full__oldest_evicted),
                cmocka_unit_test(nonce_store_add__expired_entries__purged_first),
                cmocka_unit_test(nonce_store_flood__many_peers__bounded_and_newest_usable),
                cmocka_unit_test(nonce_store_new__bad_arguments__einval),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
