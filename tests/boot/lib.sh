# shellcheck shell=bash
# QEMU aarch64 boot-test helpers (sourced by tests/boot/boottest.sh).
# The image under test is the shipped image: test behaviour enters only through the kernel command
# line (systemd.wants=piagent-boottest.service, piagent.boottest=...) and role.txt on a copy.

# shellcheck source=image/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../image/lib/common.sh"

# Settings measured to work (design.md 9): cortex-a72 (-cpu max is 2x slower), multi-threaded TCG.
QEMU_CPU=${QEMU_CPU:-cortex-a72}

# boot_extract IMG DIR: kernel, initrd, cmdline.txt and the Pi 3B's device tree of the image's boot
# partition, read with mtools at the partition's offset (no mounts). Sets KERNEL, INITRD, DTB, IMG_CMDLINE.
boot_extract() {
	local img=$1 dir=$2 off k i
	off=$(image_part_offset "$img" 1) || die "no partition 1 in $img"
	mkdir -p "$dir"
	k=$(MTOOLS_SKIP_CHECK=1 mdir -b -i "$img@@$off" ::/ | sed -n 's|^::/||p' | grep '^vmlinuz-' | sort -V | tail -1)
	i=$(MTOOLS_SKIP_CHECK=1 mdir -b -i "$img@@$off" ::/ | sed -n 's|^::/||p' | grep '^initrd.img-' | sort -V | tail -1)
	if [ -z "$k" ] || [ -z "$i" ]; then die "no kernel/initrd on the boot partition of $img"; fi
	MTOOLS_SKIP_CHECK=1 mcopy -o -n -i "$img@@$off" "::/$k" "$dir/vmlinuz"
	MTOOLS_SKIP_CHECK=1 mcopy -o -n -i "$img@@$off" "::/$i" "$dir/initrd.img"
	MTOOLS_SKIP_CHECK=1 mcopy -o -n -i "$img@@$off" ::/cmdline.txt "$dir/cmdline.txt"
	# the Raspberry Pi 3 Model B's device tree, as its firmware would load it (the raspi3b machine)
	MTOOLS_SKIP_CHECK=1 mcopy -o -n -i "$img@@$off" ::/bcm2837-rpi-3-b.dtb "$dir/bcm2837-rpi-3-b.dtb" 2>/dev/null || true
	KERNEL=$dir/vmlinuz INITRD=$dir/initrd.img DTB=$dir/bcm2837-rpi-3-b.dtb
	IMG_CMDLINE=$(tr -d '\r\n' <"$dir/cmdline.txt")
}

# vm_disk IMG COPY [GROW_MIB]: a sparse copy of the image for one VM, optionally larger (the
# first boot then grows the root partition into the new space).
vm_disk() {
	cp --sparse=always "$1" "$2"
	[ -z "${3:-}" ] || truncate -s "+${3}M" "$2"
}

