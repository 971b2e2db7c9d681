#!/usr/bin/env python3
"""piagent cluster test bed: real systemd nodes in systemd-nspawn containers.

Each node boots the cached Debian rootfs (rootfs.sh) through a private overlay
layer, with its own network namespace whose one interface (eth0) sits on a
bridge in a namespace of this run's own. Nothing is routed anywhere else.

Library use (a scenario):

    from harness import Cluster, NodeSpec
    with Cluster("smoke", binary=None) as c:
        a, b = c.up([NodeSpec("lb1", "lb"), NodeSpec("m1", "master")])
        c.exec(a, ["ping", "-c1", b.addr])
        c.wait_for(lambda: ..., timeout=10, what="...")

Leaving the `with` block by an exception collects every node's journal into
the artifacts directory; teardown always runs (also from atexit and on
SIGINT/SIGTERM/SIGHUP), stops only what this run started, by PID, and removes
its namespaces, cgroups and temporary directories.

CLI: `harness.py run --node lb1:lb --node m1:master --exec 'm1:piagent status'`
(see `harness.py run --help`). Needs root.
"""

import argparse
import atexit
import concurrent.futures
import ctypes
import dataclasses
import errno
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ROOTFS_SH = os.path.join(HERE, "rootfs.sh")

SUBNET = "10.77.0"
PREFIXLEN = 24
BRIDGE_ADDR = f"{SUBNET}.1"  # the test's own vantage point on the LAN
FIRST_NODE = 10  # node i (0-based) gets 10.77.0.(10+i)
# timesyncd's flag that the clock is synchronised (the agent waits for it), and the tmpfiles line that sets it.
CLOCK_FLAG = "/run/systemd/timesync/synchronized"
CLOCK_FLAG_TMPFILES = "/etc/tmpfiles.d/piagent-test-clock.conf"
SKIP = 77  # ctest SKIP_RETURN_CODE

# Commands run inside nodes get this environment, not the harness's own.
NODE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
    "SYSTEMD_PAGER": "",
    "SYSTEMD_COLORS": "0",
    "HOME": "/root",
}

_T0 = time.monotonic()
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def log(msg):
    line = f"[{time.monotonic() - _T0:8.3f}] {msg}"
    print(line, file=sys.stderr, flush=True)
    _LOG.append(line)


_LOG = []


class SkipTest(Exception):
    """The test cannot run here (not root); exit with SKIP."""


class CommandFailed(Exception):
    def __init__(self, where, argv, proc):
        self.where, self.argv, self.proc = where, argv, proc
        super().__init__(
            f"{where}: {shlex.join(argv)} exited {proc.returncode}\n"
            f"--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}"
        )


class WaitTimeout(AssertionError):
    pass


class NotYet(Exception):
    """Raised by a wait_for predicate to say what is still missing; the last
    one is in the timeout message."""


@dataclasses.dataclass
class NodeSpec:
    """What a scenario asks for. role_txt/cluster_txt are the files' full
    contents; without role_txt, `role=<role>` is written. files: extra files
    for the node's layer, {absolute path in node: bytes | str}."""

    name: str
    role: str | None = None
    role_txt: str | None = None
    cluster_txt: str | None = None
    files: dict = dataclasses.field(default_factory=dict)
    mac: str | None = None


@dataclasses.dataclass
class Node:
    spec: NodeSpec
    index: int
    addr: str
    mac: str
    netns: str
    dir: str
    proc: subprocess.Popen | None = None
    leader: int | None = None
    pidns: int | None = None  # inode of the leader's pid namespace
    started: float = 0.0
    boot_seconds: float | None = None
    cgroups: list = dataclasses.field(default_factory=list)

    @property
    def name(self):
        return self.spec.name

    @property
    def role(self):
        return self.spec.role

    @property
    def boot(self):
        return os.path.join(self.dir, "boot")

    @property
    def upper(self):
        return os.path.join(self.dir, "upper")

    def __str__(self):
        return self.name


