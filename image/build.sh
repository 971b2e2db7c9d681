#!/bin/bash
# Builds the flashable piagent image for Raspberry Pi 3/4 (arm64), the same image the QEMU boot
# tests boot. See docs/image.md.
#
#   image/build.sh [--agent-deb FILE] [--k8s-debs DIR] [--secret-file FILE] [options]
#
# Layers:
#   1. base rootfs (slow: Debian arm64 through qemu-user, minutes): cached in
#      ${PIAGENT_CACHE_DIR:-/var/cache/piagent}/base-<sha256 of image/base/**>.tar.zst
#   2. agent layer (seconds): the base unpacked, Kubernetes .debs and the piagent .deb installed,
#      piagent.service enabled, the boot tests' reporter (test-only, outside the base key) installed
#   3. disk (seconds): FAT boot partition (firmware, kernel, initrd, config.txt, cmdline.txt,
#      role.txt, cluster.txt, authorized_keys, README.txt) + ext4 root made with mkfs.ext4 -d, MBR
#      by sfdisk with this image's own disk identifier, joined with dd. No loop devices, no mounts.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=image/lib/common.sh
. "$here/lib/common.sh"

usage() {
	cat <<'USAGE'
Usage: image/build.sh [options]
  --agent-deb FILE    piagent_<version>_arm64.deb to install (and enable piagent.service).
                      Without it the image is the base only (no agent): for testing the image itself.
  --k8s-debs DIR      install every .deb in DIR (kubeadm, kubelet, kubectl, cri-tools,
                      kubernetes-cni for arm64, from the Kubernetes project's package repository)
  --k8s-images DIR    container image archives (*.tar: an OCI image layout or a docker-archive) for a
                      first boot without internet: the images `kubeadm config images list` names and the
                      pod network's, saved on a machine with internet; piagent-images.service imports
                      them into containerd's k8s.io namespace at boot, before the agent starts (needs
                      --agent-deb)
  --secret-file FILE  the cluster secret for cluster.txt: a cluster.txt of an earlier build (its
                      secret= line) or a file holding the secret (>= 32 characters [0-9a-zA-Z]);
                      default: 64 fresh hex characters from /dev/urandom, printed once at the end.
                      Never on the command line, where every local user sees it (ps).
  --ssh-key FILE      authorized_keys for root on every card (ssh root@<node>), checked line by
                      line; default: only the keys a person puts into authorized_keys on a card
  --version V         image version (default: the agent package's version, or base-<git commit>)
  --out DIR           output directory (default: image/out)
  --compress KIND     xz (default), zstd or none: the compressed copy next to the .img
  --cache-dir DIR     cache of base rootfs tarballs and .debs (default: $PIAGENT_CACHE_DIR or
                      /var/cache/piagent)
  --rebuild-base      build the base rootfs even if the cache has it (e.g. for security updates)
  --base-key          print the base cache key and exit
  -h, --help          this text
USAGE
}

agent_deb="" k8s_dir="" k8s_images="" secret="" secret_file="" ssh_key="" version="" out="$here/out" compress=xz
cache=${PIAGENT_CACHE_DIR:-/var/cache/piagent} rebuild_base=0 only_key=0
while [ $# -gt 0 ]; do
	case "$1" in
	--agent-deb) agent_deb=$2; shift 2 ;;
	--k8s-debs) k8s_dir=$2; shift 2 ;;
	--k8s-images) k8s_images=$2; shift 2 ;;
	--secret-file) secret_file=$2; shift 2 ;;
	--secret | --secret=*) die "--secret would put the cluster secret on the command line, where any local user sees it: use --secret-file FILE (e.g. the .cluster.txt of an earlier build)" ;;
	--ssh-key) ssh_key=$2; shift 2 ;;
	--version) version=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--compress) compress=$2; shift 2 ;;
	--cache-dir) cache=$2; shift 2 ;;
	--rebuild-base) rebuild_base=1; shift ;;
	--base-key) only_key=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done

