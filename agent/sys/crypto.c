/* SPDX-License-Identifier: MIT */
/* The only file that includes OpenSSL. */

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <string.h>

#include "crypto.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_free);

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

int crypto_random_bytes(void *buf, size_t size)
{
        if (size > INT32_MAX)
                return -EINVAL;
        if (RAND_bytes(buf, (int)size) != 1)
                return -EIO;
        return 0;
}

/* One AEAD operation: set key and nonce, feed the additional data. */
static int aead_start(EVP_CIPHER_CTX *ctx, bool encrypt, const uint8_t *key, const uint8_t *nonce, const void *aad,
                      size_t aad_size)
{
        int len;

        if (aad_size > INT32_MAX)
                return -EINVAL;
        if (EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL, encrypt) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, CRYPTO_AEAD_NONCE_SIZE, NULL) != 1 ||
            EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, encrypt) != 1)
                return -EIO;
        if (aad_size > 0 && EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aad_size) != 1)
                return -EIO;
        return 0;
}

int crypto_aead_seal(const uint8_t key[static CRYPTO_AEAD_KEY_SIZE], const uint8_t nonce[static CRYPTO_AEAD_NONCE_SIZE],
                     const void *aad, size_t aad_size, const void *plain, size_t size, uint8_t *out)
{
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = NULL;
        int len = 0, fin = 0, r;

        if (size > INT32_MAX - CRYPTO_AEAD_TAG_SIZE)
                return -EINVAL;
        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return -ENOMEM;
        r = aead_start(ctx, true, key, nonce, aad, aad_size);
        if (r < 0)
                return r;
        if ((size > 0 && EVP_CipherUpdate(ctx, out, &len, plain, (int)size) != 1) ||
            EVP_CipherFinal_ex(ctx, out + len, &fin) != 1 || (size_t)len + (size_t)fin != size ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, CRYPTO_AEAD_TAG_SIZE, out + size) != 1)
                return -EIO;
        return 0;
}

int crypto_aead_open(const uint8_t key[static CRYPTO_AEAD_KEY_SIZE], const uint8_t nonce[static CRYPTO_AEAD_NONCE_SIZE],
                     const void *aad, size_t aad_size, const uint8_t *in, size_t size, uint8_t *out)
{
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = NULL;
        uint8_t tag[CRYPTO_AEAD_TAG_SIZE];
        size_t n;
        int len = 0, fin = 0, r;

        if (size < CRYPTO_AEAD_TAG_SIZE)
                return -EBADMSG;
        if (size > INT32_MAX)
                return -EINVAL;
        n = size - CRYPTO_AEAD_TAG_SIZE;
        memcpy(tag, in + n, sizeof tag);

        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return -ENOMEM;
        r = aead_start(ctx, false, key, nonce, aad, aad_size);
        if (r < 0)
                return r;
        if ((n > 0 && EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1) ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, CRYPTO_AEAD_TAG_SIZE, tag) != 1)
                return -EIO;
        /* The final step verifies the tag; nothing decrypted may leave this function unless it passes. */
        if (EVP_CipherFinal_ex(ctx, out + len, &fin) != 1 || (size_t)len + (size_t)fin != n) {
                erase(out, n);
                return -EBADMSG;
        }
        return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free);

int crypto_ca_cert_hash(const char *pem, size_t size, char out[static CRYPTO_CA_HASH_SIZE])
{
        static const char digits[] = "0123456789abcdef";
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        unsigned char *der = NULL;
        uint8_t digest[CRYPTO_SHA256_SIZE];
        int len, r;

        if (size > INT32_MAX)
                return -EINVAL;
        bio = BIO_new_mem_buf(pem, (int)size);
        if (!bio)
                return -ENOMEM;
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (!cert)
                return -EINVAL;
        len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
        if (len <= 0)
                return -EINVAL;
        r = crypto_sha256(der, (size_t)len, digest);
        OPENSSL_free(der);
        if (r < 0)
                return r;

        memcpy(out, "sha256:", 7);
        for (size_t i = 0; i < CRYPTO_SHA256_SIZE; i++) {
                out[7 + 2 * i] = digits[digest[i] >> 4];
                out[7 + 2 * i + 1] = digits[digest[i] & 15];
        }
        out[CRYPTO_CA_HASH_SIZE - 1] = 0;
        return 0;
}
