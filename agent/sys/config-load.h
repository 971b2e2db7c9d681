/* SPDX-License-Identifier: MIT */
#pragma once

/* Reads role.txt and cluster.txt from the boot partition. */

#include <sys/types.h>

#include "config.h"

#define BOOT_DIR_DEFAULT "/boot/firmware"
#define BOOT_DIR_LEGACY  "/boot"

/* The boot directory to use: explicit (--boot-dir, else PIAGENT_BOOT_DIR from settings.h), else /boot/firmware,
 * falling back to /boot on older layouts (where /boot/firmware does not exist but /boot holds role.txt or
 * cluster.txt). */
const char *boot_dir_resolve(const char *explicit_dir);

/* Reads both files (missing files are reported through diags, like any other problem) and parses them.
 * Returns 0 with a Config, -EINVAL with problems in diags, or another negative errno on I/O failure
 * other than "file missing" (also described in diags). */
int config_load(const char *boot_dir, DiagList *diags, Config **ret);

/* Whether users other than root can read cluster.txt (it holds the cluster secret): its mode, as the boot
 * partition's mount options make it (FAT has no permissions of its own: fmask/dmask decide). Returns 1 and
 * the mode if group or others may read it, 0 if not, or a negative errno (-ENOENT: no such file). */
int cluster_file_exposed(const char *boot_dir, mode_t *ret_mode);
