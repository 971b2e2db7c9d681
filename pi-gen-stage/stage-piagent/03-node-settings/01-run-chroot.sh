# shellcheck shell=bash
# In the image (fed to bash on stdin by pi-gen's on_chroot: commands get </dev/null): no swap
# (kubelet refuses to run with swap on) and the services of the piagent image.
set -euo pipefail
say() { echo "stage-piagent: $*"; }

# Swap. Raspberry Pi OS bookworm: dphys-swapfile makes /var/swap at boot. Trixie: rpi-swap's
# generator sets up zram and/or a swap file from /etc/rpi/swap.conf(.d). Both are handled, whichever
# is there; swap lines in fstab are commented out. The agent still runs swapoff -a if it finds swap.
swap_done=""
if [ -e /usr/lib/systemd/system/dphys-swapfile.service ] || [ -e /lib/systemd/system/dphys-swapfile.service ] ||
	[ -e /etc/init.d/dphys-swapfile ]; then
	systemctl mask dphys-swapfile.service </dev/null
	rm -f /var/swap
	swap_done="$swap_done dphys-swapfile.service masked;"
fi
if [ -e /usr/lib/systemd/system-generators/rpi-swap-generator ] ||
	[ -e /lib/systemd/system-generators/rpi-swap-generator ]; then
	mkdir -p /etc/rpi/swap.conf.d
	cat >/etc/rpi/swap.conf.d/90-piagent-no-swap.conf <<'CONF'
# piagent: kubelet refuses to run with swap on (swap.conf(5): none = no zram, no swap file)
[Main]
Mechanism=none
CONF
	chmod 0644 /etc/rpi/swap.conf.d/90-piagent-no-swap.conf
	swap_done="$swap_done rpi-swap: Mechanism=none;"
fi
if grep -Eq '^[[:space:]]*[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap([[:space:]]|$)' /etc/fstab; then
	sed -i -E 's/^([[:space:]]*[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap([[:space:]].*|$))/# piagent: no swap for kubelet: \1/' /etc/fstab
	swap_done="$swap_done swap lines in /etc/fstab commented out;"
fi
say "swap:${swap_done:- no swap service or fstab swap found}"

# Services, as in the piagent image: mDNS, the container runtime and the clock (certificates need
# the time, a Pi has no battery-backed clock) start at boot; keepalived and HAProxy do not: the
# agent configures and starts them on load balancers only.
# containerd's sandbox_image: the pause image the installed kubeadm expects (Debian's containerd defaults to
# pause:3.6; kubeadm warns about the mismatch and every node then pulls both). No kubeadm: left alone.
if command -v kubeadm >/dev/null; then
	k8s_version=$(kubeadm version -o short </dev/null)
	pause=$(kubeadm config images list --kubernetes-version "$k8s_version" </dev/null | grep -m1 '/pause:')
	sed -i -e '/^[[:space:]]*sandbox_image = /d' \
		-e "s|^  \[plugins.\"io.containerd.grpc.v1.cri\"\]\$|&\n    sandbox_image = \"$pause\"|" /etc/containerd/config.toml
	grep -qxF "    sandbox_image = \"$pause\"" /etc/containerd/config.toml ||
		{ echo "stage-piagent: error: could not set sandbox_image in /etc/containerd/config.toml" >&2; exit 1; }
	say "containerd's sandbox_image: $pause (kubeadm $k8s_version)"
fi
systemctl enable avahi-daemon.service containerd.service systemd-timesyncd.service </dev/null
systemctl disable keepalived.service haproxy.service </dev/null
# The clock: systemd moves it at boot forward to /usr/lib/clock-epoch's mtime, systemd-timesyncd to its clock
# file's: stamped with the build time, a first boot does not start in 1970 (the agent still waits for NTP).
mkdir -p /var/lib/systemd/timesync
touch /usr/lib/clock-epoch /var/lib/systemd/timesync/clock
say "clock stamped: /usr/lib/clock-epoch and /var/lib/systemd/timesync/clock ($(date -u +%Y-%m-%dT%H:%MZ))"
say "enabled avahi-daemon, containerd, systemd-timesyncd; disabled keepalived, haproxy (the agent starts them on lb nodes)"
