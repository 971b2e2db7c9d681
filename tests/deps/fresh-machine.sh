#!/bin/bash
# deps/fresh-machine: tools/install-deps on a fresh machine (root, minutes; tests/deps/README.md).
#
# A fresh minimal Debian bookworm (mmdebstrap --variant=minbase: what a new machine has before
# anyone installs anything) in a systemd-nspawn container (not booted), with this source tree mounted
# read-only at /src. In it:
#   1. tools/install-deps --image (what tools/build-image runs), then tests/deps/check-installed.sh
#      image: every command, file and Python module of the 'image' group of tools/deps.txt is there,
#      from the package that line names; and the Pi's cross build configures (cmake, the aarch64
#      toolchain file, the arm64 libraries through pkg-config);
#   2. tools/install-deps (what tools/test runs), then check-installed.sh for both groups; the native
#      build configures; QEMU starts every machine the boot tier starts, with its devices (option ROMs:
#      tests/boot/lib.sh vm_probe).
# Before that, on this machine, tests/deps/scan.py --check: every command and module the scripts use
# is in tools/deps.txt (the same check as the unit test deps/scan), so that what is checked in the
# container is what the scripts use.
#
# Cache (${PIAGENT_CACHE_DIR:-/var/cache/piagent}, outside the clone): the minbase tarball, keyed by
# this script's mmdebstrap arguments; the .debs apt downloads (fresh-debs/), so that a second run
# downloads nothing. Usage: fresh-machine.sh [--keep]   Exit: 0 pass, 1 fail, 77 not root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=image/lib/common.sh
. "$repo/image/lib/common.sh"

keep=0
[ "${1:-}" != --keep ] || keep=1
if [ "$(id -u)" -ne 0 ]; then
	echo "NOT RUN: deps/fresh-machine needs root (mmdebstrap, systemd-nspawn)"
	exit 77
fi
t0=$(date +%s)

"$here/scan.py" --repo "$repo" --check "$repo/tools/deps.txt" | grep -v '^note ' ||
	die "tests/deps/scan.py --check: the scripts use something tools/deps.txt does not name (see above)"

cache=${PIAGENT_CACHE_DIR:-/var/cache/piagent}
mkdir -p "$cache/fresh-debs"
suite=bookworm
mirrors=(
	"deb http://deb.debian.org/debian $suite main"
	"deb http://deb.debian.org/debian $suite-updates main"
	"deb http://deb.debian.org/debian-security $suite-security main"
)
args=(--mode=root --variant=minbase --architectures=amd64 --format=tar --aptopt='Acquire::Retries "3"')
key=$(printf '%s\n' "${args[@]}" "${mirrors[@]}" "$suite" | sha256sum | cut -c1-16)
tarball=$cache/fresh-minbase-$key.tar.zst
(
	flock 9
	if [ ! -s "$tarball" ]; then
		log "fresh machine: building a minbase $suite rootfs (mmdebstrap; cached as $tarball)"
		tmp=$(mktemp "$cache/.fresh-minbase.XXXXXX")
		mmdebstrap "${args[@]}" "$suite" - "${mirrors[@]}" | zstd -q -T0 -3 >"$tmp"
		mv -f "$tmp" "$tarball"
	fi
) 9>"$cache/.fresh-minbase.lock"
t_base=$(date +%s)

work=$(mktemp -d /var/tmp/piagent-fresh.XXXXXX)
cleanup() { if [ "$keep" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
root=$work/root
mkdir "$root"
tar -C "$root" --numeric-owner -I zstd -xpf "$tarball"
# Test-only speed-ups that change none of what is checked: dpkg without fsync in this throw-away tree,
# and without documentation, manual pages and translations (as in Debian's own minimal images).
cat >"$root/etc/dpkg/dpkg.cfg.d/piagent-test" <<'DPKG'
force-unsafe-io
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
DPKG
log "fresh machine: $(du -sh "$root" | cut -f1) minbase rootfs ready ($((t_base - t0)) s)"

# in the container: not booted (no systemd inside), the host's network, the clone read-only at /src,
# apt's downloads kept between runs
in_container() {
	systemd-nspawn --quiet --register=no --keep-unit --pipe -D "$root" --machine="piagent-fresh-$$" \
		--bind-ro="$repo:/src" --bind="$cache/fresh-debs:/var/cache/apt/archives" \
		--setenv=DEBIAN_FRONTEND=noninteractive --setenv=LC_ALL=C.UTF-8 \
		--setenv=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

fails=0
step() { # step NAME COMMAND...: runs it, timed; a failure is counted, the next steps still run
	local t=$SECONDS
	log "fresh machine: $1"
	if "${@:2}"; then
		echo "PASS: $1 ($((SECONDS - t)) s)"
	else
		echo "FAIL: $1 ($((SECONDS - t)) s)"
		fails=$((fails + 1))
	fi
}

not() { ! "$@"; }
step "a fresh minbase lacks the image group (check-installed.sh image fails before tools/install-deps)" \
	not in_container /src/tests/deps/check-installed.sh --quiet image
step "tools/install-deps --image" in_container /src/tools/install-deps --image
step "check-installed.sh image (commands, files, modules of the image group, from their packages)" \
	in_container /src/tests/deps/check-installed.sh image
step "the Pi's cross build configures (cmake with cmake/aarch64-linux-gnu.cmake)" \
	in_container cmake -S /src -B /tmp/build-arm64 -DCMAKE_TOOLCHAIN_FILE=/src/cmake/aarch64-linux-gnu.cmake
step "tools/install-deps (everything the tests need)" in_container /src/tools/install-deps
step "check-installed.sh image test (every group)" in_container /src/tests/deps/check-installed.sh image test
step "the native build configures (cmake)" in_container cmake -S /src -B /tmp/build
# shellcheck disable=SC2016 # for the container's bash
step "QEMU starts the boot tier's machines with their devices: -M virt (virtio-blk, virtio-rng, virtio-net), -M raspi3b (SD card)" \
	in_container bash -c '. /src/tests/boot/lib.sh && vm_probe virt && vm_probe raspi3b'

echo "---- deps/fresh-machine: $fails failed; $(($(date +%s) - t0)) s in all (minbase $((t_base - t0)) s);" \
	"apt cache $(du -sh "$cache/fresh-debs" | cut -f1)"
[ "$fails" -eq 0 ]
