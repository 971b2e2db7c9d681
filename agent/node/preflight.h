/* SPDX-License-Identifier: MIT */
#pragma once

/* What a Pi needs before kubeadm runs, in words a person can act on. preflight_probe() reads the facts from
 * /proc and /sys (under a root directory, for tests); preflight_evaluate() turns facts into findings (pure);
 * the fixable ones (module, sysctls, swap) are fixed by the caller at runtime and re-probed. */

#include <stdbool.h>
#include <stddef.h>

typedef enum PreflightCheck {
        PREFLIGHT_MEMORY_CGROUP,
        PREFLIGHT_SWAP,
        PREFLIGHT_BR_NETFILTER,
        PREFLIGHT_IP_FORWARD,
        PREFLIGHT_BRIDGE_NF_CALL,
        PREFLIGHT_CONTAINER_RUNTIME,
        PREFLIGHT_KUBEADM,
        PREFLIGHT_KUBELET,
        PREFLIGHT_MEMORY,             /* a master: kubeadm's Mem check, 1700 MB */
        PREFLIGHT_CONTAINERD_VERSION, /* below containerd's own floor for the installed Kubernetes */
        _PREFLIGHT_CHECK_MAX,
} PreflightCheck;

typedef struct PreflightFacts {
        bool memory_cgroup;     /* cgroup v2 "memory" controller, or v1 memory enabled */
        bool swap_active;       /* /proc/swaps lists a device or file */
        bool br_netfilter;      /* /proc/sys/net/bridge exists */
        bool ip_forward;        /* net.ipv4.ip_forward = 1 */
        bool bridge_nf_call;    /* net.bridge.bridge-nf-call-iptables = 1 */
        bool container_runtime; /* containerd's socket exists */
        bool kubeadm;           /* executable */
        bool kubelet;
        unsigned long mem_mb;        /* /proc/meminfo MemTotal in MiB, what kubeadm's sysinfo() sees; 0: unknown */
        char containerd_version[32]; /* installed packages (dpkg), "1.6.20"; "": unknown */
        char kubeadm_version[32];    /* "1.30.14"; "": unknown */
} PreflightFacts;

typedef enum PreflightSeverity {
        PREFLIGHT_OK,
        PREFLIGHT_FIXABLE,  /* the agent fixes it at runtime */
        PREFLIGHT_BLOCKING, /* needs the image, the boot files, other hardware or a reboot */
        PREFLIGHT_WARNING,  /* degraded: said once, nothing stops */
        _PREFLIGHT_SEVERITY_MAX,
} PreflightSeverity;

typedef struct PreflightFinding {
        PreflightCheck check;
        PreflightSeverity severity;
        char message[384]; /* what is wrong and the fix */
} PreflightFinding;

/* kubeadm's Mem preflight check for a control-plane node (cmd/kubeadm/app/constants: ControlPlaneMem). */
#define PREFLIGHT_CONTROL_PLANE_MEM_MB 1700

/* Reads the facts below root ("/" on a node). */
int preflight_probe(const char *root, PreflightFacts *ret);

/* Findings for every check that is not OK, in check order; control_plane: a master (kubeadm checks its memory);
 * ignore: checks to skip (bitmask of 1 << PreflightCheck), e.g. from PIAGENT_PREFLIGHT_IGNORE in test beds.
 * Returns the number written. */
size_t preflight_evaluate(const PreflightFacts *f, bool control_plane, unsigned ignore,
                          PreflightFinding out[static _PREFLIGHT_CHECK_MAX]);

/* containerd's own minimum for a Kubernetes minor on the containerd line of version ("1.6.20": the 1.6 line):
 * writes it ("1.6.28", or the oldest supported line's when that line is not supported at all) and returns
 * true if version is below it. False for an unknown or unparsable version. Pure. */
bool preflight_containerd_below_floor(const char *containerd, unsigned k8s_minor, char floor[static 16]);

/* "swap,kubelet" -> bitmask; -EINVAL for unknown names. */
int preflight_ignore_from_string(const char *s, unsigned *ret);
const char *preflight_check_to_string(PreflightCheck c);
