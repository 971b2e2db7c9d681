/* SPDX-License-Identifier: MIT */
/* cluster.txt's virtual IP against a node's addresses on the cluster interface: fits, on another LAN (the
 * image's default VIP on a LAN that is not 192.168.3.0/24), or a node's own address; the words name the fix. */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vip-check.h"

static Ipv4Cidr cidr(const char *s)
{
        Ipv4Cidr c;
        assert_int_equal(ipv4_cidr_parse(s, &c), 0);
        return c;
}

static VipFit check(const char *vip, const char *const *addrs, char msg[static 320])
{
        Ipv4Cidr v = cidr(vip), a[4];
        size_t n = 0;

        for (; addrs[n]; n++)
                a[n] = cidr(addrs[n]);
        msg[0] = 0;
        return vip_check(&v, "eth0", a, n, msg, 320);
}

static void vip_check__default_vip_on_another_lan__other_subnet_with_fix(void **state)
{
        char msg[320];

        assert_int_equal(check("192.168.3.240/24", (const char *[]){"10.0.0.23/24", NULL}, msg), VIP_OTHER_SUBNET);
        assert_non_null(strstr(msg, "vip=192.168.3.240 in cluster.txt is not on this LAN"));
        assert_non_null(strstr(msg, "eth0 has 10.0.0.23/24"));
        assert_non_null(strstr(msg, "on every card to a free address of 10.0.0.0/24 outside the DHCP pool"));
}

static void vip_check__in_subnet__fits(void **state)
{
        char msg[320];

        assert_int_equal(check("10.0.0.240/24", (const char *[]){"10.0.0.23/24", NULL}, msg), VIP_FITS);
        assert_string_equal(msg, "");
        /* Any address of the interface will do; its own prefix counts, not the VIP's. */
        assert_int_equal(check("10.0.0.240/24", (const char *[]){"192.168.1.5/24", "10.0.0.23/24", NULL}, msg),
                         VIP_FITS);
        assert_int_equal(check("10.0.5.240/24", (const char *[]){"10.0.0.23/16", NULL}, msg), VIP_FITS);
        assert_int_equal(check("10.0.5.240/24", (const char *[]){"10.0.0.23/24", NULL}, msg), VIP_OTHER_SUBNET);
}

static void vip_check__own_address__refused(void **state)
{
        char msg[320];

        assert_int_equal(check("10.0.0.23/24", (const char *[]){"10.0.0.23/24", NULL}, msg), VIP_IS_NODE_ADDRESS);
        assert_non_null(strstr(msg, "this node's own address on eth0"));
}

static void vip_check__no_address__other_subnet(void **state)
{
        char msg[320];

        assert_int_equal(check("10.0.0.240/24", (const char *[]){NULL}, msg), VIP_OTHER_SUBNET);
        assert_non_null(strstr(msg, "no address"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(vip_check__default_vip_on_another_lan__other_subnet_with_fix),
                cmocka_unit_test(vip_check__in_subnet__fits),
                cmocka_unit_test(vip_check__own_address__refused),
                cmocka_unit_test(vip_check__no_address__other_subnet),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
