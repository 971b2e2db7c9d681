/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include "config.h"

/* Prints the effective configuration, one key a line with where each value came from. The secret appears only
 * as its fingerprint. Returns 0 or a negative errno. */
int config_dump(const Config *c, FILE *f);
