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

static int random_bytes(void *buf, size_t size)
{
        size_t got = 0;

        while (got < size) {
                ssize_t n = getrandom((char *)buf + got, size - got, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t)n;
        }
        return 0;
}

int secret_generate(char buf[static 2 * SECRET_BYTES + 1])
{
        unsigned char raw[SECRET_BYTES];
        int r;

        r = random_bytes(raw, sizeof raw);
        if (r < 0)
                return r;
        hex_encode(raw, sizeof raw, buf);
        erase(raw, sizeof raw);
        return 0;
}

int bootstrap_token_generate(char out[static BOOTSTRAP_TOKEN_SIZE])
{
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        unsigned char b;
        size_t i = 0;
        int r;

        while (i < 22) {
                r = random_bytes(&b, 1);
                if (r < 0)
                        return r;
                if (b >= 252) /* 252 = 7 * 36: reject the rest, so that every character is equally likely */
                        continue;
                out[i < 6 ? i : i + 1] = alphabet[b % 36];
                i++;
        }
        out[6] = '.';
        out[23] = 0;
        b = 0;
        return 0;
}

int certificate_key_generate(char out[static CERTIFICATE_KEY_SIZE])
{
        unsigned char raw[32];
        int r;

        r = random_bytes(raw, sizeof raw);
        if (r < 0)
                return r;
        hex_encode(raw, sizeof raw, out);
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
