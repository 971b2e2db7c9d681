#!/bin/bash
# Host side: puts the agent's package (piagent_<version>_arm64.deb) into the image for
# 01-run-chroot.sh to install.
#
#   PIAGENT_DEB   path of the .deb (with build-docker.sh: a path inside the container, i.e. below
#                 the pi-gen directory); default: the one piagent_*_arm64.deb in 02-agent/files/
#   PIAGENT_K8S_IMAGES  a directory of container image archives (*.tar, OCI layout or docker-archive) for
#                 a first boot without internet (image/build.sh --k8s-images): into /var/lib/piagent-images,
#                 which piagent-images.service imports into containerd at boot; default: none
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

if [ -n "${PIAGENT_K8S_IMAGES:-}" ]; then
	[ -d "$PIAGENT_K8S_IMAGES" ] || die "PIAGENT_K8S_IMAGES=$PIAGENT_K8S_IMAGES: no such directory"
	shopt -s nullglob
	archives=("$PIAGENT_K8S_IMAGES"/*.tar)
	shopt -u nullglob
	[ ${#archives[@]} -gt 0 ] || die "PIAGENT_K8S_IMAGES=$PIAGENT_K8S_IMAGES holds no *.tar image archives"
	install -d -m 0755 "$ROOTFS_DIR/var/lib/piagent-images"
	install -m 0644 "${archives[@]}" "$ROOTFS_DIR/var/lib/piagent-images/"
	log "stage-piagent: ${#archives[@]} container image archive(s) for an offline first boot"
fi
