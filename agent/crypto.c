/* SPDX-License-Identifier: MIT */
/* The only file that includes OpenSSL. */

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <string.h>

#include "crypto.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free);

int crypto_sha256(const void *data, size_t size, uint8_t out[static CRYPTO_SHA256_SIZE])
{
        unsigned len = 0;

        if (EVP_Digest(data, size, out, &len, EVP_sha256(), NULL) != 1 || len != CRYPTO_SHA256_SIZE)
                return -EIO;
        return 0;
}

int crypto_hmac_sha256(const void *key, size_t key_size, const void *data, size_t size,
                       uint8_t out[static CRYPTO_SHA256_SIZE])
{
        unsigned len = 0;

        if (key_size > INT32_MAX)
                return -EINVAL;
        if (!HMAC(EVP_sha256(), key, (int)key_size, data, size, out, &len) || len != CRYPTO_SHA256_SIZE)
                return -EIO;
        return 0;
}

int crypto_hkdf_sha256(const void *secret, size_t secret_size, const void *salt, size_t salt_size, const char *info,
                       uint8_t *out, size_t out_size)
{
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        size_t len = out_size;

        if (secret_size > INT32_MAX || salt_size > INT32_MAX || strlen(info) > INT32_MAX)
                return -EINVAL;

        ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_derive_init(ctx) <= 0 || EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) <= 0 ||
            EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, (int)salt_size) <= 0 ||
            EVP_PKEY_CTX_set1_hkdf_key(ctx, secret, (int)secret_size) <= 0 ||
            EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)info, (int)strlen(info)) <= 0 ||
            EVP_PKEY_derive(ctx, out, &len) <= 0 || len != out_size)
                return -EIO;
        return 0;
}

int crypto_memcmp(const void *a, const void *b, size_t size)
{
        return CRYPTO_memcmp(a, b, size) == 0 ? 0 : -EBADMSG;
}