# disk_ids DISK: what names the disk identifier on a (powered-off) disk: D_MBR (the MBR's, 8 hex digits),
# D_CMDLINE (root= of cmdline.txt), D_FSTAB (the PARTUUIDs of /etc/fstab, comma-separated), D_ROOTPART
# (ROOTPART of /etc/default/raspi-firmware, from which raspi-firmware writes cmdline.txt)
# shellcheck disable=SC2034 # results for the caller
disk_ids() {
	local root
	D_MBR=$(sfdisk --disk-id "$1")
	D_MBR=${D_MBR#0x}
	D_CMDLINE=$(vm_get_file "$1" cmdline.txt | tr -d '\r' | grep -o 'root=[^ ]*' || true)
	root="$1?offset=$(image_part_offset "$1" 2)"
	D_FSTAB=$(debugfs -R 'cat /etc/fstab' "$root" 2>/dev/null | grep -o '^PARTUUID=[^[:space:]]*' | paste -sd, || true)
	D_ROOTPART=$(debugfs -R 'cat /etc/default/raspi-firmware' "$root" 2>/dev/null | sed -n 's/^ROOTPART=//p' |
		tr -d '"' | tail -1)
}

# vm_put_file DISK NAME CONTENT: writes a file on the copy's boot partition (like a user would).
vm_put_file() {
	local off
	off=$(image_part_offset "$1" 1)
	printf '%s' "$3" | MTOOLS_SKIP_CHECK=1 mcopy -o -i "$1@@$off" - "::/$2"
}

# vm_get_file DISK NAME
vm_get_file() {
	local off
	off=$(image_part_offset "$1" 1)
	MTOOLS_SKIP_CHECK=1 mtype -i "$1@@$off" "::/$2"
}

# vm_cmdline EXTRA...: the image's own command line, minus its consoles (a Pi's serial port is
# ttyS1, QEMU virt's is ttyAMA0), plus the test's parameters. The image's parameters stay last
# (cgroup_enable=memory must come after anything that could disable it).
vm_cmdline() {
	local w own=""
	for w in $IMG_CMDLINE; do
		case "$w" in console=*) ;; *) own="$own $w" ;; esac
	done
	echo "console=ttyAMA0 quiet $*$own"
}

# vm_argv MACHINE DISK SMP MEM: QEMU's command line for one VM of the boot tests (in VM_ARGV), but its
# kernel, command line, console and network. MACHINE: virt (QEMU's generic board, virtio devices) or
# raspi3b (QEMU's Raspberry Pi 3B, BCM2837: the image's own boot path, the disk as its SD card; 1 GiB and
# 4 cores are that board's, the SD card's size must be a power of two).
vm_argv() {
	local machine=$1 disk=$2 smp=$3 mem=$4
	case "$machine" in
	virt)
		VM_ARGV=(qemu-system-aarch64 -M virt -cpu "$QEMU_CPU" -smp "$smp" -m "$mem" -accel "tcg,thread=multi"
			-nodefaults -display none -no-reboot
			-drive "file=$disk,format=raw,if=none,id=d0,cache=unsafe" -device "virtio-blk-pci,drive=d0"
			-device virtio-rng-pci)
		;;
	raspi3b)
		# the first serial port (the PL011, the Pi's Bluetooth UART) goes nowhere; the next -serial is
		# the mini UART, ttyS1: the serial console on the Pi's GPIO 14/15, as on the board
		VM_ARGV=(qemu-system-aarch64 -M raspi3b -m 1G -accel "tcg,thread=multi"
			-nodefaults -display none -no-reboot
			-drive "file=$disk,format=raw,if=sd,cache=unsafe" -serial null)
		;;
	*) die "vm_argv: unknown machine $machine" ;;
	esac
}
# the network device of a virt VM, on the test's "-netdev ...,id=n0" (append ",mac=..." for a fixed MAC)
VM_NIC=virtio-net-pci,netdev=n0

# vm_probe MACHINE: starts QEMU with every device the boot tests give that machine, stopped before the
# first instruction (-S), and quits it: fails when QEMU cannot start them (a missing option ROM, an
# unknown device). tests/deps/fresh-machine.sh runs it on a freshly installed machine.
vm_probe() {
	local machine=$1 dir out rc
	dir=$(mktemp -d)
	truncate -s 64M "$dir/disk.img"
	vm_argv "$machine" "$dir/disk.img" 1 512
	[ "$machine" != virt ] || VM_ARGV+=(-netdev "user,id=n0,restrict=on" -device "$VM_NIC")
	rc=0
	out=$(printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"quit"}' |
		timeout 60 "${VM_ARGV[@]}" -S -qmp stdio 2>&1) || rc=$?
	rm -rf "$dir"
	if [ "$rc" -ne 0 ]; then
		printf 'vm_probe %s: QEMU exited with %s: %s\n' "$machine" "$rc" "$(printf '%s\n' "$out" | grep -v '^{')" >&2
		return 1
	fi
	return 0
}

