#!/usr/bin/python3
"""The boot-path check: can each Raspberry Pi the image is for find its root file system?

The image's initramfs holds only the modules listed in image/base/overlay/etc/initramfs-tools/modules
(MODULES=list). A driver that the path to the root device needs and that is neither built into the
kernel nor in that list makes the boot wait for root=PARTUUID=... for ever: QEMU's -M virt cannot show
it, a Pi would. So this reads, from the built image itself:

- each board's device tree (the .dtb files on the boot partition, as the firmware loads them);
- the kernel (vmlinuz on the boot partition): which compatible strings its built-in drivers match
  (their struct of_device_id entries: 64 zero bytes of name and type, then the compatible string,
  zero-padded to 128 bytes);
- the kernel's modules.alias and modules.dep (root partition, through debugfs): which module drives
  a compatible string, a PCI or USB device, and what that module needs;
- the initramfs (lsinitramfs): which modules it holds.

For every board it starts at the root storage controllers (the SD card or eMMC; and for booting from
USB the Pi 3's and CM4's dwc2, the Pi 4's and Pi 400's PCIe bridge with the VL805 xHCI behind it), and
follows every node they depend on: parent nodes, supplies (*-supply), clocks, resets, power domains,
DMA channels, mailboxes, PHYs, pinctrl states (to their pin controller), GPIOs (to their controller),
interrupt parents, the firmware node (firmware = <&...>), MSI parents. Each node with a compatible
string needs a driver that is built in, or a module that is in the initramfs together with the modules
it depends on; the USB path also needs USB mass storage (usb-storage, uas) and SCSI disks (sd_mod),
and every path the root file system (ext4) and the MMC block driver. A node that is disabled, or has
no driver at all, fails too. Each failure names the board, the node, its compatible string and the
chain that leads to it.

Usage: boot-path.py IMAGE [--board NAME]...   (root, or read access to IMAGE; needs mtools, debugfs,
       lsinitramfs)
Exit: 0 all boards pass, 1 a failure, 2 the image cannot be read.
"""
import fnmatch
import gzip
import os
import re
import struct
import subprocess
import sys
import tempfile

# board -> (dtb, [(path name, [compatible strings of its root controllers], usb?)])
BOARDS = [
    ("Raspberry Pi 3 Model B", "bcm2837-rpi-3-b.dtb",
     [("SD card", ["brcm,bcm2835-sdhost"], False), ("USB", ["brcm,bcm2835-usb"], True)]),
    ("Raspberry Pi 3 Model B+", "bcm2837-rpi-3-b-plus.dtb",
     [("SD card", ["brcm,bcm2835-sdhost"], False), ("USB", ["brcm,bcm2835-usb"], True)]),
    ("Raspberry Pi 3 Model A+", "bcm2837-rpi-3-a-plus.dtb",
     [("SD card", ["brcm,bcm2835-sdhost"], False), ("USB", ["brcm,bcm2835-usb"], True)]),
    ("Raspberry Pi Zero 2 W", "bcm2837-rpi-zero-2-w.dtb",
     [("SD card", ["brcm,bcm2835-sdhost"], False), ("USB", ["brcm,bcm2835-usb"], True)]),
    ("Compute Module 3 (IO board 3)", "bcm2837-rpi-cm3-io3.dtb",
     [("eMMC / SD card", ["brcm,bcm2835-sdhost"], False), ("USB", ["brcm,bcm2835-usb"], True)]),
    ("Raspberry Pi 4 Model B", "bcm2711-rpi-4-b.dtb",
     [("SD card", ["brcm,bcm2711-emmc2"], False), ("USB (PCIe, VL805 xHCI)", ["brcm,bcm2711-pcie"], True)]),
    ("Raspberry Pi 400", "bcm2711-rpi-400.dtb",
     [("SD card", ["brcm,bcm2711-emmc2"], False), ("USB (PCIe, VL805 xHCI)", ["brcm,bcm2711-pcie"], True)]),
    ("Compute Module 4 (IO board)", "bcm2711-rpi-cm4-io.dtb",
     [("eMMC / SD card", ["brcm,bcm2711-emmc2"], False), ("USB", ["brcm,bcm2835-usb"], True)]),
]
# What the Pi 4's VL805 is on its PCIe bus (the node has no compatible string: PCI enumerates it):
# VIA VL805, class 0c0330 (xHCI). The Raspberry Pi firmware loads its firmware on the reset in `resets`.
PCI_FUNCTIONS = {"usb": ("VIA VL805 USB 3.0 xHCI (PCI 1106:3483, class 0c0330)",
                         "pci:v00001106d00003483sv00001106sd00003483bc0Csc03i30")}
