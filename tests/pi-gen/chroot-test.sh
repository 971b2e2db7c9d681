#!/bin/bash
# The pi-gen stage's chroot test (root, minutes): runs pi-gen-stage/stage-piagent the way pi-gen
# runs a stage (tests/pi-gen/pi-gen-runner.sh: prerun.sh, NN-packages through apt in the chroot,
# NN-run.sh on the host, NN-run-chroot.sh through on_chroot) against a Debian bookworm arm64 root
# file system under qemu-user, then checks what it left in that root file system.
#
# pi-gen itself needs the Raspberry Pi package archive, which this machine cannot reach, so:
#  - the previous stage (Raspberry Pi OS Lite, pi-gen's stage2) is played by the piagent image's
#    cached Debian base rootfs, made to look like Raspberry Pi OS where the stage looks
#    (tests/pi-gen/standin-stage2/);
#  - pkgs.k8s.io is not reachable either: the Kubernetes step runs against a local stand-in
#    repository (tests/pi-gen/fake-k8s-repo.sh: dummy packages) through PIAGENT_K8S_REPO, or is
#    skipped with PIAGENT_K8S_SKIP=1 (--k8s skip). The output says which.
#
# Usage: chroot-test.sh [--deb piagent_X_arm64.deb] [--piagent build/piagent] [--k8s fake|skip]
#                       [--workdir DIR] [--keep]
#   --deb      default: $PIAGENT_ARM64_DEB, else the newest build-arm64/piagent_*_arm64.deb; none: exit 77
#   --piagent  the build host's own piagent binary, for `piagent check` (default: build/piagent)
# Env: PIAGENT_CACHE_DIR (default /var/cache/piagent): where image/ caches its base rootfs; built
# there (image/base/mkbase.sh, minutes) when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=image/lib/common.sh
. "$repo/image/lib/common.sh"
stage_src=$repo/pi-gen-stage/stage-piagent

deb=${PIAGENT_ARM64_DEB:-} piagent=$repo/build/piagent k8s=fake work="" keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--deb) deb=$2; shift 2 ;;
	--piagent) piagent=$2; shift 2 ;;
	--k8s) k8s=$2; shift 2 ;;
	--workdir) work=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) die "unknown argument: $1 (see the top of $0)" ;;
	esac
done
case "$k8s" in fake | skip) ;; *) die "--k8s: fake or skip" ;; esac
[ "$(id -u)" -eq 0 ] || die "run as root (chroot, mounts, binfmt_misc)"
if [ -z "$deb" ]; then
	deb=$(find "$repo/build-arm64" -maxdepth 1 -name 'piagent_*_arm64.deb' -printf '%T@ %p\n' 2>/dev/null |
		sort -rn | head -n1 | cut -d' ' -f2-)
fi
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
	echo "NOT RUN: no arm64 agent package (${deb:-none}). Build it: cmake -B build-arm64" \
		"-DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake && cmake --build build-arm64 --target piagent" \
		"&& (cd build-arm64 && cpack -G DEB); or pass --deb / PIAGENT_ARM64_DEB"
	exit 77
