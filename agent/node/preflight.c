/* SPDX-License-Identifier: MIT */

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
        };
        return 0;
}

size_t preflight_evaluate(const PreflightFacts *f, unsigned ignore, PreflightFinding out[static _PREFLIGHT_CHECK_MAX])
{
        size_t n = 0;

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
                case _PREFLIGHT_CHECK_MAX:
                        break;
                }
                if (sev != PREFLIGHT_OK)
                        out[n++] = (PreflightFinding){.check = c, .severity = sev, .message = msg};
        }
        return n;
}
