/* SPDX-License-Identifier: MIT */
#pragma once

/* kubeadm as a child process. Every run has a timeout; every output line goes to the journal with secrets
 * masked (redact.h) and PIAGENT_KUBEADM=<verb>; secrets reach kubeadm through 0600 config files, never the
 * command line (which every local user can read in /proc). */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "subprocess.h"

#define KUBEADM_INIT_TIMEOUT  (15 * 60 * 1000000ULL) /* image pulls on a Pi take minutes */
#define KUBEADM_JOIN_TIMEOUT  (15 * 60 * 1000000ULL)
#define KUBEADM_SHORT_TIMEOUT (2 * 60 * 1000000ULL) /* token create, upload-certs, version */
#define KUBEADM_RESET_TIMEOUT (5 * 60 * 1000000ULL)

/* result->output: kubeadm's captured stdout+stderr (may hold a secret: do not log it; it is wiped after the
 * callback returns). */
typedef void (*KubeadmDone)(const SpawnResult *result, void *userdata);

typedef enum KubeadmVerb {
        KUBEADM_VERSION,      /* kubeadm version -o short */
        KUBEADM_INIT,         /* kubeadm init --config FILE --upload-certs */
        KUBEADM_JOIN,         /* kubeadm join --config FILE */
        KUBEADM_TOKEN_CREATE, /* kubeadm token create --ttl 15m0s: prints the token */
        KUBEADM_UPLOAD_CERTS, /* kubeadm init phase upload-certs --upload-certs --config FILE */
        KUBEADM_RESET,        /* kubeadm reset -f */
        _KUBEADM_VERB_MAX,
} KubeadmVerb;

/* The kubeadm binary: $PIAGENT_KUBEADM if set (tests), else "kubeadm" from PATH. */
/* The program to run: binary (PIAGENT_KUBEADM, settings.h), or "kubeadm" from PATH when NULL. */
const char *kubeadm_binary(const char *binary);
const char *kubeadm_verb_to_string(KubeadmVerb v);

/* config: the file for INIT, JOIN and UPLOAD_CERTS (NULL otherwise). Returns 0 and the running child (for
 * spawn_cancel), or a negative errno if kubeadm could not be started (done is then not called). */
int kubeadm_run(sd_event *e, const char *binary, KubeadmVerb verb, const char *config, KubeadmDone done, void *userdata,
                Spawn **ret);
