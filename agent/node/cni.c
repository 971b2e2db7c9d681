/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "macro.h"

bool cni_is_shipped(Cni cni)
{
        return cni == CNI_FLANNEL;
}

int cni_manifest_path(CniSource source, const char *boot_dir, Cni cni, char **ret)
{
        const char *name = cni_to_string(cni);
        char *p = NULL;
        int n = -1;

        if (!name || cni == CNI_NONE)
                return -EINVAL;
        switch (source) {
        case CNI_SOURCE_BOOT:
                if (!boot_dir || !*boot_dir)
                        return -EINVAL;
                n = asprintf(&p, "%s/%s.yaml", boot_dir, name);
                break;
        case CNI_SOURCE_ETC:
                n = asprintf(&p, CNI_ETC_DIR "/%s.yaml", name);
                break;
        case CNI_SOURCE_SHIPPED:
                n = asprintf(&p, CNI_SHIPPED_DIR "/%s.yaml", name);
                break;
        case _CNI_SOURCE_MAX:
                return -EINVAL;
        }
        if (n < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int cni_manifest_render(const char *manifest, const Ipv4Cidr *pod_subnet, char **ret)
{
        const size_t ph = strlen(CNI_POD_SUBNET_PLACEHOLDER);
        char cidr[IPV4_CIDR_STRLEN];
        size_t count = 0, len, size;
        const char *s;
        char *out, *o;

        ipv4_cidr_format(pod_subnet, cidr);
        len = strlen(cidr);
        for (s = strstr(manifest, CNI_POD_SUBNET_PLACEHOLDER); s; s = strstr(s + ph, CNI_POD_SUBNET_PLACEHOLDER))
                count++;
        if (count == 0)
                return -EBADMSG;

        /* A CIDR is never longer than the placeholder, but do not rely on it. */
        size = strlen(manifest) - count * ph + count * len + 1;
        out = o = malloc(size);
        if (!out)
                return -ENOMEM;
        for (s = manifest;;) {
                const char *hit = strstr(s, CNI_POD_SUBNET_PLACEHOLDER);
                size_t keep = hit ? (size_t)(hit - s) : strlen(s);

                memcpy(o, s, keep);
                o += keep;
                if (!hit)
                        break;
                memcpy(o, cidr, len);
                o += len;
                s = hit + ph;
        }
        *o = 0;
        *ret = out;
        return 0;
}

int cni_missing_message(const char *boot_dir, Cni cni, char **ret)
{
        _cleanup_free_ char *boot = NULL, *etc = NULL, *shipped = NULL;
        const char *name = cni_to_string(cni);
        char *m = NULL;
        int r, n;

        r = cni_manifest_path(CNI_SOURCE_BOOT, boot_dir, cni, &boot);
        if (r >= 0)
                r = cni_manifest_path(CNI_SOURCE_ETC, boot_dir, cni, &etc);
        if (r >= 0)
                r = cni_manifest_path(CNI_SOURCE_SHIPPED, boot_dir, cni, &shipped);
        if (r < 0)
                return r;

        if (cni_is_shipped(cni))
                n = asprintf(&m,
                             "no manifest for cni=%s: %s is missing (reinstall the piagent package), and there is no "
                             "%s or %s",
                             name, shipped, boot, etc);
        else
                n = asprintf(&m,
                             "no manifest for cni=%s: piagent ships one for flannel only; copy the %s manifest of the "
                             "release you want (%s.yaml) to %s on every master's card, or to %s on this node; it is "
                             "applied as soon as it is there",
                             name, name, name, boot, etc);
        if (n < 0)
                return -ENOMEM;
        *ret = m;
        return 0;
}
