#!/bin/bash
# Host side: puts the agent's package (piagent_<version>_arm64.deb) into the image for
# 01-run-chroot.sh to install.
#
#   PIAGENT_DEB   path of the .deb (with build-docker.sh: a path inside the container, i.e. below
#                 the pi-gen directory); default: the one piagent_*_arm64.deb in 02-agent/files/
#
# Not into the image's /tmp: pi-gen's on_chroot mounts a fresh tmpfs there the first time a stage
# enters the chroot, which hides whatever was put there before.
set -euo pipefail
die() { echo "stage-piagent: error: $*" >&2; exit 1; }
[ -d "${ROOTFS_DIR:-}" ] || die "ROOTFS_DIR is not set or not a directory (this runs inside pi-gen)"

deb=${PIAGENT_DEB:-}
if [ -z "$deb" ]; then
	shopt -s nullglob
	debs=(files/piagent_*_arm64.deb)
	shopt -u nullglob
	[ ${#debs[@]} -eq 1 ] || die "set PIAGENT_DEB=/path/to/piagent_<version>_arm64.deb (export it in pi-gen's" \
		"config file), or put exactly one such file into $PWD/files/ (found ${#debs[@]})"
	deb=${debs[0]}
fi
[ -f "$deb" ] || die "PIAGENT_DEB=$deb: no such file"
if command -v dpkg-deb >/dev/null; then
	[ "$(dpkg-deb -f "$deb" Package)" = piagent ] || die "$deb is not the piagent package"
	arch=$(dpkg-deb -f "$deb" Architecture)
	[ "$arch" = arm64 ] || die "$deb is for $arch; the image needs arm64 (see README.md: the cross build)"
fi

stage_dir=$ROOTFS_DIR/var/cache/piagent-stage
rm -rf "$stage_dir"
install -d -m 0755 "$stage_dir"
# apt reads local packages as its unprivileged _apt user: world-readable
install -m 0644 "$deb" "$stage_dir/"
log "stage-piagent: agent package $(basename "$deb")"
