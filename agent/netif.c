/* SPDX-License-Identifier: MIT */

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "netif.h"

#define ARPHRD_ETHER_TYPE 1    /* /sys/class/net/<if>/type of Ethernet and Wi-Fi */
#define RTF_UP_FLAG       0x1u /* /proc/net/route Flags */
#define SYSFS_VALUE_MAX   64

static const char *const source_names[_NETIF_SOURCE_MAX] = {
        [NETIF_CONFIGURED] = "interface= in role.txt",
        [NETIF_DEFAULT_ROUTE] = "default route",
        [NETIF_FIRST_ETHERNET] = "first Ethernet interface",
};

const char *netif_source_to_string(NetIfSource s)
{
        return s >= 0 && s < _NETIF_SOURCE_MAX ? source_names[s] : NULL;
}

int netif_default_route(const char *route_text, char ret[static IFNAMSIZ])
{
        char best[IFNAMSIZ] = "";
        unsigned best_metric = 0;
        const char *line = route_text;

        /* "Iface Destination Gateway Flags RefCnt Use Metric Mask ...", hex addresses; the first line is a header. */
        while (line && *line) {
                char name[IFNAMSIZ];
                unsigned dest, gw, flags, refcnt, use, metric, mask;
                const char *nl = strchr(line, '\n');

                if (sscanf(line, "%15s %x %x %x %u %u %u %x", name, &dest, &gw, &flags, &refcnt, &use, &metric,
                           &mask) == 8 &&
                    dest == 0 && mask == 0 && (flags & RTF_UP_FLAG) && !streq(name, "lo") &&
                    (!*best || metric < best_metric)) {
                        memcpy(best, name, sizeof best);
                        best_metric = metric;
                }
                line = nl ? nl + 1 : NULL;
        }
        if (!*best)
                return -ENOENT;
        memcpy(ret, best, IFNAMSIZ);
        return 0;
}

static int read_sysfs(const char *root, const char *ifname, const char *attr, char buf[static SYSFS_VALUE_MAX])
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t size;
        int r;

        if (asprintf(&path, "%s/sys/class/net/%s/%s", root, ifname, attr) < 0)
                return -ENOMEM;
        /* sysfs attributes claim a size of one page whatever they hold. */
        r = read_file_full(path, 4096, &text, &size);
        if (r < 0)
                return r;
        text[strcspn(text, "\n")] = 0;
        snprintf(buf, SYSFS_VALUE_MAX, "%s", text);
        return 0;
}

/* Fills ret if ifname is an Ethernet-type interface with a usable MAC. -ENODEV if it does not exist,
 * -EADDRNOTAVAIL if it has no usable MAC. */
static int inspect(const char *root, const char *ifname, NetIf *ret, bool *ret_physical)
{
        char v[SYSFS_VALUE_MAX], path[PATH_MAX];
        NetIf n = {};
        struct stat st;
        int r;

        if (strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') || ifname[0] == '.')
                return -ENODEV;
        r = read_sysfs(root, ifname, "ifindex", v);
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        n.ifindex = atoi(v);
        if (n.ifindex <= 0)
                return -ENODEV;
        r = read_sysfs(root, ifname, "type", v);
        if (r < 0 || atoi(v) != ARPHRD_ETHER_TYPE)
                return -EADDRNOTAVAIL;
        r = read_sysfs(root, ifname, "address", v);
        if (r < 0 || mac_parse(v, n.mac) < 0 || !mac_is_usable(n.mac))
                return -EADDRNOTAVAIL;
        snprintf(n.name, sizeof n.name, "%s", ifname);
        snprintf(path, sizeof path, "%s/sys/class/net/%s/device", root, ifname);
        *ret_physical = stat(path, &st) == 0;
        *ret = n;
        return 0;
}

static bool better(const NetIf *a, bool a_phys, const NetIf *b, bool b_phys)
{
        if (a_phys != b_phys)
                return a_phys;
        return a->ifindex < b->ifindex;
}

static int first_ethernet(const char *root, NetIf *ret)
{
        _cleanup_free_ char *dir = NULL;
        NetIf best = {};
        bool best_phys = false, found = false;
        struct dirent *de;
        DIR *d;

        if (asprintf(&dir, "%s/sys/class/net", root) < 0)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? -ENODEV : -errno;
        while ((de = readdir(d))) {
                NetIf n;
                bool phys;

                if (de->d_name[0] == '.' || streq(de->d_name, "lo"))
                        continue;
                if (inspect(root, de->d_name, &n, &phys) < 0)
                        continue;
                if (!found || better(&n, phys, &best, best_phys)) {
                        best = n;
                        best_phys = phys;
                        found = true;
                }
        }
        closedir(d);
        if (!found)
                return -ENODEV;
        *ret = best;
        return 0;
}

int netif_find_cluster(const char *root, const char *wanted, NetIf *ret)
{
        _cleanup_free_ char *path = NULL, *routes = NULL;
        char name[IFNAMSIZ];
        bool phys;
        size_t size;
        NetIf n;
        int r;

        root = root ?: "";
        if (wanted) {
                r = inspect(root, wanted, &n, &phys);
                if (r < 0)
                        return r;
                n.source = NETIF_CONFIGURED;
                *ret = n;
                return 0;
        }

        if (asprintf(&path, "%s/proc/net/route", root) < 0)
                return -ENOMEM;
        if (read_file_full(path, 1024 * 1024, &routes, &size) >= 0 && netif_default_route(routes, name) >= 0 &&
            inspect(root, name, &n, &phys) >= 0) {
                n.source = NETIF_DEFAULT_ROUTE;
                *ret = n;
                return 0;
        }

        r = first_ethernet(root, &n);
        if (r < 0)
                return r;
        n.source = NETIF_FIRST_ETHERNET;
        *ret = n;
        return 0;
}
