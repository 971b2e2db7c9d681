#!/bin/bash
# Builds (or finds in the cache) the Debian bookworm amd64 rootfs that every
# cluster test node boots from, and prints the tarball's path on stdout.
# Progress goes to stderr.
#
#   tests/cluster/rootfs.sh            build when missing, print the path
#   tests/cluster/rootfs.sh --rebuild  build even when cached
#
# Cache: ${PIAGENT_CACHE_DIR:-/var/cache/piagent}, outside the clone. The file
# name carries a sha256 over this script and the package list, so editing
# either produces a new tarball; the three newest are kept (--prune keeps only
# the current one).
set -euo pipefail

SUITE=bookworm
ARCH=amd64
# The apt sources this project's machines use (deb.debian.org, main).
MIRRORS=(
	"deb http://deb.debian.org/debian bookworm main"
	"deb http://deb.debian.org/debian bookworm-updates main"
	"deb http://deb.debian.org/debian-security bookworm-security main"
)
# What a node needs: real systemd + D-Bus + avahi, the services the agent
# drives (keepalived, HAProxy), what the kubeadm test double runs on (etcd,
# python3-cryptography), tools the tests call inside nodes, and the agent's
# runtime libraries.
PACKAGES=(
	systemd systemd-sysv dbus
	avahi-daemon avahi-utils libnss-mdns
	keepalived haproxy
	etcd-server etcd-client python3-cryptography
	iproute2 iputils-ping openssl curl python3 procps
	libsystemd0 libavahi-client3 libcurl4 libcjson1 libmicrohttpd12 libssl3 libzxcvbn0
)
# Units that make no sense in a test container, or that the agent must start
# itself (keepalived, haproxy: through systemd over D-Bus, once configured;
# etcd: the kubeadm test double runs its own).
DISABLE_UNITS=(
	keepalived.service haproxy.service etcd.service
	systemd-networkd.service systemd-networkd.socket
	systemd-networkd-wait-online.service systemd-network-generator.service
	apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer
	e2scrub_all.timer e2scrub_reap.service fstrim.timer
)
# Masked: nobody logs in on a console (tests enter through nsenter), and
# there is no hardware clock, swap, or kernel module loading in a container.
MASK_UNITS=(
	console-getty.service getty.target
	systemd-timesyncd.service
)

die() {
	echo "rootfs.sh: $*" >&2
	exit 1
}

# Runs inside mmdebstrap's customize hook: $1 is the new root.
customize() {
	local root=$1 u
	[[ -d $root/etc ]] || die "customize: $root is not a root file system"

	# Every card carries the same image, hence the same hostname; the agent
	# makes it unique through hostname1.
	echo raspberrypi >"$root/etc/hostname"
	cat >"$root/etc/hosts" <<-'EOF'
		127.0.0.1	localhost
		127.0.1.1	raspberrypi
		::1		localhost ip6-localhost ip6-loopback
		ff02::1		ip6-allnodes
		ff02::2		ip6-allrouters
	EOF

	# mmdebstrap leaves the build host's resolver here. The test LAN has no
	# DNS server (names are mDNS .local names): say so, rather than letting
	# nodes try a server they cannot and must not reach.
	rm -f "$root/etc/resolv.conf"
	echo '# piagent cluster test bed: no DNS on the test LAN; names are mDNS (.local).' >"$root/etc/resolv.conf"

	# Each node gets its own machine-id from the harness (written into its
	# private layer); an empty file here would make systemd treat every boot
	# as a first boot, so leave none at all.
	rm -f "$root/etc/machine-id" "$root/var/lib/dbus/machine-id"

	# .local names through avahi.
	if grep -q '^hosts:' "$root/etc/nsswitch.conf"; then
		sed -i 's/^hosts:.*/hosts:          files mdns4_minimal [NOTFOUND=return] dns/' \
			"$root/etc/nsswitch.conf"
	else
		echo 'hosts:          files mdns4_minimal [NOTFOUND=return] dns' >>"$root/etc/nsswitch.conf"
	fi

	# All containers share the host's uid space, and RLIMIT_NPROC counts
	# processes per uid across the whole host: avahi's default limit of 3
	# would stop the fourth node's avahi-daemon from starting.
	sed -i 's/^\(rlimit-nproc=.*\)/#\1/' "$root/etc/avahi/avahi-daemon.conf"

	# Keep journals small but persistent (collected on failure; readable from
	# the host in the node's private layer even after the node is gone).
	mkdir -p "$root/etc/systemd/journald.conf.d" "$root/var/log/journal"
	cat >"$root/etc/systemd/journald.conf.d/50-piagent-testbed.conf" <<-'EOF'
		[Journal]
		Storage=persistent
		SystemMaxUse=32M
		RateLimitBurst=0
	EOF

	for u in "${DISABLE_UNITS[@]}"; do
		if [[ -e $root/lib/systemd/system/$u || -e $root/etc/systemd/system/$u ]]; then
			chroot "$root" systemctl --quiet disable "$u"
		fi
	done
	chroot "$root" systemctl --quiet mask "${MASK_UNITS[@]}"
	chroot "$root" systemctl --quiet enable avahi-daemon.service dbus.service
	chroot "$root" systemctl set-default multi-user.target >/dev/null

	# Fail the build, not a test run much later, when the image is not what
	# the tests expect.
	for u in keepalived.service haproxy.service etcd.service; do
		if chroot "$root" systemctl --quiet is-enabled "$u" 2>/dev/null; then
			die "customize: $u is still enabled"
		fi
	done
	chroot "$root" systemctl --quiet is-enabled avahi-daemon.service ||
		die "customize: avahi-daemon is not enabled"
	grep -q 'mdns4_minimal' "$root/etc/nsswitch.conf" || die "customize: nsswitch lacks mdns4_minimal"
	[[ -x $root/usr/bin/etcd ]] || die "customize: etcd is missing"
	chroot "$root" python3 -c 'import cryptography' ||
		die "customize: python3-cryptography is missing (the kubeadm double needs it)"

	# apt's lists are useless in a test node and cost space.
	rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin
}

