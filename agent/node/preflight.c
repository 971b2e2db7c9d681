/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "preflight.h"

static const char *const check_names[_PREFLIGHT_CHECK_MAX] = {
        [PREFLIGHT_MEMORY_CGROUP] = "memory-cgroup",
        [PREFLIGHT_SWAP] = "swap",
        [PREFLIGHT_BR_NETFILTER] = "br_netfilter",
        [PREFLIGHT_IP_FORWARD] = "ip_forward",
        [PREFLIGHT_BRIDGE_NF_CALL] = "bridge-nf-call-iptables",
        [PREFLIGHT_CONTAINER_RUNTIME] = "container-runtime",
        [PREFLIGHT_KUBEADM] = "kubeadm",
        [PREFLIGHT_KUBELET] = "kubelet",
        [PREFLIGHT_MEMORY] = "memory",
        [PREFLIGHT_CONTAINERD_VERSION] = "containerd-version",
};

/* containerd's RELEASES.md, "Kubernetes Support" (docs/kubeadm-double.md): from each Kubernetes minor on, the
 * minimum per containerd line; a line older than those listed is not supported for it. Kubernetes 1.37 ends
 * containerd 1.x support. */
static const struct {
        unsigned k8s;
        const char *floors[3];
} containerd_floors[] = {
        {26, {"1.6.15", "1.7.0"}},
        {29, {"1.6.27", "1.7.11"}},
        {30, {"1.6.28", "1.7.13", "2.0.0"}},
        {31, {"1.6.34", "1.7.20", "2.0.0"}},
        {32, {"1.6.36", "1.7.24", "2.0.1"}},
        {33, {"1.6.36", "1.7.24", "2.0.4"}},
        {37, {"2.0.4"}},
};

const char *preflight_check_to_string(PreflightCheck c)
{
        return c >= 0 && c < _PREFLIGHT_CHECK_MAX ? check_names[c] : NULL;
}

int preflight_ignore_from_string(const char *s, unsigned *ret)
{
        unsigned mask = 0;

        while (s && *s) {
                size_t n = strcspn(s, ",");
                bool found = false;
                for (PreflightCheck c = 0; c < _PREFLIGHT_CHECK_MAX; c++)
                        if (strlen(check_names[c]) == n && strncmp(s, check_names[c], n) == 0) {
                                mask |= 1u << c;
                                found = true;
                        }
                if (!found && n > 0)
                        return -EINVAL;
                s += n + (s[n] == ',');
        }
        *ret = mask;
        return 0;
}

static char *path_at(const char *root, const char *path)
{
        char *p;
        if (asprintf(&p, "%s%s", streq(root, "/") ? "" : root, path) < 0)
                return NULL;
        return p;
}

static bool read_is(const char *root, const char *path, const char *want)
{
        _cleanup_free_ char *p = path_at(root, path), *s = NULL;

        if (!p || read_file_full(p, 4096, &s, NULL) < 0)
                return false;
        s[strcspn(s, "\n")] = 0;
        return streq(s, want);
}

static bool exists(const char *root, const char *path, mode_t type)
{
        _cleanup_free_ char *p = path_at(root, path);
        struct stat st;

        return p && stat(p, &st) == 0 && (type == 0 || (st.st_mode & S_IFMT) == type);
}

static bool executable(const char *root, const char *path)
{
        _cleanup_free_ char *p = path_at(root, path);
        return p && access(p, X_OK) == 0;
}