# shellcheck source=image/base/config.sh
. "$here/base/config.sh"
# The boot tests' reporter and its unit (test-only, never enabled) are installed again by the agent
# layer from the sources, so they stay out of the base cache key: changing them costs seconds, not
# a base rebuild (the cached base may hold an older copy; the image always gets this one).
test_only=(usr/libexec/piagent-image/boottest usr/lib/systemd/system/piagent-boottest.service)
hash_skip=()
for f in "${test_only[@]}"; do hash_skip+=(-x "overlay/$f"); done
base_key=$(hash_inputs "$here/base" "${hash_skip[@]}" "suite=$PIAGENT_SUITE" "mirror=${PIAGENT_MIRROR:-}")
if [ "$only_key" = 1 ]; then echo "$base_key"; exit 0; fi

[ "$(id -u)" -eq 0 ] || die "run as root (mmdebstrap --mode=root, chroot into the arm64 tree)"
case "$compress" in xz | zstd | none) ;; *) die "--compress: xz, zstd or none" ;; esac
if [ -n "$k8s_images" ]; then
	[ -n "$agent_deb" ] || die "--k8s-images needs --agent-deb: the agent's package brings piagent-images.service, which imports them"
	[ -d "$k8s_images" ] || die "--k8s-images: no such directory: $k8s_images"
	shopt -s nullglob
	image_archives=("$k8s_images"/*.tar)
	shopt -u nullglob
	[ ${#image_archives[@]} -gt 0 ] || die "--k8s-images: no *.tar image archives in $k8s_images (docs/image.md, \"Offline\")"
	for a in "${image_archives[@]}"; do
		members=$(tar -tf "$a" 2>/dev/null) || die "--k8s-images: $a is not a tar archive"
		grep -qxE '(\./)?(index\.json|manifest\.json)' <<<"$members" ||
			die "--k8s-images: $a is neither an OCI image layout (index.json) nor a docker-archive (manifest.json)"
	done
fi
if [ -n "$agent_deb" ]; then
	[ -f "$agent_deb" ] || die "--agent-deb: no such file: $agent_deb"
	[ "$(dpkg-deb -f "$agent_deb" Package)" = piagent ] || die "--agent-deb: $agent_deb is not the piagent package"
	arch=$(dpkg-deb -f "$agent_deb" Architecture)
	[ "$arch" = arm64 ] || [ "$arch" = all ] || die "--agent-deb: $agent_deb is for $arch, not arm64"
	agent_deb=$(readlink -f "$agent_deb")
fi
if [ -n "$k8s_dir" ]; then
	compgen -G "$k8s_dir/*.deb" >/dev/null || die "--k8s-debs: no .deb files in $k8s_dir"
	k8s_dir=$(readlink -f "$k8s_dir")
fi
# The secret stays in this shell's variables: builtins only (read, [[ ]], printf), never an argument of a
# command, never traced.
if [ -n "$secret_file" ]; then
	[ -r "$secret_file" ] || die "--secret-file: cannot read $secret_file"
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		case "$line" in secret=*) secret=${line#secret=}; break ;; esac
		if [ -z "$secret" ] && [[ "$line" =~ ^[0-9A-Za-z]+$ ]]; then secret=$line; fi
	done <"$secret_file"
	[[ "$secret" =~ ^[0-9A-Za-z]{32,}$ ]] ||
		die "--secret-file: $secret_file holds no secret of at least 32 characters of [0-9A-Za-z] (piagent secret prints one)"
else
	secret=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	secret_generated=1
fi
if [ -n "$ssh_key" ]; then
	[ -f "$ssh_key" ] || die "--ssh-key: no such file: $ssh_key"
	# the image's own checker of authorized_keys, with this machine's ssh-keygen
	"$here/base/overlay/usr/libexec/piagent-image/boot-keys" --check "$ssh_key" >&2 ||
		die "--ssh-key: $ssh_key: fix the lines above (one OpenSSH public key per line)"
fi
if [ -z "$version" ]; then
	if [ -n "$agent_deb" ]; then
		version=$(dpkg-deb -f "$agent_deb" Version)
	else
		version=base-$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
	fi
fi
version=${version//[^0-9A-Za-z.+~_-]/_}
name=piagent-$version-arm64

t_start=$(date +%s)
ensure_deps --image
ensure_binfmt_aarch64

# ---- 1. base rootfs (cached) ----
mkdir -p "$cache" "$out"
base_tar=$cache/base-$base_key.tar.zst
(
	flock 9
	if [ "$rebuild_base" = 1 ] || [ ! -s "$base_tar" ]; then
		log "building base rootfs $base_key (Debian $PIAGENT_SUITE arm64 under qemu-user: minutes)"
		t=$(date +%s)
		"$here/base/mkbase.sh" "$base_tar" "$cache/debs"
		log "base rootfs built in $(($(date +%s) - t)) s: $base_tar"
		# keep the three newest bases (e.g. of other branches); the older ones go
		find "$cache" -maxdepth 1 -name 'base-*.tar.zst' -printf '%T@ %p\n' | sort -rn | tail -n +4 |
			cut -d' ' -f2- | while read -r old; do log "pruning old base $old"; rm -f "$old"; done
	else
		log "base rootfs from cache: $base_tar"
	fi
) 9>"$cache/.base.lock"
t_base=$(date +%s)

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir "$root"
tar -C "$root" --xattrs --xattrs-include='*' --acls --numeric-owner -I zstd -xpf "$base_tar"
log "base unpacked in $(($(date +%s) - t_base)) s"

# ---- 2. agent layer ----
install_debs() { # install_debs LABEL FILE... (inside the arm64 tree, through qemu-user)
	local label=$1; shift
	mkdir -p "$root/tmp/piagent-debs"
	cp "$@" "$root/tmp/piagent-debs/"
	log "installing $label: $(printf '%s ' "${@##*/}")"
	chroot "$root" sh -c 'dpkg -i /tmp/piagent-debs/*.deb' >&2 ||
		die "$label: dpkg -i failed (a missing dependency belongs in image/base/packages.txt)"
	rm -rf "$root/tmp/piagent-debs"
}
if [ -n "$k8s_dir" ]; then
	install_debs "Kubernetes packages" "$k8s_dir"/*.deb
	chroot "$root" dpkg-query -W kubeadm kubelet kubectl >&2 || die "--k8s-debs: kubeadm, kubelet and kubectl are needed"
	# containerd's sandbox_image: the pause image this kubeadm expects (Debian's containerd defaults to
	# pause:3.6; kubeadm warns about the mismatch and every node then pulls both). Asked of the kubeadm just
	# installed, with its own version (no internet needed).
	k8s_version=$(chroot "$root" kubeadm version -o short </dev/null) || die "--k8s-debs: kubeadm version failed"
	pause=$(chroot "$root" kubeadm config images list --kubernetes-version "$k8s_version" </dev/null | grep -m1 '/pause:') ||
		die "--k8s-debs: kubeadm config images list names no pause image"
	sed -i -e '/^[[:space:]]*sandbox_image = /d' \
		-e "s|^  \[plugins.\"io.containerd.grpc.v1.cri\"\]\$|&\n    sandbox_image = \"$pause\"|" "$root/etc/containerd/config.toml"
	grep -qxF "    sandbox_image = \"$pause\"" "$root/etc/containerd/config.toml" ||
		die "could not set sandbox_image in /etc/containerd/config.toml"
	log "containerd's sandbox_image: $pause (kubeadm $k8s_version)"
fi
if [ -n "$agent_deb" ]; then
	install_debs "piagent" "$agent_deb"
	[ -x "$root/usr/bin/piagent" ] || die "the piagent package did not install /usr/bin/piagent"
	systemctl --root="$root" enable piagent.service >&2
	[ "$(systemctl --root="$root" is-enabled piagent.service)" = enabled ] || die "piagent.service is not enabled"
fi
if [ -n "$k8s_images" ]; then
	# Imported at boot by piagent-images.service (units/), which moves each one to imported/ once it is in.
	install -d -m 0755 "$root/var/lib/piagent-images"
	install -m 0644 "${image_archives[@]}" "$root/var/lib/piagent-images/"
	log "container image archives for an offline first boot: $(printf '%s ' "${image_archives[@]##*/}")"
