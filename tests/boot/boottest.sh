#!/bin/bash
# QEMU aarch64 boot tests of the piagent image (see tests/boot/README.md).
#
#   tests/boot/boottest.sh CASE --image IMG [--workdir DIR] [--timeout S] [--keep]
#
# CASE:
#   base      the boot path: multi-user reached, boot partition mounted, root grown to the (larger)
#             disk, Kubernetes settings in force, the test unit reports and powers off
#   role-lb   role=lb in role.txt: piagent.service enabled and active, its journal shows role lb
#   bad-role  role=lbb in role.txt: the agent reports the error, stays up, configures nothing
#   no-role   role.txt as shipped (no role chosen): the agent says so, stays up, configures nothing
#   mdns      3 VMs on one virtual L2 segment (socket multicast inside unshare -rn) see each
#             other over mDNS (avahi)
# Exit: 0 pass, 1 fail, 77 not run (e.g. the image has no agent for an agent case).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/boot/lib.sh
. "$here/lib.sh"

case_=${1:-}
[ -n "$case_" ] || die "usage: boottest.sh base|role-lb|bad-role|no-role|mdns --image IMG"
shift
image="" workdir="" timeout=480 keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--image) image=$2; shift 2 ;;
	--workdir) workdir=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) die "unknown argument: $1" ;;
	esac
done
[ -f "$image" ] || die "no image: '$image' (build it with image/build.sh)"
image=$(readlink -f "$image")
workdir=${workdir:-$(mktemp -d /var/tmp/piagent-boottest.XXXXXX)}
mkdir -p "$workdir"
VM_DIR=$workdir
ensure_host_packages "${piagent_host_packages_boot[@]}"
trap 'vm_kill_all' EXIT

