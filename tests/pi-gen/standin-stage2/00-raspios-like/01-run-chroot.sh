# shellcheck shell=bash
# In the chroot: package lists as pi-gen's stage0 leaves them (apt-get update from the Debian mirror
# of the image's base; no translations), and services in the state the stage must change: keepalived
# and HAProxy enabled (Debian's packages enable them when installed), the swap file service enabled;
# avahi-daemon, containerd and systemd-timesyncd disabled.
set -euo pipefail
apt-get -o Acquire::Retries=3 -o Acquire::Languages=none --error-on=any update </dev/null
systemctl enable keepalived.service haproxy.service dphys-swapfile.service </dev/null
systemctl disable avahi-daemon.service containerd.service systemd-timesyncd.service </dev/null