fi
for f in "${test_only[@]}"; do
	if [ -x "$here/base/overlay/$f" ]; then mode=0755; else mode=0644; fi
	install -D -m "$mode" -o root -g root "$here/base/overlay/$f" "$root/$f"
done
if [ -n "$ssh_key" ]; then
	install -d -m 700 "$root/root/.ssh"
	install -m 600 "$ssh_key" "$root/root/.ssh/authorized_keys"
fi
# The clock (docs/configuration.md, "The clock"): a Pi has no battery clock and starts in 1970 until NTP answers.
# systemd (v247+) moves the clock at boot forward to the mtime of /usr/lib/clock-epoch, and systemd-timesyncd
# at start to that of its clock file: both stamped with the build time, so a first boot starts no earlier than
# the image was built (mkfs.ext4 -d keeps mtimes). The agent still waits for NTP before kubeadm.
install -d -m 0755 "$root/var/lib/systemd/timesync"
touch "$root/usr/lib/clock-epoch" "$root/var/lib/systemd/timesync/clock"
# This image's own disk identifier (the base has a placeholder; each card gets yet another one on its
# first boot, piagent-diskid.service): root=PARTUUID=<id>-02 in fstab, in raspi-firmware's settings
# (which write cmdline.txt on kernel updates) and in cmdline.txt itself.
base_id=${PIAGENT_DISK_ID#0x}
disk_id=$base_id
while [ "$disk_id" = "$base_id" ] || [ "$disk_id" = 00000000 ]; do
	disk_id=$(od -An -tx4 -N4 /dev/urandom | tr -d ' \n')
done
for f in etc/fstab etc/default/raspi-firmware boot/firmware/cmdline.txt; do
	grep -q "PARTUUID=$base_id-0" "$root/$f" || die "$f does not name the base's PARTUUID=$base_id-0x"
	sed -i "s/PARTUUID=$base_id-0/PARTUUID=$disk_id-0/g" "$root/$f"
done
if ! grep -q "^PARTUUID=$disk_id-02[[:space:]]" "$root/etc/fstab" ||
	! grep -q "root=PARTUUID=$disk_id-02 " "$root/boot/firmware/cmdline.txt"; then
	die "the disk identifier $disk_id is not in fstab and cmdline.txt"
fi
cat >"$root/etc/piagent-image-release" <<EOF
PIAGENT_IMAGE_VERSION=$version
PIAGENT_IMAGE_BASE=$base_key
PIAGENT_IMAGE_AGENT=$( [ -n "$agent_deb" ] && dpkg-deb -f "$agent_deb" Version || echo none)
PIAGENT_IMAGE_KUBERNETES=$( [ -n "$k8s_dir" ] && chroot "$root" dpkg-query -W -f="\${Version}" kubeadm || echo none)
PIAGENT_IMAGE_BUILT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
t_layer=$(date +%s)

# ---- 3. boot partition contents ----
bootfs=$work/bootfs
mkdir "$bootfs"
# what the raspi-firmware hooks put in /boot/firmware moves to the FAT partition; the directory
# stays as the (empty) mount point
find "$root/boot/firmware" -mindepth 1 -maxdepth 1 -exec mv -t "$bootfs" {} +
grep -q 'cgroup_enable=memory$' "$bootfs/cmdline.txt" || die "cmdline.txt does not end with cgroup_enable=memory"
cp "$here/bootfiles/role.txt" "$here/bootfiles/README.txt" "$here/bootfiles/authorized_keys" "$bootfs/"
template=$(<"$here/bootfiles/cluster.txt.in")
[[ "$template" == *secret=@SECRET@* ]] || die "image/bootfiles/cluster.txt.in has no secret=@SECRET@ line"
printf '%s\n' "${template//@SECRET@/$secret}" >"$bootfs/cluster.txt"
install -m 600 "$bootfs/cluster.txt" "$out/$name.cluster.txt"

# ---- 4. file systems and disk ----
mib() { echo $((($1 + 1048575) / 1048576)); }
boot_mib=256
used_mib=$(mib "$(du -sb "$root" | cut -f1)")
# headroom for ext4 metadata and the first boot; the partition grows to the card on first boot
root_mib=$(((used_mib * 6 / 5 + 384 + 3) / 4 * 4))
log "root file system: $used_mib MiB used, $root_mib MiB partition"

mkfs.vfat -C -F 32 -n PIAGENTBOOT "$work/boot.fat" $((boot_mib * 1024)) >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -s -m -i "$work/boot.fat" "$bootfs"/* ::/
mkfs.ext4 -q -F -L PIAGENTROOT -m 1 -d "$root" "$work/root.ext4" "${root_mib}M" >/dev/null
rm -rf "$root"

img_tmp=$work/$name.img
boot_start=2048
boot_sectors=$((boot_mib * 2048))
root_start=$((boot_start + boot_sectors))
root_sectors=$((root_mib * 2048))
truncate -s $(((root_start + root_sectors) * 512)) "$img_tmp"
sfdisk -q "$img_tmp" <<EOF
label: dos
label-id: 0x$disk_id
unit: sectors

start=$boot_start, size=$boot_sectors, type=c, bootable
start=$root_start, size=$root_sectors, type=83
EOF
dd if="$work/boot.fat" of="$img_tmp" bs=1M seek=$((boot_start / 2048)) conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$img_tmp" bs=1M seek=$((root_start / 2048)) conv=notrunc,sparse status=none
rm -f "$work/boot.fat" "$work/root.ext4"
mv -f "$img_tmp" "$out/$name.img"
ln -sfn "$name.img" "$out/piagent-arm64.img"
t_img=$(date +%s)

compressed=""
case "$compress" in
xz) compressed=$out/$name.img.xz; xz -T0 -3 -c "$out/$name.img" >"$work/c" ;;
zstd) compressed=$out/$name.img.zst; zstd -T0 -10 -q -c "$out/$name.img" >"$work/c" ;;
none) ;;
esac
[ -z "$compressed" ] || mv -f "$work/c" "$compressed"
t_end=$(date +%s)

cat >&2 <<EOF

piagent image $version
  image:       $out/$name.img ($(du -h --apparent-size "$out/$name.img" | cut -f1), $(du -h "$out/$name.img" | cut -f1) allocated)
$( [ -z "$compressed" ] || echo "  compressed:  $compressed ($(du -h "$compressed" | cut -f1))")
  agent:       $( [ -n "$agent_deb" ] && basename "$agent_deb" || echo "none (base image only)")
  disk id:     0x$disk_id (root=PARTUUID=$disk_id-02; each card gets its own on its first boot)
  kubernetes:  $( [ -n "$k8s_dir" ] && echo "from $k8s_dir" || echo "not installed (see docs/image.md: --k8s-debs)")
  times:       base $((t_base - t_start)) s, agent layer $((t_layer - t_base)) s, disk $((t_img - t_layer)) s, compress $((t_end - t_img)) s; total $((t_end - t_start)) s
  cluster.txt: $out/$name.cluster.txt (identical on every card of this cluster)
EOF
if [ "${secret_generated:-0}" = 1 ]; then
	printf '  cluster secret (generated): %s\n' "$secret" >&2
	echo "  build more images for the same cluster with: --secret-file $out/$name.cluster.txt" >&2
fi
