/* SPDX-License-Identifier: MIT */
#pragma once

/* The cluster secret: generation, and the values derived from it that may be shown or published. */

#include <stddef.h>

#define SECRET_BYTES            32 /* random bytes in a generated secret (printed as 64 hex characters) */
#define SECRET_FINGERPRINT_SIZE 9  /* 8 hex characters + NUL */

/* A fresh secret from the kernel's CSPRNG (getrandom), as hex. buf must hold 2 * SECRET_BYTES + 1. */
int secret_generate(char buf[static 2 * SECRET_BYTES + 1]);

/* A short fingerprint that identifies a secret in logs without revealing it (HKDF, own label). */
int secret_fingerprint(const char *secret, char out[static SECRET_FINGERPRINT_SIZE]);

/* kubeadm's secrets, from the kernel's CSPRNG: a bootstrap token "[a-z0-9]{6}.[a-z0-9]{16}" (unbiased) and a
 * certificate key (32 bytes as 64 hex digits). */
#define BOOTSTRAP_TOKEN_SIZE 24
#define CERTIFICATE_KEY_SIZE 65
int bootstrap_token_generate(char out[static BOOTSTRAP_TOKEN_SIZE]);
int certificate_key_generate(char out[static CERTIFICATE_KEY_SIZE]);

/* Hex encoding helper: out must hold 2 * size + 1. */
void hex_encode(const void *data, size_t size, char *out);