# Devices that are not in the device tree, by the modalias the kernel gives them
USB_STORAGE = [
    ("USB mass storage, bulk-only", "usb:v0000p0000d0000dc00dsc00dp00ic08isc06ip50in00"),
    ("USB attached SCSI", "usb:v0000p0000d0000dc00dsc00dp00ic08isc06ip62in00"),
    ("SCSI disk", "scsi:t-0x00"),
]
# Drivers needed on every path, by module name
ALWAYS = [("MMC block devices (SD card, eMMC)", "mmc_block"), ("the root file system", "ext4")]
# compatible strings that only say "a bus": the node needs its specific compatible's driver
GENERIC = {"simple-bus", "simple-mfd", "syscon"}
# phandle lists: property -> the provider's #cells property giving the arguments after each phandle
PHANDLE_LISTS = {"clocks": "#clock-cells", "resets": "#reset-cells", "power-domains": "#power-domain-cells",
                 "dmas": "#dma-cells", "mboxes": "#mbox-cells", "phys": "#phy-cells",
                 "interrupts-extended": "#interrupt-cells", "msi-parent": "#msi-cells"}
SINGLE_PHANDLES = {"interrupt-parent", "firmware", "raspberrypi,firmware", "mmc-pwrseq"}


# ------------------------------------------------------------------------------------------------
# flattened device tree (devicetree specification, chapter 5)

