/* SPDX-License-Identifier: MIT */
#pragma once

/* kubeadm configuration files, rendered as JSON documents separated by "---" (JSON is YAML, so kubeadm reads
 * them; no hand-written YAML). Pure. */

#include <netinet/in.h>
#include <stdbool.h>

#include "config.h"

typedef enum KubeadmApi {
        KUBEADM_V1BETA3, /* kubeadm < 1.31 */
        KUBEADM_V1BETA4, /* kubeadm >= 1.31 */
        _KUBEADM_API_MAX,
        _KUBEADM_API_INVALID = -EINVAL,
} KubeadmApi;

/* From `kubeadm version -o short` ("v1.31.2"): the config API it wants. -EINVAL if not a version. */
int kubeadm_api_from_version(const char *version, KubeadmApi *ret);
const char *kubeadm_api_to_string(KubeadmApi api); /* "kubeadm.k8s.io/v1beta4" */

/* Can kubeadm (its `version -o short`) set up the Kubernetes version cluster.txt names? kubeadm refuses a control
 * plane more than one minor older than itself (constants.MinimumControlPlaneVersion) and only warns about a newer
 * one, which the kubelet of the same packages then cannot run: both are refused here, before kubeadm runs. 0, or
 * -ERANGE with the words and the fix in msg; -EINVAL for a version that does not parse. */
int kubeadm_version_skew_check(const char *kubeadm, const char *wanted, char *msg, size_t size);

/* Bootstrap token "[a-z0-9]{6}.[a-z0-9]{16}" and certificate key (64 hex) formats, as kubeadm checks them. */
bool kubeadm_token_is_valid(const char *token);
bool kubeadm_certificate_key_is_valid(const char *key);
bool kubeadm_ca_hash_is_valid(const char *hash); /* "sha256:<64 hex>" */

typedef struct KubeadmInitParams {
        KubeadmApi api;
        const Config *config;
        const char *node_name;
        struct in_addr advertise_address;
        const char *kubernetes_version; /* "v1.31.2": config's, else the installed kubeadm's */
        const char *token;              /* secret: goes only into the file (mode 0600) */
        const char *certificate_key;    /* secret */
} KubeadmInitParams;

typedef struct KubeadmJoinParams {
        KubeadmApi api;
        const Config *config;
        const char *node_name;
        struct in_addr advertise_address;
        bool control_plane;
        const char *token;           /* secret */
        const char *ca_hash;         /* "sha256:…" */
        const char *certificate_key; /* secret; control plane only */
} KubeadmJoinParams;

/* InitConfiguration + ClusterConfiguration + KubeletConfiguration. Returns 0, -EINVAL for invalid parameters
 * (bad token/key format, unsafe names), -ENOMEM. */
int kubeadm_init_conf_render(const KubeadmInitParams *p, char **ret);
/* JoinConfiguration + (for workers and control plane alike) the endpoint VIP:api_port. */
int kubeadm_join_conf_render(const KubeadmJoinParams *p, char **ret);