main() {
	local rebuild=0 prune=0
	while (($#)); do
		case $1 in
		--rebuild) rebuild=1 ;;
		--prune) prune=1 ;;
		--customize)
			customize "$2"
			return
			;;
		-h | --help)
			sed -n '2,13s/^# \{0,1\}//p' "$0"
			return
			;;
		*) die "unknown argument: $1" ;;
		esac
		shift
	done

	if ((EUID != 0)); then
		echo "rootfs.sh: SKIP: needs root (mmdebstrap --mode=root, chroot)" >&2
		exit 77
	fi
	command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
	command -v zstd >/dev/null || die "zstd is not installed (apt-get install zstd)"

	local self cache key name out tmp start
	self=$(readlink -f "${BASH_SOURCE[0]}")
	cache=${PIAGENT_CACHE_DIR:-/var/cache/piagent}
	key=$({
		cat "$self"
		printf '%s\n' "$SUITE" "$ARCH" "${MIRRORS[@]}"
		printf '%s\n' "${PACKAGES[@]}" | LC_ALL=C sort
	} | sha256sum | cut -c1-16)
	name="rootfs-$SUITE-$ARCH-$key.tar.zst"
	out="$cache/$name"

	mkdir -p "$cache"
	# One builder at a time (ctest may start several cluster tests at once);
	# the others wait and then find the tarball.
	exec 9>"$cache/.rootfs.lock"
	flock 9

	if ((prune)); then
		find "$cache" -maxdepth 1 -name "rootfs-$SUITE-$ARCH-*.tar.zst" ! -name "$name" -print -delete >&2
	fi

	if [[ -s $out && $rebuild -eq 0 ]]; then
		echo "rootfs.sh: cached: $out" >&2
		echo "$out"
		return
	fi

	tmp=$(mktemp "$cache/.tmp-$name.XXXXXX")
	# mktemp made the file; mmdebstrap wants to create it.
	rm -f "$tmp"
	tmp=$tmp.tar.zst
	trap 'rm -f "$tmp"' EXIT
	start=$(date +%s)
	echo "rootfs.sh: building $out (this takes a few minutes)" >&2
	local pkgs
	pkgs=$(
		IFS=,
		echo "${PACKAGES[*]}"
	)
	# Standard input must not be read for sources (no tty in CI): the
	# mirrors are given explicitly.
	mmdebstrap \
		--mode=root \
		--variant=minbase \
		--architectures="$ARCH" \
		--include="$pkgs" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-include=/usr/share/locale/locale.alias' \
		--customize-hook="'$self' --customize \"\$1\"" \
		"$SUITE" "$tmp" "${MIRRORS[@]}" </dev/null >&2
	sync "$tmp"
	mv -f "$tmp" "$out"
	trap - EXIT
	# Keep the three newest (other checkouts may use older package lists).
	find "$cache" -maxdepth 1 -name "rootfs-$SUITE-$ARCH-*.tar.zst" -printf '%T@ %p\n' |
		sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f --
	echo "rootfs.sh: built $out in $(($(date +%s) - start)) s ($(du -h "$out" | cut -f1))" >&2
	echo "$out"
}

main "$@"
