/* SPDX-License-Identifier: MIT */

#include <fcntl.h>
#include <stdio.h>

#include "fileio.h"
#include "log.h"
#include "preflight-fix.h"
#include "subprocess.h"

#define FIX_TIMEOUT (60 * 1000000ULL)

const PreflightFixPaths preflight_fix_default_paths = {
        .root = "/",
        .swapoff = "/sbin/swapoff",
        .modprobe = "/sbin/modprobe",
};

typedef struct Fix {
        sd_event *event;
        PreflightFixPaths paths;
        PreflightCheck todo[_PREFLIGHT_CHECK_MAX];
        size_t n, next;
        PreflightFixDone done;
        void *userdata;
        char detail[256];
} Fix;

static void fix_next(Fix *f);

static void fix_finish(Fix *f, int error)
{
        f->done(error, error < 0 ? f->detail : NULL, f->userdata);
        sd_event_unref(f->event);
        free(f);
}

static void on_child(const SpawnResult *r, void *userdata)
{
        Fix *f = userdata;
        char how[96];

        if (!spawn_result_ok(r)) {
                snprintf(f->detail, sizeof f->detail, "%s %s", preflight_check_to_string(f->todo[f->next - 1]),
                         spawn_result_describe(r, how, sizeof how));
                fix_finish(f, -EIO);
                return;
        }
        fix_next(f);
}

static int run(Fix *f, const char *path, const char *arg)
{
        char *argv[] = {(char *)path, (char *)arg, NULL};
        SpawnOptions o = {.argv = argv, .timeout_usec = FIX_TIMEOUT, .on_done = on_child, .userdata = f};

        log_info("Running %s %s", path, arg);
        return spawn_start(f->event, &o, NULL);
}

static int write_sysctl(Fix *f, const char *name)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (asprintf(&path, "%s/proc/sys/%s", streq(f->paths.root, "/") ? "" : f->paths.root, name) < 0)
                return -ENOMEM;
        /* /proc/sys files are written in place, not replaced. */
        fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
        if (fd < 0 || write(fd, "1\n", 2) != 2)
                return -errno;
        log_info("Set %s = 1", name);
        return 0;
}

static void fix_next(Fix *f)
{
        int r = 0;

        while (f->next < f->n) {
                PreflightCheck c = f->todo[f->next++];
                switch (c) {
                case PREFLIGHT_SWAP:
                        r = run(f, f->paths.swapoff, "-a");
                        if (r >= 0)
                                return; /* continues in on_child */
                        break;
                case PREFLIGHT_BR_NETFILTER:
                        r = run(f, f->paths.modprobe, "br_netfilter");
                        if (r >= 0)
                                return;
                        break;
                case PREFLIGHT_IP_FORWARD:
                        r = write_sysctl(f, "net/ipv4/ip_forward");
                        break;
                case PREFLIGHT_BRIDGE_NF_CALL:
                        r = write_sysctl(f, "net/bridge/bridge-nf-call-iptables");
                        break;
                case PREFLIGHT_MEMORY_CGROUP:
                case PREFLIGHT_CONTAINER_RUNTIME:
                case PREFLIGHT_KUBEADM:
                case PREFLIGHT_KUBELET:
                case PREFLIGHT_MEMORY:
                case PREFLIGHT_CONTAINERD_VERSION:
                case _PREFLIGHT_CHECK_MAX:
                        break; /* not fixable at runtime */
                }
                if (r < 0) {
                        snprintf(f->detail, sizeof f->detail, "%s: %s", preflight_check_to_string(c), strerror(-r));
                        fix_finish(f, r);
                        return;
                }
        }
        fix_finish(f, 0);
}

int preflight_fix_start(sd_event *e, const PreflightFixPaths *paths, const PreflightFinding *findings, size_t n,
                        PreflightFixDone done, void *userdata)
{
        Fix *f = calloc(1, sizeof *f);

        if (!f)
                return -ENOMEM;
        f->event = sd_event_ref(e);
        f->paths = *paths;
        f->done = done;
        f->userdata = userdata;
        /* br_netfilter first: the bridge sysctl exists only once the module is loaded. */
        for (size_t i = 0; i < n; i++)
                if (findings[i].severity == PREFLIGHT_FIXABLE && findings[i].check == PREFLIGHT_BR_NETFILTER)
                        f->todo[f->n++] = findings[i].check;
        for (size_t i = 0; i < n && f->n < _PREFLIGHT_CHECK_MAX; i++)
                if (findings[i].severity == PREFLIGHT_FIXABLE && findings[i].check != PREFLIGHT_BR_NETFILTER)
                        f->todo[f->n++] = findings[i].check;
        fix_next(f);
        return 0;
}
