#!/bin/bash
# pi-gen runs this before the sub-stages: this stage starts from the previous stage's root file
# system (stage2, Raspberry Pi OS Lite). An existing rootfs (a re-run without CLEAN=1) is kept.
set -euo pipefail
if [ ! -d "${ROOTFS_DIR}" ]; then
	copy_previous
fi