fi
deb=$(realpath "$deb")
[ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || die "$deb is not an arm64 package"
[ -x "$piagent" ] || die "--piagent $piagent: the build host's piagent binary is needed (cmake --build build)"
version=$(dpkg-deb -f "$deb" Version)

ensure_deps
ensure_binfmt_aarch64

# ---- the base rootfs: image/'s cache (built when missing, as image/build.sh does) ----
cache=${PIAGENT_CACHE_DIR:-/var/cache/piagent}
key=$("$repo/image/build.sh" --base-key)
base_tar=$cache/base-$key.tar.zst
mkdir -p "$cache"
(
	flock 9
	if [ ! -s "$base_tar" ]; then
		log "no cached base rootfs $key: building it (image/base/mkbase.sh: minutes)"
		"$repo/image/base/mkbase.sh" "$base_tar" "$cache/debs"
	fi
) 9>"$cache/.base.lock"
log "base rootfs: $base_tar"

# ---- work directory; cleanup: mounts first, then (and only then) files ----
if [ -z "$work" ]; then
	work=$(mktemp -d /var/tmp/piagent-pi-gen-test.XXXXXX)
else
	mkdir -p "$work"
	work=$(realpath "$work")
fi
http_pid=""
mounts_below() { findmnt -rn -o TARGET | awk -v d="$1/" 'index($0 "/", d) == 1' | sort -r; }
cleanup() {
	local m
	[ -z "$http_pid" ] || kill "$http_pid" 2>/dev/null || true
	mounts_below "$work" | while IFS= read -r m; do umount "$m" || umount -l "$m"; done
	if [ -n "$(mounts_below "$work")" ]; then
		echo "cleanup: mounts are left below $work; NOT deleting it:" >&2
		mounts_below "$work" >&2
	elif [ "$keep" = 1 ]; then
		echo "kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

export WORK_DIR=$work/work LOG_FILE=$work/work/build.log DEPLOY_DIR=$work/deploy
export IMG_FILENAME=test-raspios RELEASE=bookworm GIT_HASH=piagent-test-pi-gen-hash USE_QEMU=0
mkdir -p "$WORK_DIR"
unset PIAGENT_SECRET PIAGENT_K8S_SKIP PIAGENT_K8S_REPO PIAGENT_K8S_KEY_URL PIAGENT_K8S_MINOR
# run_host_script SUBSTAGE [VAR=VALUE...]: one NN-run.sh of the stage by hand, with pi-gen's log()
run_host_script() {
	local sub=$1
	shift
	(
		# shellcheck disable=SC2317 # called by the script (export -f), as pi-gen's
		log() { date +"[%T] $*" | tee -a "${LOG_FILE}"; }
		export -f log
		cd "$stage_src/$sub" && env ROOTFS_DIR="$root" STAGE_DIR="$stage_src" "$@" ./00-run.sh
	)
}

# ---- the Kubernetes repository: a local stand-in, or skipped ----
if [ "$k8s" = fake ]; then
	k8s_version=1.36.0
	"$here/fake-k8s-repo.sh" "$work/k8s-repo" "$k8s_version"
	python3 -c '
import functools, http.server, os, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
with open(sys.argv[2] + ".tmp", "w") as f: f.write(str(s.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
s.serve_forever()' "$work/k8s-repo" "$work/http.port" </dev/null &
	http_pid=$!
	for _ in $(seq 50); do [ -s "$work/http.port" ] && break; sleep 0.2; done
	[ -s "$work/http.port" ] || die "the stand-in repository's HTTP server did not start"
	PIAGENT_K8S_REPO=http://127.0.0.1:$(cat "$work/http.port")/
	export PIAGENT_K8S_MINOR=v1.36 PIAGENT_K8S_REPO
	k8s_note="pkgs.k8s.io is not reachable from this machine: the Kubernetes repository step ran against a LOCAL STAND-IN ($PIAGENT_K8S_REPO, tests/pi-gen/fake-k8s-repo.sh: dummy kubeadm/kubelet/kubectl $k8s_version, throw-away signing key) through PIAGENT_K8S_REPO; fetching pkgs.k8s.io's real key and packages is NOT tested here"
else
	export PIAGENT_K8S_SKIP=1
	k8s_note="NOT TESTED: the Kubernetes repository step (PIAGENT_K8S_SKIP=1: pkgs.k8s.io is not reachable from this machine)"
fi
echo "NOTE: $k8s_note"

# ---- pi-gen: the stand-in for stage2, then the stage under test ----
t0=$(date +%s)
PIAGENT_TEST_BASE_TAR=$base_tar PIAGENT_TEST_STAGE=$stage_src "$here/pi-gen-runner.sh" "$here/standin-stage2"
t1=$(date +%s)
export PREV_ROOTFS_DIR=$WORK_DIR/standin-stage2/rootfs PIAGENT_DEB=$deb
"$here/pi-gen-runner.sh" "$stage_src"
t2=$(date +%s)
root=$WORK_DIR/stage-piagent/rootfs
boot=$root/boot/firmware

# ---- checks ----
fails=0
ok() { echo "ok    $*"; }
bad() { echo "FAIL  $*"; fails=$((fails + 1)); }
expect() { # expect WHAT ACTUAL EXPECTED
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}
status() { dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' "$1" 2>/dev/null || true; }
pkgver() { dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Version}' "$1" 2>/dev/null || true; }
unit_state() { systemctl --root="$root" is-enabled "$1" 2>/dev/null || true; }

echo
echo "== checks"
expect "no mounts left below the work directory" "$(mounts_below "$work" | wc -l)" 0

# the agent
expect "piagent installed" "$(status piagent)" "install ok installed"
expect "piagent version is the package's" "$(pkgver piagent)" "$version"
expect "/usr/bin/piagent is an aarch64 binary (ELF e_machine 183)" \
	"$(od -An -tu2 -j18 -N2 "$root/usr/bin/piagent" 2>/dev/null | tr -d ' ')" 183
mkdir -p "$work/deb"
dpkg-deb -x "$deb" "$work/deb"
if cmp -s "$work/deb/usr/bin/piagent" "$root/usr/bin/piagent"; then ok "/usr/bin/piagent is the package's"; else bad "/usr/bin/piagent differs from the package's"; fi
expect "piagent.service enabled" "$(unit_state piagent.service)" enabled
expect "the .deb's staging directory is gone" "$(test -e "$root/var/cache/piagent-stage" && echo present || echo absent)" absent

# packages of 00-install-packages
while read -r p; do
	expect "package $p installed" "$(status "$p")" "install ok installed"
done < <(sed -e 's/#.*//' "$stage_src/00-install-packages/00-packages" | tr -s ' \t' '\n' | grep .)

# Kubernetes
if [ "$k8s" = fake ]; then
	expect "kubernetes.list" "$(cat "$root/etc/apt/sources.list.d/kubernetes.list" 2>/dev/null)" \
		"deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] $PIAGENT_K8S_REPO /"
	if cmp -s "$work/k8s-repo/Release.key" "$root/etc/apt/keyrings/kubernetes-apt-keyring.asc"; then
		ok "the repository's signing key is the keyring"
	else
		bad "the keyring is not the repository's Release.key"
	fi
	for p in kubeadm kubelet kubectl; do
		expect "$p installed and held" "$(status "$p")" "hold ok installed"
		expect "$p version" "$(pkgver "$p")" "$k8s_version-1.1"
	done
	expect "kubernetes-cni installed (kubelet depends on it)" "$(status kubernetes-cni)" "install ok installed"
	# the pause image the stand-in kubeadm names for its version (asked here of the same script, outside the image)
	pause=$(dpkg-deb --fsys-tarfile "$work/k8s-repo/kubeadm_${k8s_version}-1.1_arm64.deb" | tar -xO ./usr/bin/kubeadm |
		sh -s config images list --kubernetes-version "v$k8s_version" | grep /pause:)
	expect "containerd's sandbox_image is kubeadm's pause ($pause)" \
		"$(grep -E '^[[:space:]]*sandbox_image = ' "$root/etc/containerd/config.toml")" "    sandbox_image = \"$pause\""
else
	expect "no kubernetes.list (skipped)" "$(test -e "$root/etc/apt/sources.list.d/kubernetes.list" && echo present || echo absent)" absent
	expect "no kubeadm (skipped)" "$(status kubeadm)" ""
	expect "no sandbox_image without kubeadm" "$(grep -c sandbox_image "$root/etc/containerd/config.toml")" 0
fi

# /etc/piagent-image-release
rel=$root/etc/piagent-image-release
expect "piagent-image-release: agent" "$(sed -n 's/^PIAGENT_IMAGE_AGENT=//p' "$rel" 2>/dev/null)" "$version"
expect "piagent-image-release: version" "$(sed -n 's/^PIAGENT_IMAGE_VERSION=//p' "$rel" 2>/dev/null)" "$version"
expect "piagent-image-release: base" "$(sed -n 's/^PIAGENT_IMAGE_BASE=//p' "$rel" 2>/dev/null)" "raspios-bookworm-pi-gen-piagent-test"
expect "piagent-image-release: kubernetes" "$(sed -n 's/^PIAGENT_IMAGE_KUBERNETES=//p' "$rel" 2>/dev/null)" \
	"$([ "$k8s" = fake ] && echo "$k8s_version-1.1" || echo none)"

# node settings: the image's files, byte for byte, root-owned, same modes
while IFS= read -r f; do
	f=${f#./}
	# containerd's config: the image's, plus the sandbox_image line the stage adds when kubeadm is installed
	if [ "$f" = etc/containerd/config.toml ] && [ -f "$root/$f" ]; then
		if grep -v '^    sandbox_image = ' "$root/$f" | cmp -s "$repo/image/base/overlay/$f" -; then ok "/$f installed, the image's (and sandbox_image)"; else bad "/$f not the image's"; fi
	elif cmp -s "$repo/image/base/overlay/$f" "$root/$f"; then ok "/$f installed, identical to the image's"; else bad "/$f missing or not the image's"; fi
	expect "/$f mode and owner" "$(stat -c '%a %U:%G' "$root/$f" 2>/dev/null)" \
		"$(stat -c '%a' "$repo/image/base/overlay/$f") root:root"
done < <(cd "$stage_src/03-node-settings/files/rootfs" && find . -type f | sort)
expect "br_netfilter and overlay load at boot" \
	"$(grep -v '^#' "$root/etc/modules-load.d/piagent-kubernetes.conf" | xargs)" "br_netfilter overlay"
expect "Kubernetes sysctls" "$(grep -c -E '^net\.(ipv4\.ip_forward|bridge\.bridge-nf-call-ip6?tables) = 1$' \
	"$root/etc/sysctl.d/90-piagent-kubernetes.conf")" 3

cmdline_want="console=serial0,115200 console=tty1 root=ROOTDEV rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot cgroup_enable=memory"
expect "cmdline.txt: one line, cgroup_enable=memory moved to the END" "$(cat "$boot/cmdline.txt")" "$cmdline_want"
expect "cmdline.txt has one line" "$(wc -l <"$boot/cmdline.txt")" 1

# swap
expect "dphys-swapfile.service masked" "$(unit_state dphys-swapfile.service)" masked
expect "rpi-swap: Mechanism=none" "$(grep -x 'Mechanism=none' "$root/etc/rpi/swap.conf.d/90-piagent-no-swap.conf" 2>/dev/null)" "Mechanism=none"
expect "no active swap line in fstab" "$(grep -cE '^[[:space:]]*[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap([[:space:]]|$)' "$root/etc/fstab" || true)" 0
expect "the fstab swap line commented out, once" "$(grep -c '^# piagent: no swap for kubelet: /var/swap none swap sw 0 0$' "$root/etc/fstab")" 1
expect "/var/swap removed" "$(test -e "$root/var/swap" && echo present || echo absent)" absent

# services
for u in avahi-daemon.service containerd.service systemd-timesyncd.service; do
	expect "$u enabled" "$(unit_state "$u")" enabled
done
for u in keepalived.service haproxy.service; do
	expect "$u disabled (the agent starts it on lb nodes)" "$(unit_state "$u")" disabled
done

# the clock: stamped with the build time (a first boot does not start in 1970)
for f in usr/lib/clock-epoch var/lib/systemd/timesync/clock; do
	age=$(($(date +%s) - $(stat -c %Y "$root/$f" 2>/dev/null || echo 0)))
	if [ "$age" -ge 0 ] && [ "$age" -lt 7200 ]; then ok "/$f stamped at build time"; else bad "/$f not stamped at build time (age $age s)"; fi
done

# boot partition
if cmp -s "$repo/image/bootfiles/role.txt" "$boot/role.txt"; then ok "role.txt is the image's template"; else bad "role.txt is not the image's template"; fi
if cmp -s "$stage_src/04-boot-files/files/README.txt" "$boot/README.txt"; then ok "README.txt on the boot partition"; else bad "README.txt missing"; fi
secret=$(sed -n 's/^secret=//p' "$boot/cluster.txt")
if [[ $secret =~ ^[0-9a-f]{64}$ ]]; then ok "cluster.txt: a fresh secret of 64 hex characters"; else bad "cluster.txt secret '$secret'"; fi
if sed -e "s/@SECRET@/$secret/" "$repo/image/bootfiles/cluster.txt.in" | cmp -s - "$boot/cluster.txt"; then
	ok "cluster.txt is the image's template with the secret"
else
	bad "cluster.txt differs from the image's template"
fi
copy=$DEPLOY_DIR/$IMG_FILENAME-piagent.cluster.txt
if cmp -s "$boot/cluster.txt" "$copy"; then ok "a copy of cluster.txt next to the image: $(basename "$copy")"; else bad "no copy of cluster.txt in deploy/"; fi
expect "the copy's mode" "$(stat -c %a "$copy" 2>/dev/null)" 600
if grep -q "cluster secret (generated): $secret" "$LOG_FILE"; then ok "the generated secret is in pi-gen's build log"; else bad "the generated secret is not reported"; fi
expect "the secret is printed once, nowhere else in the log" "$(grep -c "$secret" "$LOG_FILE")" 1

# the boot partition, for root's eyes only (cluster.txt holds the secret)
expect "fstab: /boot/firmware mounted with fmask=0077,dmask=0077, once" \
	"$(awk '!/^#/ && $2 == "/boot/firmware" && $3 == "vfat" && $4 ~ /(^|,)fmask=0077,dmask=0077$/' "$root/etc/fstab" | wc -l)" 1

# the files as the agent reads them: piagent check (the build host's binary)
chk=$work/check
mkdir -p "$chk"
cp "$boot/role.txt" "$boot/cluster.txt" "$chk/"
if out=$("$piagent" check --boot-dir "$chk" 2>&1); then
	bad "piagent check accepts role.txt without a role"
else
	case "$out" in *"no role set"*) ok "piagent check: the template chooses no role" ;; *) bad "piagent check (no role): $out" ;; esac
fi
sed -i 's/^#role=worker$/role=worker/' "$chk/role.txt"
if out=$("$piagent" check --boot-dir "$chk" 2>&1); then
	ok "piagent check: role=worker + the stage's cluster.txt are valid"
	echo "$out" | sed -n 's/^/      /; /role \|secret \|vip /p'
else
	bad "piagent check with role=worker: $out"
fi

# ---- a re-run of the whole stage (pi-gen without CLEAN=1): nothing doubled, the secret kept ----
echo
echo "== re-run of the stage on its own root file system"
cmd_before=$(cat "$boot/cmdline.txt")
"$here/pi-gen-runner.sh" "$stage_src" >"$work/rerun.log" 2>&1 || { cat "$work/rerun.log"; bad "the re-run failed"; }
t3=$(date +%s)
expect "re-run: no mounts left" "$(mounts_below "$work" | wc -l)" 0
expect "re-run: cmdline.txt unchanged" "$(cat "$boot/cmdline.txt")" "$cmd_before"
expect "re-run: the secret kept" "$(sed -n 's/^secret=//p' "$boot/cluster.txt")" "$secret"
expect "re-run: fstab comment not doubled" "$(grep -c '^# piagent: no swap' "$root/etc/fstab")" 1
expect "re-run: the boot partition's masks not doubled" "$(grep -o 'fmask=0077' "$root/etc/fstab" | wc -l)" 1
expect "re-run: piagent.service enabled" "$(unit_state piagent.service)" enabled

# ---- PIAGENT_SECRET: a given secret, and a bad one ----
given=GivenSecret0123456789abcdefghijklmnopqrstuv
if run_host_script 04-boot-files PIAGENT_SECRET="$given" >/dev/null; then
	expect "PIAGENT_SECRET is written into cluster.txt" "$(sed -n 's/^secret=//p' "$boot/cluster.txt")" "$given"
	expect "PIAGENT_SECRET: the deploy copy too" "$(sed -n 's/^secret=//p' "$copy")" "$given"
else
	bad "04-boot-files/00-run.sh with PIAGENT_SECRET failed"
fi
if run_host_script 04-boot-files PIAGENT_SECRET=short >/dev/null 2>&1; then
	bad "a too short PIAGENT_SECRET is accepted"
else
	ok "a too short PIAGENT_SECRET is refused"
fi

echo
echo "NOTE: $k8s_note"
echo "NOTE: the previous stage is Debian bookworm arm64 (the piagent image's base), not Raspberry Pi OS: packages came from Debian's mirror; Raspberry Pi OS's swap services were stubs"
echo "times: stand-in stage2 $((t1 - t0)) s, stage-piagent $((t2 - t1)) s, re-run $((t3 - t2)) s"
if [ "$fails" -gt 0 ]; then
	echo "$fails check(s) FAILED (pi-gen log: $LOG_FILE; --keep keeps the work directory)"
	exit 1
fi
echo "pi-gen stage chroot test: all checks passed"
