/* SPDX-License-Identifier: MIT */
#pragma once

/* kubeadm as a child process. Every run has a timeout; every output line goes to the journal with secrets
 * masked (redact.h) and PIAGENT_KUBEADM=<verb>; secrets reach kubeadm through 0600 config files, never the
 * command line (which every local user can read in /proc). */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "kubeadm-conf.h"
#include "subprocess.h"

/* Image pulls on a Pi take minutes, and kubeadm itself waits up to 10 min for the control plane (kubeadm-conf.c);
 * kubeadm bounds each of its waits: this is the backstop for a kubeadm that hangs. */
#define KUBEADM_INIT_TIMEOUT  (30 * 60 * 1000000ULL)
#define KUBEADM_JOIN_TIMEOUT  (30 * 60 * 1000000ULL)
#define KUBEADM_SHORT_TIMEOUT (2 * 60 * 1000000ULL) /* token create, upload-certs, version */
#define KUBEADM_RESET_TIMEOUT (5 * 60 * 1000000ULL)

/* result->output: kubeadm's captured stdout+stderr (may hold a secret: do not log it; it is wiped after the
 * callback returns). */
typedef void (*KubeadmDone)(const SpawnResult *result, void *userdata);

typedef enum KubeadmVerb {
        KUBEADM_VERSION,      /* kubeadm version -o short */
        KUBEADM_INIT,         /* kubeadm init --config FILE --upload-certs */
        KUBEADM_JOIN,         /* kubeadm join --config FILE */
        KUBEADM_TOKEN_CREATE, /* kubeadm token create --kubeconfig /etc/kubernetes/admin.conf --ttl 15m0s */
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

/* The installed kubeadm's release: the configuration API it reads and, unless cluster.txt names one, the Kubernetes
 * version every configuration carries. Never guessed (kubeadm 1.28-1.30 refuses v1beta4, 1.33 a control plane
 * older than 1.32): `kubeadm version -o short` is asked before anything is rendered, also on a master that is
 * ready from its persisted state, and the answer kept for the life of the process while the kubeadm binary stays
 * the same file (an upgraded package is asked again). */
typedef struct KubeadmRelease {
        char version[32]; /* "v1.30.14" */
        KubeadmApi api;
} KubeadmRelease;

/* r is valid during the callback only. error: 0, or a negative errno with detail (words for the journal). */
typedef void (*KubeadmReleaseDone)(int error, const char *detail, const KubeadmRelease *r, void *userdata);

/* Known already: done runs before this returns and *ret (if given) is NULL. Else kubeadm runs and *ret is the
 * child (for spawn_cancel; done is then not called). Returns a negative errno if kubeadm could not be started
 * (done not called). */
int kubeadm_release(sd_event *e, const char *binary, KubeadmReleaseDone done, void *userdata, Spawn **ret);
/* Parses `kubeadm version -o short` output ("v1.31.2\n"): -EINVAL, or -EPROTO for a release the agent does not
 * support (older than 1.22: no v1beta3). Pure. */
int kubeadm_release_parse(const char *output, KubeadmRelease *ret);
/* Forget the remembered release (tests). */
void kubeadm_release_forget(void);