class Node:
    def __init__(self, name, parent):
        self.name, self.parent, self.props, self.children = name, parent, {}, []
        self.path = "/" if parent is None else (parent.path.rstrip("/") + "/" + name)

    def strings(self, prop):
        v = self.props.get(prop)
        return [s.decode() for s in v.split(b"\0") if s] if v is not None else []

    def cells(self, prop):
        v = self.props.get(prop, b"")
        return list(struct.unpack(f">{len(v) // 4}I", v[:len(v) // 4 * 4]))

    def cell(self, prop, default):
        c = self.cells(prop)
        return c[0] if c else default

    def enabled(self):
        s = self.strings("status")
        return not s or s[0] in ("okay", "ok")


def read_fdt(data):
    magic, _, off_struct, off_strings = struct.unpack(">IIII", data[:16])
    if magic != 0xD00DFEED:
        raise ValueError("not a flattened device tree")
    pos, root, cur = off_struct, None, None
    while True:
        (tok,) = struct.unpack(">I", data[pos:pos + 4])
        pos += 4
        if tok == 1:  # FDT_BEGIN_NODE
            end = data.index(b"\0", pos)
            node = Node(data[pos:end].decode(), cur)
            pos = (end + 4) & ~3
            if cur is None:
                root = node
            else:
                cur.children.append(node)
            cur = node
        elif tok == 2:  # FDT_END_NODE
            cur = cur.parent
        elif tok == 3:  # FDT_PROP
            ln, nameoff = struct.unpack(">II", data[pos:pos + 8])
            name = data[off_strings + nameoff:data.index(b"\0", off_strings + nameoff)].decode()
            cur.props[name] = data[pos + 8:pos + 8 + ln]
            pos = (pos + 8 + ln + 3) & ~3
        elif tok == 4:  # FDT_NOP
            pass
        elif tok == 9:  # FDT_END
            return root
        else:
            raise ValueError(f"bad token {tok} at {pos - 4}")


def all_nodes(n):
    yield n
    for c in n.children:
        yield from all_nodes(c)


# ------------------------------------------------------------------------------------------------
# the image

def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"boot-path: {' '.join(argv)} failed: {r.stderr.decode(errors='replace').strip()}")
    return r.stdout


def partitions(image):
    with open(image, "rb") as f:
        mbr = f.read(512)
    if mbr[510:512] != b"\x55\xaa":
        raise SystemExit(f"boot-path: {image} has no MBR partition table")
    parts = []
    for i in range(4):
        e = mbr[446 + 16 * i:462 + 16 * i]
        start, size = struct.unpack("<II", e[8:16])
        if size:
            parts.append(start * 512)
    return parts


class Image:
    def __init__(self, path, work):
        self.path, self.work = path, work
        boot_off, root_off = partitions(path)[:2]
        self.fat = f"{path}@@{boot_off}"
        self.ext = f"{path}?offset={root_off}"
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
        self.env = env
        names = run(["mdir", "-b", "-i", self.fat, "::/"], env=env).decode().split()
        self.boot_files = sorted(n[3:] for n in names if n.startswith("::/"))
        kernels = sorted((f for f in self.boot_files if f.startswith("vmlinuz-")), key=version_key)
        if not kernels:
            raise SystemExit("boot-path: no vmlinuz-* on the boot partition")
        self.kver = kernels[-1][len("vmlinuz-"):]
        self.kernel = self.fat_file(f"vmlinuz-{self.kver}")
        self.initrd = self.fat_file(f"initrd.img-{self.kver}")
        mod = f"/usr/lib/modules/{self.kver}"
        self.aliases = self.read_aliases(self.ext_file(f"{mod}/modules.alias"))
        self.deps = self.read_deps(self.ext_file(f"{mod}/modules.dep"))
        self.builtin_mods = {norm(os.path.basename(l.strip())[:-3])
                             for l in open(self.ext_file(f"{mod}/modules.builtin"), encoding="utf-8") if l.strip()}
        listing = run(["lsinitramfs", self.initrd]).decode().split("\n")
        self.in_initramfs = {norm(os.path.basename(p)[:-3]) for p in listing if p.endswith(".ko")}
        with open(self.kernel, "rb") as f:
            k = f.read()
        self.vmlinux = gzip.decompress(k) if k[:2] == b"\x1f\x8b" else k

    def fat_file(self, name):
        out = os.path.join(self.work, name)
        if not os.path.exists(out):
            run(["mcopy", "-o", "-n", "-i", self.fat, f"::/{name}", out], env=self.env)
        return out

    def ext_file(self, path):
        out = os.path.join(self.work, os.path.basename(path))
        run(["debugfs", "-R", f"dump {path} {out}", self.ext])
        if not os.path.exists(out):
            raise SystemExit(f"boot-path: {path} is not on the root partition of {self.path}")
        return out

    @staticmethod
    def read_aliases(path):
        out = []
        for line in open(path, encoding="utf-8"):
            w = line.split()
            if len(w) == 3 and w[0] == "alias":
                out.append((w[1], norm(w[2])))
        return out

    @staticmethod
    def read_deps(path):
        deps = {}
        for line in open(path, encoding="utf-8"):
            if ":" not in line:
                continue
            m, rest = line.split(":", 1)
            deps[norm(os.path.basename(m)[:-3])] = (m, [norm(os.path.basename(d)[:-3]) for d in rest.split()])
        return deps

    def modules_for(self, modalias):
        return sorted({m for pat, m in self.aliases if fnmatch.fnmatchcase(modalias, pat)})

    def builtin_compatible(self, compat):
        """True when a built-in driver's of_device_id table has this compatible string."""
        b = compat.encode()
        if len(b) >= 128:
            return False
        pad = b"\0" * (128 - len(b))
        i = self.vmlinux.find(b)
        while i != -1:
            if i >= 64 and self.vmlinux[i - 64:i] == b"\0" * 64 and self.vmlinux[i + len(b):i + 128] == pad:
                return True
            i = self.vmlinux.find(b, i + 1)
        return False

    def module_state(self, mod):
        """(ok, words): a module with every module it depends on in the initramfs, or built in."""
        if mod in self.builtin_mods:
            return True, f"{mod} (built in)"
        if mod not in self.deps:
            return False, f"{mod}: not a module of this kernel"
        missing = [m for m in [mod] + self.closure(mod) if m not in self.in_initramfs and m not in self.builtin_mods]
        if missing:
            return False, (f"{mod} ({self.deps[mod][0]}) is a module, and the initramfs lacks "
                           f"{', '.join(missing)}")
        return True, f"{mod} (initramfs)"

    def closure(self, mod, seen=None):
        seen = seen if seen is not None else set()
        for d in self.deps.get(mod, ("", []))[1]:
            if d not in seen:
                seen.add(d)
                self.closure(d, seen)
        return sorted(seen)


def norm(m):
    return m.replace("-", "_")


def version_key(s):
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", s)]


# ------------------------------------------------------------------------------------------------
# the walk

class Board:
    def __init__(self, name, root, image):
        self.name, self.root, self.img = name, root, image
        self.phandles = {}
        for n in all_nodes(root):
            for p in ("phandle", "linux,phandle"):
                if p in n.props:
                    self.phandles[n.cell(p, 0)] = n
        self.failures = []
        self.lines = []

    def fail(self, node_path, compat, why, chain):
        via = f" (needed by {' <- '.join(chain)})" if chain else ""
        self.failures.append(f"{self.name}: {node_path}{' [' + compat + ']' if compat else ''}: {why}{via}")

    def providers(self, n):
        """(property, provider node) for every node n depends on."""
        out = []
        p = n.parent
        # the nearest parent with a driver of its own (the firmware node of its children, a bus); the
        # root node is the board itself, not a device
        while p is not None and p.parent is not None:
            if p.strings("compatible"):
                out.append(("parent", p))
                break
            p = p.parent
        for prop, val in n.props.items():
            if prop.endswith("-supply") or prop in SINGLE_PHANDLES:
                tgt = self.phandles.get(struct.unpack(">I", val[:4])[0]) if len(val) >= 4 else None
                if tgt is not None:
                    out.append((prop, tgt))
            elif re.fullmatch(r"pinctrl-[0-9]+", prop):
                for ph in n.cells(prop):
                    cfg = self.phandles.get(ph)
                    while cfg is not None and not cfg.strings("compatible"):
                        cfg = cfg.parent  # a pin configuration: its pin controller
                    if cfg is not None:
                        out.append((prop, cfg))
            elif prop in PHANDLE_LISTS or prop in ("gpios", "gpio") or prop.endswith("-gpios") or \
                    prop.endswith("-gpio"):
                cells_prop = PHANDLE_LISTS.get(prop, "#gpio-cells")
                c, i = n.cells(prop), 0
                while i < len(c):
                    tgt = self.phandles.get(c[i])
                    if tgt is None:
                        break
                    out.append((prop, tgt))
                    i += 1 + tgt.cell(cells_prop, 0)
        if "interrupts" in n.props and "interrupt-parent" not in n.props:
            p = n.parent
            while p is not None and "interrupt-parent" not in p.props:
                p = p.parent
            if p is not None:
                tgt = self.phandles.get(p.cell("interrupt-parent", 0))
                if tgt is not None:
                    out.append(("interrupts", tgt))
        return [(prop, t) for prop, t in out if t is not n]

    def driver(self, n, chain):
        """Checks that n has a driver; one line for the report."""
        comps = n.strings("compatible")
        if not n.enabled():
            self.fail(n.path, comps[0] if comps else "", "disabled in this device tree", chain)
            return "DISABLED"
        specific = [c for c in comps if c not in GENERIC] or comps
        name = n.name.split("@")[0]
        dtype = n.strings("device_type")[0] if n.strings("device_type") else "<NULL>"
        found = []
        for c in specific:
            if self.img.builtin_compatible(c):
                return f"{c}: built in"
            for m in self.img.modules_for(f"of:N{name}T{dtype}C{c}"):
                found.append((c, m))
        for c, m in found:
            ok, words = self.img.module_state(m)
            if ok:
                return f"{c}: {words}"
        if found:
            c, m = found[0]
            _, words = self.img.module_state(m)
            self.fail(n.path, c, f"driver {words}: add '{m}' to image/base/overlay/etc/initramfs-tools/modules",
                      chain)
            return f"{c}: MISSING {words}"
        self.fail(n.path, ", ".join(specific), "no driver in this kernel for it (neither built in nor a module)",
                  chain)
        return f"{', '.join(specific)}: NO DRIVER"

    def pci_function(self, n, chain):
        kind = n.name.split("@")[0]
        if kind not in PCI_FUNCTIONS:
            return "PCI bridge: the PCI core (built in)" if kind == "pci" else "PCI function: not checked"
        what, modalias = PCI_FUNCTIONS[kind]
        mods = self.img.modules_for(modalias)
        for m in mods:
            ok, words = self.img.module_state(m)
            if ok:
                return f"{what}: {words}"
        if mods:
            _, words = self.img.module_state(mods[0])
            self.fail(n.path, what, f"driver {words}: add '{mods[0]}' to image/base/overlay/etc/initramfs-tools/modules",
                      chain)
            return f"{what}: MISSING {words}"
        self.fail(n.path, what, f"no driver for {modalias} in this kernel", chain)
        return f"{what}: NO DRIVER"

    def walk(self, starts):
        seen = set()
        stack = [(s, [], "", 0) for s in reversed(starts)]
        while stack:
            n, chain, prop, depth = stack.pop()
            pad = "    " + "  " * depth
            label = f"{prop} -> " if prop else ""
            if n.path in seen:
                continue
            seen.add(n.path)
            if prop == "clocks" and not n.enabled() and chain and "#clock-cells" in self.node(chain[-1]).props:
                # a clock controller's input from a device that is switched off (the BCM2835 clock
                # controller lists the DSI blocks' clocks): the controller registers without it
                self.lines.append(f"{pad}{label}{n.path}  disabled: an unused input of this clock controller")
                continue
            if n.strings("compatible"):
                state = self.driver(n, chain)
            elif self.in_pci(n):
                state = self.pci_function(n, chain)
            else:
                state = "no compatible string: no driver needed"
            self.lines.append(f"{pad}{label}{n.path}  {state}")
            nxt = [(t, chain + [n.path], p, depth + 1) for p, t in self.providers(n)]
            # a PCIe host bridge: what is behind it (the Pi 4's VL805) is on the path too
            if "pci" in n.strings("device_type"):
                nxt += [(c, chain + [n.path], "child", depth + 1) for c in n.children]
            stack.extend(reversed(nxt))

    def node(self, path):
        return next(x for x in all_nodes(self.root) if x.path == path)

    def in_pci(self, n):
        p = n.parent
        while p is not None:
            if "pci" in p.strings("device_type"):
                return True
            p = p.parent
        return False

    def need_module(self, what, mod):
        ok, words = self.img.module_state(mod)
        self.lines.append(f"    {what}: {words}" + ("" if ok else "  MISSING"))
        if not ok:
            self.failures.append(f"{self.name}: {what}: {words}: add '{mod}' to "
                                 "image/base/overlay/etc/initramfs-tools/modules")

    def need_modalias(self, what, modalias):
        mods = self.img.modules_for(modalias)
        if not mods:
            self.lines.append(f"    {what} ({modalias}): NO DRIVER")
            self.failures.append(f"{self.name}: {what}: no driver for {modalias} in this kernel")
            return
        states = [self.img.module_state(m) for m in mods]
        self.lines.append(f"    {what}: " + ", ".join(w for _, w in states) +
                          ("" if all(ok for ok, _ in states) else "  MISSING"))
        for m, (ok, words) in zip(mods, states):
            if not ok:
                self.failures.append(f"{self.name}: {what} ({modalias}): {words}: add '{m}' to "
                                     "image/base/overlay/etc/initramfs-tools/modules")


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__)
        return 2
    image, only = args[0], []
    i = 1
    while i < len(args):
        if args[i] == "--board" and i + 1 < len(args):
            only.append(args[i + 1])
            i += 2
        else:
            print(f"boot-path: unknown argument {args[i]}", file=sys.stderr)
            return 2
    if not os.path.isfile(image):
        print(f"boot-path: no image {image} (build it with image/build.sh)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="piagent-boot-path.") as work:
        img = Image(image, work)
        print(f"kernel {img.kver}: {len(img.builtin_mods)} built-in modules, {len(img.in_initramfs)} modules "
              f"in the initramfs")
        failures, boards = [], 0
        for name, dtb, paths in BOARDS:
            if only and name not in only and dtb not in only:
                continue
            boards += 1
            print(f"\n{name} ({dtb})")
            if dtb not in img.boot_files:
                failures.append(f"{name}: {dtb} is not on the boot partition (the firmware loads it from there)")
                print(f"  FAIL: {dtb} is not on the boot partition")
                continue
            with open(img.fat_file(dtb), "rb") as f:
                board = Board(name, read_fdt(f.read()), img)
            for what, compats, usb in paths:
                starts = [n for n in all_nodes(board.root) if set(n.strings("compatible")) & set(compats)
                          and n.enabled()]
                board.lines.append(f"  {what}:")
                if not starts:
                    board.failures.append(f"{name}: {what}: no enabled node with compatible {', '.join(compats)} "
                                          f"in {dtb}")
                    board.lines.append(f"    no enabled {', '.join(compats)}: FAIL")
                    continue
                board.walk(starts)
                if usb:
                    for w, modalias in USB_STORAGE:
                        board.need_modalias(w, modalias)
            board.lines.append("  always:")
            for w, mod in ALWAYS:
                board.need_module(w, mod)
            print("\n".join(board.lines))
            failures += board.failures
        print()
        for f in failures:
            print(f"FAIL  {f}")
        if boards == 0:
            print("boot-path: no board selected")
            return 2
        if failures:
            print(f"{len(failures)} problem(s) on the boot path of {boards} boards")
            return 1
        print(f"boot path complete on all {boards} boards: every driver is built in or in the initramfs")
        return 0


if __name__ == "__main__":
    sys.exit(main())