fails=0 passes=0
check() { # check DESCRIPTION COMMAND...
	if "${@:2}"; then echo "PASS: $1"; passes=$((passes + 1)); else echo "FAIL: $1"; fails=$((fails + 1)); fi
}
eq() { [ "$1" = "$2" ] || { echo "  got '$1', want '$2'" >&2; return 1; }; }
has() { grep -Eqi -- "$2" "$1" || { echo "  no /$2/ in $1" >&2; return 1; }; }
hasnt() { ! grep -Eqi -- "$2" "$1" || { echo "  unexpected /$2/ in $1:" >&2; grep -Ei -- "$2" "$1" | head -5 >&2; return 1; }; }
finish() {
	echo "---- $case_: $passes checks passed, $fails failed (logs: $workdir)"
	if [ "$fails" -eq 0 ] && [ "$keep" = 0 ]; then rm -f "$workdir"/*.img; fi
	[ "$fails" -eq 0 ]
}

boot_extract "$image" "$workdir/boot"
agent_installed=$(debugfs -R 'stat /usr/bin/piagent' "$image?offset=$(image_part_offset "$image" 2)" 2>/dev/null | grep -c '^Inode:' || true)

# single VM: user-mode network (DHCP), restricted: the guest reaches nothing outside QEMU
single_vm() { # single_vm NAME ROLE-TXT-CONTENT|"" GROW_MIB
	local name=$1 role=$2 grow=$3
	vm_disk "$image" "$workdir/$name.img" "$grow"
	[ -z "$role" ] || vm_put_file "$workdir/$name.img" role.txt "$role"
	vm_start "$name" "$workdir/$name.img" "$workdir/$name.log" \
		"$(vm_cmdline systemd.wants=piagent-boottest.service piagent.boottest=report \
			piagent.boottest.timeout=$((timeout - 30)))" 2 2048 \
		-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0
	vm_wait "$name" "$timeout"
}

require_agent() {
	if [ "$agent_installed" -eq 0 ]; then
		echo "NOT RUN: $case_ needs an image with the piagent package (image/build.sh --agent-deb," \
			"ctest: -DPIAGENT_ARM64_DEB=...); $image has none"
		exit 77
	fi
}

case "$case_" in
base)
	t0=$(date +%s)
	check "VM powers itself off within $timeout s" single_vm base "" 512
	log=$workdir/base.log
	report "$log" >"$workdir/base.report"
	cat "$workdir/base.report"
	check "test unit reported" has "$workdir/base.report" '===== PIAGENT-BOOTTEST END ====='
	check "system state running" eq "$(kv "$log" system_state)" running
	check "multi-user.target active" eq "$(kv "$log" multi_user)" active
	check "boot partition at /boot/firmware (vfat)" eq "$(kv "$log" boot_firmware_mounted)" vfat
	check "root grown into the larger disk" eq "$(kv "$log" root_grown)" yes
	img_root_mib=$(($(partx -g -o SECTORS -n 2 "$image") / 2048))
	check "root file system bigger than in the image ($img_root_mib MiB)" \
		test "$(kv "$log" root_size_mib || echo 0)" -gt "$img_root_mib"
	check "memory cgroup controller" eq "$(kv "$log" cgroup_memory)" yes
	check "no swap" eq "$(kv "$log" swap)" 0
	check "ip_forward=1" eq "$(kv "$log" ip_forward)" 1
	check "br_netfilter: bridge-nf-call-iptables=1" eq "$(kv "$log" br_netfilter)" 1
	check "hostname raspberrypi" eq "$(kv "$log" hostname)" raspberrypi
	check "own SSH host keys generated" eq "$(kv "$log" ssh_hostkey)" yes
	echo "boot: $(kv "$log" startup); report at $(kv "$log" uptime_at_boot_end) s uptime; VM wall time $(($(date +%s) - t0)) s"
	;;
role-lb)
	require_agent
	check "VM powers itself off within $timeout s" single_vm lb $'role=lb\n' ""
	log=$workdir/lb.log
	report "$log" >"$workdir/lb.report"
	cat "$workdir/lb.report"
	check "multi-user.target active" eq "$(kv "$log" multi_user)" active
	check "piagent.service enabled" eq "$(kv "$log" piagent_enabled)" enabled
	check "piagent.service active" eq "$(kv "$log" piagent_active)" active
	# the agent's journal names the role it read from role.txt
	check "journal shows role lb read from role.txt" has "$workdir/lb.report" 'role[^a-z]{1,3}lb([^a-z]|$)'
	check "journal has no error-level complaint about role.txt" hasnt "$workdir/lb.report" 'role\.txt.*(invalid|unknown|error)'
	;;
bad-role)
	require_agent
	check "VM powers itself off within $timeout s" single_vm badrole $'role=lbb\n' ""
	log=$workdir/badrole.log
	report "$log" >"$workdir/badrole.report"
	cat "$workdir/badrole.report"
	check "multi-user.target active" eq "$(kv "$log" multi_user)" active
	check "piagent.service stays up (active, not failed or crash-looping)" eq "$(kv "$log" piagent_active)" active
	check "journal names role.txt and the bad value" has "$workdir/badrole.report" 'role\.txt.*lbb|lbb.*role\.txt'
	check "keepalived not running" eq "$(kv "$log" keepalived_active)" inactive
	check "haproxy not running" eq "$(kv "$log" haproxy_active)" inactive
	check "no keepalived.conf written" eq "$(kv "$log" keepalived_conf)" absent
	;;
no-role)
	require_agent
	check "VM powers itself off within $timeout s" single_vm norole "" ""
	log=$workdir/norole.log
	report "$log" >"$workdir/norole.report"
	cat "$workdir/norole.report"
	check "multi-user.target active" eq "$(kv "$log" multi_user)" active
	check "piagent.service stays up" eq "$(kv "$log" piagent_active)" active
	check "journal says role.txt has no role yet" has "$workdir/norole.report" 'role\.txt.*role|role.*role\.txt'
	check "keepalived not running" eq "$(kv "$log" keepalived_active)" inactive
	check "no keepalived.conf written" eq "$(kv "$log" keepalived_conf)" absent
	;;
mdns)
	# three VMs share the two cores: give them more time than a single VM
	[ "$timeout" -gt 720 ] || timeout=720
	port=$((20000 + RANDOM % 20000))
	# one network namespace of our own (no root needed, nothing to clean up): three VMs on one
	# L2 segment made of UDP multicast on its loopback
	for n in 1 2 3; do vm_disk "$image" "$workdir/vm$n.img" ""; done
	export -f vm_start vm_wait vm_cmdline log
	export KERNEL INITRD IMG_CMDLINE QEMU_CPU VM_DIR workdir port timeout
	t0=$(date +%s)
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare -rn bash -c '
		set -u
		ip link set lo up
		ip route add 224.0.0.0/4 dev lo 2>/dev/null || true
		for n in 1 2 3; do
			vm_start vm$n "$workdir/vm$n.img" "$workdir/vm$n.log" \
				"$(vm_cmdline systemd.wants=piagent-boottest.service piagent.boottest=mdns:3 \
					piagent.boottest.timeout=$((timeout - 30)) systemd.hostname=vm$n \
					ip=192.168.3.21$n:::255.255.255.0:vm$n:eth0:off)" 1 1024 \
				-netdev socket,id=n0,mcast=230.0.0.1:$port,localaddr=127.0.0.1 \
				-device virtio-net-pci,netdev=n0,mac=52:54:00:5a:00:0$n
		done
		rc=0
		for n in 1 2 3; do vm_wait vm$n "$timeout" || rc=1; done
		exit $rc
	' && ok=0 || ok=1
	check "3 VMs power themselves off within $timeout s" test "$ok" = 0
	for n in 1 2 3; do
		report "$workdir/vm$n.log" >"$workdir/vm$n.report"
		echo "== vm$n: $(kv "$workdir/vm$n.log" startup); sees $(kv "$workdir/vm$n.log" mdns_names) after $(kv "$workdir/vm$n.log" mdns_seen_at) s"
		check "vm$n sees 3 nodes over mDNS" eq "$(kv "$workdir/vm$n.log" mdns_seen)" 3
	done
	cat "$workdir/vm1.report"
	for n in 2 3; do
		check "vm1 resolves vm$n.local (nss-mdns) to its address" eq "$(kv "$workdir/vm1.log" resolve_vm$n)" "192.168.3.21$n,"
	done
	echo "mdns: 3 VMs done in $(($(date +%s) - t0)) s"
	;;
*) die "unknown case: $case_" ;;
esac
finish
