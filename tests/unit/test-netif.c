/* SPDX-License-Identifier: MIT */
/* The cluster interface: the default route, the first Ethernet interface, role.txt's choice; and the node id
 * kept in the state directory (a temporary directory). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "netif.h"
#include "node-id.h"

#define ROUTE_HEADER "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

static char root[64];

static int setup(void **state)
{
        snprintf(root, sizeof root, "/tmp/piagent-netif-XXXXXX");
        return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[128];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *rel, const char *text)
{
        char path[512], dir[512];

        snprintf(path, sizeof path, "%s/%s", root, rel);
        snprintf(dir, sizeof dir, "%s", path);
        *strrchr(dir, '/') = 0;
        assert_int_equal(mkdir_parents(dir, 0755), 0);
        assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static NetLink mklink(const char *name, int ifindex, unsigned short hwtype, const char *mac, bool physical)
{
        NetLink l = {.ifindex = ifindex, .hwtype = hwtype, .mac_len = MAC_SIZE, .physical = physical};

        snprintf(l.name, sizeof l.name, "%s", name);
        assert_int_equal(mac_parse(mac, l.mac), 0);
        return l;
}

#define ROUTE(ifname, metric) ifname "\t00000000\t0101A8C0\t0003\t0\t0\t" metric "\t00000000\t0\t0\t0\n"

static void netif_default_route__typical__lowest_metric(void **state)
{
        char name[IFNAMSIZ];

        assert_int_equal(netif_default_route(ROUTE_HEADER
                                             "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" ROUTE(
                                                     "wlan0", "600") ROUTE("eth0", "100"),
                                             name),
                         0);
        assert_string_equal(name, "eth0");
}

static void netif_default_route__none_or_down__enoent(void **state)
{
        char name[IFNAMSIZ];

        assert_int_equal(netif_default_route(ROUTE_HEADER, name), -ENOENT);
        assert_int_equal(netif_default_route("", name), -ENOENT);
        /* Flags without RTF_UP. */
        assert_int_equal(
                netif_default_route(ROUTE_HEADER "eth0\t00000000\t0101A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n", name),
                -ENOENT);
        assert_int_equal(netif_default_route(ROUTE_HEADER ROUTE("lo", "0"), name), -ENOENT);
        assert_int_equal(netif_default_route("garbage\nmore garbage", name), -ENOENT);
}

static void netif_choose__default_route__its_interface(void **state)
{
        const NetLink links[] = {mklink("lo", 1, 772, "00:00:00:00:00:00", false),
                                 mklink("eth0", 2, 1, "b8:27:eb:00:00:01", true),
                                 mklink("wlan0", 3, 1, "b8:27:eb:00:00:02", true)};
        NetIf n;

        assert_int_equal(netif_choose(links, 3, ROUTE_HEADER ROUTE("wlan0", "0"), NULL, &n), 0);
        assert_string_equal(n.name, "wlan0");
        assert_int_equal(n.ifindex, 3);
        assert_int_equal(n.source, NETIF_DEFAULT_ROUTE);
        assert_int_equal(n.mac[5], 2);
}

static void netif_choose__no_route__first_physical_ethernet(void **state)
{
        const NetLink links[] = {mklink("lo", 1, 772, "00:00:00:00:00:00", false),
                                 mklink("cni0", 2, 1, "02:00:00:00:00:09", false), /* virtual, lower index */
                                 mklink("tun0", 3, 65534, "00:00:00:00:00:00", true),
                                 mklink("wlan0", 4, 1, "b8:27:eb:00:00:02", true),
                                 mklink("eth0", 5, 1, "b8:27:eb:00:00:01", true)};
        NetIf n;

        assert_int_equal(netif_choose(links, 5, ROUTE_HEADER, NULL, &n), 0);
        assert_string_equal(n.name, "wlan0");
        assert_int_equal(n.source, NETIF_FIRST_ETHERNET);
        assert_int_equal(netif_choose(links, 5, NULL, NULL, &n), 0);
        assert_string_equal(n.name, "wlan0");
}

static void netif_choose__only_virtual__lowest_index(void **state)
{
        /* The test bed: one veth, no default route. */
        const NetLink links[] = {mklink("veth9", 9, 1, "02:77:00:00:00:09", false),
                                 mklink("lo", 1, 772, "00:00:00:00:00:00", false),
                                 mklink("eth0", 7, 1, "02:77:00:00:00:01", false)};
        NetIf n;

        assert_int_equal(netif_choose(links, 3, NULL, NULL, &n), 0);
        assert_string_equal(n.name, "eth0");
}

static void netif_choose__route_interface_without_mac__falls_back(void **state)
{
        NetLink links[] = {mklink("wg0", 2, 65534, "00:00:00:00:00:00", false),
                           mklink("eth0", 3, 1, "b8:27:eb:00:00:01", true)};
        NetIf n;

        links[0].mac_len = 0;
        assert_int_equal(netif_choose(links, 2, ROUTE_HEADER ROUTE("wg0", "0"), NULL, &n), 0);
        assert_string_equal(n.name, "eth0");
        assert_int_equal(n.source, NETIF_FIRST_ETHERNET);
        /* A route through an interface that is not listed at all. */
        assert_int_equal(netif_choose(links, 2, ROUTE_HEADER ROUTE("gone0", "0"), NULL, &n), 0);
        assert_string_equal(n.name, "eth0");
}