def _run(argv, check=True, **kw):
    """A host command (ip, tar...). Output captured; raises CommandFailed."""
    p = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)
    if check and p.returncode != 0:
        raise CommandFailed("host", argv, p)
    return p


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cgroup_roots():
    """(mountpoint, our path in it) for the cgroup2 hierarchy and the v1
    name=systemd one: the hierarchies systemd in a container looks at."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, ctrl, path = line.rstrip("\n").split(":", 2)
            own[ctrl] = path
    roots = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, post = line.split(" - ", 1)
            mnt = pre.split()[4]
            fstype, _src, opts = post.split()[:3]
            if fstype == "cgroup2" and "" in own:
                roots.append((mnt, own[""]))
            elif fstype == "cgroup" and "name=systemd" in opts.split(","):
                roots.append((mnt, own.get("name=systemd", "/")))
    return roots


def _rmdir_tree(path):
    """rmdir bottom-up (cgroups: only empty ones can go; never kills)."""
    if not os.path.isdir(path):
        return True
    ok = True
    for dirpath, dirnames, _files in os.walk(path, topdown=False):
        for d in dirnames:
            try:
                os.rmdir(os.path.join(dirpath, d))
            except OSError:
                ok = False
    try:
        os.rmdir(path)
    except OSError:
        ok = False
    return ok


def _mounts_under(path):
    path = os.path.realpath(path).rstrip("/") + "/"
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mnt = line.split()[4].encode().decode("unicode_escape")
            if (mnt + "/").startswith(path):
                out.append(mnt)
    return out


def cleanup_stale():
    """Remove what earlier runs left when they were SIGKILLed: network
    namespaces and run directories named after a harness PID that no longer
    exists. Only our own naming patterns are touched."""
    try:
        names = os.listdir("/run/netns")
    except FileNotFoundError:
        names = []
    for n in names:
        m = re.fullmatch(r"pia(\d+)(br|n\d+)", n)
        if m and not _pid_alive(int(m.group(1))):
            log(f"removing stale network namespace {n}")
            _run(["ip", "netns", "del", n], check=False)
    base = os.environ.get("PIAGENT_RUN_DIR", "/var/tmp")
    for d in os.listdir(base):
        m = re.fullmatch(r"piagent-cluster\.pia(\d+)\..*", d)
        path = os.path.join(base, d)
        if m and not _pid_alive(int(m.group(1))) and not _mounts_under(path):
            log(f"removing stale run directory {path}")
            shutil.rmtree(path, ignore_errors=True)
    for mnt, own in _cgroup_roots():
        parent = os.path.join(mnt, own.lstrip("/"))
        for d in os.listdir(parent):
            m = re.fullmatch(r"pia(\d+)", d)
            if m and not _pid_alive(int(m.group(1))):
                _rmdir_tree(os.path.join(parent, d))


class Cluster:
    """One test run: a bridge namespace, nodes, and everything to undo."""

    def __init__(
        self,
        name="cluster",
        binary=None,
        unit=None,
        rootfs=None,
        artifacts=None,
        boot_timeout=90.0,
        keep=False,
    ):
        if os.geteuid() != 0:
            raise SkipTest("the cluster test bed needs root (network namespaces, overlay mounts, systemd-nspawn)")
        self.name = name
        self.binary = binary or os.environ.get("PIAGENT_BINARY") or None
        self.unit = unit or os.environ.get("PIAGENT_UNIT") or os.path.join(REPO, "units", "piagent.service")
        self.rootfs = rootfs or os.environ.get("PIAGENT_ROOTFS") or None
        self.artifacts = artifacts or os.environ.get("PIAGENT_ARTIFACTS_DIR") or os.path.join(os.getcwd(), "cluster-artifacts")
        self.boot_timeout = boot_timeout
        self.keep = keep or os.environ.get("PIAGENT_KEEP") == "1"
        self.runid = f"pia{os.getpid()}"
        self.bridge_ns = f"{self.runid}br"
        self.nodes = []
        self.rundir = None
        self.lower = None
        self._netns = []  # created by us, deleted in teardown
        self._cgroup_parents = []
        self._torn_down = False
        self._prepared = False
        self.failed = False
        if self.binary and not os.access(self.binary, os.X_OK):
            raise FileNotFoundError(f"agent binary {self.binary} is not executable")
        if self.binary and not os.path.isfile(self.unit):
            raise FileNotFoundError(f"unit file {self.unit} not found (set PIAGENT_UNIT)")
        atexit.register(self.teardown)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, etype, exc, tb):
        if etype is not None and not issubclass(etype, SkipTest):
            self.failed = True
            log(f"FAILED: {etype.__name__}: {exc}")
            try:
                self.collect(f"{etype.__name__}: {exc}")
            except Exception as e:  # collecting must not hide the failure
                log(f"collecting artifacts failed: {e!r}")
        self.teardown()
        return False

    def _on_signal(self, signum, _frame):
        log(f"caught signal {signal.Signals(signum).name}, tearing down")
        raise SystemExit(128 + signum)

    def prepare(self):
        if self._prepared:
            return
        self._prepared = True
        for tool in ("ip", "nsenter", "unshare", "systemd-nspawn", "tar", "zstd", "nft"):
            if not shutil.which(tool):
                raise RuntimeError(f"{tool} is not installed (see docs/testbed.md for the host packages)")
        cleanup_stale()
        if not self.rootfs:
            t = time.monotonic()
            p = subprocess.run([ROOTFS_SH], stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
            if p.returncode != 0:
                raise RuntimeError(f"rootfs.sh failed with exit code {p.returncode}")
            self.rootfs = p.stdout.strip().splitlines()[-1]
            log(f"rootfs {self.rootfs} ready in {time.monotonic() - t:.1f} s")
        base = os.environ.get("PIAGENT_RUN_DIR", "/var/tmp")
        self.rundir = tempfile.mkdtemp(prefix=f"piagent-cluster.{self.runid}.", dir=base)
        self.lower = os.path.join(self.rundir, "lower")
        os.mkdir(self.lower)
        t = time.monotonic()
        _run(["tar", "--zstd", "-xpf", self.rootfs, "-C", self.lower,
              "--numeric-owner", "--xattrs", "--xattrs-include=*"])
        log(f"extracted rootfs into {self.lower} in {time.monotonic() - t:.1f} s")
        self._make_bridge()
        for mnt, own in _cgroup_roots():
            parent = os.path.join(mnt, own.lstrip("/"), self.runid)
            os.makedirs(parent, exist_ok=True)
            self._cgroup_parents.append(parent)

    def _make_bridge(self):
        ns = self.bridge_ns
        _run(["ip", "netns", "add", ns])
        self._netns.append(ns)
        ip = ["ip", "-n", ns]
        _run(ip + ["link", "set", "lo", "up"])
        # Snooping off: with it, the bridge drops mDNS to ports whose
        # listeners it has not seen an IGMP report from.
        _run(ip + ["link", "add", "br0", "type", "bridge",
                   "mcast_snooping", "0", "stp_state", "0", "forward_delay", "0"])
        _run(ip + ["addr", "add", f"{BRIDGE_ADDR}/{PREFIXLEN}", "dev", "br0"])
        _run(ip + ["link", "set", "br0", "up"])
        log(f"bridge br0 ({BRIDGE_ADDR}/{PREFIXLEN}) in network namespace {ns}")

    # -- nodes -------------------------------------------------------------

    def up(self, specs, wait=True):
        """Create and boot nodes (in parallel); returns them once every one is
        running (or degraded). May be called again to add nodes."""
        self.prepare()
        new = []
        for spec in specs:
            if any(n.name == spec.name for n in self.nodes):
                raise ValueError(f"duplicate node name {spec.name}")
            if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", spec.name):
                raise ValueError(f"bad node name {spec.name!r}")
            node = self._make_node(spec, len(self.nodes))
            self.nodes.append(node)
            new.append(node)
        t = time.monotonic()
        for node in new:
            self._start(node)
        if wait:
            self.wait_booted(new)
            log(f"booted {len(new)} node(s) in {time.monotonic() - t:.2f} s")
        return new

    def node(self, name):
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def _make_node(self, spec, index):
        addr = f"{SUBNET}.{FIRST_NODE + index}"
        if FIRST_NODE + index > 239:
            raise ValueError("too many nodes (10.77.0.240 and up are kept for VIPs)")
        mac = spec.mac or f"02:77:00:00:{index >> 8:02x}:{index & 0xff:02x}"
        node = Node(spec=spec, index=index, addr=addr, mac=mac,
                    netns=f"{self.runid}n{index}", dir=os.path.join(self.rundir, spec.name))
        for d in ("upper", "work", "merged", "boot"):
            os.makedirs(os.path.join(node.dir, d))
        self._write_layer(node)
        self._write_boot(node)
        self._make_netns(node)
        return node

    def _put(self, node, path, data, mode=0o644):
        dst = os.path.join(node.upper, path.lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(dst, mode)

    def _write_layer(self, node):
        """Files in the node's private layer, before it boots."""
        self._put(node, "/etc/machine-id", uuid.uuid4().hex + "\n", 0o444)
        if self.binary:
            with open(self.binary, "rb") as f:
                self._put(node, "/usr/bin/piagent", f.read(), 0o755)
            with open(self.unit) as f:
                unit_text = f.read()
            self._put(node, "/etc/systemd/system/piagent.service", unit_text)
            # The exchange worker's unit, beside it: started by the agent on masters, never enabled.
            worker_unit = os.path.join(os.path.dirname(self.unit), "piagent-exchange.service")
            if os.path.exists(worker_unit):
                with open(worker_unit) as f:
                    self._put(node, "/etc/systemd/system/piagent-exchange.service", f.read())
            # What `systemctl enable` would do: one symlink per WantedBy=.
            targets = []
            for line in unit_text.splitlines():
                m = re.match(r"\s*WantedBy\s*=\s*(.*)", line)
                if m:
                    targets += m.group(1).split()
            for target in targets or ["multi-user.target"]:
                link = os.path.join(node.upper, "etc/systemd/system", f"{target}.wants", "piagent.service")
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink("/etc/systemd/system/piagent.service", link)
            # The clock (issue 13, point 3): the agent waits for a synchronised one before kubeadm. The nodes
            # share the host's kernel clock, synchronised or not, and run no timesyncd (containers): so only
            # timesyncd's flag counts here, and it is set at every boot. A scenario that wants a node whose clock
            # is not synchronised replaces CLOCK_FLAG_TMPFILES with "" in its files and creates the flag itself.
            self._put(node, "/etc/systemd/system/piagent.service.d/clock.conf",
                      "[Service]\nEnvironment=PIAGENT_CLOCK_KERNEL=no\n")
            self._put(node, CLOCK_FLAG_TMPFILES, "d /run/systemd/timesync 0755 root root -\n"
                      f"f {CLOCK_FLAG} 0644 root root -\n")
        for path, data in node.spec.files.items():
            mode = 0o755 if path.startswith(("/usr/bin/", "/usr/sbin/", "/usr/local/bin/")) else 0o644
            self._put(node, path, data, mode)

    def _write_boot(self, node):
        spec = node.spec
        role_txt = spec.role_txt if spec.role_txt is not None else (f"role={spec.role}\n" if spec.role else None)
        if role_txt is not None:
            with open(os.path.join(node.boot, "role.txt"), "w") as f:
                f.write(role_txt)
        if spec.cluster_txt is not None:
            with open(os.path.join(node.boot, "cluster.txt"), "w") as f:
                f.write(spec.cluster_txt)

    def _make_netns(self, node):
        ns, veth = node.netns, f"v{node.index}"
        _run(["ip", "netns", "add", ns])
        self._netns.append(ns)
        _run(["ip", "-n", self.bridge_ns, "link", "add", veth, "type", "veth",
              "peer", "name", "eth0", "netns", ns])
        _run(["ip", "-n", self.bridge_ns, "link", "set", veth, "master", "br0", "up"])
        ip = ["ip", "-n", ns]
        _run(ip + ["link", "set", "lo", "up"])
        _run(ip + ["link", "set", "eth0", "address", node.mac])
        _run(ip + ["addr", "add", f"{node.addr}/{PREFIXLEN}", "dev", "eth0"])
        _run(ip + ["link", "set", "eth0", "up"])

    def _start(self, node):
        cgroups = [os.path.join(parent, node.name) for parent in self._cgroup_parents]
        for cg in cgroups:
            os.makedirs(cg, exist_ok=True)
        node.cgroups = cgroups
        merged = os.path.join(node.dir, "merged")
        nspawn = [
            "systemd-nspawn", "--quiet", "--boot",
            "--register=no", "--keep-unit",
            "--capability=CAP_NET_ADMIN,CAP_NET_RAW",
            f"--network-namespace-path=/run/netns/{node.netns}",
            # Unique per run (nspawn keeps per-machine state under /run);
            # the hostname inside comes from /etc/hostname: raspberrypi.
            f"--machine={self.runid}-{node.name}",
            "--link-journal=no", "--resolv-conf=off", "--timezone=off",
            "--console=read-only",
            f"--bind={node.boot}:/boot/firmware",
            "-D", merged,
        ]
        # The overlay is mounted in a mount namespace of nspawn's own, so it
        # vanishes with nspawn whatever happens to this harness.
        wrapper = [
            "unshare", "--mount", "--propagation", "private", "--",
            "/bin/sh", "-ec",
            'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4"; shift 4; exec "$@"',
            "sh", self.lower, node.upper, os.path.join(node.dir, "work"), merged,
        ] + nspawn

        def child_setup():
            # nspawn dies (and powers its container off) with the harness,
            # even when the harness is SIGKILLed.
            _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
            # A cgroup per node: nspawn --keep-unit puts the container in
            # <own cgroup>/payload, which would be shared by every node.
            for cg in cgroups:
                with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                    f.write("0")

        console = open(os.path.join(node.dir, "console.log"), "ab")  # a reboot appends
        node.started = time.monotonic()
        node.proc = subprocess.Popen(wrapper, stdin=subprocess.DEVNULL, stdout=console,
                                     stderr=subprocess.STDOUT, preexec_fn=child_setup,
                                     start_new_session=True)
        console.close()
        log(f"node {node.name}: role {node.role or '-'}, {node.addr}, mac {node.mac}, "
            f"nspawn pid {node.proc.pid}")

    @staticmethod
    def _process_parents():
        """{pid: parent pid} of every process on the host (one pass over /proc)."""
        parent = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    stat = f.read()
                parent[int(d)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                continue
        return parent

    def _find_leader(self, node, parent=None):
        """The container's init: a descendant of our nspawn that is PID 1 in
        its own PID namespace. parent: a _process_parents() map to reuse (one
        scan of /proc for many nodes instead of one each)."""
        if parent is None:
            parent = self._process_parents()
        root = node.proc.pid
        for pid in parent:
            p, depth = pid, 0
            while p in parent and p != root and depth < 8:
                p, depth = parent[p], depth + 1
            if p != root or pid == root:
                continue
            try:
                with open(f"/proc/{pid}/status") as f:
                    nspid = next(l for l in f if l.startswith("NSpid:")).split()[1:]
            except (OSError, StopIteration):
                continue
            if len(nspid) >= 2 and nspid[-1] == "1":
                node.leader = pid
                node.pidns = os.stat(f"/proc/{pid}/ns/pid").st_ino
                return pid
        return None

    def _leader_ok(self, node):
        if node.leader is None:
            return False
        try:
            return os.stat(f"/proc/{node.leader}/ns/pid").st_ino == node.pidns
        except OSError:
            return False

    def wait_booted(self, nodes=None, timeout=None):
        nodes = list(nodes or self.nodes)
        deadline = time.monotonic() + (timeout or self.boot_timeout)
        pending = list(nodes)
        while pending:
            parent = self._process_parents() if any(n.leader is None for n in pending) else None
            for node in list(pending):
                if node.proc.poll() is not None:
                    raise RuntimeError(f"node {node.name}: systemd-nspawn exited with {node.proc.returncode}:\n"
                                       + self._console_tail(node))
                if node.leader is None and self._find_leader(node, parent) is None:
                    continue
                try:
                    p = self.exec(node, ["systemctl", "is-system-running"], check=False, timeout=10)
                except subprocess.TimeoutExpired:
                    continue
                state = p.stdout.strip()
                if state in ("running", "degraded"):
                    node.boot_seconds = time.monotonic() - node.started
                    pending.remove(node)
                    msg = f"node {node.name}: {state} after {node.boot_seconds:.2f} s (init pid {node.leader})"
                    if state == "degraded":
                        failed = self.exec(node, ["systemctl", "--failed", "--no-legend", "--plain"], check=False)
                        msg += "; failed units: " + " ".join(l.split()[0] for l in failed.stdout.splitlines() if l)
                    log(msg)
                elif state in ("maintenance", "stopping"):
                    raise RuntimeError(f"node {node.name}: system is {state}:\n" + self._console_tail(node))
            if pending and time.monotonic() > deadline:
                raise WaitTimeout(f"nodes not booted within {timeout or self.boot_timeout:.0f} s: "
                                  + ", ".join(n.name for n in pending))
            if pending:
                # Each pass asks every pending node (nsenter + systemctl): with many nodes booting on few cores,
                # asking more often only slows their boot down.
                time.sleep(min(2.0, 0.1 + 0.02 * len(pending)))

    def _console_tail(self, node, lines=30):
        try:
            with open(os.path.join(node.dir, "console.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    # -- acting on nodes ---------------------------------------------------

    def exec(self, node, argv, check=True, timeout=60, input=None):
        """Run argv inside the node (all its namespaces, its root). Returns a
        CompletedProcess with text stdout/stderr; CommandFailed if check and
        the exit code is not 0."""
        if isinstance(node, str):
            node = self.node(node)
        if not self._leader_ok(node):
            raise RuntimeError(f"node {node.name} is not running")
        full = ["nsenter", "--target", str(node.leader), "--all", "--root", "--wd", "--"] + list(argv)
        p = subprocess.run(full, capture_output=True, text=True, env=NODE_ENV, timeout=timeout,
                           input=input, stdin=None if input is not None else subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise CommandFailed(f"node {node.name}", list(argv), p)
        return p

    def exec_all(self, nodes, argv, **kw):
        """exec() on several nodes at once; {node name: CompletedProcess}.
        The first exception is raised after all have finished."""
        nodes = list(nodes)
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(16, max(1, len(nodes)))) as pool:
            futs = {n.name: pool.submit(self.exec, n, argv, **kw) for n in nodes}
        return {name: f.result() for name, f in futs.items()}

    def sh(self, node, script, **kw):
        return self.exec(node, ["/bin/sh", "-ec", script], **kw)

    def host(self, argv, **kw):
        """Run a host binary inside the bridge namespace: a client on the
        test LAN at 10.77.0.1 (for VIP checks from outside the nodes)."""
        return _run(["ip", "netns", "exec", self.bridge_ns] + list(argv), **kw)

    def wait_for(self, predicate, timeout, interval=0.2, what=None):
        """Poll predicate() until it returns something truthy; returns that
        value. Exceptions from the predicate count as "not yet" (the last one
        is reported on timeout)."""
        what = what or getattr(predicate, "__name__", "condition")
        t = time.monotonic()
        deadline = t + timeout
        last = None
        while True:
            try:
                v = predicate()
                if v:
                    log(f"{what}: after {time.monotonic() - t:.2f} s")
                    return v
                last = v
            except (NotYet, CommandFailed, subprocess.TimeoutExpired, OSError, ValueError, KeyError) as e:
                last = e
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"{what}: not within {timeout} s (last: {last!r})")
            time.sleep(interval)

    def stop(self, node, timeout=15.0):
        """Power a node off (systemd shuts down cleanly), SIGKILL if it hangs."""
        self._stop_nodes([node], timeout)

    def reboot(self, nodes, timeout=15.0):
        """Reboot nodes: a clean poweroff, then a boot from the same disk (the
        node's layer keeps /etc, /var/lib and the journal; its network
        namespace and address stay). Returns once every one is running."""
        nodes = list(nodes)
        self._stop_nodes(nodes, timeout)
        for n in nodes:
            n.proc, n.leader, n.pidns, n.boot_seconds = None, None, None, None
        t = time.monotonic()
        for n in nodes:
            self._start(n)
        self.wait_booted(nodes)
        log(f"rebooted {len(nodes)} node(s) in {time.monotonic() - t:.2f} s")

    def partition(self, *groups):
        """Cut the network between groups of nodes: the bridge drops every frame
        (unicast, multicast, ARP) from a node of one group to a node of
        another. Nodes in no group keep talking to everyone. Replaces any
        earlier partition; heal() ends it. Usable before the nodes boot."""
        rules = []
        for i, g in enumerate(groups):
            for h in groups[i + 1:]:
                for a in g:
                    for b in h:
                        rules.append(f'iifname "v{a.index}" oifname "v{b.index}" drop')
                        rules.append(f'iifname "v{b.index}" oifname "v{a.index}" drop')
        script = ("add table bridge piagent_partition\ndelete table bridge piagent_partition\n"
                  "table bridge piagent_partition {\n chain forward {\n"
                  "  type filter hook forward priority 0; policy accept;\n"
                  + "".join(f"  {r}\n" for r in rules) + " }\n}\n")
        p = subprocess.run(["ip", "netns", "exec", self.bridge_ns, "nft", "-f", "-"], input=script,
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise CommandFailed("host", ["nft", "-f", "-"], p)
        log("partition: " + " | ".join("{" + ", ".join(n.name for n in g) + "}" for g in groups))

    def heal(self):
        """End a partition()."""
        _run(["ip", "netns", "exec", self.bridge_ns, "nft", "delete", "table", "bridge", "piagent_partition"],
             check=False)
        log("partition healed")

    def memory(self, node):
        """Proportional set size (bytes) of every process in the node."""
        total = 0
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                if os.stat(f"/proc/{d}/ns/pid").st_ino != node.pidns:
                    continue
                with open(f"/proc/{d}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1]) * 1024
                            break
            except (OSError, ValueError):
                continue
        return total

    # -- failure evidence --------------------------------------------------

    def collect(self, reason=""):
        """Every node's journal and state into <artifacts>/<name>-<time>/."""
        if not self.rundir:
            return None
        out = os.path.join(self.artifacts, f"{self.name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "reason.txt"), "w") as f:
            f.write(reason + "\n")
        for node in self.nodes:
            d = os.path.join(out, node.name)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "node.txt"), "w") as f:
                f.write(f"name={node.name}\nrole={node.role}\naddr={node.addr}\nmac={node.mac}\n"
                        f"netns={node.netns}\nboot_seconds={node.boot_seconds}\n")
            for fname in ("console.log", "boot/role.txt", "boot/cluster.txt"):
                src = os.path.join(node.dir, fname)
                if os.path.exists(src):
                    shutil.copy(src, os.path.join(d, fname.replace("/", "-")))
            cmds = {
                "journal.txt": ["journalctl", "-o", "short-monotonic", "--no-pager"],
                "failed-units.txt": ["systemctl", "--failed", "--no-pager"],
                "units.txt": ["systemctl", "list-units", "--all", "--no-pager"],
                "ip-addr.txt": ["ip", "addr"],
                "piagent-status.txt": ["systemctl", "status", "--no-pager", "piagent.service"],
            }
            if self._leader_ok(node):
                for fname, argv in cmds.items():
                    try:
                        p = self.exec(node, argv, check=False, timeout=30)
                        text = p.stdout + (f"\n[stderr]\n{p.stderr}" if p.stderr else "")
                    except Exception as e:
                        text = f"failed: {e!r}\n"
                    with open(os.path.join(d, fname), "w") as f:
                        f.write(text)
            else:
                # The node is gone: its persistent journal is in its layer.
                jdir = os.path.join(node.upper, "var/log/journal")
                if os.path.isdir(jdir):
                    p = _run(["journalctl", "-D", jdir, "-o", "short-monotonic", "--no-pager"], check=False)
                    with open(os.path.join(d, "journal.txt"), "w") as f:
                        f.write(p.stdout + p.stderr)
        with open(os.path.join(out, "harness.log"), "w") as f:
            f.write("\n".join(_LOG) + "\n")
        log(f"artifacts collected in {out}")
        return out

    # -- teardown ----------------------------------------------------------

    def _stop_nodes(self, nodes, timeout):
        live = [n for n in nodes if n.proc and n.proc.poll() is None]
        for n in live:
            try:
                n.proc.send_signal(signal.SIGTERM)  # nspawn: clean poweroff
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        for n in live:
            try:
                n.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"node {n.name}: no clean poweroff in {timeout:.0f} s, killing")
        for n in nodes:
            # Whatever is left in the node's own cgroup was started by us.
            for cg in n.cgroups:
                kill = os.path.join(cg, "cgroup.kill")
                if os.path.exists(kill) and _cgroup_has_procs(cg):
                    try:
                        with open(kill, "w") as f:
                            f.write("1")
                    except OSError:
                        pass
            if self._leader_ok(n):
                try:
                    os.kill(n.leader, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if n.proc and n.proc.poll() is None:
                n.proc.kill()
            if n.proc:
                try:
                    n.proc.wait(10)
                except subprocess.TimeoutExpired:
                    log(f"node {n.name}: nspawn pid {n.proc.pid} does not exit")

    def teardown(self):
        if self._torn_down:
            return
        self._torn_down = True
        old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            t = time.monotonic()
            self._stop_nodes(self.nodes, 15.0)
            for ns in reversed(self._netns):
                _run(["ip", "netns", "del", ns], check=False)
            for n in self.nodes:
                for cg in n.cgroups:
                    if not _rmdir_tree(cg):
                        log(f"cgroup {cg} still busy, left in place")
            for parent in self._cgroup_parents:
                _rmdir_tree(parent)
            prop = "/run/systemd/nspawn/propagate"
            for n in self.nodes:
                try:
                    os.rmdir(os.path.join(prop, f"{self.runid}-{n.name}"))
                except OSError:
                    pass
            if self.rundir:
                left = _mounts_under(self.rundir)
                if left:
                    log(f"not removing {self.rundir}: still mounted: {left}")
                elif self.keep:
                    log(f"keeping {self.rundir} (PIAGENT_KEEP=1)")
                else:
                    shutil.rmtree(self.rundir, ignore_errors=True)
            if self.nodes or self._netns:
                log(f"teardown done in {time.monotonic() - t:.2f} s")
        finally:
            for s, h in old.items():
                signal.signal(s, h if h is not None else signal.SIG_DFL)


def _cgroup_has_procs(cg):
    for dirpath, _dirs, files in os.walk(cg):
        if "cgroup.procs" in files:
            try:
                with open(os.path.join(dirpath, "cgroup.procs")) as f:
                    if f.read().strip():
                        return True
            except OSError:
                pass
    return False


def run_scenario(main):
    """Entry point for scenario scripts: maps SkipTest to exit 77 and any
    failure to exit 1, printing a one-line verdict."""
    try:
        main()
    except SkipTest as e:
        print(f"SKIP: {e}", flush=True)
        sys.exit(SKIP)
    except SystemExit:
        raise
    except BaseException as e:
        import traceback
        traceback.print_exc()
        print(f"FAIL: {type(e).__name__}: {e}", flush=True)
        sys.exit(1)
    print("PASS", flush=True)


# -- CLI ---------------------------------------------------------------------

def _cli_run(args):
    cluster_txt = None
    if args.cluster_txt:
        with open(args.cluster_txt) as f:
            cluster_txt = f.read()
    specs = []
    for item in args.node:
        name, _, role = item.partition(":")
        specs.append(NodeSpec(name, role or None, cluster_txt=cluster_txt))
    if not specs:
        raise SystemExit("no --node given")
    with Cluster("cli", binary=args.binary, unit=args.unit, boot_timeout=args.boot_timeout) as c:
        nodes = c.up(specs)
        if args.binary and args.wait_agent:
            # A demo, not a test: report an agent that does not come up, go on.
            for n in nodes:
                try:
                    c.wait_for(lambda n=n: c.exec(n, ["systemctl", "is-active", "piagent.service"], check=False)
                               .stdout.strip() == "active", timeout=args.wait_agent,
                               what=f"piagent.service active on {n.name}")
                except WaitTimeout:
                    state = c.exec(n, ["systemctl", "is-active", "piagent.service"], check=False).stdout.strip()
                    log(f"piagent.service on {n.name} is {state!r} after {args.wait_agent} s")
        if args.settle:
            log(f"settling for {args.settle} s")
            time.sleep(args.settle)
        for item in args.exec:
            name, _, cmd = item.partition(":")
            p = c.exec(name, shlex.split(cmd), check=False)
            print(f"=== {name}$ {cmd}  (exit {p.returncode})")
            sys.stdout.write(p.stdout)
            sys.stdout.write(p.stderr)
            sys.stdout.flush()
        for n in nodes:
            print(f"{n.name:12} {n.role or '-':8} {n.addr:12} boot {n.boot_seconds:.2f} s, "
                  f"{c.memory(n) / 2**20:.0f} MiB")
        if args.hold:
            print(f"holding; enter a node with: nsenter -t <pid> -a -r -w bash  "
                  f"({', '.join(f'{n.name}={n.leader}' for n in nodes)}); Ctrl-C to tear down", flush=True)
            try:
                signal.pause()
            except (SystemExit, KeyboardInterrupt):
                pass  # asked to stop: a normal end, not a failure


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="boot nodes, run commands in them, tear down")
    r.add_argument("--node", action="append", default=[], metavar="NAME[:ROLE]")
    r.add_argument("--binary", help="agent binary to install (default: $PIAGENT_BINARY; none: boot without agent)")
    r.add_argument("--unit", help="unit file (default: $PIAGENT_UNIT or <repo>/units/piagent.service)")
    r.add_argument("--cluster-txt", help="cluster.txt for every node")
    r.add_argument("--boot-timeout", type=float, default=120.0)
    r.add_argument("--wait-agent", type=float, default=30.0, metavar="S",
                   help="wait up to S seconds for piagent.service to be active on every node")
    r.add_argument("--settle", type=float, default=0.0, metavar="S", help="sleep S seconds before --exec")
    r.add_argument("--exec", action="append", default=[], metavar="NODE:COMMAND")
    r.add_argument("--hold", action="store_true", help="keep the nodes until Ctrl-C")
    sub.add_parser("cleanup", help="remove what killed runs left behind")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("harness.py: needs root", file=sys.stderr)
        return SKIP
    if args.cmd == "cleanup":
        cleanup_stale()
        return 0
    _cli_run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
