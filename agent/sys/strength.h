/* SPDX-License-Identifier: MIT */
#pragma once

/* How hard a secret is to guess, estimated by zxcvbn (Debian's libzxcvbn, the zxcvbn-c port): the log2 of
 * the guesses an attacker needs who knows how people pick secrets — dictionary words and names, common
 * passwords, keyboard walks, sequences, repeats, dates, l33t substitutions — and brute force for the rest.
 * This adapter is the only file that includes it. Pure computation: no I/O. */

/* The estimate for secret in bits (>= 0). */
double strength_bits(const char *secret);
