# shellcheck shell=bash disable=SC2034 # sourced: the variables are used by the scripts that source it
# Settings of the base rootfs. Everything here is part of the base cache key.
PIAGENT_SUITE=${PIAGENT_SUITE:-bookworm}
PIAGENT_COMPONENTS="main non-free-firmware"
# MBR disk identifier of the image. Fixed (not random) so that root=PARTUUID=<id>-02 can be baked
# into the cached base (fstab, /etc/default/raspi-firmware -> cmdline.txt). Every card is flashed
# from the same image anyway, so the cards share it whatever it is.
PIAGENT_DISK_ID=0x5049a6e7
PIAGENT_HOSTNAME=raspberrypi
