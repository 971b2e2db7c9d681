/* SPDX-License-Identifier: MIT */
/* The only file that includes zxcvbn. */

#include <zxcvbn.h>

#include "strength.h"

double strength_bits(const char *secret)
{
        /* No user dictionary, no match details: only the total. */
        double bits = ZxcvbnMatch(secret, NULL, NULL);

        return bits > 0 ? bits : 0;
}
