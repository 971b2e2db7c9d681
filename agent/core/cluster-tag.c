/* SPDX-License-Identifier: MIT */

#include <stdint.h>

#include "cluster-tag.h"
#include "crypto.h"
#include "macro.h"
#include "secret.h"

#define CLUSTER_TAG_SALT "piagent"
#define CLUSTER_TAG_INFO "piagent cluster tag v1"

int cluster_tag_compute(const char *secret, char ret[static CLUSTER_TAG_SIZE])
{
        uint8_t d[CLUSTER_TAG_BYTES];
        int r;

        if (!secret || !*secret)
                return -EINVAL;
        r = crypto_hkdf_sha256(secret, strlen(secret), CLUSTER_TAG_SALT, strlen(CLUSTER_TAG_SALT), CLUSTER_TAG_INFO, d,
                               sizeof d);
        if (r < 0)
                return r;
        hex_encode(d, sizeof d, ret);
        return 0;
}

bool cluster_tag_is_valid(const char *s)
{
        size_t n;

        if (!s)
                return false;
        n = strspn(s, "0123456789abcdef");
        return n == CLUSTER_TAG_LEN && s[n] == 0;
}
