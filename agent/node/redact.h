/* SPDX-License-Identifier: MIT */
#pragma once

/* kubeadm prints bootstrap tokens and certificate keys ("kubeadm join … --token abcdef.0123456789abcdef
 * --certificate-key 3f…"); its output is streamed to the journal, so secrets are masked on the way. Pure. */

#include <stddef.h>

/* Copies line into out (size bytes, truncating) with every bootstrap token ([a-z0-9]{6}.[a-z0-9]{16}) replaced
 * by "<token>" and every run of 64 or more hex digits not preceded by "sha256:" (certificate keys; CA hashes
 * are public) replaced by "<key>". Returns out. */
char *redact_secrets(const char *line, char *out, size_t size);
