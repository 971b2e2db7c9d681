#!/bin/bash
# A stand-in for pi-gen's build.sh running ONE stage, for tests (pi-gen itself needs the Raspberry Pi
# package archive, which the test machines cannot reach). It does what pi-gen's build.sh and
# scripts/common do for a stage (RPi-Distro/pi-gen, arm64 branch), written from their description:
#   - the helper functions pi-gen exports to a stage's scripts: log, copy_previous, on_chroot
#   - prerun.sh if executable; then every sub-stage directory in name order, and in each, for
#     NN = 00..99: NN-debconf, NN-packages-nr, NN-packages (apt-get install in the chroot),
#     NN-run.sh (on the host, from the sub-stage directory, only if executable), NN-run-chroot.sh
#     (on_chroot with the script on stdin); a sub-stage with a SKIP file is skipped
#   - the mounts on_chroot makes (proc, dev, dev/pts, sys, tmpfs on run and tmp) are undone at the end
#     of the stage, as pi-gen does, and here also on any failure
# NN-patches (quilt) is not supported: the stage under test has none (the structure test checks).
#
# Usage: pi-gen-runner.sh STAGE_DIR
# Env (as pi-gen sets them): WORK_DIR, PREV_ROOTFS_DIR, LOG_FILE; optional CAPSH_ARG (pi-gen:
# --drop=cap_setfcap unless SETFCAP=1) and whatever the stage reads (PIAGENT_*, RELEASE, ...).
set -euo pipefail

STAGE_DIR=$(realpath "$1")
STAGE=$(basename "$STAGE_DIR")
STAGE_WORK_DIR=$WORK_DIR/$STAGE
ROOTFS_DIR=$STAGE_WORK_DIR/rootfs
CAPSH_ARG=${CAPSH_ARG:---drop=cap_setfcap}
export STAGE STAGE_DIR STAGE_WORK_DIR ROOTFS_DIR PREV_ROOTFS_DIR WORK_DIR LOG_FILE CAPSH_ARG
mkdir -p "$STAGE_WORK_DIR"

log() {
	date +"[%T] $*" | tee -a "${LOG_FILE}"
}

copy_previous() {
	if [ ! -d "${PREV_ROOTFS_DIR}" ]; then
		echo "Previous stage rootfs not found"
		return 1
	fi
	mkdir -p "${ROOTFS_DIR}"
	rsync -aHAXx --exclude var/cache/apt/archives "${PREV_ROOTFS_DIR}/" "${ROOTFS_DIR}/"
}

# shellcheck disable=SC2120 # stages call it with arguments (pi-gen passes them on to bash)
on_chroot() {
	mountpoint -q "${ROOTFS_DIR}/proc" || mount -t proc proc "${ROOTFS_DIR}/proc"
	mountpoint -q "${ROOTFS_DIR}/dev" || mount --bind /dev "${ROOTFS_DIR}/dev"
	mountpoint -q "${ROOTFS_DIR}/dev/pts" || mount --bind /dev/pts "${ROOTFS_DIR}/dev/pts"
	mountpoint -q "${ROOTFS_DIR}/sys" || mount --bind /sys "${ROOTFS_DIR}/sys"
	mountpoint -q "${ROOTFS_DIR}/run" || mount -t tmpfs tmpfs "${ROOTFS_DIR}/run"
	mountpoint -q "${ROOTFS_DIR}/tmp" || mount -t tmpfs tmpfs "${ROOTFS_DIR}/tmp"
	# shellcheck disable=SC2086 # CAPSH_ARG is a list of options, as in pi-gen
	capsh $CAPSH_ARG "--chroot=${ROOTFS_DIR}/" -- -e "$@"
}
export -f log copy_previous on_chroot

# unmount_below DIR: every mount below DIR, deepest first (pi-gen's unmount, by mount point)
unmount_below() {
	local dir m
	dir=$(realpath -m "$1")
	findmnt -rn -o TARGET | awk -v d="$dir/" 'index($0 "/", d) == 1 || $0 == d' | sort -r |
		while IFS= read -r m; do umount "$m" || umount -l "$m"; done
}
trap 'unmount_below "$STAGE_WORK_DIR"' EXIT

packages_of() { # pi-gen's remove-comments.sed: drop comments, collapse white space
	sed -e 's/#.*//' "$1" | tr -s ' \t\n' '   ' | sed -e 's/^ //; s/ $//'
}

run_sub_stage() {
	local sub=$1 i pkgs
	log "Begin ${sub}"
	pushd "$sub" >/dev/null
	for i in $(seq -w 0 99); do
		if [ -f "${i}-debconf" ]; then
			log "Begin ${sub}/${i}-debconf"
			on_chroot <<-EOF
				debconf-set-selections <<SELEOF
				$(cat "${i}-debconf")
				SELEOF
			EOF
		fi
		if [ -f "${i}-packages-nr" ]; then
			log "Begin ${sub}/${i}-packages-nr"
			pkgs=$(packages_of "${i}-packages-nr")
			if [ -n "$pkgs" ]; then
				on_chroot <<-EOF
					apt-get -o Acquire::Retries=3 install --no-install-recommends -y $pkgs
				EOF
			fi
		fi
		if [ -f "${i}-packages" ]; then
			log "Begin ${sub}/${i}-packages"
			pkgs=$(packages_of "${i}-packages")
			if [ -n "$pkgs" ]; then
				on_chroot <<-EOF
					apt-get -o Acquire::Retries=3 install -y $pkgs
				EOF
			fi
		fi
		if [ -d "${i}-patches" ]; then
			echo "pi-gen-runner: ${sub}/${i}-patches: quilt patches are not supported by this stand-in" >&2
			return 1
		fi
		if [ -x "${i}-run.sh" ]; then
			log "Begin ${sub}/${i}-run.sh"
			"./${i}-run.sh"
		elif [ -f "${i}-run.sh" ]; then
			log "Skip ${sub}/${i}-run.sh (not executable)"
		fi
		if [ -f "${i}-run-chroot.sh" ]; then
			log "Begin ${sub}/${i}-run-chroot.sh"
			on_chroot <"${i}-run-chroot.sh"
		fi
	done
	popd >/dev/null
	log "End ${sub}"
}

log "Begin ${STAGE_DIR}"
cd "$STAGE_DIR"
if [ ! -f SKIP ]; then
	if [ -x prerun.sh ]; then
		log "Begin ${STAGE_DIR}/prerun.sh"
		./prerun.sh
	fi
	for sub in "${STAGE_DIR}"/*; do
		if [ -d "$sub" ] && [ ! -f "$sub/SKIP" ]; then
			run_sub_stage "$sub"
		fi
	done
fi
unmount_below "$STAGE_WORK_DIR"
log "End ${STAGE_DIR}"
