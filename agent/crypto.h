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
