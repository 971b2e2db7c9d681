#!/bin/sh
# mmdebstrap --customize-hook: configures the installed base rootfs.
# Env: PIAGENT_BASE_DIR (image/base), and the variables of config.sh.
set -eu
root=$1
base=$PIAGENT_BASE_DIR
# shellcheck source=image/base/config.sh
. "$base/config.sh"
diskid=${PIAGENT_DISK_ID#0x}

echo "piagent customize: overlay"
(cd "$base/overlay" && find . -type f) | sort | while read -r f; do
	if [ -x "$base/overlay/$f" ]; then mode=0755; else mode=0644; fi
	install -D -m "$mode" -o root -g root "$base/overlay/$f" "$root/$f"
done

echo "piagent customize: identity, fstab, boot settings"
echo "$PIAGENT_HOSTNAME" >"$root/etc/hostname"
cat >"$root/etc/hosts" <<HOSTS
127.0.0.1	localhost
127.0.1.1	$PIAGENT_HOSTNAME
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
HOSTS
cat >"$root/etc/fstab" <<FSTAB
# <file system>		<mount point>	<type>	<options>		<dump> <pass>
PARTUUID=$diskid-02	/		ext4	defaults,noatime	0 1
# the agent needs role.txt and cluster.txt: wait for the partition longer than systemd's 90 s
# default (seen exceeded by udev under heavy emulation) instead of dropping to emergency mode;
# fmask/dmask: cluster.txt holds the cluster secret, for root's eyes only (docs/security.md)
PARTUUID=$diskid-01	/boot/firmware	vfat	defaults,noatime,fmask=0077,dmask=0077,x-systemd.device-timeout=5min	0 2
# no swap: kubelet refuses to run with swap on
FSTAB
mkdir -p "$root/boot/firmware"
# The raspi-firmware hooks write /boot/firmware/cmdline.txt from these on every kernel or
# initramfs update; /etc/default/raspi-extra-cmdline (cgroup_enable=memory) goes last on the line.
cat >>"$root/etc/default/raspi-firmware" <<RF

# piagent image settings
ROOTPART="PARTUUID=$diskid-02"
# headless: no cma= on the command line (Debian warns it can stop a Pi 4 from booting)
CMA=0
CONSOLES="ttyS1,115200 tty0"
RF
ln -sfn /usr/share/zoneinfo/Etc/UTC "$root/etc/localtime"
echo "Etc/UTC" >"$root/etc/timezone"
echo "LANG=C.UTF-8" >"$root/etc/default/locale"

echo "piagent customize: units"
# systemd-firstboot would prompt on the console and stop a headless first boot
systemctl --root="$root" mask systemd-firstboot.service
systemctl --root="$root" enable systemd-networkd.service systemd-resolved.service \
	systemd-timesyncd.service systemd-network-generator.service avahi-daemon.service \
	containerd.service ssh.service piagent-growroot.service piagent-ssh-hostkeys.service \
	piagent-diskid.service piagent-boot-keys.service
# the agent configures and starts these on load-balancer nodes only
systemctl --root="$root" disable keepalived.service haproxy.service

echo "piagent customize: one initramfs build"
rm -f "$root/usr/sbin/update-initramfs"
chroot "$root" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
chroot "$root" update-initramfs -c -k all
test -e "$root/boot/firmware/cmdline.txt" || { echo "no /boot/firmware/cmdline.txt: raspi-firmware hook did not run" >&2; exit 1; }
for f in vmlinuz initrd.img; do
	set -- "$root/boot/firmware/$f"-*
	[ -e "$1" ] || { echo "no $f in /boot/firmware: raspi-firmware hook did not run" >&2; exit 1; }
done

echo "piagent customize: per-node state out"
rm -f "$root"/etc/ssh/ssh_host_*
rm -f "$root/var/lib/systemd/random-seed" "$root/var/lib/dbus/machine-id"
: >"$root/etc/machine-id"
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
