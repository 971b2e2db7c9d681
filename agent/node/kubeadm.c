/* SPDX-License-Identifier: MIT */

#include "kubeadm.h"
#include "log.h"
#include "macro.h"
#include "redact.h"

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
                argv[n++] = "token", argv[n++] = "create", argv[n++] = "--ttl", argv[n++] = "15m0s";
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
