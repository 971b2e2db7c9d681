#!/bin/bash
# ctest fixture: builds the image the boot tests boot (uncompressed; the base rootfs comes from
# the cache when its inputs did not change).  Usage: build-image.sh OUTDIR [AGENT_DEB]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1 deb=${2:-}
[ "$(id -u)" -eq 0 ] || { echo "boot tests need root (mmdebstrap --mode=root, binfmt_misc)" >&2; exit 1; }
args=(--out "$out" --compress none --version boottest)
if [ -n "$deb" ]; then
	[ -f "$deb" ] || { echo "PIAGENT_ARM64_DEB=$deb does not exist: build it first (cpack -G DEB in the arm64 build)" >&2; exit 1; }
	args+=(--agent-deb "$deb")
else
	echo "PIAGENT_ARM64_DEB is empty: building the base image without the agent;" \
		"the agent boot tests (role-lb, bad-role, no-role, cluster3) will be reported as not run" >&2
fi
exec "$here/../../image/build.sh" "${args[@]}"
