/* SPDX-License-Identifier: MIT */

#include <sys/random.h>

#include "crypto.h"
#include "macro.h"
#include "secret.h"

void hex_encode(const void *data, size_t size, char *out)
{
        static const char digits[] = "0123456789abcdef";
        const unsigned char *d = data;

        for (size_t i = 0; i < size; i++) {
                out[2 * i] = digits[d[i] >> 4];
                out[2 * i + 1] = digits[d[i] & 15];
        }
        out[2 * size] = 0;
}

int secret_generate(char buf[static 2 * SECRET_BYTES + 1])
{
        unsigned char raw[SECRET_BYTES];
        size_t got = 0;

        while (got < sizeof raw) {
                ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t)n;
        }
        hex_encode(raw, sizeof raw, buf);
        erase(raw, sizeof raw);
        return 0;
}

int secret_fingerprint(const char *secret, char out[static SECRET_FINGERPRINT_SIZE])
{
        unsigned char d[4];
        int r;

        r = crypto_hkdf_sha256(secret, strlen(secret), "piagent", 7, "piagent fingerprint v1", d, sizeof d);
        if (r < 0)
                return r;
        hex_encode(d, sizeof d, out);
        return 0;
}
