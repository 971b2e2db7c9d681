/* SPDX-License-Identifier: MIT */
#pragma once

/* The effective configuration of a node, from role.txt (per node) and cluster.txt (the same on every node).
 * Pure: takes the files' contents, returns a Config or a list of problems a person can act on. */

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "net-util.h"

#define ROLE_FILE    "role.txt"
#define CLUSTER_FILE "cluster.txt"

#define CONFIG_SECRET_MIN 32u
#define CONFIG_SECRET_MAX 256u
/* The least a secret must take to guess, in bits (strength.h): a generated one has about 230. */
#define CONFIG_SECRET_MIN_BITS 128u
/* NTP servers in cluster.txt's ntp=, and the length of one (a DNS name). */
#define CONFIG_NTP_MAX      8u
#define CONFIG_NTP_NAME_MAX 253u

typedef enum Role {
        ROLE_LB,
        ROLE_MASTER,
        ROLE_WORKER,
        _ROLE_MAX,
        _ROLE_INVALID = -EINVAL,
} Role;

typedef enum Cni {
        CNI_FLANNEL,
        CNI_CALICO,
        CNI_NONE,
        _CNI_MAX,
        _CNI_INVALID = -EINVAL,
} Cni;

typedef enum ConfigKey {
        CONFIG_ROLE,
        CONFIG_HOSTNAME,
        CONFIG_INTERFACE,
        CONFIG_INIT,
        CONFIG_CLUSTER,
        CONFIG_SECRET,
        CONFIG_VIP,
        CONFIG_API_PORT,
        CONFIG_EXCHANGE_PORT,
        CONFIG_MASTERS,
        CONFIG_POD_SUBNET,
        CONFIG_SERVICE_SUBNET,
        CONFIG_KUBERNETES_VERSION,
        CONFIG_CNI,
        CONFIG_NTP,
        CONFIG_WAIT_FOR_CLOCK,
        _CONFIG_KEY_MAX,
} ConfigKey;

/* Where a value came from, for "piagent check". */
typedef struct ConfigSource {
        const char *file; /* ROLE_FILE, CLUSTER_FILE, or NULL for the built-in default */
        unsigned line;
} ConfigSource;

/* A parsed configuration: read-only once config_parse() returns it, and reference-counted, so that every holder
 * that keeps it (the manager, each running role) takes its own reference and the last one frees it. */
typedef struct Config {
        unsigned n_ref;

        Role role;
        char *hostname;  /* NULL: "<role>-<last 6 hex of the MAC>" */
        char *interface; /* NULL: the interface of the default route, else the first Ethernet one */
        bool init;       /* pin this master as the initializer */

        char *cluster;
        char *secret; /* wiped on free; never logged */
        Ipv4Cidr vip;
        uint16_t api_port;
        uint16_t exchange_port;
        unsigned masters;
        Ipv4Cidr pod_subnet;
        Ipv4Cidr service_subnet;
        char *kubernetes_version; /* NULL: the version of the installed kubeadm; else "v1.31.2" */
        Cni cni;
        char *ntp;           /* NULL: timesyncd's own servers; else NTP servers, separated by one space */
        bool wait_for_clock; /* wait for a synchronised clock before kubeadm mints anything (default yes) */

        ConfigSource source[_CONFIG_KEY_MAX];
} Config;

const char *role_to_string(Role r);
Role role_from_string(const char *s);
const char *cni_to_string(Cni c);
Cni cni_from_string(const char *s);
const char *config_key_to_string(ConfigKey k);

/* Parses both files (either may be NULL: "file not found"). On success returns 0 and a Config; if the files
 * have problems returns -EINVAL with every problem in diags (which the caller owns and clears); -ENOMEM. */
int config_parse(const char *role_txt, size_t role_size, const char *cluster_txt, size_t cluster_size, DiagList *diags,
                 Config **ret);

/* A new reference to c (NULL passes through). */
Config *config_ref(Config *c);
/* Drops a reference; the last one frees c (wiping the secret). Returns NULL. */
Config *config_unref(Config *c);
static inline void config_unrefp(Config **c)
{
        config_unref(*c);
}
#define _cleanup_config_ _cleanup_(config_unrefp)

/* Same effective values (sources ignored)? */
bool config_equal(const Config *a, const Config *b);
