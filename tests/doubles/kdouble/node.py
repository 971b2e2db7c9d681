"""This node: paths, the double's clock, fault injection, the invocation log,
systemd units."""

import json
import os
import socket
import subprocess
import time

from .gotypes import KubeadmError

ETC = os.environ.get("KUBEADM_DOUBLE_ETC", "/etc/kubeadm-double")
STATE_DIR = os.environ.get("KUBEADM_DOUBLE_STATE", "/var/lib/kubeadm-double")
LOG = os.environ.get("KUBEADM_DOUBLE_LOG", "/var/log/kubeadm-double.log")
K8S = "/etc/kubernetes"
MANIFESTS = K8S + "/manifests"
UNIT_DIR = "/etc/systemd/system"
DEFAULT_VERSION = "v1.31.2"

UNIT_ETCD = "etcd-double.service"
UNIT_APISERVER = "kube-apiserver-double.service"
UNIT_KUBELET = "kubelet-double.service"
UNITS = (UNIT_KUBELET, UNIT_APISERVER, UNIT_ETCD)


def read_setting(name, default=None):
    try:
        with open(os.path.join(ETC, name)) as f:
            v = f.read().strip()
    except OSError:
        return default
    return v if v != "" else default


def version():
    return read_setting("version", DEFAULT_VERSION)


def float_setting(name, default):
    v = read_setting(name)
    if v is None:
        return default
    try:
        return float(v)
    except ValueError:
        raise KubeadmError(f"{ETC}/{name}: not a number: {v!r}") from None


def clock_offset():
    return float_setting("clock-offset-s", 0.0)


def now():
    """The double's clock: wall time plus /etc/kubeadm-double/clock-offset-s.
    Token and uploaded-certificate expiry, and node heartbeats, use it."""
    return time.time() + clock_offset()


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_rfc3339(s):
    import calendar

    return calendar.timegm(time.strptime(s.replace("+00:00", "Z"), "%Y-%m-%dT%H:%M:%SZ"))


def hostname():
    return socket.gethostname().lower()


def default_address():
    """The IPv4 address of the default route's interface, as kubeadm's
    ChooseHostInterface picks it; there is none in the cluster test bed."""
    try:
        with open("/proc/net/route") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        lines = []
    for line in lines:
        f = line.split()
        if len(f) >= 8 and f[1] == "00000000" and f[7] == "00000000":
            iface = f[0]
            out = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", iface], capture_output=True, text=True)
            for w in out.stdout.split():
                if "/" in w and w[0].isdigit():
                    return w.split("/")[0]
    raise KubeadmError('unable to select an IP from default routes.: no default routes found in "/proc/net/route" or '
                       '"/proc/net/ipv6_route"')


# -- fault injection -----------------------------------------------------------


def _parse_spec(text):
    """`N` or `key=N` items, one a line or separated by spaces/commas; # comments."""
    out = {}
    for line in (text or "").splitlines():
        line = line.split("#", 1)[0]
        for item in line.replace(",", " ").split():
            key, sep, val = item.partition("=")
            if not sep:
                key, val = "*", key
            try:
                out[key.strip()] = float(val)
            except ValueError:
                raise KubeadmError(f"{ETC}: bad fault injection item {item!r}") from None
    return out


# Where `<command>=N` in /etc/kubeadm-double/fail fails by default: late
# enough that state is left behind and a retry needs `kubeadm reset -f`.
DEFAULT_FAIL_PHASE = {"init": "wait-control-plane", "join": "kubelet-start"}


class Faults:
    """/etc/kubeadm-double/fail (`init=1`: the first init fails; `join.etcd-join=1`:
    the first join fails at that phase) and /etc/kubeadm-double/delay-ms (`500`:
    every command sleeps first; `join=2000`; `join.etcd-promote=30000`)."""

    def __init__(self, command, previous):
        self.command, self.previous = command, previous
        self.fail = _parse_spec(read_setting("fail", ""))
        self.delay = _parse_spec(read_setting("delay-ms", ""))
        self.injected = False
        self.t0 = time.monotonic()
        self.marks = []  # (phase, seconds since start): the log's "phases"

    def _sleep(self, key):
        ms = self.delay.get(key)
        if ms:
            time.sleep(ms / 1000.0)

    def start(self):
        self._sleep("*")
        self._sleep(self.command)
        self.phase("start")

    def phase(self, name, message=None):
        """Called at each phase boundary: sleeps and fails as told."""
        key = f"{self.command}.{name}"
        self.marks.append((name, round(time.monotonic() - self.t0, 3)))
        self._sleep(key)
        n = self.fail.get(key)
        if n is None and DEFAULT_FAIL_PHASE.get(self.command, "start") == name:
            n = self.fail.get(self.command)
        if n is not None and self.previous < n:
            self.injected = True
            what = message or f"error execution phase {name}: injected failure"
            raise KubeadmError(f"{what} (injected by {ETC}/fail: {self.command} attempt {self.previous + 1} of "
                               f"{int(n)} set to fail)", injected=True)


def previous_invocations(command):
    """Invocations of command logged since /etc/kubeadm-double/fail was last
    written: `init=1` fails the first init after the file appears, however
    many ran before."""
    try:
        since = os.stat(os.path.join(ETC, "fail")).st_mtime
    except OSError:
        return 0
    n = 0
    try:
        with open(LOG) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("command") == command and r.get("t", 0) >= since:
                    n += 1
    except OSError:
        pass
    return n


def log_invocation(record):
    """One JSON line, appended with a single write (O_APPEND keeps
    concurrent writers' lines whole)."""
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    try:
        os.makedirs(os.path.dirname(LOG), exist_ok=True)
        fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:
        pass


# -- files -------------------------------------------------------------------


def write_file(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def load_state():
    try:
        with open(os.path.join(STATE_DIR, "state.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def save_state(state):
    write_file(os.path.join(STATE_DIR, "state.json"), json.dumps(state, indent=1, sort_keys=True) + "\n", 0o600)


# -- systemd -------------------------------------------------------------------


def systemctl(*args, check=True, timeout=120):
    p = subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise KubeadmError(f"systemctl {' '.join(args)} failed: {(p.stderr or p.stdout).strip()}")
    return p


def install_units(units):
    """{name: unit text}: written, enabled (they come back after a reboot, as
    kubeadm's static pods do) and loaded with a single daemon-reload (each
    costs about half a second on a busy machine)."""
    for name, text in units.items():
        write_file(os.path.join(UNIT_DIR, name), text)
    systemctl("--no-reload", "enable", *units)
    systemctl("daemon-reload")


def start_unit(name):
    systemctl("start", name, timeout=300)


def remove_units(names):
    present = [n for n in names if os.path.exists(os.path.join(UNIT_DIR, n))]
    if present:
        systemctl("--no-reload", "disable", "--now", *present, check=False)
    for n in names:
        try:
            os.unlink(os.path.join(UNIT_DIR, n))
        except FileNotFoundError:
            pass
    if present:
        systemctl("daemon-reload", check=False)
        systemctl("reset-failed", *present, check=False)
    return present


def sd_notify(msg):
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(path)
        s.sendall(msg.encode())
    except OSError:
        pass
    finally:
        s.close()


def port_in_use(port, host="0.0.0.0"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
    except OSError:
        return True
    finally:
        s.close()
    return False


def meminfo_mb():
    """What kubeadm's Mem check sees: sysinfo(2) totalram in MiB (= MemTotal), or /etc/kubeadm-double/mem-mb."""
    if read_setting("mem-mb") is not None:
        return int(float_setting("mem-mb", 0))
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0