static bool memory_cgroup(const char *root)
{
        _cleanup_free_ char *v2 = path_at(root, "/sys/fs/cgroup/cgroup.controllers"), *v1 = NULL, *s = NULL;
        char *save = NULL;

        if (v2 && read_file_full(v2, 4096, &s, NULL) >= 0) {
                for (char *w = strtok_r(s, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
                        if (streq(w, "memory"))
                                return true;
                return false;
        }
        /* cgroup v1: "memory <hierarchy> <num_cgroups> <enabled>" */
        v1 = path_at(root, "/proc/cgroups");
        free(s);
        s = NULL;
        if (!v1 || read_file_full(v1, 1 << 16, &s, NULL) < 0)
                return false;
        for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                unsigned h, n, enabled;
                char name[32];
                if (sscanf(line, "%31s %u %u %u", name, &h, &n, &enabled) == 4 && streq(name, "memory"))
                        return enabled == 1;
        }
        return false;
}

static bool swap_active(const char *root)
{
        _cleanup_free_ char *p = path_at(root, "/proc/swaps"), *s = NULL;

        if (!p || read_file_full(p, 1 << 16, &s, NULL) < 0)
                return false;
        /* A header line, then one line per active swap area. */
        char *nl = strchr(s, '\n');
        return nl && nl[1] != 0;
}

static unsigned long mem_total_mb(const char *root)
{
        _cleanup_free_ char *p = path_at(root, "/proc/meminfo"), *s = NULL;
        unsigned long kb;
        char *line;

        if (!p || read_file_full(p, 1 << 16, &s, NULL) < 0)
                return 0;
        line = strstr(s, "MemTotal:");
        if (!line || sscanf(line, "MemTotal: %lu kB", &kb) != 1)
                return 0;
        return kb / 1024;
}

/* "1:1.6.20~ds1-1+b1" -> "1.6.20": the upstream version's leading digits and dots. */
static void upstream_version(const char *v, size_t n, char out[static 32])
{
        const char *colon = memchr(v, ':', n);
        size_t k = 0;

        if (colon) {
                n -= (size_t)(colon + 1 - v);
                v = colon + 1;
        }
        while (k < n && k < 31 && (isdigit((unsigned char)v[k]) || v[k] == '.'))
                k++;
        memcpy(out, v, k);
        out[k] = 0;
}

/* The installed versions of containerd (Debian's or Docker's package) and kubeadm, from dpkg's status file. */
static void package_versions(const char *root, PreflightFacts *f)
{
        _cleanup_free_ char *p = path_at(root, "/var/lib/dpkg/status"), *s = NULL;

        if (!p || read_file_full(p, 64 << 20, &s, NULL) < 0)
                return;
        for (char *st = s; st && *st;) {
                char *end = strstr(st, "\n\n"), *pkg, *ver, *status;
                if (end)
                        *end = 0;
                pkg = strstr(st, "Package: ") == st ? st : strstr(st, "\nPackage: ");
                ver = strstr(st, "\nVersion: ");
                status = strstr(st, "\nStatus: ");
                if (pkg && ver && status && strncmp(status, "\nStatus: install ok installed", 29) == 0) {
                        pkg += *pkg == '\n' ? 10 : 9;
                        ver += 10;
                        size_t pn = strcspn(pkg, "\n"), vn = strcspn(ver, "\n");
                        if ((pn == 10 && strncmp(pkg, "containerd", 10) == 0) ||
                            (pn == 13 && strncmp(pkg, "containerd.io", 13) == 0))
                                upstream_version(ver, vn, f->containerd_version);
                        else if (pn == 7 && strncmp(pkg, "kubeadm", 7) == 0)
                                upstream_version(ver, vn, f->kubeadm_version);
                }
                st = end ? end + 2 : NULL;
        }
}

static bool parse_triple(const char *v, unsigned out[static 3])
{
        int n = 0;

        out[2] = 0;
        return v && (sscanf(v, "%u.%u.%u%n", &out[0], &out[1], &out[2], &n) == 3 ||
                     sscanf(v, "%u.%u%n", &out[0], &out[1], &n) == 2);
}

bool preflight_containerd_below_floor(const char *containerd, unsigned k8s_minor, char floor[static 16])
{
        unsigned have[3], want[3];
        size_t row = ELEMENTSOF(containerd_floors);

        if (!parse_triple(containerd, have))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(containerd_floors); i++)
                if (containerd_floors[i].k8s <= k8s_minor)
                        row = i;
        if (row == ELEMENTSOF(containerd_floors))
                return false; /* older than the table: nothing to say */
        const char *const *floors = containerd_floors[row].floors;
        for (size_t i = 0; i < ELEMENTSOF(containerd_floors[row].floors) && floors[i]; i++) {
                if (!parse_triple(floors[i], want))
                        continue;
                if (want[0] == have[0] && want[1] == have[1]) {
                        snprintf(floor, 16, "%s", floors[i]);
                        return have[2] < want[2];
                }
                if (want[0] > have[0] || (want[0] == have[0] && want[1] > have[1])) {
                        /* An older line than any supported one. */
                        snprintf(floor, 16, "%s", floors[i]);
                        return true;
                }
        }
        return false; /* a newer line than those listed */
}

int preflight_probe(const char *root, PreflightFacts *ret)
{
        *ret = (PreflightFacts){
                .memory_cgroup = memory_cgroup(root),
                .swap_active = swap_active(root),
                .br_netfilter = exists(root, "/proc/sys/net/bridge", S_IFDIR),
                .ip_forward = read_is(root, "/proc/sys/net/ipv4/ip_forward", "1"),
                .bridge_nf_call = read_is(root, "/proc/sys/net/bridge/bridge-nf-call-iptables", "1"),
                .container_runtime = exists(root, "/run/containerd/containerd.sock", S_IFSOCK),
                .kubeadm = executable(root, "/usr/bin/kubeadm"),
                .kubelet = executable(root, "/usr/bin/kubelet"),
                .mem_mb = mem_total_mb(root),
        };
        package_versions(root, ret);
        return 0;
}

