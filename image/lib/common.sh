# shellcheck shell=bash
# Shared helpers of image/build.sh and tests/boot/ (sourced, bash).

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Host tools, by Debian package. Installed when missing and we are root (the project's own
# files install what they need: a fresh CI machine has none of these).
# shellcheck disable=SC2034 # used by the scripts that source this file
piagent_host_packages_build=(mmdebstrap qemu-user-static binfmt-support dosfstools mtools fdisk e2fsprogs zstd xz-utils)
# shellcheck disable=SC2034
piagent_host_packages_boot=(qemu-system-arm mtools fdisk util-linux e2fsprogs iproute2)

ensure_host_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing host packages (install as root): ${missing[*]}"
	log "installing host packages: ${missing[*]}"
	apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" >&2 ||
		{ apt-get -o DPkg::Lock::Timeout=600 update >&2 &&
			apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" >&2; } ||
		die "could not install ${missing[*]}"
}

# Runs arm64 binaries through qemu-user: binfmt_misc mounted, qemu-aarch64 registered with the
# F flag (interpreter opened at registration, so it works inside a chroot).
ensure_binfmt_aarch64() {
	local bm=/proc/sys/fs/binfmt_misc
	if [ ! -e "$bm/status" ]; then
		log "mounting binfmt_misc"
		mount -t binfmt_misc binfmt_misc "$bm" || die "cannot mount binfmt_misc at $bm"
	fi
	if [ ! -e "$bm/qemu-aarch64" ]; then
		log "enabling qemu-aarch64 in binfmt_misc"
		update-binfmts --enable qemu-aarch64 >&2 || die "update-binfmts --enable qemu-aarch64 failed"
	fi
	grep -q '^enabled' "$bm/qemu-aarch64" || die "binfmt qemu-aarch64 is disabled"
	grep -q '^flags:.*F' "$bm/qemu-aarch64" || die "binfmt qemu-aarch64 lacks the F flag (needed in chroots)"
}

# hash_inputs DIR [-x PATH]... [STRING...]: sha256 over the names, exec bits and contents of the
# files below DIR, except the -x ones (paths relative to DIR), plus the extra strings.
hash_inputs() {
	local dir=$1 skip=""; shift
	while [ "${1:-}" = -x ]; do skip="$skip ./$2 "; shift 2; done
	{
		(cd "$dir" && find . -type f ! -name '*~' -print0 | LC_ALL=C sort -z |
			while IFS= read -r -d '' f; do
				case "$skip" in *" $f "*) continue ;; esac
				printf '%s %s %s\n' "$f" "$(test -x "$f" && echo x || echo -)" "$(sha256sum <"$f" | cut -d' ' -f1)"
			done)
		printf '%s\n' "$@"
	} | sha256sum | cut -d' ' -f1
}

# Byte offset of partition N of a disk image.
image_part_offset() {
	local start
	start=$(partx -g -o START -n "$2" "$1") || return 1
	echo $((start * 512))
}
