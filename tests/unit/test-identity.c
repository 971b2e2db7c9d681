/* SPDX-License-Identifier: MIT */
/* Who a node is: MAC parsing, node id, host name derivation, names from mDNS, and the cluster tag. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster-tag.h"
#include "identity.h"

static void mac_parse__sysfs_format__bytes(void **state)
{
        uint8_t mac[MAC_SIZE];
        char buf[MAC_STRLEN];

        assert_int_equal(mac_parse("b8:27:EB:0a:1b:2c", mac), 0);
        assert_int_equal(mac[0], 0xb8);
        assert_int_equal(mac[5], 0x2c);
        assert_string_equal(mac_format(mac, buf), "b8:27:eb:0a:1b:2c");
}

static void mac_parse__malformed__einval(void **state)
{
        static const char *const bad[] = {"",
                                          "b8:27:eb:0a:1b",
                                          "b8:27:eb:0a:1b:2c:",
                                          "b8-27-eb-0a-1b-2c",
                                          "b8:27:eb:0a:1b:2g",
                                          "b827eb0a1b2c",
                                          " b8:27:eb:0a:1b:2"};
        uint8_t mac[MAC_SIZE];

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(mac_parse(bad[i], mac), -EINVAL);
        assert_int_equal(mac_parse(NULL, mac), -EINVAL);
}

static void node_id_from_mac__usable_and_not__expected(void **state)
{
        const uint8_t pi[MAC_SIZE] = {0xb8, 0x27, 0xeb, 0x0a, 0x1b, 0x2c}, zero[MAC_SIZE] = {0},
                      multicast[MAC_SIZE] = {0x01, 0x00, 0x5e, 0, 0, 1},
                      broadcast[MAC_SIZE] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                      local[MAC_SIZE] = {0x02, 0x77, 0, 0, 0, 1};
        char id[NODE_ID_SIZE];

        assert_int_equal(node_id_from_mac(pi, id), 0);
        assert_string_equal(id, "b827eb0a1b2c");
        assert_int_equal(node_id_from_mac(local, id), 0);
        assert_string_equal(id, "027700000001");
        assert_int_equal(node_id_from_mac(zero, id), -EINVAL);
        assert_int_equal(node_id_from_mac(multicast, id), -EINVAL);
        assert_int_equal(node_id_from_mac(broadcast, id), -EINVAL);
}

static void node_id_is_valid__cases__expected(void **state)
{
        assert_true(node_id_is_valid("b827eb0a1b2c"));
        assert_false(node_id_is_valid(NULL));
        assert_false(node_id_is_valid(""));
        assert_false(node_id_is_valid("B827EB0A1B2C"));
        assert_false(node_id_is_valid("b827eb0a1b2"));
        assert_false(node_id_is_valid("b827eb0a1b2c0"));
        assert_false(node_id_is_valid("b8:27:eb:0a:"));
}

static void hostname_derive__role_and_id__last_six_hex(void **state)
{
        char h[HOSTNAME_SIZE];

        assert_int_equal(hostname_derive(ROLE_LB, "b827eb0a1b2c", NULL, h), 0);
        assert_string_equal(h, "lb-0a1b2c");
        assert_int_equal(hostname_derive(ROLE_MASTER, "b827eb0a1b2c", NULL, h), 0);
        assert_string_equal(h, "master-0a1b2c");
        assert_int_equal(hostname_derive(ROLE_WORKER, "027700000011", NULL, h), 0);
        assert_string_equal(h, "worker-000011");
        assert_true(hostname_is_valid(h));
}

static void hostname_derive__override__used_as_is(void **state)
{
        char h[HOSTNAME_SIZE];

        assert_int_equal(hostname_derive(ROLE_WORKER, "b827eb0a1b2c", "kitchen-pi", h), 0);
        assert_string_equal(h, "kitchen-pi");
        /* The id is not needed then. */
        assert_int_equal(hostname_derive(ROLE_WORKER, NULL, "kitchen-pi", h), 0);
}

static void hostname_derive__invalid_input__einval(void **state)
{
        char h[HOSTNAME_SIZE];

        assert_int_equal(hostname_derive(ROLE_WORKER, "b827eb0a1b2c", "Kitchen_Pi", h), -EINVAL);
        assert_int_equal(hostname_derive(ROLE_WORKER, "b827eb", NULL, h), -EINVAL);
        assert_int_equal(hostname_derive(_ROLE_INVALID, "b827eb0a1b2c", NULL, h), -EINVAL);
}