size_t preflight_evaluate(const PreflightFacts *f, bool control_plane, unsigned ignore,
                          PreflightFinding out[static _PREFLIGHT_CHECK_MAX])
{
        size_t n = 0;
        unsigned k8s[3];
        char floor[16], text[384];

        for (PreflightCheck c = 0; c < _PREFLIGHT_CHECK_MAX; c++) {
                PreflightSeverity sev = PREFLIGHT_OK;
                const char *msg = NULL;

                if (ignore & (1u << c))
                        continue;
                switch (c) {
                case PREFLIGHT_MEMORY_CGROUP:
                        if (!f->memory_cgroup)
                                sev = PREFLIGHT_BLOCKING,
                                msg = "The memory cgroup is disabled, and kubelet will not run without it: add "
                                      "'cgroup_enable=memory' at the END of the one line in "
                                      "/boot/firmware/cmdline.txt (older systems: /boot/cmdline.txt) and reboot";
                        break;
                case PREFLIGHT_SWAP:
                        if (f->swap_active)
                                sev = PREFLIGHT_FIXABLE,
                                msg = "Swap is on, and kubelet refuses to run with swap: turning it off now; to keep "
                                      "it off, disable dphys-swapfile (bookworm) or rpi-swap (trixie)";
                        break;
                case PREFLIGHT_BR_NETFILTER:
                        if (!f->br_netfilter)
                                sev = PREFLIGHT_FIXABLE,
                                msg = "The br_netfilter module is not loaded: loading it now (the image loads it at "
                                      "boot from /etc/modules-load.d)";
                        break;
                case PREFLIGHT_IP_FORWARD:
                        if (!f->ip_forward)
                                sev = PREFLIGHT_FIXABLE, msg = "IPv4 forwarding is off: setting net.ipv4.ip_forward=1";
                        break;
                case PREFLIGHT_BRIDGE_NF_CALL:
                        if (!f->bridge_nf_call)
                                sev = PREFLIGHT_FIXABLE, msg = "Bridged traffic bypasses iptables: setting "
                                                               "net.bridge.bridge-nf-call-iptables=1";
                        break;
                case PREFLIGHT_CONTAINER_RUNTIME:
                        if (!f->container_runtime)
                                sev = PREFLIGHT_BLOCKING,
                                msg = "containerd is not running (no /run/containerd/containerd.sock): check "
                                      "'systemctl status containerd'; the image installs and enables it";
                        break;
                case PREFLIGHT_KUBEADM:
                        if (!f->kubeadm)
                                sev = PREFLIGHT_BLOCKING,
                                msg = "kubeadm is not installed: this image was built without the Kubernetes "
                                      "packages (see docs/image.md: --k8s-debs), or install kubeadm, kubelet and "
                                      "kubectl from the Kubernetes package repository";
                        break;
                case PREFLIGHT_KUBELET:
                        if (!f->kubelet)
                                sev = PREFLIGHT_BLOCKING,
                                msg = "kubelet is not installed: install it with kubeadm (same version)";
                        break;
                case PREFLIGHT_MEMORY:
                        if (control_plane && f->mem_mb > 0 && f->mem_mb < PREFLIGHT_CONTROL_PLANE_MEM_MB) {
                                snprintf(text, sizeof text,
                                         "This Pi has %lu MB of memory, and kubeadm refuses a master below %u MB "
                                         "(its Mem check): use a Pi with 2 GB or more as a master, or make this one "
                                         "a worker (role=worker in role.txt)",
                                         f->mem_mb, PREFLIGHT_CONTROL_PLANE_MEM_MB);
                                sev = PREFLIGHT_BLOCKING, msg = text;
                        }
                        break;
                case PREFLIGHT_CONTAINERD_VERSION:
                        if (parse_triple(f->kubeadm_version, k8s) && k8s[0] == 1 &&
                            preflight_containerd_below_floor(f->containerd_version, k8s[1], floor)) {
                                snprintf(text, sizeof text,
                                         "containerd %s is below %s, containerd's own minimum for Kubernetes 1.%u "
                                         "(kubeadm %s): pods may fail in ways kubeadm does not check; install "
                                         "containerd %s or newer",
                                         f->containerd_version, floor, k8s[1], f->kubeadm_version, floor);
                                sev = PREFLIGHT_WARNING, msg = text;
                        }
                        break;
                case _PREFLIGHT_CHECK_MAX:
                        break;
                }
                if (sev != PREFLIGHT_OK) {
                        out[n] = (PreflightFinding){.check = c, .severity = sev};
                        snprintf(out[n].message, sizeof out[n].message, "%s", msg);
                        n++;
                }
        }
        return n;
}