static void netif_choose__configured__used_or_reported(void **state)
{
        NetLink links[] = {
                mklink("eth0", 2, 1, "b8:27:eb:00:00:01", true), mklink("end1", 3, 1, "b8:27:eb:00:00:03", true),
                mklink("bad0", 4, 1, "ff:ff:ff:ff:ff:ff", true), mklink("ib0", 5, 32, "b8:27:eb:00:00:05", true)};
        NetIf n;

        assert_int_equal(netif_choose(links, 4, ROUTE_HEADER ROUTE("eth0", "0"), "end1", &n), 0);
        assert_string_equal(n.name, "end1");
        assert_int_equal(n.source, NETIF_CONFIGURED);
        assert_int_equal(netif_choose(links, 4, NULL, "eth9", &n), -ENODEV);
        assert_int_equal(netif_choose(links, 4, NULL, "bad0", &n), -EADDRNOTAVAIL);
        assert_int_equal(netif_choose(links, 4, NULL, "ib0", &n), -EADDRNOTAVAIL);
}

static void netif_choose__nothing__enodev(void **state)
{
        const NetLink lo = mklink("lo", 1, 772, "00:00:00:00:00:00", false);
        NetIf n;

        assert_int_equal(netif_choose(NULL, 0, NULL, NULL, &n), -ENODEV);
        assert_int_equal(netif_choose(&lo, 1, NULL, NULL, &n), -ENODEV);
}

static void netif_find_cluster__this_system__an_ethernet_interface_or_enodev(void **state)
{
        NetIf n;
        int r = netif_find_cluster(NULL, &n);

        /* Whatever this machine has: a usable answer, or a clean "none". */
        assert_true(r == 0 || r == -ENODEV);
        if (r == 0) {
                assert_true(n.ifindex > 0);
                assert_true(mac_is_usable(n.mac));
        }
        assert_int_equal(netif_find_cluster("no-such-if0", &n), -ENODEV);
}

static void node_id_load_or_create__first_boot__written_then_loaded(void **state)
{
        const uint8_t mac[MAC_SIZE] = {0xb8, 0x27, 0xeb, 0x0a, 0x1b, 0x2c}, other[MAC_SIZE] = {2, 0, 0, 0, 0, 9};
        char id[NODE_ID_SIZE], path[128], *text = NULL;
        NodeIdOrigin origin;

        assert_int_equal(node_id_load_or_create(root, mac, id, &origin), 0);
        assert_string_equal(id, "b827eb0a1b2c");
        assert_int_equal(origin, NODE_ID_CREATED);
        snprintf(path, sizeof path, "%s/" NODE_ID_FILE, root);
        assert_int_equal(read_file_full(path, 100, &text, NULL), 0);
        assert_string_equal(text, "b827eb0a1b2c\n");
        free(text);

        /* A reboot, even with another MAC (the card moved to another Pi): the id stays. */
        assert_int_equal(node_id_load_or_create(root, other, id, &origin), 0);
        assert_string_equal(id, "b827eb0a1b2c");
        assert_int_equal(origin, NODE_ID_LOADED);
        /* Known without the MAC. */
        assert_int_equal(node_id_load_or_create(root, NULL, id, &origin), 0);
        assert_int_equal(origin, NODE_ID_LOADED);
}

static void node_id_load_or_create__corrupt_file__replaced(void **state)
{
        const uint8_t mac[MAC_SIZE] = {0xb8, 0x27, 0xeb, 0x0a, 0x1b, 0x2c};
        char id[NODE_ID_SIZE];
        NodeIdOrigin origin;

        put(NODE_ID_FILE, "\x00garbage");
        assert_int_equal(node_id_load_or_create(root, NULL, id, &origin), -ENOENT);
        assert_int_equal(node_id_load_or_create(root, mac, id, &origin), 0);
        assert_string_equal(id, "b827eb0a1b2c");
        assert_int_equal(origin, NODE_ID_REPLACED);
}

static void node_id_load_or_create__unusable_mac__einval(void **state)
{
        const uint8_t zero[MAC_SIZE] = {0};
        char id[NODE_ID_SIZE];
        NodeIdOrigin origin;

        assert_int_equal(node_id_load_or_create(root, zero, id, &origin), -EINVAL);
}

static void node_id_load_or_create__unwritable_dir__error(void **state)
{
        const uint8_t mac[MAC_SIZE] = {0xb8, 0x27, 0xeb, 0x0a, 0x1b, 0x2c};
        char id[NODE_ID_SIZE], dir[128];
        NodeIdOrigin origin;

        snprintf(dir, sizeof dir, "%s/missing/dir", root);
        assert_int_equal(node_id_load_or_create(dir, mac, id, &origin), -ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(netif_default_route__typical__lowest_metric),
                cmocka_unit_test(netif_default_route__none_or_down__enoent),
                cmocka_unit_test(netif_choose__default_route__its_interface),
                cmocka_unit_test(netif_choose__no_route__first_physical_ethernet),
                cmocka_unit_test(netif_choose__only_virtual__lowest_index),
                cmocka_unit_test(netif_choose__route_interface_without_mac__falls_back),
                cmocka_unit_test(netif_choose__configured__used_or_reported),
                cmocka_unit_test(netif_choose__nothing__enodev),
                cmocka_unit_test(netif_find_cluster__this_system__an_ethernet_interface_or_enodev),
                cmocka_unit_test_setup_teardown(node_id_load_or_create__first_boot__written_then_loaded, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(node_id_load_or_create__corrupt_file__replaced, setup, teardown),
                cmocka_unit_test_setup_teardown(node_id_load_or_create__unusable_mac__einval, setup, teardown),
                cmocka_unit_test_setup_teardown(node_id_load_or_create__unwritable_dir__error, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
