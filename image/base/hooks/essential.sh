#!/bin/sh
# mmdebstrap --essential-hook: runs after the essential packages, before the rest are installed.
# Defer every initramfs build (the kernel, initramfs-tools and raspi-firmware would each trigger
# one, each minutes long under qemu-user) to a single run at the end (customize.sh).
set -eu
root=$1
chroot "$root" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.piagent-real \
	--add /usr/sbin/update-initramfs
cat >"$root/usr/sbin/update-initramfs" <<'STUB'
#!/bin/sh
echo "update-initramfs: deferred by the piagent image build ($*)" >&2
exit 0
STUB
chmod 755 "$root/usr/sbin/update-initramfs"
