/* SPDX-License-Identifier: MIT */

#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "kubeadm.h"
#include "log.h"
#include "macro.h"
#include "redact.h"

#define ADMIN_KUBECONFIG "/etc/kubernetes/admin.conf"

typedef struct KubeadmRun {
        KubeadmVerb verb;
        KubeadmDone done;
        void *userdata;
} KubeadmRun;

static const char *const verb_names[_KUBEADM_VERB_MAX] = {
        [KUBEADM_VERSION] = "version",
        [KUBEADM_INIT] = "init",
        [KUBEADM_JOIN] = "join",
        [KUBEADM_TOKEN_CREATE] = "token-create",
        [KUBEADM_UPLOAD_CERTS] = "upload-certs",
        [KUBEADM_RESET] = "reset",
};

const char *kubeadm_verb_to_string(KubeadmVerb v)
{
        return v >= 0 && v < _KUBEADM_VERB_MAX ? verb_names[v] : NULL;
}

const char *kubeadm_binary(const char *binary)
{
        return binary ?: "kubeadm";
}

static void on_line(const char *line, void *userdata)
{
        KubeadmRun *run = userdata;
        char masked[1024];

        /* The token kubeadm token create prints is the whole line: masked like any other. */
        log_struct(LOG_INFO, 0, LOG_FIELDS("PIAGENT_KUBEADM", verb_names[run->verb]), "kubeadm %s: %s",
                   verb_names[run->verb], redact_secrets(line, masked, sizeof masked));
}

static void on_done(const SpawnResult *result, void *userdata)
{
        KubeadmRun *run = userdata;

        run->done(result, run->userdata);
        free(run);
}

static int build_argv(const char *binary, KubeadmVerb verb, const char *config, const char *argv[static 10])
{
        size_t n = 0;

        argv[n++] = kubeadm_binary(binary);
        switch (verb) {
        case KUBEADM_VERSION:
                argv[n++] = "version", argv[n++] = "-o", argv[n++] = "short";
                break;
        case KUBEADM_INIT:
                argv[n++] = "init", argv[n++] = "--config", argv[n++] = config, argv[n++] = "--upload-certs";
                break;
        case KUBEADM_JOIN:
                argv[n++] = "join", argv[n++] = "--config", argv[n++] = config;
                break;
        case KUBEADM_TOKEN_CREATE:
                /* Named, not left to kubeadm: unset, `kubeadm token` takes $KUBECONFIG or ~/.kube/config first
                 * (client-go's loading rules), whatever cluster those point at. */
                argv[n++] = "token", argv[n++] = "create", argv[n++] = "--kubeconfig", argv[n++] = ADMIN_KUBECONFIG,
                argv[n++] = "--ttl", argv[n++] = "15m0s";
                break;
        case KUBEADM_UPLOAD_CERTS:
                argv[n++] = "init", argv[n++] = "phase", argv[n++] = "upload-certs", argv[n++] = "--upload-certs",
                argv[n++] = "--config", argv[n++] = config;
                break;
        case KUBEADM_RESET:
                argv[n++] = "reset", argv[n++] = "-f";
                break;
        case _KUBEADM_VERB_MAX:
                return -EINVAL;
        }
        argv[n] = NULL;
        for (size_t i = 0; i < n; i++)
                if (!argv[i])
                        return -EINVAL; /* a verb that needs a config file got none */
        return 0;
}

int kubeadm_run(sd_event *e, const char *binary, KubeadmVerb verb, const char *config, KubeadmDone done, void *userdata,
                Spawn **ret)
{
        static const uint64_t timeouts[_KUBEADM_VERB_MAX] = {
                [KUBEADM_VERSION] = KUBEADM_SHORT_TIMEOUT,      [KUBEADM_INIT] = KUBEADM_INIT_TIMEOUT,
                [KUBEADM_JOIN] = KUBEADM_JOIN_TIMEOUT,          [KUBEADM_TOKEN_CREATE] = KUBEADM_SHORT_TIMEOUT,
                [KUBEADM_UPLOAD_CERTS] = KUBEADM_SHORT_TIMEOUT, [KUBEADM_RESET] = KUBEADM_RESET_TIMEOUT,
        };
        const char *argv[10];
        KubeadmRun *run;
        int r;

        r = build_argv(binary, verb, config, argv);
        if (r < 0)
                return r;
        run = calloc(1, sizeof *run);
        if (!run)
                return -ENOMEM;
        *run = (KubeadmRun){.verb = verb, .done = done, .userdata = userdata};

        SpawnOptions o = {
                .argv = (char *const *)argv,
                .timeout_usec = timeouts[verb],
                .capture = true,
                .on_line = on_line,
                .on_done = on_done,
                .userdata = run,
        };
        r = spawn_start(e, &o, ret);
        if (r < 0)
                free(run);
        return r;
}

