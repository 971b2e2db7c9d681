# shellcheck shell=bash disable=SC2034 # sourced: the variables are used by the scripts that source it
# Settings of the base rootfs. Everything here is part of the base cache key.
PIAGENT_SUITE=${PIAGENT_SUITE:-bookworm}
PIAGENT_COMPONENTS="main non-free-firmware"
# MBR disk identifier of the cached base: a placeholder that root=PARTUUID=<id>-02 names in the
# base's /etc/fstab, /etc/default/raspi-firmware and cmdline.txt. Never on a card: image/build.sh gives
# each image a random identifier of its own (and rewrites those three files), and each card gets
# another one on its first boot (piagent-diskid.service), so that two piagent media in one Pi never
# share a PARTUUID.
PIAGENT_DISK_ID=0x5049a6e7
PIAGENT_HOSTNAME=raspberrypi
