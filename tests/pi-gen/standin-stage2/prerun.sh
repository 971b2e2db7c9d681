#!/bin/bash
# The stand-in for pi-gen's stage0..stage2 (Raspberry Pi OS Lite), for tests/pi-gen/chroot-test.sh:
# the piagent image's cached Debian bookworm arm64 base rootfs (image/base/, the same Debian
# packages and the same arm64 emulation), unpacked as this stage's root file system.
# Env: PIAGENT_TEST_BASE_TAR (the cache tarball).
set -euo pipefail
if findmnt -rn -o TARGET | grep -q "^${ROOTFS_DIR}/"; then
	echo "standin-stage2: file systems are mounted below ${ROOTFS_DIR}: not deleting it" >&2
	exit 1
fi
rm -rf "${ROOTFS_DIR}"
mkdir -p "${ROOTFS_DIR}"
tar -C "${ROOTFS_DIR}" --xattrs --xattrs-include='*' --acls --numeric-owner -I zstd -xpf "${PIAGENT_TEST_BASE_TAR}"
