/* SPDX-License-Identifier: MIT */
#pragma once

/* Fresh join material on a ready master, made on demand so that a node added weeks later still joins:
 * a short-lived bootstrap token (kubeadm token create), the CA hash computed from the CA certificate itself
 * (not scraped from kubeadm's output), and for control-plane joiners a new certificate key with the control
 * plane's certificates uploaded again under it (kubeadm init phase upload-certs), because uploaded
 * certificates expire after two hours. */

#include <netinet/in.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "bootstrap.h"
#include "config.h"
#include "kubeadm-conf.h"

/* The upload-certs configuration's API and Kubernetes version (cluster.txt's kubernetes_version, else kubeadm's
 * own) come from the installed kubeadm, asked before anything is rendered (kubeadm_release()). */
typedef struct JoinMaterialParams {
        const Config *config;
        const char *self_id;     /* becomes BootstrapMaterial.server */
        const char *node_name;   /* this master, for the upload-certs configuration */
        struct in_addr address;  /* this master */
        const char *ca_file;     /* /etc/kubernetes/pki/ca.crt */
        const char *runtime_dir; /* where the 0600 upload-certs configuration is written (and removed) */
        const char *kubeadm;     /* the kubeadm program (kubeadm_binary()), NULL for kubeadm in PATH */
        bool control_plane;
} JoinMaterialParams;

/* m is valid during the callback only and wiped afterwards. error: 0, or negative errno with detail. */
typedef void (*JoinMaterialDone)(int error, const char *detail, const BootstrapMaterial *m, void *userdata);

/* What a master shares between requests: nodes that ask at about the same time (a rack of workers powered on
 * together) share one kubeadm run, and material made less than JOIN_MATERIAL_REUSE_USEC ago is handed out
 * again (the token lives 15 min, uploaded certificates 2 h: still fresh). Per kind (worker, control plane). */
#define JOIN_MATERIAL_REUSE_USEC (30 * 1000000ULL)
typedef struct JoinMaterialCache JoinMaterialCache;

int join_material_cache_new(JoinMaterialCache **ret);
/* Callbacks of requests still waiting are not called; their kubeadm runs finish unobserved. */
JoinMaterialCache *join_material_cache_free(JoinMaterialCache *c);
/* Forget what was made (e.g. a node reported a failed join with it): the next request makes new material. */
void join_material_cache_forget(JoinMaterialCache *c);
static inline void join_material_cache_freep(JoinMaterialCache **c)
{
        join_material_cache_free(*c);
}

/* cache: NULL makes material for this request alone. done may run before this returns. */
int join_material_create(sd_event *e, JoinMaterialCache *cache, const JoinMaterialParams *p, JoinMaterialDone done,
                         void *userdata);

/* The CA hash of a PEM file, as kubeadm pins it. */
int ca_hash_from_file(const char *path, char out[static 80]);
