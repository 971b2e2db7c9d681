#!/bin/bash
# Host side: the files for people on the boot partition (/boot/firmware, the FAT partition any
# computer can open), as in the piagent image:
#   role.txt     the role of each card: a template, no role chosen (each card gets one before first boot)
#   cluster.txt  identical on every card of the cluster; its secret is
#                  PIAGENT_SECRET if set (>= 32 characters [0-9A-Za-z]; `piagent secret` prints one),
#                  else the one of an earlier run of this stage (a re-run keeps the cluster),
#                  else 64 fresh hex characters from /dev/urandom, printed once at the end of this step
#                The secret never becomes an argument of a command (ps shows those to every user):
#                builtins only.
#   README.txt   what to do with the card
# A copy of cluster.txt (mode 600: it holds the secret) goes next to the image in pi-gen's deploy/.
set -euo pipefail
die() { echo "stage-piagent: error: $*" >&2; exit 1; }
[ -d "${ROOTFS_DIR:-}" ] || die "ROOTFS_DIR is not set or not a directory (this runs inside pi-gen)"
boot=$ROOTFS_DIR/boot/firmware
[ -d "$boot" ] || die "$boot does not exist: pi-gen's stage1 makes it (is stage1 in STAGE_LIST?)"

secret=${PIAGENT_SECRET:-}
origin="from PIAGENT_SECRET"
if [ -z "$secret" ] && [ -f "$boot/cluster.txt" ]; then
	while IFS= read -r line || [ -n "$line" ]; do
		case "$line" in secret=*) secret=${line#secret=}; secret=${secret%$'\r'}; break ;; esac
	done <"$boot/cluster.txt"
	origin="kept from an earlier run of this stage"
fi
if [ -z "$secret" ]; then
	secret=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	origin="generated"
fi
[[ $secret =~ ^[0-9A-Za-z]{32,}$ ]] ||
	die "the cluster secret ($origin) must be at least 32 characters of [0-9A-Za-z] (piagent secret prints one)"

install -m 0644 files/role.txt "$boot/role.txt"
install -m 0644 files/README.txt "$boot/README.txt"
template=$(<files/cluster.txt.in)
[[ "$template" == *secret=@SECRET@* ]] || die "files/cluster.txt.in has no secret=@SECRET@ line"
printf '%s\n' "${template//@SECRET@/$secret}" >"$boot/cluster.txt.piagent-new"
chmod 0644 "$boot/cluster.txt.piagent-new"
mv -f "$boot/cluster.txt.piagent-new" "$boot/cluster.txt"
log "stage-piagent: /boot/firmware: role.txt (no role chosen), cluster.txt (secret $origin), README.txt"

if [ -n "${DEPLOY_DIR:-}" ]; then
	# shellcheck source=pi-gen-stage/stage-piagent/EXPORT_IMAGE disable=SC1091 # not a .sh: not among tools/test's inputs
	. "${STAGE_DIR:-..}/EXPORT_IMAGE"
	copy=$DEPLOY_DIR/${IMG_FILENAME:-piagent}${IMG_SUFFIX}.cluster.txt
	mkdir -p "$DEPLOY_DIR"
	install -m 0600 "$boot/cluster.txt" "$copy"
	log "stage-piagent: a copy of cluster.txt: $copy (identical on every card of this cluster)"
fi
if [ "$origin" = generated ]; then
	log "stage-piagent: cluster secret (generated): $secret"
	log "stage-piagent: build more images for the same cluster with PIAGENT_SECRET set to it (export it in pi-gen's config file), or keep this work directory"
fi
