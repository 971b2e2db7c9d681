/* SPDX-License-Identifier: MIT */

#include "config-format.h"
#include "secret.h"

static void line(FILE *f, const Config *c, ConfigKey k, const char *value)
{
        char src[64];

        if (c->source[k].file)
                snprintf(src, sizeof src, "%s:%u", c->source[k].file, c->source[k].line);
        else
                snprintf(src, sizeof src, "default");
        fprintf(f, "  %-19s %-38s %s\n", config_key_to_string(k), value, src);
}

int config_dump(const Config *c, FILE *f)
{
        char buf[128], fp[SECRET_FINGERPRINT_SIZE];
        int r;

        r = secret_fingerprint(c->secret, fp);
        if (r < 0)
                return r;

        for (ConfigKey k = 0; k < _CONFIG_KEY_MAX; k++) {
                switch (k) {
                case CONFIG_ROLE:
                        line(f, c, k, role_to_string(c->role));
                        break;
                case CONFIG_HOSTNAME:
                        if (c->hostname)
                                line(f, c, k, c->hostname);
                        else {
                                snprintf(buf, sizeof buf, "automatic: %s-<last 6 hex of MAC>", role_to_string(c->role));
                                line(f, c, k, buf);
                        }
                        break;
                case CONFIG_INTERFACE:
                        line(f, c, k, c->interface ?: "automatic: default route");
                        break;
                case CONFIG_INIT:
                        line(f, c, k, c->init ? "yes" : "no");
                        break;
                case CONFIG_CLUSTER:
                        line(f, c, k, c->cluster);
                        break;
                case CONFIG_SECRET:
                        snprintf(buf, sizeof buf, "(hidden) fingerprint %s", fp);
                        line(f, c, k, buf);
                        break;
                case CONFIG_VIP:
                        line(f, c, k, ipv4_cidr_format(&c->vip, buf));
                        break;
                case CONFIG_API_PORT:
                        snprintf(buf, sizeof buf, "%u", c->api_port);
                        line(f, c, k, buf);
                        break;
                case CONFIG_EXCHANGE_PORT:
                        snprintf(buf, sizeof buf, "%u", c->exchange_port);
                        line(f, c, k, buf);
                        break;
                case CONFIG_MASTERS:
                        snprintf(buf, sizeof buf, "%u", c->masters);
                        line(f, c, k, buf);
                        break;
                case CONFIG_POD_SUBNET:
                        line(f, c, k, ipv4_cidr_format(&c->pod_subnet, buf));
                        break;
                case CONFIG_SERVICE_SUBNET:
                        line(f, c, k, ipv4_cidr_format(&c->service_subnet, buf));
                        break;
                case CONFIG_KUBERNETES_VERSION:
                        line(f, c, k, c->kubernetes_version ?: "auto: the installed kubeadm's");
                        break;
                case CONFIG_CNI:
                        line(f, c, k, cni_to_string(c->cni));
                        break;
                case CONFIG_NTP:
                        line(f, c, k, c->ntp ?: "automatic: systemd-timesyncd's servers");
                        break;
                case CONFIG_WAIT_FOR_CLOCK:
                        line(f, c, k, c->wait_for_clock ? "yes" : "no (the clock is trusted as it is)");
                        break;
                case _CONFIG_KEY_MAX:
                        break;
                }
        }
        return ferror(f) ? -EIO : 0;
}
