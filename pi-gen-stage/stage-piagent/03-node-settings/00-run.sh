#!/bin/bash
# Host side: the Kubernetes node settings of the piagent image.
#  1. files/rootfs/ -> the image: the same files, contents and modes as the piagent image build
#     installs from image/base/overlay/ (containerd's config, br_netfilter + overlay modules, the
#     Kubernetes sysctls, the journal, ...); pi-gen-stage/differences.txt lists the ones left out.
#  2. /boot/firmware/cmdline.txt ends with cgroup_enable=memory: kubelet needs the memory cgroup,
#     and Raspberry Pi kernels disable it (the 6.12 device tree adds cgroup_disable=memory to the
#     command line, before cmdline.txt's words: the last word wins). Idempotent: the word is moved
#     to the end, never doubled.
#  3. /boot/firmware is mounted for root's eyes only (fmask=0077,dmask=0077): cluster.txt on it holds
#     the cluster secret. Added to the options of the boot partition's fstab line (pi-gen's stage1
#     writes "BOOTDEV /boot/firmware vfat defaults 0 2"), replacing any umask/fmask/dmask; idempotent.
set -euo pipefail
die() { echo "stage-piagent: error: $*" >&2; exit 1; }
[ -d "${ROOTFS_DIR:-}" ] || die "ROOTFS_DIR is not set or not a directory (this runs inside pi-gen)"

(cd files/rootfs && find . -type f | LC_ALL=C sort) | while IFS= read -r f; do
	f=${f#./}
	if [ -x "files/rootfs/$f" ]; then mode=0755; else mode=0644; fi
	install -D -m "$mode" -o root -g root "files/rootfs/$f" "$ROOTFS_DIR/$f"
	log "stage-piagent: /$f"
done

cmdline=$ROOTFS_DIR/boot/firmware/cmdline.txt
[ -s "$cmdline" ] || die "$cmdline is missing or empty: pi-gen's stage1 writes it (is stage1 in STAGE_LIST?)"
read -r -a words <<<"$(tr '\r\n\t' '   ' <"$cmdline")"
out=()
for w in "${words[@]}"; do
	case "$w" in
	cgroup_enable=memory) ;; # goes last, below
	cgroup_disable=memory) log "stage-piagent: cmdline.txt: dropping cgroup_disable=memory" ;;
	*) out+=("$w") ;;
	esac
done
out+=(cgroup_enable=memory)
printf '%s\n' "${out[*]}" >"$cmdline.piagent-new"
if cmp -s "$cmdline.piagent-new" "$cmdline"; then
	rm -f "$cmdline.piagent-new"
	log "stage-piagent: cmdline.txt already ends with cgroup_enable=memory"
else
	chmod 0644 "$cmdline.piagent-new"
	mv -f "$cmdline.piagent-new" "$cmdline"
	log "stage-piagent: cmdline.txt: ${out[*]}"
fi

fstab=$ROOTFS_DIR/etc/fstab
[ -f "$fstab" ] || die "$fstab is missing: pi-gen's stage1 writes it (is stage1 in STAGE_LIST?)"
awk -v OFS='\t' '
	!/^[[:space:]]*#/ && ($2 == "/boot/firmware" || $2 == "/boot") && $3 == "vfat" {
		n = split($4, o, ","); opts = ""
		for (i = 1; i <= n; i++)
			if (o[i] !~ /^(umask|fmask|dmask)=/) opts = opts (opts == "" ? "" : ",") o[i]
		$4 = opts (opts == "" ? "" : ",") "fmask=0077,dmask=0077"; found++
	}
	{ print }
	END { if (!found) exit 3 }' "$fstab" >"$fstab.piagent-new" ||
	die "$fstab has no vfat line for /boot/firmware: pi-gen's stage1 writes one (cluster.txt would be readable by every user)"
if cmp -s "$fstab.piagent-new" "$fstab"; then
	rm -f "$fstab.piagent-new"
	log "stage-piagent: fstab: the boot partition is already mounted with fmask=0077,dmask=0077"
else
	chmod 0644 "$fstab.piagent-new"
	mv -f "$fstab.piagent-new" "$fstab"
	log "stage-piagent: fstab: the boot partition mounted with fmask=0077,dmask=0077 (cluster.txt for root only)"
fi