# vm_start NAME DISK LOG CMDLINE SMP MEM NETDEV-ARGS...: starts QEMU in the background (machine
# $VM_MACHINE, default virt; raspi3b also gets the image's device tree, $DTB); the PID goes to
# $VM_DIR/NAME.pid. The machine powers itself off at the end of the test (QEMU exits).
vm_start() {
	local name=$1 disk=$2 log=$3 cmdline=$4 smp=$5 mem=$6 machine=${VM_MACHINE:-virt}
	shift 6
	: >"$log" # a log of an earlier run must not be read as this run's (QEMU truncates it only later)
	vm_argv "$machine" "$disk" "$smp" "$mem"
	[ "$machine" != raspi3b ] || VM_ARGV+=(-dtb "$DTB")
	"${VM_ARGV[@]}" -kernel "$KERNEL" -initrd "$INITRD" -append "$cmdline" "$@" \
		-serial "file:$log" </dev/null >"$log.qemu" 2>&1 &
	echo $! >"$VM_DIR/$name.pid"
	date +%s >"$VM_DIR/$name.start"
	log "$name: QEMU ($machine) pid $! started; serial console: $log"
}

# vm_wait NAME TIMEOUT: waits for that QEMU to exit; past TIMEOUT seconds, ends it by its own PID.
# Returns 0 only if the VM booted, its test unit reported (the report's END marker is on the serial
# console) and it powered itself off (QEMU exited by itself, with status 0). A QEMU that fails to start,
# or a guest that stops before it reported, is a failure, whatever the time it took.
vm_wait() {
	local name=$1 limit=$2 pid start rc=0
	pid=$(cat "$VM_DIR/$name.pid")
	start=$(cat "$VM_DIR/$name.start")
	while kill -0 "$pid" 2>/dev/null; do
		if grep -aq 'You are in emergency mode' "$VM_DIR/$name.log" 2>/dev/null; then
			log "$name: the VM dropped to emergency mode (root locked, nothing more will happen):"
			tr -d '\r' <"$VM_DIR/$name.log" | grep -a -E 'Timed out|Failed|Dependency failed' | head -5 >&2
			limit=0
		fi
		if [ $(($(date +%s) - start)) -ge "$limit" ]; then
			log "$name: still running after $limit s: ending QEMU (pid $pid)"
			kill "$pid" 2>/dev/null
			sleep 3
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 1
		fi
		sleep 1
	done
	wait "$pid" 2>/dev/null || rc=$?
	if [ "$rc" -ne 0 ]; then
		log "$name: QEMU exited with status $rc after $(($(date +%s) - start)) s: $(tr '\n' ' ' <"$VM_DIR/$name.log.qemu")"
		return 1
	fi
	if ! grep -aq '===== PIAGENT-BOOTTEST END =====' "$VM_DIR/$name.log"; then
		log "$name: QEMU exited after $(($(date +%s) - start)) s, but the VM never reported (no report on its" \
			"serial console $VM_DIR/$name.log: $(wc -c <"$VM_DIR/$name.log") bytes)"
		return 1
	fi
	log "$name: reported and powered off after $(($(date +%s) - start)) s"
	return 0
}

# vm_kill_all: ends every VM of this test that still runs (by PID), for traps.
vm_kill_all() {
	local f pid
	for f in "$VM_DIR"/*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null && log "ended QEMU pid $pid"
	done
	return 0
}

# report LOG: the boot-test unit's report (between its markers), carriage returns removed.
report() {
	tr -d '\r' <"$1" | sed -n '/===== PIAGENT-BOOTTEST BEGIN =====/,/===== PIAGENT-BOOTTEST END =====/p'
}

# kv LOG KEY: a "BOOTTEST key=value" value of the report.
kv() {
	report "$1" | sed -n "s/^BOOTTEST $2=//p" | tail -1
}