/* ---- the installed release, asked once ---- */

/* The release kubeadm said, and the file that said it: a replaced binary (a package upgrade) is asked again. */
static struct {
        bool known;
        KubeadmRelease release;
        dev_t dev;
        ino_t ino;
        struct timespec mtime;
} remembered;

typedef struct ReleaseQuery {
        KubeadmReleaseDone done;
        void *userdata;
        struct stat st;
        bool have_st;
} ReleaseQuery;

void kubeadm_release_forget(void)
{
        remembered = (typeof(remembered)){};
}

/* The kubeadm file that runs: the path as given, else the first in the children's PATH (subprocess.c). */
static int binary_stat(const char *binary, struct stat *ret)
{
        static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin"};
        const char *b = kubeadm_binary(binary);
        char path[PATH_MAX];

        if (strchr(b, '/'))
                return stat(b, ret) < 0 ? -errno : 0;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                snprintf(path, sizeof path, "%s/%s", dirs[i], b);
                if (stat(path, ret) == 0)
                        return 0;
        }
        return -ENOENT;
}

static bool same_file(const struct stat *st)
{
        return st->st_dev == remembered.dev && st->st_ino == remembered.ino &&
               st->st_mtim.tv_sec == remembered.mtime.tv_sec && st->st_mtim.tv_nsec == remembered.mtime.tv_nsec;
}

int kubeadm_release_parse(const char *output, KubeadmRelease *ret)
{
        KubeadmRelease r = {};
        unsigned major, minor;
        size_t n = output ? strcspn(output, " \r\n") : 0;

        if (n == 0 || n >= sizeof r.version)
                return -EINVAL;
        memcpy(r.version, output, n);
        if (kubeadm_api_from_version(r.version, &r.api) < 0 || sscanf(r.version, "v%u.%u", &major, &minor) != 2)
                return -EINVAL;
        if (major == 1 && minor < 22)
                return -EPROTO; /* no kubeadm.k8s.io/v1beta3 before 1.22 */
        *ret = r;
        return 0;
}

static void on_version(const SpawnResult *res, void *userdata)
{
        _cleanup_free_ ReleaseQuery *q = userdata;
        char how[96], detail[160];
        KubeadmRelease r;
        int e;

        if (!spawn_result_ok(res)) {
                snprintf(detail, sizeof detail, "kubeadm version %s", spawn_result_describe(res, how, sizeof how));
                q->done(-EIO, detail, NULL, q->userdata);
                return;
        }
        e = kubeadm_release_parse(res->output, &r);
        if (e == -EPROTO)
                snprintf(detail, sizeof detail,
                         "kubeadm %.*s is too old: the agent needs kubeadm 1.22 or later (configuration API v1beta3)",
                         (int)MIN(strcspn(res->output, " \r\n"), (size_t)31), res->output);
        else if (e < 0)
                snprintf(detail, sizeof detail, "kubeadm version -o short printed '%.*s', not a version",
                         (int)MIN(strcspn(res->output ?: "", "\r\n"), (size_t)40), res->output ?: "");
        if (e < 0) {
                q->done(e, detail, NULL, q->userdata);
                return;
        }
        if (q->have_st) {
                remembered.known = true;
                remembered.release = r;
                remembered.dev = q->st.st_dev;
                remembered.ino = q->st.st_ino;
                remembered.mtime = q->st.st_mtim;
        }
        log_info("kubeadm %s: configuration API %s", r.version, kubeadm_api_to_string(r.api));
        q->done(0, NULL, &r, q->userdata);
}

int kubeadm_release(sd_event *e, const char *binary, KubeadmReleaseDone done, void *userdata, Spawn **ret)
{
        ReleaseQuery *q;
        struct stat st;
        bool have_st = binary_stat(binary, &st) >= 0;
        int r;

        if (remembered.known && have_st && same_file(&st)) {
                KubeadmRelease copy = remembered.release;
                if (ret)
                        *ret = NULL;
                done(0, NULL, &copy, userdata);
                return 0;
        }
        remembered.known = false;
        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        *q = (ReleaseQuery){.done = done, .userdata = userdata, .st = st, .have_st = have_st};
        r = kubeadm_run(e, binary, KUBEADM_VERSION, NULL, on_version, q, ret);
        if (r < 0)
                free(q);
        return r;
}