static void hostname_is_valid__cases__expected(void **state)
{
        char long_name[70];

        assert_true(hostname_is_valid("a"));
        assert_true(hostname_is_valid("master-0a1b2c"));
        assert_false(hostname_is_valid(""));
        assert_false(hostname_is_valid("-a"));
        assert_false(hostname_is_valid("a-"));
        assert_false(hostname_is_valid("a.b"));
        assert_false(hostname_is_valid("Master"));
        memset(long_name, 'a', sizeof long_name);
        long_name[63] = 0;
        assert_true(hostname_is_valid(long_name));
        long_name[63] = 'a';
        long_name[64] = 0;
        assert_false(hostname_is_valid(long_name));
}

static void hostname_from_mdns__targets__stripped_or_rejected(void **state)
{
        char h[HOSTNAME_SIZE];

        assert_int_equal(hostname_from_mdns("master-0a1b2c.local", h), 0);
        assert_string_equal(h, "master-0a1b2c");
        assert_int_equal(hostname_from_mdns("raspberrypi-2.local.", h), 0);
        assert_string_equal(h, "raspberrypi-2");
        assert_int_equal(hostname_from_mdns("plain", h), 0);
        assert_string_equal(h, "plain");
        assert_int_equal(hostname_from_mdns(".local", h), -EINVAL);
        assert_int_equal(hostname_from_mdns("evil\\027[31m.local", h), -EINVAL);
        assert_int_equal(hostname_from_mdns("a.b.local", h), -EINVAL);
        assert_int_equal(hostname_from_mdns(NULL, h), -EINVAL);
}

/* The same derivation the cluster tests use (HKDF-SHA256 with Python's hmac). */
static void cluster_tag_compute__known_secret__known_tag(void **state)
{
        char tag[CLUSTER_TAG_SIZE];

        assert_int_equal(cluster_tag_compute("3f1c0a9e8b7d6c5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877", tag),
                         0);
        assert_string_equal(tag, "76338c64fea54b45");
        assert_true(cluster_tag_is_valid(tag));
        assert_int_equal(cluster_tag_compute("0123456789abcdefghijklmnopqrstuvwxyzABCD", tag), 0);
        assert_string_equal(tag, "be01d0c058b73013");
}

static void cluster_tag_compute__other_secret__other_tag_not_the_secret(void **state)
{
        const char *secret = "76338c64fea54b45aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        char a[CLUSTER_TAG_SIZE], b[CLUSTER_TAG_SIZE];

        assert_int_equal(cluster_tag_compute(secret, a), 0);
        assert_int_equal(cluster_tag_compute("76338c64fea54b45aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", b), 0);
        assert_string_not_equal(a, b);
        assert_null(strstr(secret, a));
        assert_int_equal(cluster_tag_compute("", a), -EINVAL);
        assert_int_equal(cluster_tag_compute(NULL, a), -EINVAL);
}

static void cluster_tag_is_valid__cases__expected(void **state)
{
        assert_true(cluster_tag_is_valid("0123456789abcdef"));
        assert_false(cluster_tag_is_valid(NULL));
        assert_false(cluster_tag_is_valid("0123456789ABCDEF"));
        assert_false(cluster_tag_is_valid("0123456789abcde"));
        assert_false(cluster_tag_is_valid("0123456789abcdef0"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(mac_parse__sysfs_format__bytes),
                cmocka_unit_test(mac_parse__malformed__einval),
                cmocka_unit_test(node_id_from_mac__usable_and_not__expected),
                cmocka_unit_test(node_id_is_valid__cases__expected),
                cmocka_unit_test(hostname_derive__role_and_id__last_six_hex),
                cmocka_unit_test(hostname_derive__override__used_as_is),
                cmocka_unit_test(hostname_derive__invalid_input__einval),
                cmocka_unit_test(hostname_is_valid__cases__expected),
                cmocka_unit_test(hostname_from_mdns__targets__stripped_or_rejected),
                cmocka_unit_test(cluster_tag_compute__known_secret__known_tag),
                cmocka_unit_test(cluster_tag_compute__other_secret__other_tag_not_the_secret),
                cmocka_unit_test(cluster_tag_is_valid__cases__expected),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
