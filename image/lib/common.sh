# shellcheck shell=bash
# Shared helpers of image/build.sh and tests/boot/ (sourced, bash).

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_deps [--image]: the host packages of tools/deps.txt (with --image: those the image build needs),
# installed by tools/install-deps when missing (the project's own scripts install what they use: a fresh
# machine has none of it). Fails when something is missing and we are not root.
# shellcheck disable=SC2120 # the arguments are optional
ensure_deps() {
	"$(dirname "${BASH_SOURCE[0]}")/../../tools/install-deps" "$@" >&2 || die "tools/install-deps $* failed"
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
