# shellcheck shell=bash
# QEMU aarch64 boot-test helpers (sourced by tests/boot/boottest.sh).
# The image under test is the shipped image: test behaviour enters only through the kernel command
# line (systemd.wants=piagent-boottest.service, piagent.boottest=...) and role.txt on a copy.

# shellcheck source=image/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../image/lib/common.sh"

# Settings measured to work (design.md 9): cortex-a72 (-cpu max is 2x slower), multi-threaded TCG.
QEMU_CPU=${QEMU_CPU:-cortex-a72}

# boot_extract IMG DIR: kernel, initrd and cmdline.txt of the image's boot partition, read with
# mtools at the partition's offset (no mounts). Sets KERNEL, INITRD, IMG_CMDLINE.
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
	KERNEL=$dir/vmlinuz INITRD=$dir/initrd.img
	IMG_CMDLINE=$(tr -d '\r\n' <"$dir/cmdline.txt")
}

# vm_disk IMG COPY [GROW_MIB]: a sparse copy of the image for one VM, optionally larger (the
# first boot then grows the root partition into the new space).
vm_disk() {
	cp --sparse=always "$1" "$2"
	[ -z "${3:-}" ] || truncate -s "+${3}M" "$2"
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

# vm_start NAME DISK LOG CMDLINE SMP MEM NETDEV-ARGS...: starts QEMU in the background; the PID
# goes to $VM_DIR/NAME.pid. The machine powers itself off at the end of the test (QEMU exits).
vm_start() {
	local name=$1 disk=$2 log=$3 cmdline=$4 smp=$5 mem=$6
	shift 6
	: >"$log" # a log of an earlier run must not be read as this run's (QEMU truncates it only later)
	qemu-system-aarch64 -M virt -cpu "$QEMU_CPU" -smp "$smp" -m "$mem" -accel tcg,thread=multi \
		-nodefaults -display none -no-reboot \
		-kernel "$KERNEL" -initrd "$INITRD" -append "$cmdline" \
		-drive "file=$disk,format=raw,if=none,id=d0,cache=unsafe" -device virtio-blk-pci,drive=d0 \
		-device virtio-rng-pci \
		"$@" \
		-serial "file:$log" </dev/null >"$log.qemu" 2>&1 &
	echo $! >"$VM_DIR/$name.pid"
	date +%s >"$VM_DIR/$name.start"
	log "$name: QEMU pid $! started; serial console: $log"
}

# vm_wait NAME TIMEOUT: waits for that QEMU to exit; past TIMEOUT seconds, ends it by its own PID.
# Returns 0 if the VM powered off by itself.
vm_wait() {
	local name=$1 limit=$2 pid start
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
	wait "$pid" 2>/dev/null
	log "$name: powered off after $(($(date +%s) - start)) s"
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
