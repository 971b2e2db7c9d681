#!/bin/bash
# Host side: make the Debian base look like Raspberry Pi OS Lite where stage-piagent looks, and undo
# what the piagent image's base already did, so that the stage has to do it itself:
#  - /etc/resolv.conf a file (pi-gen's rootfs has one; the image's is a link into systemd-resolved's /run)
#  - /boot/firmware/cmdline.txt as pi-gen's bookworm stages 1 and 2 leave it (with the first-boot
#    init=), plus a cgroup_enable=memory in the middle, which the stage must move to the end
#  - the files the stage installs (files/rootfs of the stage under test) removed
#  - both swap mechanisms of Raspberry Pi OS, as stubs: dphys-swapfile.service (bookworm), enabled,
#    with a /var/swap, and rpi-swap's generator (trixie); a swap line in /etc/fstab
#  - the boot partition's fstab line as pi-gen's stage1 writes it (options "defaults")
# Env: PIAGENT_TEST_STAGE (the stage under test).
set -euo pipefail
install -m 0644 /etc/resolv.conf "${ROOTFS_DIR}/etc/resolv.conf.piagent-test"
mv -f "${ROOTFS_DIR}/etc/resolv.conf.piagent-test" "${ROOTFS_DIR}/etc/resolv.conf"

echo "console=serial0,115200 console=tty1 root=ROOTDEV rootfstype=ext4 cgroup_enable=memory fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot" \
	>"${ROOTFS_DIR}/boot/firmware/cmdline.txt"
rm -f "${ROOTFS_DIR}/boot/firmware/role.txt" "${ROOTFS_DIR}/boot/firmware/cluster.txt"

for d in "${PIAGENT_TEST_STAGE}"/*/files/rootfs; do
	(cd "$d" && find . -type f) | while IFS= read -r f; do
		rm -f "${ROOTFS_DIR}/${f#./}"
	done
done

cat >"${ROOTFS_DIR}/usr/lib/systemd/system/dphys-swapfile.service" <<'UNIT'
[Unit]
Description=stand-in for Raspberry Pi OS bookworm's dphys-swapfile (piagent test)
[Service]
Type=oneshot
ExecStart=/bin/true
[Install]
WantedBy=multi-user.target
UNIT
head -c 1048576 /dev/zero >"${ROOTFS_DIR}/var/swap"
chmod 0600 "${ROOTFS_DIR}/var/swap"
install -D -m 0755 /dev/null "${ROOTFS_DIR}/usr/lib/systemd/system-generators/rpi-swap-generator"
printf '#!/bin/sh\n# stand-in for Raspberry Pi OS trixie rpi-swap generator (piagent test)\nexit 0\n' \
	>"${ROOTFS_DIR}/usr/lib/systemd/system-generators/rpi-swap-generator"
echo "/var/swap none swap sw 0 0" >>"${ROOTFS_DIR}/etc/fstab"
sed -i -E 's|^([^#[:space:]]+[[:space:]]+/boot/firmware[[:space:]]+vfat[[:space:]]+)[^[:space:]]+|\1defaults|' \
	"${ROOTFS_DIR}/etc/fstab"
