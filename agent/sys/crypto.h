/* SPDX-License-Identifier: MIT */
#pragma once

/* Cryptographic primitives, all from OpenSSL libcrypto (this is the only file that includes it).
 * Functions return 0 or a negative errno (-EIO when libcrypto reports a failure). */

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_SIZE 32

int crypto_sha256(const void *data, size_t size, uint8_t out[static CRYPTO_SHA256_SIZE]);
int crypto_hmac_sha256(const void *key, size_t key_size, const void *data, size_t size,
                       uint8_t out[static CRYPTO_SHA256_SIZE]);
/* HKDF-SHA256 (RFC 5869): extract with salt, expand with info into out_size bytes. */
int crypto_hkdf_sha256(const void *secret, size_t secret_size, const void *salt, size_t salt_size, const char *info,
                       uint8_t *out, size_t out_size);
/* Constant-time comparison: 0 if equal. */
int crypto_memcmp(const void *a, const void *b, size_t size);

/* Bytes from OpenSSL's CSPRNG (seeded from the kernel's getrandom). */
int crypto_random_bytes(void *buf, size_t size);

/* ChaCha20-Poly1305 (RFC 8439). Each key must be used with a given nonce at most once. seal writes size bytes
 * of ciphertext then the tag into out (size + CRYPTO_AEAD_TAG_SIZE bytes); open takes that layout, writes
 * size - CRYPTO_AEAD_TAG_SIZE bytes of plaintext into out and returns -EBADMSG if the tag does not verify
 * (out is then wiped). */
#define CRYPTO_AEAD_KEY_SIZE   32
#define CRYPTO_AEAD_NONCE_SIZE 12
#define CRYPTO_AEAD_TAG_SIZE   16
int crypto_aead_seal(const uint8_t key[static CRYPTO_AEAD_KEY_SIZE], const uint8_t nonce[static CRYPTO_AEAD_NONCE_SIZE],
                     const void *aad, size_t aad_size, const void *plain, size_t size, uint8_t *out);
int crypto_aead_open(const uint8_t key[static CRYPTO_AEAD_KEY_SIZE], const uint8_t nonce[static CRYPTO_AEAD_NONCE_SIZE],
                     const void *aad, size_t aad_size, const uint8_t *in, size_t size, uint8_t *out);

/* kubeadm's discovery-token-ca-cert-hash of a PEM certificate: "sha256:" + hex SHA-256 of its DER
 * SubjectPublicKeyInfo. -EINVAL if pem holds no certificate. out: CRYPTO_CA_HASH_SIZE bytes. */
#define CRYPTO_CA_HASH_SIZE (7 + 2 * CRYPTO_SHA256_SIZE + 1)
int crypto_ca_cert_hash(const char *pem, size_t size, char out[static CRYPTO_CA_HASH_SIZE]);
